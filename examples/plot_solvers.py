# SPDX-License-Identifier: BSD-3-Clause
"""
=====================================================================
Plain gradient descent, Nesterov, and the preconditioners
=====================================================================

The two switches that decide how fast a fit converges are ``solver``
(``"gd"``: gradient descent; ``"nesterov"``: accelerated) and
``preconditioner`` (``None``: one step for all coordinates; ``"diagonal"``: a
step per coordinate from its curvature bound; ``"hessian"``: a Newton-type
step with the Hessian of a row sample, which ``"auto"``, the default, picks
here; both also centre the features implicitly).  All combinations use the
line search, so none diverges; every iteration costs the same two products
with ``X`` (the Hessian adds its refreshes, about one product's worth each on
this data), so iterations are a fair unit of work.

The curves show the distance to the optimum, ``J - J*``, on unscaled and on
standardized features.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier

X_raw, y = load_breast_cancer(return_X_y=True)
datasets = {
    "unscaled features": X_raw,
    "standardized features": StandardScaler().fit_transform(X_raw),
}
alpha = 1e-3
configurations = {
    ("gd", None): "gd",
    ("gd", "diagonal"): "gd + diagonal",
    ("nesterov", None): "nesterov",
    ("nesterov", "diagonal"): "nesterov + diagonal",
    ("nesterov", "hessian"): "nesterov + hessian (default)",
}

fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
for ax, (title, X) in zip(axes, datasets.items()):
    optimum = BCEPerceptronClassifier(alpha=alpha, tol=1e-7, max_iter=20_000).fit(X, y).loss_curve_[-1]
    for (solver, preconditioner), label in configurations.items():
        with warnings.catch_warnings():
            # Some of these run out of iterations on purpose.
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = BCEPerceptronClassifier(
                alpha=alpha, solver=solver, preconditioner=preconditioner, tol=1e-7, max_iter=500
            ).fit(X, y)
        gap = np.maximum(np.asarray(clf.loss_curve_) - optimum, 1e-13)
        # Dashed with a preconditioner: on standardized features "nesterov" and
        # "nesterov + diagonal" coincide, and the solid curve shows under the dashes.
        style = "--" if preconditioner == "diagonal" else "-"
        ax.semilogy(np.arange(1, gap.size + 1), gap, style, label=label)
        print(f"{title:22s} {label:30s} {clf.n_iter_:4d} iterations, J - J* = {gap[-1]:.1e}")
    ax.set_title(title)
    ax.set_xlabel("iteration")
axes[0].set_ylabel("J - J*")
# One legend below both panels, where no curve can cover an entry.
handles, labels = axes[1].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncols=3, frameon=False)
fig.tight_layout(rect=(0, 0.12, 1, 1))

# %%
# Without a preconditioner, neither solver gets near the optimum of the
# unscaled problem in 500 iterations: the one step must suit a column of scale
# 500 and one of scale 0.003.  With the diagonal one, gradient descent makes
# steady progress and Nesterov converges; on standardized features it matters
# less (the columns already have equal variance) and acceleration does most of
# the work.  The Hessian also undoes the correlations between the columns (the
# breast-cancer measurements are strongly correlated: radius, perimeter and
# area), and converges in about ten iterations on both versions of the data.
# (Curves stop at ``1e-13``: the optimum to float64 precision.)
#
# The same curves through :class:`~skperceptron.LossCurveDisplay`, which draws
# ``loss_curve_`` itself (the objective ``J``, not its distance to ``J*``):

from skperceptron import LossCurveDisplay

fig, ax = plt.subplots(figsize=(6, 4))
for solver in ("gd", "nesterov"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = BCEPerceptronClassifier(alpha=alpha, solver=solver, max_iter=100).fit(
            datasets["standardized features"], y
        )
    LossCurveDisplay.from_estimator(clf, ax=ax, name=solver)
ax.set_yscale("log")
fig.tight_layout()
plt.show()
