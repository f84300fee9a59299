# SPDX-License-Identifier: BSD-3-Clause
"""The L1 part: its proximal operator, and elastic-net solutions of the estimator.

Optimality is checked through the subgradient (KKT) conditions with a
gradient written here from the formula, and against scikit-learn's
``LogisticRegression(solver="saga")`` on the same problem.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, log_expit
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier
from skperceptron._penalty import L1Penalty, soft_threshold


# -- the operator -----------------------------------------------------------------
def test_soft_threshold_values():
    Z = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.25, 3.0])
    expected = np.array([-2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 2.0])
    out = soft_threshold(Z, 1.0)
    assert_array_equal(out, expected)
    # Zeros are exact, not tiny.
    assert np.all(out[1:6] == 0.0)


def test_soft_threshold_per_coordinate_threshold():
    Z = np.array([[2.0, -2.0, 2.0], [0.1, -0.1, 5.0]])
    threshold = np.array([0.5, 3.0, 0.0])
    expected = np.array([[1.5, 0.0, 2.0], [0.0, 0.0, 5.0]])
    assert_array_equal(soft_threshold(Z, threshold), expected)


def test_prox_values_and_scaling():
    penalty = L1Penalty(0.5)
    Z = np.array([[1.0, -0.2, -2.0]])
    step = np.array([1.0, 1.0, 2.0])
    # Threshold l1 * step per coordinate: 0.5, 0.5, 1.0.
    assert_array_equal(penalty.prox(Z, step), [[0.5, 0.0, -1.0]])
    assert_allclose(penalty.prox(Z, 0.1), [[0.95, -0.15, -1.95]], rtol=1e-15)
    assert penalty.value(Z) == pytest.approx(0.5 * 3.2)
    assert bool(penalty) and not bool(L1Penalty(0.0))


@pytest.mark.parametrize("z", [-2.3, -0.4, 0.0, 0.15, 0.7, 3.1])
@pytest.mark.parametrize("step", [0.3, 1.0, 2.5])
def test_prox_is_the_minimizer(z, step):
    """prox(z) = argmin_w l1 |w| + (w - z)^2 / (2 step), checked on a grid."""
    l1 = 0.6
    grid = np.linspace(-5, 5, 200001)
    objective = l1 * np.abs(grid) + (grid - z) ** 2 / (2 * step)
    brute = grid[np.argmin(objective)]
    got = L1Penalty(l1).prox(np.array([z]), step)[0]
    assert got == pytest.approx(brute, abs=1e-4)


def test_zero_penalty_is_the_identity():
    penalty = L1Penalty(0.0)
    rng = np.random.default_rng(0)
    W = rng.standard_normal((2, 5))
    grad = rng.standard_normal((2, 5))
    assert penalty.value(W) == 0.0
    assert_array_equal(penalty.prox(W, 1.0), W)
    assert_array_equal(penalty.gradient_mapping(W, grad), grad)


@pytest.mark.parametrize("t", [0.3, 1.0])
def test_left_slope_is_the_backward_difference_quotient(t):
    """The slope of g from behind along dW at W + t dW, kinks included (a
    coordinate at zero contributes -l1 |dW|), against a backward quotient."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((2, 6))
    dW = rng.standard_normal((2, 6))
    W[0, :3] = -t * dW[0, :3]  # exactly at zero at W + t dW: kinks
    pen = L1Penalty(0.7)
    h = 1e-7
    point = W + t * dW
    quotient = (pen.value(point) - pen.value(point - h * dW)) / h
    assert pen.left_slope(point, dW) == pytest.approx(quotient, rel=1e-6)
    assert L1Penalty(0.0).left_slope(point, dW) == 0.0


def test_gradient_mapping():
    l1 = 0.5
    penalty = L1Penalty(l1)
    W = np.array([[1.0, -2.0, 0.0, 0.0, 0.0, 3.0]])
    # KKT holds on the first four: grad = -l1 sign(w) or |grad| <= l1 at 0.
    grad = np.array([[-0.5, 0.5, 0.3, -0.5, 0.8, 0.1]])
    mapping = penalty.gradient_mapping(W, grad)
    assert_allclose(mapping[0, :4], 0.0, atol=1e-15)
    # At zero with |grad| > l1: the excess; away from zero: grad + l1 sign(w).
    assert mapping[0, 4] == pytest.approx(0.3)
    assert mapping[0, 5] == pytest.approx(0.6)


# -- elastic-net solutions ----------------------------------------------------------
def smooth_gradient(X, Y, coef, intercept, l2):
    """Gradient of the mean BCE + l2/2 ||W||^2, from the formula."""
    X = X.toarray() if sp.issparse(X) else X
    raw = X @ coef.T + intercept
    residual = (expit(raw) - Y) / X.shape[0]
    return residual.T @ X + l2 * coef, residual.sum(axis=0)


def targets(y, classes):
    if len(classes) == 2:
        return (y == classes[1]).astype(float)[:, None]
    return (y[:, None] == classes[None, :]).astype(float)


def problem(kind):
    n_classes = 2 if kind == "binary" else 3
    X, y = make_classification(
        300,
        20,
        n_informative=6,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    X[:, :5] *= 4.0  # not all columns alike
    return X, y


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("solver", ["nesterov", "gd"])
@pytest.mark.parametrize("kind", ["binary", "multiclass"])
@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_elastic_net_kkt(l1_ratio, kind, solver, sparse):
    X, y = problem(kind)
    alpha = 0.05
    clf = BCEPerceptronClassifier(
        alpha=alpha, l1_ratio=l1_ratio, solver=solver, tol=1e-8, max_iter=20000
    )
    clf.fit(sp.csr_matrix(X) if sparse else X, y)
    l1, l2 = alpha * l1_ratio, alpha * (1 - l1_ratio)
    W, b = clf.coef_, clf.intercept_
    grad_W, grad_b = smooth_gradient(X, targets(y, clf.classes_), W, b, l2)

    nonzero = W != 0
    assert nonzero.any() and (~nonzero).any(), "pick alpha with some zeros and some not"
    assert_allclose((grad_W + l1 * np.sign(W))[nonzero], 0.0, atol=1e-6)
    assert np.all(np.abs(grad_W[~nonzero]) <= l1 + 1e-6)
    assert_allclose(grad_b, 0.0, atol=1e-6)


def reference_objective(X, y, coef, intercept, alpha, l1_ratio):
    raw = X @ np.ravel(coef) + intercept
    bce = -(y * log_expit(raw) + (1 - y) * log_expit(-raw))
    return (
        bce.mean()
        + 0.5 * alpha * (1 - l1_ratio) * np.sum(np.square(coef))
        + alpha * l1_ratio * np.abs(coef).sum()
    )


@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_matches_logistic_regression_saga(l1_ratio):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 0.03
    with warnings.catch_warnings():
        # The penalty parameter is on its way out in scikit-learn 1.8+.
        warnings.simplefilter("ignore", FutureWarning)
        # Before scikit-learn 1.8, l1_ratio is ignored unless penalty says so.
        reference = LogisticRegression(
            C=1 / (alpha * X.shape[0]),
            penalty="elasticnet",
            l1_ratio=l1_ratio,
            solver="saga",
            tol=1e-12,
            max_iter=100000,
        ).fit(X, y)
    clf = BCEPerceptronClassifier(alpha=alpha, l1_ratio=l1_ratio, tol=1e-8, max_iter=20000)
    clf.fit(X, y)
    J_ref = reference_objective(X, y, reference.coef_, reference.intercept_[0], alpha, l1_ratio)
    J = reference_objective(X, y, clf.coef_, clf.intercept_[0], alpha, l1_ratio)
    assert J == pytest.approx(J_ref, rel=1e-6)
    assert clf.objective(X, y) == pytest.approx(J_ref, rel=1e-6)
    assert_allclose(clf.coef_, reference.coef_, atol=1e-4)
    # The same coefficients are exactly zero.
    assert_array_equal(clf.coef_ == 0, reference.coef_ == 0)


def test_exact_zeros():
    X, y = problem("binary")
    clf = BCEPerceptronClassifier(alpha=0.05, l1_ratio=1.0, tol=1e-6).fit(X, y)
    n_zero = int(np.sum(clf.coef_ == 0.0))
    assert 0 < n_zero < clf.coef_.size


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
@pytest.mark.parametrize("solver", ["nesterov", "gd"])
def test_large_alpha_gives_all_zero_coefficients(kind, solver):
    X, y = problem(kind)
    clf = BCEPerceptronClassifier(alpha=10.0, l1_ratio=1.0, solver=solver).fit(X, y)
    assert np.all(clf.coef_ == 0.0)
    # Then the intercepts are the log-odds of each unit.
    Y = targets(y, clf.classes_)
    prior = Y.mean(axis=0)
    assert_allclose(clf.intercept_, np.log(prior / (1 - prior)), atol=1e-6)


@pytest.mark.parametrize("solver", ["nesterov", "gd"])
@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_sparse_input_same_solution(l1_ratio, solver):
    X, y = problem("multiclass")
    X[np.abs(X) < 0.7] = 0.0  # genuinely sparse
    params = dict(alpha=0.02, l1_ratio=l1_ratio, solver=solver, tol=1e-8, max_iter=20000)
    dense = BCEPerceptronClassifier(**params).fit(X, y)
    sparse = BCEPerceptronClassifier(**params).fit(sp.csr_matrix(X), y)
    assert_allclose(sparse.coef_, dense.coef_, atol=1e-6)
    assert_allclose(sparse.intercept_, dense.intercept_, atol=1e-6)
    assert np.sum(dense.coef_ == 0) > 0


def test_exact_zero_optimum_converges_at_once_without_warning():
    """W = 0 is the optimum (|gradient| 0.5 <= l1 = 10): the gradient mapping
    and the proximal model's decrease are both 0 at the start, so the first
    check stops the fit (it used to warn that the objective was flat)."""
    clf = BCEPerceptronClassifier(alpha=10, l1_ratio=1, fit_intercept=False)
    clf.fit([[1.0], [-1.0]], [0, 1])  # a ConvergenceWarning is an error here
    assert_array_equal(clf.coef_, [[0.0]])
    assert clf.n_iter_ == 1


@pytest.mark.parametrize(
    "params",
    [
        dict(l1_ratio=1.0),
        dict(l1_ratio=0.5),
        dict(l1_ratio=1.0, preconditioner=None),
        dict(l1_ratio=0.5, solver="gd"),
    ],
    ids=["l1", "elastic-net", "l1-no-metric", "elastic-net-gd"],
)
def test_l1_fits_reach_a_tight_tol_in_float64(breast_cancer, params):
    """The line search decides on the composite slope where values are within
    rounding: an L1 part no longer stalls near max |gradient mapping| 1e-8."""
    X, y = breast_cancer
    clf = BCEPerceptronClassifier(alpha=1e-3, tol=1e-9, max_iter=20_000, **params).fit(X, y)
    W, b = clf.coef_, clf.intercept_
    residual = expit(X @ W[0] + b[0]) - y
    l1 = clf.alpha * clf.l1_ratio
    grad = X.T @ residual / len(y) + clf.alpha * (1 - clf.l1_ratio) * W[0]
    mapping = W[0] - soft_threshold(W[0] - grad, l1)
    assert max(np.abs(mapping).max(), abs(residual.mean())) <= 1e-9 * (1 + 1e-6)
