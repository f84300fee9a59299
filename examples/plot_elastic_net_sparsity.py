# SPDX-License-Identifier: BSD-3-Clause
"""
=======================================
Elastic-net: sparsity against ``alpha``
=======================================

With ``l1_ratio > 0`` part of the penalty is the L1 norm ``alpha * l1_ratio *
||W||_1``, applied through its proximal operator (soft-thresholding) after
each gradient step, so coefficients become *exactly* zero, not merely small.
The larger ``alpha``, the fewer features survive.  Here on the 30 standardized
breast-cancer features, for pure L1 (``l1_ratio=1``), an even mix
(``l1_ratio=0.5``) and pure L2 (``l1_ratio=0``), with the held-out accuracy
alongside.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

alphas = np.logspace(-4, 0, 13)
fig, (ax_count, ax_accuracy) = plt.subplots(1, 2, figsize=(11, 4.2))
for l1_ratio in (1.0, 0.5, 0.0):
    nonzero, accuracy = [], []
    for alpha in alphas:
        clf = BCEPerceptronClassifier(alpha=alpha, l1_ratio=l1_ratio, max_iter=10_000)
        clf.fit(X_train, y_train)
        nonzero.append(int(np.count_nonzero(clf.coef_)))
        accuracy.append(clf.score(X_test, y_test))
    ax_count.semilogx(alphas, nonzero, marker="o", label=f"l1_ratio={l1_ratio}")
    ax_accuracy.semilogx(alphas, accuracy, marker="o", label=f"l1_ratio={l1_ratio}")
    print(f"l1_ratio={l1_ratio}: non-zero coefficients {nonzero}")
ax_count.set_xlabel("alpha")
ax_count.set_ylabel("non-zero coefficients (of 30)")
ax_count.legend()
ax_accuracy.set_xlabel("alpha")
ax_accuracy.set_ylabel("held-out accuracy")
fig.tight_layout()

# %%
# The regularization path of pure L1: each line is one coefficient; they leave
# zero one after another as ``alpha`` decreases.  Consecutive fits are warm
# started from the previous solution, which makes the whole path cheap.

path_alphas = np.logspace(0, -3, 25)
clf = BCEPerceptronClassifier(l1_ratio=1.0, warm_start=True, max_iter=10_000)
coefs = []
for alpha in path_alphas:
    clf.set_params(alpha=alpha).fit(X_train, y_train)
    coefs.append(clf.coef_[0].copy())
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.semilogx(path_alphas, np.array(coefs))
ax.set_xlabel("alpha")
ax.set_ylabel("coefficient")
ax.set_title("L1 path (l1_ratio=1)")
fig.tight_layout()
plt.show()
