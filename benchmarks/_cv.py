# SPDX-License-Identifier: BSD-3-Clause
"""``--cv``: BCEPerceptronClassifierCV against GridSearchCV and LogisticRegressionCV.

Each dataset standardized, 20 alphas x 5 stratified folds (the same folds and
the same alpha grid for the three), L2 and L1.  ``GridSearchCV`` refits
``BCEPerceptronClassifier`` from scratch at every (fold, alpha);
``LogisticRegressionCV`` runs lbfgs for L2, liblinear for binary L1 and saga
for multiclass L1, on ``Cs = 1 / (alpha * n_train)`` (the same penalty for
binary targets; lbfgs fits a multinomial model for multiclass targets, saga
an L1 multinomial one: the same grid, not the same objective).  Then the p >> n
L1 path: time per alpha against the number of non-zero coefficients.

``run_cv(quick, n_threads)`` returns the markdown tables.
"""

import time
import warnings

import numpy as np
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_wine,
    make_classification,
)
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler

N_ALPHAS, N_FOLDS = 20, 5


def _datasets(quick):
    n_large = 2000 if quick else 20_000
    sets = {
        "breast-cancer": load_breast_cancer(return_X_y=True),
        "digits": load_digits(return_X_y=True),
        "wine": load_wine(return_X_y=True),
        f"classification {n_large}x100, 5 classes": make_classification(
            n_large, 100, n_informative=20, n_classes=5, random_state=0
        ),
    }
    if quick:
        sets = dict(list(sets.items())[::3])
    return {name: (StandardScaler().fit_transform(X), y) for name, (X, y) in sets.items()}


def _timed(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        estimator = fit()
        seconds = time.perf_counter() - start
    n_warnings = sum(issubclass(w.category, Warning) and "converge" in str(w.message) for w in caught)
    return estimator, seconds, n_warnings


def _compare(X, y, l1_ratio, folds):
    from skperceptron import BCEPerceptronClassifier, BCEPerceptronClassifierCV

    ours, t_ours, w_ours = _timed(
        lambda: BCEPerceptronClassifierCV(alphas=N_ALPHAS, l1_ratios=(l1_ratio,), cv=folds).fit(X, y)
    )
    alphas = ours.alphas_[0]
    search, t_grid, w_grid = _timed(
        lambda: GridSearchCV(
            BCEPerceptronClassifier(l1_ratio=l1_ratio), {"alpha": alphas}, cv=folds
        ).fit(X, y)
    )
    n_train = X.shape[0] * (N_FOLDS - 1) / N_FOLDS
    binary = len(np.unique(y)) == 2
    solver = "lbfgs" if l1_ratio == 0 else ("liblinear" if binary else "saga")
    lrcv, t_lrcv, w_lrcv = _timed(
        lambda: LogisticRegressionCV(
            Cs=1 / (alphas * n_train),
            l1_ratios=(l1_ratio,),
            solver=solver,
            cv=folds,
            scoring="accuracy",
            use_legacy_attributes=False,
        ).fit(X, y)
    )
    ours_mean = ours.scores_.mean(axis=0)[0]
    grid_mean = search.cv_results_["mean_test_score"]
    # LogisticRegressionCV keeps its Cs ascending: alphas descending.
    lrcv_alpha = 1 / (float(np.ravel(lrcv.C_)[0]) * n_train)
    lrcv_scores = np.asarray(lrcv.scores_)
    lrcv_best = float(lrcv_scores.reshape(N_FOLDS, -1).mean(axis=0).max())
    return {
        "ours": (t_ours, ours.alpha_, ours_mean.max(), w_ours),
        "grid": (t_grid, search.best_params_["alpha"], grid_mean.max(), w_grid),
        "lrcv": (t_lrcv, lrcv_alpha, lrcv_best, w_lrcv, solver),
    }


def _path_table(quick):
    """p >> n, pure L1: the screened path's time per alpha against its non-zeros."""
    from skperceptron import BCEPerceptronClassifier
    from skperceptron._data import FitData, encode_targets, fold_weights
    from skperceptron._path import alpha_max, regularization_path

    n, p = (50, 1000) if quick else (50, 5000)
    X, y = make_classification(n, p, n_informative=10, random_state=0)
    X = StandardScaler().fit_transform(X)
    classes, Y, kind = encode_targets(y)
    sw, _ = fold_weights(y, Y, kind, None, None, n, X.dtype, classes=classes)
    data = FitData(X, y, Y, sw, classes, kind)
    alphas = alpha_max(X, Y, sw, True, 1.0) * np.logspace(0, -2, N_ALPHAS)
    rows = [
        f"\n### L1 path, {n} x {p} (p >> n), {N_ALPHAS} alphas from alpha_max to alpha_max/100\n",
        "| alpha / alpha_max | non-zeros | working set | fits (KKT rounds) | iterations | ms |",
        "|---|---|---|---|---|---|",
    ]
    total = {}
    for screening in (True, False):
        clf = BCEPerceptronClassifier(max_iter=5000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            path = regularization_path(clf, data, alphas, 1.0, screening=screening)
            total[screening] = time.perf_counter() - start
        if screening:
            screened = path
    for k, alpha in enumerate(alphas):
        rows.append(
            f"| {alpha / alphas[0]:.3g} | {np.count_nonzero(screened.coefs[k])} | "
            f"{screened.n_working[k]} | "
            f"{screened.n_fits[k]} | {screened.n_iter[k]} | {1e3 * screened.seconds[k]:.1f} |"
        )
    rows.append(
        f"\nWhole path: {total[True]:.2f} s screened, {total[False]:.2f} s without screening."
    )
    return "\n".join(rows)


def run_cv(quick, n_threads):
    """The markdown tables of the ``--cv`` mode, BLAS limited to ``n_threads``."""
    from threadpoolctl import threadpool_limits

    lines = [
        f"## Cross-validation: {N_ALPHAS} alphas x {N_FOLDS} folds ({n_threads} thread(s))\n",
        (
            "Times in seconds; ratio = ours / theirs; score = best mean held-out accuracy; "
            "warnings = ConvergenceWarnings.\n"
        ),
        (
            "| dataset | penalty | ours s | GridSearchCV s | ratio | LRCV s (solver) | ratio "
            "| alpha ours / grid / LRCV | score ours / grid / LRCV | warnings ours / grid / LRCV |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    with threadpool_limits(n_threads):
        # The three methods once on a small problem: no timed fit pays the
        # process's first calls (imports, caches).
        X, y = make_classification(200, 10, n_classes=3, n_informative=5, random_state=0)
        for l1_ratio in (0.0, 1.0):
            _compare(X, y, l1_ratio, list(StratifiedKFold(N_FOLDS).split(X, y)))
        for name, (X, y) in _datasets(quick).items():
            folds = list(StratifiedKFold(N_FOLDS, shuffle=True, random_state=0).split(X, y))
            for l1_ratio, penalty in ((0.0, "L2"), (1.0, "L1")):
                r = _compare(X, y, l1_ratio, folds)
                (t_o, a_o, s_o, w_o), (t_g, a_g, s_g, w_g) = r["ours"], r["grid"]
                t_l, a_l, s_l, w_l, solver = r["lrcv"]
                lines.append(
                    f"| {name} | {penalty} | {t_o:.2f} | {t_g:.2f} | {t_o / t_g:.2f} | "
                    f"{t_l:.2f} ({solver}) | {t_o / t_l:.2f} | {a_o:.3g} / {a_g:.3g} / {a_l:.3g} | "
                    f"{s_o:.4f} / {s_g:.4f} / {s_l:.4f} | {w_o} / {w_g} / {w_l} |"
                )
                print(lines[-1], flush=True)
        lines.append(_path_table(quick))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    print(run_cv("--quick" in sys.argv, 1))
