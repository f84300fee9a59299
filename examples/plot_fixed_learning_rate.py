# SPDX-License-Identifier: BSD-3-Clause
"""
=================================================================
The textbook loop with a fixed learning rate, against ``"auto"``
=================================================================

The loop people write first is ``W <- W - eta * grad J`` with a hand-picked
``eta``.  On unscaled features it cannot work: the step that the largest-scale
feature tolerates is far too small for the others (see "The mathematics",
third mistake).  :class:`~skperceptron.BCEPerceptronClassifier` reproduces that
loop exactly with ``solver="gd", preconditioner=None, line_search=False`` and
a float ``learning_rate``; its defaults (``learning_rate="auto"``, a line
search, a preconditioner and momentum) need no tuning.

The data are scikit-learn's breast-cancer measurements, unscaled: the column
standard deviations range from about 0.003 to 500.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier

X, y = load_breast_cancer(return_X_y=True)
print(f"column standard deviations from {X.std(axis=0).min():.1e} to {X.std(axis=0).max():.1e}")

# %%
# The optimum, to measure every run against
# ------------------------------------------
# The objective has a unique minimum for ``alpha > 0``; a tight fit with the
# defaults finds it.  (On unscaled data the gradient of the large-scale
# columns is large too, so ``tol=1e-7`` is near what float64 resolves here.)

alpha = 1e-3
reference = BCEPerceptronClassifier(alpha=alpha, tol=1e-7, max_iter=10_000).fit(X, y)
optimum = reference.loss_curve_[-1]
print(f"optimum J* = {optimum:.6f}, reached in {reference.n_iter_} iterations")

# %%
# Fixed learning rates, and ``"auto"``
# ------------------------------------
# Three hand-picked steps for the textbook loop, the same loop with the step
# from the curvature bound (``learning_rate="auto"`` without line search), and
# the defaults.

textbook = dict(solver="gd", preconditioner=None, line_search=False, max_iter=1000)
runs = {
    "textbook, eta = 1e-2": dict(learning_rate=1e-2, **textbook),
    "textbook, eta = 1e-5": dict(learning_rate=1e-5, **textbook),
    "textbook, eta = 'auto' (1/L)": dict(learning_rate="auto", **textbook),
    "defaults (learning_rate='auto')": dict(),
}
fits = {}
for name, params in runs.items():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fits[name] = BCEPerceptronClassifier(alpha=alpha, **params).fit(X, y)
    clf = fits[name]
    status = "did not converge" if caught else "converged"
    print(
        f"{name:34s} {clf.n_iter_:5d} iterations, J - J* = "
        f"{clf.loss_curve_[-1] - optimum:.2e}, {status}"
    )

# %%
# The loss curves, as distance to the optimum on a log scale: the large step
# oscillates (the logistic loss keeps the gradient bounded, so it swings
# instead of overflowing), the small steps creep, and the defaults reach the
# optimum without any tuning.

fig, ax = plt.subplots(figsize=(7, 4.5))
for name, clf in fits.items():
    gap = np.maximum(np.asarray(clf.loss_curve_) - optimum, 1e-13)
    ax.semilogy(np.arange(1, gap.size + 1), gap, label=name)
ax.set_xlabel("iteration")
ax.set_ylabel("J - J*")
ax.set_title("Unscaled breast-cancer features")
ax.legend()
fig.tight_layout()

# %%
# Scaling the features rescues the textbook loop
# ----------------------------------------------
# After standardization every column has unit variance, one step fits all
# coordinates, and the textbook loop with a reasonable ``eta`` converges too,
# though still far more slowly than the defaults.

X_scaled = StandardScaler().fit_transform(X)
scaled_reference = BCEPerceptronClassifier(alpha=alpha, tol=1e-9, max_iter=10_000).fit(X_scaled, y)
scaled_optimum = scaled_reference.loss_curve_[-1]

fig, ax = plt.subplots(figsize=(7, 4.5))
for name, params in {
    "textbook, eta = 1.0": dict(learning_rate=1.0, **textbook),
    "defaults": dict(),
}.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = BCEPerceptronClassifier(alpha=alpha, **params).fit(X_scaled, y)
    gap = np.maximum(np.asarray(clf.loss_curve_) - scaled_optimum, 1e-13)
    ax.semilogy(np.arange(1, gap.size + 1), gap, label=f"{name} ({clf.n_iter_} iterations)")
ax.set_xlabel("iteration")
ax.set_ylabel("J - J*")
ax.set_title("Standardized features")
ax.legend()
fig.tight_layout()
plt.show()
