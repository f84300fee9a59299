# SPDX-License-Identifier: BSD-3-Clause
"""BCEPerceptronClassifierCV and the regularization path."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import (
    load_breast_cancer,
    load_wine,
    make_classification,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier, BCEPerceptronClassifierCV
from skperceptron._data import FitData, encode_targets, fold_weights
from skperceptron._classifier import KeptProblem, fit_prepared, fitted_classifier
from skperceptron._path import alpha_max, regularization_path, screens


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _prepared(X, y, sample_weight=None):
    classes, Y, kind = encode_targets(y)
    sw, _ = fold_weights(y, Y, kind, sample_weight, None, X.shape[0], X.dtype, classes=classes)
    return FitData(X, y, Y, sw, classes, kind)


def _objective_at(reference, X, y, coef, intercept):
    """``J`` on ``(X, y)`` at ``(coef, intercept)`` with ``reference``'s alpha and l1_ratio."""
    saved = reference.coef_, reference.intercept_
    reference.coef_, reference.intercept_ = coef, intercept
    try:
        return reference.objective(X, y)
    finally:
        reference.coef_, reference.intercept_ = saved


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
def test_path_matches_independent_fits(cancer, l1_ratio):
    """Each (fold, alpha) of the path, at default settings, is within 1e-4 of
    the optimum of an independent fit on that fold's rows at a tight tol (and, with pure L2,
    whose optimum is unique and well conditioned, close in coef)."""
    X, y = cancer
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    # Default tol and max_iter: the path as users run it.
    clf = BCEPerceptronClassifierCV(alphas=6, l1_ratios=(l1_ratio,), cv=cv)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    for fold, (train, _) in enumerate(cv.split(X, y)):
        for index, alpha in enumerate(clf.alphas_[0]):
            reference = BCEPerceptronClassifier(
                alpha=alpha, l1_ratio=l1_ratio, tol=1e-9, max_iter=20_000
            ).fit(X[train], y[train])
            coef = clf.coefs_paths_[fold, 0, index]
            intercept = clf.intercepts_paths_[fold, 0, index]
            optimum = reference.objective(X[train], y[train])
            value = _objective_at(reference, X[train], y[train], coef, intercept)
            # The reference is itself within its tol of the optimum.
            assert optimum - 1e-8 <= value <= optimum + 1e-4
            if l1_ratio == 0:
                assert_allclose(coef, reference.coef_, atol=0.02 * np.abs(reference.coef_).max())


@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_fold_weights_equal_sliced_folds(class_weight):
    """A fold as zero weights on the held-out rows gives the fit on the slice."""
    X, y = make_classification(300, 8, n_informative=4, n_classes=3, random_state=0)
    sample_weight = np.random.default_rng(0).uniform(0.5, 2, size=300)
    cv = KFold(3, shuffle=True, random_state=1)
    clf = BCEPerceptronClassifierCV(
        alphas=[1e-2, 1e-3], cv=cv, tol=1e-11, max_iter=50_000, class_weight=class_weight
    ).fit(X, y, sample_weight=sample_weight)
    for fold, (train, _) in enumerate(cv.split(X, y)):
        sliced = BCEPerceptronClassifier(
            alpha=1e-3, tol=1e-11, max_iter=50_000, class_weight=class_weight
        ).fit(X[train], y[train], sample_weight=sample_weight[train])
        assert_allclose(clf.coefs_paths_[fold, 0, 1], sliced.coef_, atol=1e-8)
        assert_allclose(clf.intercepts_paths_[fold, 0, 1], sliced.intercept_, atol=1e-8)


def test_one_standard_error_rule_by_hand():
    clf = BCEPerceptronClassifierCV(selection="1se")
    # 4 folds, 2 l1_ratios, 5 alphas (largest first); the best mean is at
    # l1_ratio 1, alpha 3: mean 0.9, scores 0.8, 1.0, 0.9, 0.9.
    scores = np.full((4, 2, 5), 0.5)
    scores[:, 1, 3] = [0.8, 1.0, 0.9, 0.9]
    scores[:, 1, 1] = 0.87  # within one SE of 0.9
    scores[:, 1, 0] = 0.81  # not
    scores[:, 0, 0] = 0.89  # within, but on the other l1_ratio's path
    se = np.std([0.8, 1.0, 0.9, 0.9], ddof=1) / 2  # 0.0408...
    assert 0.9 - se < 0.87 and 0.81 < 0.9 - se
    assert clf._select(scores) == (1, 1)
    clf.set_params(selection="best")
    assert clf._select(scores) == (1, 3)
    # Ties: the first l1_ratio and the largest alpha.
    assert clf._select(np.ones((3, 2, 4))) == (0, 0)


def test_refit_false_is_the_folds_mean(cancer):
    X, y = cancer
    clf = BCEPerceptronClassifierCV(alphas=5, refit=False, cv=3).fit(X, y)
    j = int(np.flatnonzero(clf.alphas_[0] == clf.alpha_)[0])
    assert_allclose(clf.coef_, clf.coefs_paths_[:, 0, j].mean(axis=0))
    assert_allclose(clf.intercept_, clf.intercepts_paths_[:, 0, j].mean(axis=0))
    assert clf.loss_curve_ is None
    raw = X @ clf.coef_.T + clf.intercept_
    assert_array_equal(clf.predict(X), (raw[:, 0] > 0).astype(int))


def test_refit_is_the_fit_at_the_chosen_alpha(cancer):
    X, y = cancer
    clf = BCEPerceptronClassifierCV(alphas=5, cv=3, tol=1e-8, max_iter=5000).fit(X, y)
    direct = BCEPerceptronClassifier(alpha=clf.alpha_, tol=1e-8, max_iter=5000).fit(X, y)
    assert_allclose(clf.coef_, direct.coef_, rtol=1e-4, atol=1e-6)
    assert_allclose(clf.predict_proba(X), direct.predict_proba(X), atol=1e-6)
    assert_allclose(clf.decision_function(X), direct.decision_function(X), atol=1e-5)
    assert_allclose(clf.predict_log_proba(X), direct.predict_log_proba(X), atol=1e-5)


def test_alpha_grid_from_alpha_max(cancer):
    """An int grid starts at alpha_max: with pure L1, every coefficient is zero
    there and some is not just below it."""
    X, y = cancer
    clf = BCEPerceptronClassifierCV(alphas=7, l1_ratios=(1.0, 0.0), cv=3, max_iter=5000)
    clf.fit(X, y)
    data = _prepared(X, y)
    top = alpha_max(X, data.Y, data.sw, True, 1.0)
    assert clf.alphas_.shape == (2, 7)
    assert_allclose(clf.alphas_[0], top * np.logspace(0, -4, 7))
    # Pure L2: the same formula with l1_ratio = 1.
    assert_allclose(clf.alphas_[1], clf.alphas_[0])
    at_top = BCEPerceptronClassifier(alpha=top, l1_ratio=1.0, tol=1e-10).fit(X, y)
    below = BCEPerceptronClassifier(alpha=0.95 * top, l1_ratio=1.0, tol=1e-10).fit(X, y)
    assert not np.any(at_top.coef_) and np.any(below.coef_)
    assert_allclose(
        alpha_max(X, data.Y, data.sw, True, 0.5), 2 * top
    )


def test_alphas_array_sorted_and_validated(cancer):
    X, y = cancer
    clf = BCEPerceptronClassifierCV(alphas=[1e-3, 1e-1, 1e-2], cv=3).fit(X, y)
    assert_array_equal(clf.alphas_, [[1e-1, 1e-2, 1e-3]])
    assert clf.scores_.shape == clf.n_iter_.shape == (3, 1, 3)
    assert clf.coefs_paths_.shape == (3, 1, 3, 1, 30)
    assert clf.intercepts_paths_.shape == (3, 1, 3, 1)
    for bad in ([-1.0], [], [[1.0]], [np.nan]):
        with pytest.raises(ValueError, match="alphas"):
            BCEPerceptronClassifierCV(alphas=bad).fit(X, y)
    with pytest.raises(ValueError, match="l1_ratios"):
        BCEPerceptronClassifierCV(l1_ratios=(0.5, 1.5)).fit(X, y)


def test_multiclass_multilabel_sparse_float32():
    X, y = make_classification(200, 10, n_informative=5, n_classes=3, random_state=0)
    dense = BCEPerceptronClassifierCV(alphas=4, l1_ratios=(0.0, 0.5), cv=3).fit(X, y)
    assert dense.coef_.shape == (3, 10) and dense.coefs_paths_.shape == (3, 2, 4, 3, 10)
    assert set(dense.predict(X)) <= {0, 1, 2}
    assert_allclose(dense.predict_proba(X).sum(axis=1), 1)
    sparse = BCEPerceptronClassifierCV(alphas=4, l1_ratios=(0.0, 0.5), cv=3)
    sparse.fit(sp.csr_matrix(X), y)
    assert_allclose(sparse.scores_, dense.scores_)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-3, atol=1e-4)
    single = BCEPerceptronClassifierCV(alphas=4, cv=3).fit(X.astype(np.float32), y)
    assert single.coef_.dtype == single.coefs_paths_.dtype == np.float32

    X, Y = make_multilabel_classification(150, 8, n_classes=4, random_state=0)
    multilabel = BCEPerceptronClassifierCV(alphas=3, cv=3).fit(X, Y)
    assert multilabel.predict(X).shape == Y.shape
    assert_array_equal(multilabel.classes_, np.arange(4))


def test_sample_weight_and_class_weight(cancer):
    X, y = cancer
    cv = StratifiedKFold(3)
    plain = BCEPerceptronClassifierCV(alphas=4, cv=cv).fit(X, y)
    doubled = BCEPerceptronClassifierCV(alphas=4, cv=cv).fit(X, y, sample_weight=np.full(len(y), 2.0))
    assert_allclose(doubled.coefs_paths_, plain.coefs_paths_, rtol=1e-6, atol=1e-8)
    assert_allclose(doubled.scores_, plain.scores_)
    # Weights of zero on a class's rows remove them from fits and scores.
    weights = np.where(np.arange(len(y)) % 2 == 0, 1.0, 0.0)
    weighted = BCEPerceptronClassifierCV(alphas=4, cv=cv).fit(X, y, sample_weight=weights)
    assert not np.allclose(weighted.scores_, plain.scores_)
    balanced = BCEPerceptronClassifierCV(alphas=4, cv=cv, class_weight="balanced").fit(X, y)
    assert not np.allclose(balanced.intercepts_paths_, plain.intercepts_paths_)
    with pytest.raises(ValueError, match="non-negative"):
        BCEPerceptronClassifierCV(alphas=2).fit(X, y, sample_weight=-np.ones(len(y)))


def test_scoring_and_parallel_folds(cancer):
    X, y = cancer
    one = BCEPerceptronClassifierCV(alphas=4, cv=3, scoring="neg_log_loss").fit(X, y)
    two = BCEPerceptronClassifierCV(alphas=4, cv=3, scoring="neg_log_loss", n_jobs=2).fit(X, y)
    assert np.all(one.scores_ < 0)
    assert_allclose(two.scores_, one.scores_)
    assert one.alpha_ == two.alpha_


def test_grid_search_over_l1_ratios(cancer):
    X, y = cancer
    search = GridSearchCV(
        BCEPerceptronClassifierCV(alphas=3, cv=3, max_iter=5000), {"l1_ratios": [(0.0,), (1.0,)]}, cv=2
    ).fit(X, y)
    assert search.best_params_["l1_ratios"] in [(0.0,), (1.0,)]
    assert search.best_estimator_.l1_ratio_ == search.best_params_["l1_ratios"][0]


def test_screening_gives_the_unscreened_path():
    """p >> n, pure L1: the screened path equals the unscreened one, and the
    working sets stay near the active sets."""
    X, y = make_classification(40, 600, n_informative=10, random_state=0)
    X = StandardScaler().fit_transform(X)
    data = _prepared(X, y)
    alphas = alpha_max(X, data.Y, data.sw, True, 1.0) * np.logspace(0, -1.5, 8)
    clf = BCEPerceptronClassifier(tol=1e-8, max_iter=20_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        screened = regularization_path(clf, data, alphas, 1.0)
        full = regularization_path(
            BCEPerceptronClassifier(tol=1e-8, max_iter=20_000), data, alphas, 1.0, screening=False
        )
    assert_allclose(screened.coefs, full.coefs, atol=1e-4)
    nonzero = np.count_nonzero(screened.coefs[:, 0], axis=1)
    assert nonzero[0] == 0 and 0 < nonzero[-1] < 40
    # A few KKT rounds per alpha, and working sets near the active sets (the
    # strong set alone holds hundreds of the 600 features here).
    assert np.all(screened.n_fits <= 4)
    assert np.all(screened.n_working <= 3 * np.maximum(nonzero, 10))
    assert np.all(full.n_working == 600)


def test_auto_screening_only_where_features_outnumber_samples(cancer):
    """"auto" screens the gene-expression shape only: breast cancer's L1 path
    fits all 30 features once per alpha, the same path as screened."""
    assert screens(40, 600) and screens(50, 5000)
    assert not screens(569, 30) and not screens(500, 400) and not screens(100, 200)
    X, y = cancer
    data = _prepared(X, y)
    alphas = alpha_max(X, data.Y, data.sw, True, 1.0) * np.logspace(-0.5, -2, 5)
    auto = regularization_path(BCEPerceptronClassifier(tol=1e-8), data, alphas, 1.0)
    forced = regularization_path(
        BCEPerceptronClassifier(tol=1e-8), data, alphas, 1.0, screening=True
    )
    assert np.all(auto.n_working == 30) and np.all(auto.n_fits == 1)
    assert np.any(forced.n_working < 30)
    assert_allclose(auto.coefs, forced.coefs, atol=1e-5)


def test_folds_do_not_copy_X():
    """The folds are weight vectors: the peak memory of a fit stays well under
    the size of X (a copy of the training rows would be 0.8 of it)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40_000, 100))
    y = (X[:, 0] + 0.5 * rng.standard_normal(40_000) > 0).astype(int)
    clf = BCEPerceptronClassifierCV(alphas=3, cv=5, max_iter=50)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.5 * X.nbytes, (peak, X.nbytes)


def test_not_fitted_and_tags():
    from sklearn.exceptions import NotFittedError

    clf = BCEPerceptronClassifierCV()
    with pytest.raises(NotFittedError):
        clf.predict(np.zeros((2, 3)))
    tags = clf.__sklearn_tags__()
    assert tags.input_tags.sparse and tags.classifier_tags.multi_label


def test_docstring_example():
    import doctest

    from skperceptron import _cv

    result = doctest.testmod(_cv, optionflags=doctest.ELLIPSIS)
    assert result.attempted and not result.failed


def test_fit_prepared_starts_from_the_given_point_and_leaves_it_alone(cancer):
    """A path fit from its own optimum stops at once (a start ignored would run
    from the log-odds start again) and the start arrays are not written into."""
    X, y = cancer
    data = _prepared(X, y)
    clf = BCEPerceptronClassifier(alpha=1e-2, tol=1e-6).fit(X, y)
    coef, intercept = clf.coef_.copy(), clf.intercept_.copy()
    cold = BCEPerceptronClassifier(alpha=1e-2, tol=1e-6)
    fit_prepared(cold, data)
    warm = BCEPerceptronClassifier(alpha=1e-2, tol=1e-6)
    fit_prepared(warm, data, start=(coef, intercept))
    assert warm.n_iter_ == 1 < cold.n_iter_
    assert_array_equal(coef, clf.coef_)
    assert_array_equal(intercept, clf.intercept_)
    assert_allclose(warm.coef_, clf.coef_, atol=1e-5)

    point = fitted_classifier({"alpha": 1e-2}, coef, intercept, clf.classes_, "binary")
    assert_array_equal(point.predict(X), clf.predict(X))
    assert_allclose(point.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
@pytest.mark.parametrize("dataset", ["binary", "multiclass"])
def test_kept_problem_reaches_the_optimum_of_each_alpha(cancer, dataset, l1_ratio):
    """A path's fits reusing one objective and metric (new l2 and l1 moved
    onto the kept blocks at each alpha) reach each alpha's optimum as fits
    built from scratch do, with the same zeros and per-fit product counts;
    other data, or other settings, are never served it."""
    X, y = cancer if dataset == "binary" else load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    data = _prepared(X, y)
    alphas = alpha_max(X, data.Y, data.sw, True, 1.0) * np.logspace(-1, -4, 5)
    kept, start, first = KeptProblem(), None, None
    for alpha in alphas:
        reused = BCEPerceptronClassifier(alpha=alpha, l1_ratio=l1_ratio)
        fit_prepared(reused, data, start=start, kept=kept)
        assert kept.data is data and reused.preconditioner_ == "hessian"
        first = first or kept.objective
        assert kept.objective is first  # reused, not rebuilt
        tight = BCEPerceptronClassifier(alpha=alpha, l1_ratio=l1_ratio, tol=1e-9, max_iter=10_000)
        with warnings.catch_warnings():
            # The oracle may stop at rounding (flat J) just above tol=1e-9.
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit_prepared(tight, data, start=start)
        optimum = tight.objective(X, y)
        assert optimum - 1e-10 <= reused.objective(X, y) <= optimum + 1e-5
        assert_array_equal(reused.coef_ == 0, tight.coef_ == 0)
        # One product each to start, then one of each per iteration; from the
        # second alpha on the start is the last fit's end, whose raw
        # predictions and loss the kept problem hands over, and its loss
        # gradient where the first step needs no curvature weights (proximal
        # Newton; the planar momentum's plane model takes them).
        handed_over = start is not None
        assert reused.n_matvec_ == reused.n_iter_ + 1 - handed_over
        assert reused.n_rmatvec_ == reused.n_iter_ + 1 - (handed_over and l1_ratio > 0)
        start = reused.coef_, reused.intercept_
    # The same settings on other rows, or other settings, rebuild the problem.
    other = _prepared(X[::2], y[::2])
    assert kept.take(BCEPerceptronClassifier(alpha=alphas[0], l1_ratio=l1_ratio), other) is None
    changed = BCEPerceptronClassifier(alpha=alphas[0], l1_ratio=l1_ratio, fit_intercept=False)
    assert kept.take(changed, data) is None


def test_extrapolated_start_is_closer_to_the_next_optimum(cancer):
    """The L2 path's predictor ``theta - dl2 M^-1 [W, 0]`` from one alpha's
    optimum lands nearer the next alpha's optimum than that optimum itself,
    in coefficients and in the next objective."""
    X, y = cancer
    data = _prepared(X, y)
    alphas = alpha_max(X, data.Y, data.sw, True, 1.0) * np.array([1e-2, 1e-2 / 1.62])
    kept = KeptProblem()
    first = BCEPerceptronClassifier(alpha=alphas[0], tol=1e-9, max_iter=1000)
    fit_prepared(first, data, kept=kept)
    W, b = kept.extrapolate(first.coef_, first.intercept_, alphas[1] - alphas[0])
    nxt = BCEPerceptronClassifier(alpha=alphas[1], tol=1e-9, max_iter=1000).fit(X, y)
    error_before = np.abs(first.coef_ - nxt.coef_).max()
    assert np.abs(W - nxt.coef_).max() < 0.5 * error_before  # 0.27 measured
    assert _objective_at(nxt, X, y, W, b) < _objective_at(nxt, X, y, first.coef_, first.intercept_)


def test_renewed_metric_is_the_metric_of_the_new_penalty(cancer):
    """``renew`` moves l2 onto the kept blocks: the same inverses as a metric
    built at the new l2 and refreshed at the same point."""
    from skperceptron._hessian import HessianMetric
    from skperceptron._objective import BCEObjective

    X, y = cancer
    data = _prepared(X, y)
    raw = None
    metrics = []
    for l2 in (1e-1, 1e-3):
        objective = BCEObjective(data.X, data.Y, data.sw, l2=l2, fit_intercept=True, center=True)
        metric = HessianMetric.create(objective)
        raw = objective.matvec(*objective.parameters_of(np.full((1, 30), 0.1), np.zeros(1)))
        metric.refresh(raw)
        metrics.append((objective, metric))
    (objective, renewed), (_, fresh) = metrics
    objective.l2 = 1e-3
    renewed.renew()
    assert_allclose(renewed.inverses, fresh.inverses, rtol=1e-9, atol=1e-12)


def test_kept_problem_hands_over_only_a_converged_end(cancer):
    """Only a converged fit's end, where the stopping test read the gradient
    at the last point, is handed to the next alpha."""
    X, y = cancer
    data = _prepared(X, y)
    for max_iter, handed in ((2, False), (1000, True)):
        kept = KeptProblem()
        clf = BCEPerceptronClassifier(alpha=1e-3, l1_ratio=1.0, max_iter=max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit_prepared(clf, data, kept=kept)
        assert (kept.end is not None) == handed
    # The handed-over loss is the loss at the end: J less its penalty parts.
    W, c, raw, loss, _, _ = kept.end
    objective = kept.objective
    assert loss == pytest.approx(objective.loss(objective.matvec(W, c)), rel=1e-12)


def test_kept_hessian_samples_twice_the_rows():
    """A path keeps its Hessian over the alphas: twice the usual sample
    (without an L1 part; the proximal Newton blocks keep the usual one)."""
    from skperceptron._hessian import HessianMetric

    X, y = make_classification(12_000, 10, n_informative=5, random_state=0)
    data = _prepared(X, y)
    usual = HessianMetric.sample_size(12_000, 11)
    assert usual == 2048
    for l1_ratio, expected in ((0.0, 2 * usual), (1.0, usual)):
        kept = KeptProblem()
        clf = BCEPerceptronClassifier(alpha=1e-3, l1_ratio=l1_ratio, preconditioner="hessian")
        fit_prepared(clf, data, kept=kept)
        hessian = getattr(kept.metric, "hessian", kept.metric)
        assert len(hessian.rows) == expected
    # A fit outside a path: the usual sample.
    single = BCEPerceptronClassifier(alpha=1e-3, preconditioner="hessian")
    objective = single._problem(X, data.Y, data.sw, center=True)[0]
    assert len(HessianMetric.create(objective).rows) == usual


def test_kept_problem_skips_the_diagonal_metric(cancer):
    """The diagonal metric holds l2: it is rebuilt at every alpha."""
    X, y = cancer
    data, kept = _prepared(X, y), KeptProblem()
    fit_prepared(BCEPerceptronClassifier(preconditioner="diagonal"), data, kept=kept)
    assert kept.data is None


@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel", "strings"])
def test_default_scores_are_sklearns_accuracy(target):
    # The default scoring skips accuracy_score's checks: the same numbers.
    X, y = make_classification(90, 5, n_informative=4, n_redundant=0, n_classes=3, random_state=1)
    if target == "binary":
        y = y % 2
    elif target == "multilabel":
        y = np.column_stack([y == 0, y == 1, X[:, 0] > 0]).astype(int)
    elif target == "strings":
        y = np.array(["a", "b", "c"])[y]
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(X))
    kwargs = dict(alphas=np.logspace(-1, -3, 4), cv=3)
    ours = BCEPerceptronClassifierCV(**kwargs).fit(X, y, sample_weight=weights)
    theirs = BCEPerceptronClassifierCV(scoring="accuracy", **kwargs).fit(X, y, sample_weight=weights)
    assert np.array_equal(ours.scores_, theirs.scores_)
    # Not every fit predicts every row right: the scores say something.
    assert len(np.unique(ours.scores_)) > 1 and ours.scores_.max() < 1
