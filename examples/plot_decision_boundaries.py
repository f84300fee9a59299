# SPDX-License-Identifier: BSD-3-Clause
"""
=====================================================
Decision boundaries: binary and three-class problems
=====================================================

A single-layer perceptron draws straight boundaries: one hyperplane
``x . w + b = 0`` per output unit.  For binary targets there is one unit and
``predict_proba`` varies along the normal of its line; for three classes there
are three sigmoid units (one-vs-rest, trained jointly) and each point goes to
the unit with the largest logit, which splits the plane into three convex
regions.  :class:`sklearn.inspection.DecisionBoundaryDisplay` draws both
straight from the fitted estimator.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from sklearn.datasets import make_blobs, make_classification
from sklearn.inspection import DecisionBoundaryDisplay

from skperceptron import BCEPerceptronClassifier

X_binary, y_binary = make_classification(
    n_samples=200, n_features=2, n_redundant=0, n_clusters_per_class=1, class_sep=1.2,
    random_state=1,
)
X_three, y_three = make_blobs(
    n_samples=300, centers=[(-3, -1), (0, 3), (3, -1)], cluster_std=1.3, random_state=0
)

binary = BCEPerceptronClassifier(alpha=1e-3).fit(X_binary, y_binary)
three = BCEPerceptronClassifier(alpha=1e-3).fit(X_three, y_three)
print(f"binary: {binary.coef_.shape[0]} unit, training accuracy {binary.score(X_binary, y_binary):.3f}")
print(f"three classes: {three.coef_.shape[0]} units, training accuracy {three.score(X_three, y_three):.3f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))

display = DecisionBoundaryDisplay.from_estimator(
    binary, X_binary, response_method="predict_proba", cmap="RdBu_r", alpha=0.8, ax=axes[0],
    # Filled bands of 0.1 from 0 to 1: a probability's colorbar ends at 1.
    levels=np.linspace(0, 1, 11),
)
fig.colorbar(display.surface_, ax=axes[0], label="P(class 1)", ticks=np.linspace(0, 1, 6))
DecisionBoundaryDisplay.from_estimator(
    binary, X_binary, response_method="decision_function", plot_method="contour",
    levels=[0], colors="k", ax=axes[0],
)
axes[0].scatter(X_binary[:, 0], X_binary[:, 1], c=y_binary, cmap="RdBu_r", edgecolor="k", s=20)
axes[0].set_title("Binary: predict_proba, and the line v = 0")

colors = ["tab:blue", "tab:orange", "tab:green"]
DecisionBoundaryDisplay.from_estimator(
    three, X_three, response_method="predict", multiclass_colors=colors, alpha=0.4, ax=axes[1]
)
axes[1].scatter(
    X_three[:, 0], X_three[:, 1], c=y_three, cmap=ListedColormap(colors), edgecolor="k", s=20
)
axes[1].set_title("Three classes: predict (largest logit)")
fig.tight_layout()
plt.show()
