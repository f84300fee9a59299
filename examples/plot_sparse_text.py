# SPDX-License-Identifier: BSD-3-Clause
"""
==========================================
A sparse, text-like classification problem
==========================================

Text classification gives wide, very sparse matrices: documents by vocabulary,
a few non-zero counts per row.  The estimator takes ``scipy.sparse`` CSR and
CSC matrices as they are: it touches ``X`` only through ``X @ W.T`` and
``R.T @ X``, never densifies or copies it, and its preconditioner's column
statistics and implicit centring are computed on the sparse structure.

The data here are generated, no download: 6000 "documents" over a vocabulary
of 5000 "terms" (``scipy.sparse.random``, 1 % non-zero, TF-IDF weighted), with
labels drawn from a logistic model whose hidden weights are non-zero on only
300 terms.  With more terms than training documents, an L2 fit spreads weight
over every term and overfits; an L1 penalty keeps few terms, mostly the
relevant ones, and generalizes better.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.model_selection import train_test_split

from skperceptron import BCEPerceptronClassifier, LossCurveDisplay

rng = np.random.default_rng(0)
n_documents, n_terms, n_relevant = 6000, 5000, 300
counts = sp.random(
    n_documents, n_terms, density=0.01, format="csr", random_state=0,
    data_rvs=lambda size: rng.integers(1, 5, size).astype(float),
)
X = TfidfTransformer().fit_transform(counts)
true_weights = np.zeros(n_terms)
relevant = rng.choice(n_terms, size=n_relevant, replace=False)
true_weights[relevant] = rng.normal(0, 20, size=n_relevant)
y = (X @ true_weights + rng.logistic(size=n_documents) > 0).astype(int)
print(f"X: {type(X).__name__}, {X.shape}, {X.nnz} non-zeros ({X.nnz / np.prod(X.shape):.2%})")
print(f"positive fraction {y.mean():.2f}")

X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

# %%
# An L2 fit and an L1 fit, on the CSR matrix directly.  TF-IDF values are
# small and each term occurs in few documents, so the gradient of each
# coefficient is small too: a tighter ``tol`` than the default makes sure the
# fits are converged, not merely stopped.

fits = {}
for name, params in {
    "L2 (alpha=1e-4)": dict(alpha=1e-4),
    "L1 (alpha=1e-4, l1_ratio=1)": dict(alpha=1e-4, l1_ratio=1.0),
}.items():
    start = time.perf_counter()
    clf = BCEPerceptronClassifier(tol=1e-6, **params).fit(X_train, y_train)
    seconds = time.perf_counter() - start
    fits[name] = clf
    selected = np.flatnonzero(clf.coef_[0])
    print(
        f"{name:40s} {seconds:5.2f} s, {clf.n_iter_:4d} iterations, "
        f"test accuracy {clf.score(X_test, y_test):.3f}, "
        f"{selected.size} non-zero coefficients, "
        f"{np.isin(selected, relevant).sum()} of them among the {n_relevant} relevant terms"
    )

# %%
# The loss curves, and the coefficients against the hidden weights: the L1 fit
# sets most of the 5000 coefficients exactly to zero (the points on the
# horizontal axis) and keeps mostly relevant terms.

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
for name, clf in fits.items():
    LossCurveDisplay.from_estimator(clf, ax=axes[0], name=name.split(" (")[0])
axes[0].set_yscale("log")
axes[1].scatter(true_weights, fits["L2 (alpha=1e-4)"].coef_[0], s=4, alpha=0.4, label="L2")
axes[1].scatter(true_weights, fits["L1 (alpha=1e-4, l1_ratio=1)"].coef_[0], s=4, alpha=0.6, label="L1")
axes[1].set_xlabel("hidden weight of the term")
axes[1].set_ylabel("fitted coefficient")
axes[1].legend()
fig.tight_layout()
plt.show()
