# SPDX-License-Identifier: BSD-3-Clause
"""
=====================
Multilabel targets
=====================

When each sample can carry several labels at once, ``y`` is an indicator
matrix of shape ``(n_samples, n_labels)`` and the estimator fits one
independent sigmoid unit per label (their objective is the sum of the
per-label cross-entropies).  ``predict`` thresholds each logit at 0, and
``predict_proba`` returns the ``n_labels`` probabilities, which need not sum
to one.  All labels share the two products with ``X`` of each iteration, so
fitting them jointly costs about as much as fitting one.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, hamming_loss
from sklearn.model_selection import train_test_split
from sklearn.multioutput import MultiOutputClassifier
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier

X, Y = make_multilabel_classification(
    n_samples=1500, n_features=30, n_classes=6, n_labels=2, random_state=0
)
X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.3, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

alpha = 1e-3
clf = BCEPerceptronClassifier(alpha=alpha).fit(X_train, Y_train)
print(f"{clf.coef_.shape[0]} units, {clf.n_iter_} iterations")
print(f"Hamming loss {hamming_loss(Y_test, clf.predict(X_test)):.3f}, "
      f"micro-F1 {f1_score(Y_test, clf.predict(X_test), average='micro'):.3f}")

# %%
# The same problem as one LogisticRegression per label (``C = 1 / (alpha *
# n_samples)``): the coefficients agree, because the joint objective is the
# sum of the per-label ones (both fitted tightly here).

tight = BCEPerceptronClassifier(alpha=alpha, tol=1e-8).fit(X_train, Y_train)
per_label = MultiOutputClassifier(
    LogisticRegression(C=1 / (alpha * X_train.shape[0]), tol=1e-8, max_iter=1000)
).fit(X_train, Y_train)
stacked = np.vstack([estimator.coef_ for estimator in per_label.estimators_])
print(f"largest coefficient difference: {np.abs(stacked - tight.coef_).max():.1e}")

# %%
# True labels and predicted probabilities of the first 40 test samples.

proba = clf.predict_proba(X_test[:40])
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
axes[0].imshow(Y_test[:40].T, cmap="Greys", aspect="auto", vmin=0, vmax=1)
axes[0].set_title("true labels")
image = axes[1].imshow(proba.T, cmap="viridis", aspect="auto", vmin=0, vmax=1)
axes[1].set_title("predict_proba")
for ax in axes:
    ax.set_xlabel("test sample")
axes[0].set_ylabel("label")
fig.colorbar(image, ax=axes[1])
fig.tight_layout()
plt.show()
