# SPDX-License-Identifier: BSD-3-Clause
"""
===============================================
Choosing alpha: the cross-validated L1 path
===============================================

:class:`~skperceptron.BCEPerceptronClassifierCV` fits the whole
regularization path on each of 5 folds, from ``alpha_max`` (where every
coefficient is zero) down, each fit warm-started from the previous one, and
scores every fit on the fold's held-out rows.  The left panel is the
cross-validation curve: the mean held-out log-loss over the folds with its
standard-error band, the ``"best"`` alpha (highest mean score) and the
``"1se"`` alpha (the largest alpha within one standard error of the best,
glmnet's ``lambda.1se``: fewer features for a score indistinguishable from
the best).  The right panel is the path of one fold: the coefficients leave
zero one after another as alpha decreases.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifierCV

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)

fits = {
    selection: BCEPerceptronClassifierCV(
        alphas=20, l1_ratios=(1.0,), scoring="neg_log_loss", selection=selection
    ).fit(X, y)
    for selection in ("best", "1se")
}
clf = fits["best"]
alphas = clf.alphas_[0]
scores = -clf.scores_[:, 0, :]  # held-out log-loss, (n_folds, n_alphas)
mean = scores.mean(axis=0)
se = scores.std(axis=0, ddof=1) / np.sqrt(scores.shape[0])
for selection, fit in fits.items():
    print(
        f"{selection}: alpha={fit.alpha_:.3g}, "
        f"{np.count_nonzero(fit.coef_)} non-zero coefficients of {X.shape[1]}"
    )

fig, (ax_curve, ax_path) = plt.subplots(1, 2, figsize=(11, 4.2))
ax_curve.semilogx(alphas, mean, marker="o", markersize=3, label="mean over 5 folds")
ax_curve.fill_between(alphas, mean - se, mean + se, alpha=0.3, label="± one standard error")
for (selection, fit), color in zip(fits.items(), ("C1", "C2")):
    ax_curve.axvline(fit.alpha_, color=color, linestyle="--", label=f'"{selection}"')
ax_curve.set_xlabel("alpha")
ax_curve.set_ylabel("held-out log-loss")
ax_curve.legend()

ax_path.semilogx(alphas, clf.coefs_paths_[0, 0, :, 0, :])
for (selection, fit), color in zip(fits.items(), ("C1", "C2")):
    ax_path.axvline(fit.alpha_, color=color, linestyle="--")
ax_path.set_xlabel("alpha")
ax_path.set_ylabel("coefficient (fold 0)")
ax_path.set_title("L1 path, l1_ratio=1")
fig.tight_layout()
plt.show()
