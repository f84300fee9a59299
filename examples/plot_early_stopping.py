# SPDX-License-Identifier: BSD-3-Clause
"""
=====================================================
Early stopping: training and validation loss curves
=====================================================

With many features, few samples and almost no penalty, the training objective
keeps falling long after the model has stopped getting better on new data.
``early_stopping=True`` holds out a stratified ``validation_fraction`` of the
training set, tracks its loss after every iteration, stops after
``n_iter_no_change`` iterations without improvement, and restores the
coefficients of the best iteration.  :class:`~skperceptron.LossCurveDisplay`
draws both curves and marks that iteration.

Early stopping regularizes by limiting how far the iterates travel from their
start, so it pairs naturally with small, steady steps: here the plain
gradient-descent loop with the step from the curvature bound (``solver="gd",
preconditioner=None, line_search=False``).  The problem has three classes, 150
features of which 10 are informative, and 300 training samples.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import log_expit
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skperceptron import BCEPerceptronClassifier, LossCurveDisplay

X, y = make_classification(
    n_samples=2300, n_features=150, n_informative=10, n_redundant=0, n_classes=3,
    flip_y=0.05, random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=300, stratify=y, random_state=0
)
plain_gd = dict(alpha=1e-6, solver="gd", preconditioner=None, line_search=False)

stopped = BCEPerceptronClassifier(
    early_stopping=True, validation_fraction=0.2, n_iter_no_change=50, random_state=0,
    max_iter=5000, **plain_gd,
).fit(X_train, y_train)
print(f"stopped after {stopped.n_iter_} iterations, best iteration {stopped.best_iteration_}")

display = LossCurveDisplay.from_estimator(stopped, name="early stopping")
display.ax_.set_title("The best iteration is restored")
display.figure_.tight_layout()

# %%
# What happens without it
# -----------------------
# The same loop on all 300 training samples, for 3000 iterations, with the
# loss on 2000 test samples recorded along the way.  Plain gradient descent
# keeps no state besides the coefficients, so fitting 25 iterations at a time
# with ``warm_start=True`` follows exactly the same path as one long fit.


def mean_bce(clf, X, y):
    """The validation loss of early stopping: mean over samples of the BCE summed over units."""
    raw = clf.decision_function(X)
    Y = (y[:, None] == clf.classes_).astype(float)
    return float(np.mean(np.sum(-log_expit(-raw) - Y * raw, axis=1)))


full = BCEPerceptronClassifier(warm_start=True, max_iter=25, **plain_gd)
training_curve, test_iterations, test_curve = [], [], []
with warnings.catch_warnings():
    # Each 25-iteration chunk ends "unconverged" by construction.
    warnings.simplefilter("ignore", ConvergenceWarning)
    for chunk in range(120):
        full.fit(X_train, y_train)
        training_curve += full.loss_curve_
        test_iterations.append(len(training_curve))
        test_curve.append(mean_bce(full, X_test, y_test))

for name, clf in {"early stopping": stopped, "3000 iterations": full}.items():
    print(
        f"{name:16s} test accuracy {clf.score(X_test, y_test):.3f}, "
        f"test loss {mean_bce(clf, X_test, y_test):.3f}"
    )

fig, ax = plt.subplots(figsize=(7, 4.5))
LossCurveDisplay(loss_curve=training_curve, name="no early stopping").plot(ax=ax)
ax.plot(test_iterations, test_curve, label="test loss")
ax.axvline(stopped.best_iteration_, color="gray", linestyle=":", label="best iteration above")
ax.legend()
ax.set_title("The training objective falls, the test loss rises")
fig.tight_layout()
plt.show()
