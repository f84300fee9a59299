# SPDX-License-Identifier: BSD-3-Clause
"""Proximal Newton steps for the L1 part (``_prox_newton``): the subproblem,
and fits checked against independent solvers."""

import inspect
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier
from skperceptron import _hessian, _prox_newton
from skperceptron._prox_newton import minimize_model

from _helpers import fit_strictly

TIGHT = dict(tol=1e-10, max_iter=5000)


def newton(**params):
    return BCEPerceptronClassifier(preconditioner="hessian", **TIGHT, **params)


def fista(**params):
    return BCEPerceptronClassifier(preconditioner="diagonal", **TIGHT, **params)


def fit_quietly(clf, X, y, **fit_params):
    # At tol=1e-10 a fit may end "flat" (float64 resolved) with a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y, **fit_params)


def objective(clf):
    return clf.loss_curve_[-1]


def assert_same_fit(a, b, atol=1e-6):
    assert_allclose(objective(a), objective(b), rtol=1e-10)
    assert_allclose(a.coef_, b.coef_, rtol=0, atol=atol)
    assert_allclose(a.intercept_, b.intercept_, rtol=0, atol=atol)
    # Exact zeros, the same ones.
    assert np.any(b.coef_ == 0)
    assert_array_equal(a.coef_ == 0, b.coef_ == 0)


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(300, 12, n_informative=5, random_state=0)
    return StandardScaler().fit_transform(X), y


# -- the subproblem ----------------------------------------------------------------
def _ista(M, g, z0, l1, n_penalized, n_iter=200_000):
    """The model's minimizer by plain proximal gradient: slow, independent."""
    step = 1 / np.linalg.eigvalsh(M).max()
    d = np.zeros_like(g)
    threshold = np.where(np.arange(len(g)) < n_penalized, l1 * step, 0.0)
    for _ in range(n_iter):
        u = z0 + d - step * (g + M @ d)
        d = np.sign(u) * np.maximum(np.abs(u) - threshold, 0) - z0
    return d


@pytest.mark.parametrize("seed", range(4))
def test_subproblem_minimizer_equals_proximal_gradient(seed):
    rng = np.random.default_rng(seed)
    q = 8
    A = rng.standard_normal((40, q))
    A[:, 3] = A[:, 1] + 0.01 * A[:, 2]  # nearly redundant: an ill-conditioned M
    M = A.T @ A / 40 + 1e-3 * np.eye(q)
    g = rng.standard_normal(q)
    z0 = np.where(rng.random(q) < 0.5, 0.0, rng.standard_normal(q))
    l1, n_penalized = 0.3, q - 1  # the last coordinate: an intercept
    d, value, _ = minimize_model(M, g, z0, l1, n_penalized)
    reference = _ista(M, g, z0, l1, n_penalized)
    assert_allclose(d, reference, atol=1e-8)
    z = z0 + d
    assert_array_equal(z[:n_penalized] == 0, np.abs(z0 + reference)[:n_penalized] < 1e-12)
    # The value it reports is the model's, and below d = 0's.
    change = np.abs(z[:n_penalized]).sum() - np.abs(z0[:n_penalized]).sum()
    assert_allclose(value, g @ d + 0.5 * d @ M @ d + l1 * change, rtol=1e-12)
    assert value < 0


@pytest.mark.parametrize("l1", [1e-4, 0.05, 0.3, 2.0])
def test_subproblem_from_a_start_equals_proximal_gradient(l1):
    # z0 without penalized nonzeros (a fit's first iteration): the face guessed
    # from the smooth model's minimizer, then coordinate descent.  From every
    # feature active (tiny l1) to few.
    rng = np.random.default_rng(1)
    q = 10
    A = rng.standard_normal((60, q))
    A[:, 4] = A[:, 2] - 0.02 * A[:, 5]
    M = A.T @ A / 60 + 1e-3 * np.eye(q)
    g = rng.standard_normal(q)
    z0 = np.zeros(q)
    z0[-1] = 0.7  # the intercept
    d, value, sweeps = minimize_model(M, g, z0, l1, q - 1)
    reference = _ista(M, g, z0, l1, q - 1)
    assert_allclose(d, reference, atol=1e-8)
    assert_array_equal((z0 + d)[:-1] == 0, np.abs(z0 + reference)[:-1] < 1e-12)
    if l1 == 1e-4:
        # Every feature enters with the smooth minimizer's sign: the guessed
        # face is the answer, no sweep needed.
        assert np.all((z0 + d)[:-1] != 0) and sweeps == 0


def test_subproblem_from_a_start_with_a_singular_model():
    # A column without curvature or penalty (a feature that is zero on every
    # sampled row): no smooth minimizer to guess a face from; the answer
    # leaves that coordinate at zero.
    rng = np.random.default_rng(3)
    q = 6
    A = rng.standard_normal((40, q))
    A[:, 2] = 0.0
    M = A.T @ A / 40
    g = A.T @ rng.standard_normal(40) / 40
    z0 = np.zeros(q)
    d, _, _ = minimize_model(M, g, z0, 0.05, q - 1)
    assert d[2] == 0
    assert_allclose(d, _ista(M, g, z0, 0.05, q - 1), atol=1e-8)


def test_subproblem_from_a_start_with_a_wrong_guess(monkeypatch):
    # A guessed face that a few clips cannot mend (one face solve allowed):
    # coordinate descent goes on from where the polish stopped.
    monkeypatch.setattr(_prox_newton, "_ENTRY_CLIPS", 1)
    rng = np.random.default_rng(2)
    q = 12
    A = rng.standard_normal((50, q))
    M = A.T @ A / 50
    g = rng.standard_normal(q)
    z0 = np.zeros(q)
    d, _, sweeps = minimize_model(M, g, z0, 0.4, q)
    assert_allclose(d, _ista(M, g, z0, 0.4, q), atol=1e-8)
    assert sweeps > 0


def test_subproblem_at_an_optimum_is_zero():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((30, 5))
    M = A.T @ A / 30
    z0 = np.array([0.5, 0.0, -1.0, 0.0, 0.2])
    # A gradient that satisfies the optimality conditions at z0 with l1 = 0.1.
    g = np.array([-0.1, 0.05, 0.1, -0.02, 0.0])
    d, value, _ = minimize_model(M, g, z0, 0.1, 4)
    assert_allclose(d, 0, atol=1e-14)
    assert value == pytest.approx(0, abs=1e-15)


# -- fits against independent solvers ------------------------------------------------
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_binary_equals_logistic_regression(binary, l1_ratio):
    X, y = binary
    alpha = 0.02
    clf = fit_strictly(BCEPerceptronClassifier(alpha=alpha, l1_ratio=l1_ratio, tol=1e-8), X, y)
    assert clf.preconditioner_ == "hessian" and clf.n_iter_ <= 20
    params = dict(C=1 / (alpha * len(y)), l1_ratio=l1_ratio, solver="saga")
    if "deprecated" not in str(inspect.signature(LogisticRegression).parameters["penalty"]):
        params["penalty"] = "elasticnet"  # scikit-learn < 1.8
    peer = LogisticRegression(tol=1e-12, max_iter=100_000, **params).fit(X, y)
    assert_allclose(clf.coef_, peer.coef_, atol=1e-5)
    assert_allclose(clf.intercept_, peer.intercept_, atol=1e-5)
    assert_array_equal(clf.coef_ == 0, np.abs(peer.coef_) < 1e-8)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_binary_equals_fista(binary, l1_ratio, fit_intercept):
    X, y = binary
    params = dict(alpha=0.02, l1_ratio=l1_ratio, fit_intercept=fit_intercept)
    a = fit_quietly(newton(**params), X, y)
    b = fit_quietly(fista(**params), X, y)
    assert a.preconditioner_ == "hessian" and b.preconditioner_ == "diagonal"
    assert a.n_iter_ < b.n_iter_ / 5
    assert_same_fit(a, b)


def test_multiclass_and_sparse_equal_fista(iris):
    X, y = iris
    a = fit_quietly(newton(alpha=0.01, l1_ratio=0.7), X, y)
    b = fit_quietly(fista(alpha=0.01, l1_ratio=0.7), X, y)
    assert_same_fit(a, b)
    # CSR data: the same problem, the same optimum.
    rng = np.random.default_rng(0)
    Xs = sp.random(200, 30, density=0.2, format="csr", random_state=rng)
    ys = np.arange(200) % 3
    a = fit_quietly(newton(alpha=0.005, l1_ratio=1.0), Xs, ys)
    b = fit_quietly(fista(alpha=0.005, l1_ratio=1.0), Xs, ys)
    assert_same_fit(a, b)


def test_intercept_is_not_penalized(binary):
    X, y = binary
    y = (np.arange(len(y)) % 4 == 0).astype(int)  # a quarter positive
    # An L1 weight beyond max |gradient| at zero: every coefficient is 0, and
    # the intercept is the log-odds of the class, not shrunk.
    clf = fit_strictly(BCEPerceptronClassifier(alpha=10.0, l1_ratio=1.0, tol=1e-8), X, y)
    assert clf.preconditioner_ == "hessian"
    assert_array_equal(clf.coef_, 0)
    assert_allclose(clf.intercept_, [np.log(0.25 / 0.75)], rtol=1e-6)


def test_sample_weights_equal_repeated_rows(binary):
    X, y = binary
    weights = np.arange(len(y)) % 3
    repeated = np.repeat(np.arange(len(y)), weights)
    a = fit_quietly(newton(alpha=0.02, l1_ratio=1.0), X, y, sample_weight=weights)
    b = fit_quietly(newton(alpha=0.02, l1_ratio=1.0), X[repeated], y[repeated])
    assert_allclose(a.coef_, b.coef_, atol=1e-8)
    assert_allclose(a.intercept_, b.intercept_, atol=1e-8)
    assert_array_equal(a.coef_ == 0, b.coef_ == 0)


def test_float32_stays_float32(binary):
    X, y = binary
    clf = fit_strictly(
        BCEPerceptronClassifier(alpha=0.02, l1_ratio=0.5), X.astype(np.float32), y
    )
    assert clf.preconditioner_ == "hessian"
    assert clf.coef_.dtype == np.float32 and clf.intercept_.dtype == np.float32


# -- the working set -------------------------------------------------------------------
def test_working_set_reaches_the_full_model_optimum(monkeypatch):
    """p = 2,000, n = 50 (gene-expression-like): the model is formed on a few
    dozen columns, and the optimum is the one of the model on all of them."""
    X, y = make_classification(
        50, 2000, n_informative=10, n_redundant=0, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    params = dict(alpha=0.05, l1_ratio=1.0)
    widths = []
    matrix = _hessian.HessianMetric.matrix

    def recorded(self, h, columns=None):
        widths.append(self.A.shape[1] if columns is None else len(columns))
        return matrix(self, h, columns)

    monkeypatch.setattr(_hessian.HessianMetric, "matrix", recorded)
    a = fit_quietly(BCEPerceptronClassifier(**TIGHT, **params), X, y)
    assert a.preconditioner_ == "hessian"
    assert 0 < max(widths) <= 200
    monkeypatch.setattr(_prox_newton, "_WORKING_SET_FEATURES", 10**6)
    widths.clear()
    b = fit_quietly(newton(**params), X, y)
    assert max(widths) == 2001
    assert 0 < np.sum(a.coef_ != 0) < 50
    assert_same_fit(a, b, atol=1e-6)


def test_nearly_separable_multiclass_converges_in_few_iterations():
    """Digits at a tiny alpha: with blocks refreshed only past 2% of change the
    steps crawled to max_iter=1000; refreshed at every move, 16 iterations."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = float(np.logspace(-5, 0, 12)[1])
    clf = fit_strictly(BCEPerceptronClassifier(alpha=alpha, l1_ratio=1.0), X, y)
    assert clf.preconditioner_ == "hessian" and clf.n_iter_ <= 30
    tight = fit_quietly(newton(alpha=alpha, l1_ratio=1.0), X, y)
    # The default tol=1e-4 asks the model's decrease for 0.1 tol |J|: the
    # gap, a few times that at a linear rate, is within tol / 10 here (4.7e-6).
    gap = objective(clf) - objective(tight)
    assert 0 <= gap <= 1e-5 * objective(tight)
