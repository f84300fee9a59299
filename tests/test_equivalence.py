# SPDX-License-Identifier: BSD-3-Clause
"""Equivalences with scikit-learn's estimators: the same problem, the same optimum.

- ``alpha`` against LogisticRegression's ``C = 1 / (alpha S)`` (``S`` the sum
  of the sample weights), binary, weighted, one-vs-rest for several classes,
  and elastic net with the same ``l1_ratio``; every solver and preconditioner;
- SGDClassifier's ``alpha = alpha S / n`` (averaged SGD lands near the
  optimum, a wrong ``alpha`` far from it);
- MLPClassifier without a hidden layer: ``alpha = alpha S``, binary, weighted
  and multilabel.

Together they check the table of equivalences of the "Training" page column by
column.
"""

import inspect

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_iris, make_multilabel_classification
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier

from _helpers import assert_close_to, fit_strictly

SOLVERS = ["gd", "nesterov"]
PRECONDITIONERS = [None, "diagonal"]



# -- LogisticRegression, every solver and preconditioner --------------------------
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("preconditioner", PRECONDITIONERS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_equals_logistic_regression(breast_cancer, solver, preconditioner, weighted):
    X, y = breast_cancer
    alpha = 3e-3
    sw = np.random.default_rng(0).uniform(0.2, 3.0, len(y)) if weighted else None
    S = sw.sum() if weighted else len(y)
    ref = LogisticRegression(
        C=1 / (alpha * S), tol=1e-10, max_iter=1000, solver="newton-cholesky"
    ).fit(X, y, sample_weight=sw)
    clf = fit_strictly(
        BCEPerceptronClassifier(
            alpha=alpha, tol=1e-8, solver=solver, preconditioner=preconditioner, max_iter=20000
        ),
        X, y, sample_weight=sw,
    )
    assert clf.coef_.shape == (1, X.shape[1]) and clf.intercept_.shape == (1,)
    assert_close_to(clf.coef_, ref.coef_, 1e-5)
    assert_allclose(clf.intercept_, ref.intercept_, rtol=1e-5, atol=1e-6)
    assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    assert_array_equal(clf.classes_, ref.classes_)
    # The objective at the optimum is the one recorded last.
    assert_allclose(clf.objective(X, y, sample_weight=sw), clf.loss_curve_[-1], rtol=1e-9)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("preconditioner", PRECONDITIONERS)
def test_multiclass_units_are_one_vs_rest_fits(iris, solver, preconditioner):
    X, y = iris
    alpha = 1e-2
    params = dict(alpha=alpha, tol=1e-8, solver=solver, preconditioner=preconditioner, max_iter=20000)
    clf = fit_strictly(BCEPerceptronClassifier(**params), X, y)
    assert clf.coef_.shape == (3, 4) and clf.intercept_.shape == (3,)
    for k in range(3):
        binary = fit_strictly(BCEPerceptronClassifier(**params), X, y == k)
        assert_close_to(clf.coef_[k], binary.coef_[0], 1e-5)
        assert_allclose(clf.intercept_[k], binary.intercept_[0], rtol=1e-5, atol=1e-6)
        ref = LogisticRegression(
            C=1 / (alpha * len(y)), tol=1e-10, solver="newton-cholesky"
        ).fit(X, y == k)
        assert_close_to(clf.coef_[k], ref.coef_[0], 1e-5)
        assert_allclose(clf.intercept_[k], ref.intercept_[0], rtol=1e-5, atol=1e-6)



# -- the table of equivalences of "Training" --------------------------------------
@pytest.fixture(scope="module")
def standardized_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _tight(**params):
    # The L1 path's line search stops near 1e-9 in float64: ask for 1e-8 there.
    tol = 1e-8 if params.get("l1_ratio") else 1e-10
    return BCEPerceptronClassifier(tol=tol, max_iter=20_000, **params)


def _relative_error(a, b):
    return np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max()


@pytest.mark.parametrize("weighted", [False, True])
def test_logistic_regression_C_is_one_over_alpha_S(standardized_cancer, weighted, rng):
    X, y = standardized_cancer
    sample_weight = rng.uniform(0.5, 3.0, X.shape[0]) if weighted else None
    S = X.shape[0] if sample_weight is None else sample_weight.sum()
    alpha = 1e-2
    ours = _tight(alpha=alpha).fit(X, y, sample_weight=sample_weight)
    theirs = LogisticRegression(C=1 / (alpha * S), tol=1e-12, max_iter=10_000)
    theirs.fit(X, y, sample_weight=sample_weight)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-5)


def test_logistic_regression_elastic_net_same_l1_ratio(standardized_cancer):
    X, y = standardized_cancer
    alpha, l1_ratio = 1e-2, 0.5
    ours = _tight(alpha=alpha, l1_ratio=l1_ratio).fit(X, y)
    params = dict(C=1 / (alpha * X.shape[0]), l1_ratio=l1_ratio, solver="saga")
    if "deprecated" not in str(inspect.signature(LogisticRegression).parameters["penalty"]):
        params["penalty"] = "elasticnet"  # scikit-learn < 1.8
    theirs = LogisticRegression(tol=1e-8, max_iter=100_000, **params).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-4)
    assert np.array_equal(ours.coef_ == 0, np.abs(theirs.coef_) < 1e-6)


def test_multiclass_equals_one_vs_rest_logistic_regression():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 1e-2
    ours = _tight(alpha=alpha).fit(X, y)
    theirs = OneVsRestClassifier(
        LogisticRegression(C=1 / (alpha * X.shape[0]), tol=1e-12, max_iter=10_000)
    ).fit(X, y)
    stacked = np.vstack([estimator.coef_ for estimator in theirs.estimators_])
    np.testing.assert_allclose(ours.coef_, stacked, atol=1e-5)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("weighted", [False, True])
def test_sgd_alpha_is_alpha_S_over_n(standardized_cancer, weighted, rng):
    # Averaged SGD approaches the optimum of its objective; the documented
    # alpha must land within a few percent, a wrong one (alpha * n) far off.
    X, y = standardized_cancer
    n_samples = X.shape[0]
    sample_weight = rng.uniform(0.5, 3.0, n_samples) if weighted else None
    S = n_samples if sample_weight is None else sample_weight.sum()
    alpha = 1e-2
    ours = _tight(alpha=alpha).fit(X, y, sample_weight=sample_weight)

    def sgd(sgd_alpha):
        return SGDClassifier(
            loss="log_loss", alpha=sgd_alpha, max_iter=2000, tol=None, average=True,
            random_state=0,
        ).fit(X, y, sample_weight=sample_weight)

    assert _relative_error(sgd(alpha * S / n_samples).coef_, ours.coef_) < 0.02
    assert _relative_error(sgd(alpha * n_samples).coef_, ours.coef_) > 0.5


def test_sgd_elastic_net_same_alpha_and_l1_ratio(standardized_cancer):
    X, y = standardized_cancer
    alpha, l1_ratio = 1e-2, 0.5
    ours = _tight(alpha=alpha, l1_ratio=l1_ratio).fit(X, y)
    theirs = SGDClassifier(
        loss="log_loss", alpha=alpha, penalty="elasticnet", l1_ratio=l1_ratio,
        max_iter=3000, tol=None, random_state=0,
    ).fit(X, y)
    assert _relative_error(theirs.coef_, ours.coef_) < 0.05


def _mlp(alpha):
    """MLPClassifier without a hidden layer: K logistic units, fitted tightly.
    Seeded: its lbfgs stops near, not at, the optimum, how near depending on
    its random start."""
    return MLPClassifier(
        hidden_layer_sizes=(), alpha=alpha, solver="lbfgs", tol=1e-12, max_iter=20_000,
        random_state=0,
    )


def test_mlp_without_hidden_layer_alpha_is_alpha_S(standardized_cancer):
    X, y = standardized_cancer
    alpha = 1e-2
    ours = _tight(alpha=alpha).fit(X, y)
    mlp = _mlp(alpha * X.shape[0]).fit(X, y)
    np.testing.assert_allclose(ours.coef_, mlp.coefs_[0].T, atol=1e-3)
    np.testing.assert_allclose(ours.intercept_, mlp.intercepts_[0], atol=1e-3)


def test_mlp_weighted_alpha_is_alpha_times_sum_of_weights(standardized_cancer, rng):
    if "sample_weight" not in inspect.signature(MLPClassifier.fit).parameters:
        pytest.skip("MLPClassifier.fit takes sample_weight from scikit-learn 1.7")
    X, y = standardized_cancer
    sample_weight = rng.uniform(0.5, 3.0, X.shape[0])
    alpha = 1e-2
    ours = _tight(alpha=alpha).fit(X, y, sample_weight=sample_weight)
    mlp = _mlp(alpha * sample_weight.sum()).fit(X, y, sample_weight=sample_weight)
    np.testing.assert_allclose(ours.coef_, mlp.coefs_[0].T, atol=1e-3)


def test_mlp_multilabel_is_the_same_problem():
    X, Y = make_multilabel_classification(n_samples=200, n_features=5, random_state=0)
    X = StandardScaler().fit_transform(X)
    alpha = 1e-2
    ours = _tight(alpha=alpha).fit(X, Y)
    # Seeded: MLP's lbfgs stops near, not at, the optimum (within 1.4e-4 in
    # coef_ over 40 seeds), how near depending on its random start; unseeded,
    # this test failed once in a dozen runs of the suite here.
    mlp = _mlp(alpha * X.shape[0]).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, mlp.coefs_[0].T, atol=1e-3)
    np.testing.assert_allclose(ours.predict_proba(X), mlp.predict_proba(X), atol=1e-4)
