# SPDX-License-Identifier: BSD-3-Clause
"""``python -m skperceptron``: the demo on scikit-learn's breast-cancer data.

Five-fold cross-validated accuracy and log-loss of the perceptron beside
LogisticRegression on the same folds, on standardized and on raw features,
the iterations and objective of a full fit, and a small grid search over alpha.

Every model sees the same shuffled, stratified folds
(``StratifiedKFold(5, shuffle=True, random_state=0)``, as the README's snippet);
unshuffled folds (``cv=5``) split this file's ordered rows differently and pick
another alpha.  A full fit is timed as the best of ``REPEATS`` fits: a single
one varies several-fold with the load of the machine (a fit of these 569 rows
takes about 5 ms alone, and up to 100 ms when other processes keep the BLAS's
threads waiting for a core).
"""

import time
import warnings

from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from . import BCEPerceptronClassifier

ALPHA = 1e-4
REPEATS = 5


def _row(name, model, X, y, cv):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        scores = cross_validate(model, X, y, cv=cv, scoring=("accuracy", "neg_log_loss"))
    n_warn = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return (
        f"{name:<44s} {scores['test_accuracy'].mean():8.4f} "
        f"{-scores['test_neg_log_loss'].mean():9.4f} "
        f"{scores['fit_time'].mean() * 1e3:9.1f} {n_warn:6d}"
    )


def main():
    X, y = load_breast_cancer(return_X_y=True)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    n_train = len(y) * 4 // 5
    C = 1 / (ALPHA * n_train)  # the same problem: LogisticRegression(C=1/(alpha*S))

    print(f"breast cancer: {X.shape[0]} samples, {X.shape[1]} features, alpha={ALPHA}")
    print("5-fold cross-validation: StratifiedKFold(5, shuffle=True, random_state=0),")
    print("the same folds for every model; fit ms is the mean over the folds\n")
    print(f"{'model':<44s} {'accuracy':>8s} {'log-loss':>9s} {'fit ms':>9s} {'warns':>6s}")
    models = [
        ("scaled   BCEPerceptronClassifier()", make_pipeline(StandardScaler(), BCEPerceptronClassifier(alpha=ALPHA))),
        ("scaled   LogisticRegression(C=1/(alpha*S))", make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=100))),
        ("raw      BCEPerceptronClassifier()", BCEPerceptronClassifier(alpha=ALPHA)),
        ("raw      LogisticRegression(C=1/(alpha*S))", LogisticRegression(C=C, max_iter=100)),
    ]
    for name, model in models:
        print(_row(name, model, X, y, cv))

    print(f"\nOne fit on all the data (default settings; wall ms: best of {REPEATS} fits):")
    print(f"{'data':<10s} {'n_iter_':>8s} {'objective J':>14s} {'wall ms':>9s}")
    for name, data in (("scaled", StandardScaler().fit_transform(X)), ("raw", X)):
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf = BCEPerceptronClassifier(alpha=ALPHA).fit(data, y)
            times.append(time.perf_counter() - start)
        print(f"{name:<10s} {clf.n_iter_:8d} {clf.loss_curve_[-1]:14.8f} {min(times) * 1e3:9.1f}")

    print("\nGridSearchCV over alpha (scaled pipeline, the same shuffled 5 folds, accuracy):")
    grid = GridSearchCV(
        make_pipeline(StandardScaler(), BCEPerceptronClassifier()),
        {"bceperceptronclassifier__alpha": [1e-4, 1e-3, 1e-2, 1e-1]},
        cv=cv,
    ).fit(X, y)
    for alpha, score in zip(
        grid.cv_results_["param_bceperceptronclassifier__alpha"],
        grid.cv_results_["mean_test_score"],
    ):
        print(f"  alpha={alpha:<8g} accuracy={score:.4f}")
    print(f"  best: alpha={grid.best_params_['bceperceptronclassifier__alpha']:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
