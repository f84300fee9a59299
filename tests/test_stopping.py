# SPDX-License-Identifier: BSD-3-Clause
"""Stopping: the gradient test, the gap test added to it, and the flat regime."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from skperceptron import BCEPerceptronClassifier
from skperceptron._convergence import _MAX_STALLED, Progress, Stopping


def relative_gap(clf, X, y, J_star):
    return (clf.objective(X, y) - J_star) / J_star


def optimum(X, y, **params):
    clf = BCEPerceptronClassifier(tol=1e-12, max_iter=50_000, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return clf.objective(X, y)


@pytest.fixture
def gradient_test_only(monkeypatch):
    """The stopping rule of the gradient alone (the gap test always passes)."""
    monkeypatch.setattr(Stopping, "small_gap", lambda self, *a: True)


def sparse_columns_problem():
    """CSR data whose columns each have few non-zeros: small gradient entries."""
    rng = np.random.default_rng(0)
    n, p = 6_000, 2_000
    X = sp.random(n, p, density=0.01, format="csr", random_state=1)
    X.data = rng.exponential(1.0, X.nnz)
    w = np.zeros(p)
    support = rng.choice(p, p // 10, replace=False)
    w[support] = rng.standard_normal(support.size)
    logit = X @ w
    logit = 3 * (logit - np.median(logit)) / logit.std()
    y = (rng.random(n) < expit(logit)).astype(int)
    return X, y


@pytest.mark.parametrize("preconditioner", ["auto", "diagonal"])
@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-6])
def test_default_fit_is_within_tol_of_the_optimum(breast_cancer, tol, preconditioner):
    X, y = breast_cancer
    J_star = optimum(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = BCEPerceptronClassifier(tol=tol, preconditioner=preconditioner).fit(X, y)
    assert 0 <= relative_gap(clf, X, y, J_star) <= tol


@pytest.mark.parametrize("data", ["breast_cancer", "sparse"])
def test_gradient_test_alone_stops_short(request, data, gradient_test_only):
    """Why the gap test exists: the gradient test alone stops above tol."""
    if data == "breast_cancer":
        X, y = request.getfixturevalue("breast_cancer")
    else:
        X, y = sparse_columns_problem()
    tol = 1e-2 if data == "breast_cancer" else 1e-4
    J_star = optimum(X, y)
    clf = BCEPerceptronClassifier(tol=tol).fit(X, y)
    assert relative_gap(clf, X, y, J_star) > tol


def test_sparse_columns_default_fit_within_tol():
    X, y = sparse_columns_problem()
    J_star = optimum(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = BCEPerceptronClassifier().fit(X, y)
    assert relative_gap(clf, X, y, J_star) <= 1e-4


def test_warm_start_at_the_optimum_stops_at_once(breast_cancer):
    X, y = breast_cancer
    clf = BCEPerceptronClassifier(tol=1e-6, warm_start=True).fit(X, y)
    clf.fit(X, y)
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 1


def test_gap_test_failing_at_max_iter_says_so(breast_cancer):
    X, y = breast_cancer
    # With the diagonal metric, at tol=1e-2 the gradient test holds from
    # iteration 5, the gap test from about 40.
    clf = BCEPerceptronClassifier(tol=1e-2, max_iter=12, preconditioner="diagonal")
    with pytest.warns(ConvergenceWarning, match="<= tol=0.01 but the objective still decreasing"):
        clf.fit(X, y)


def test_float32_at_its_precision_stops_as_flat():
    """tol=0 in float32: once neither the computed nor the predicted decrease
    of J is above 4 float32 epsilons of J, ten such iterations end the fit
    (it used to run on for 113 iterations of rounding noise here)."""
    X, y = make_classification(5000, 20, n_informative=10, random_state=0)
    X = X.astype(np.float32)
    clf = BCEPerceptronClassifier(tol=0.0, max_iter=1000)
    with pytest.warns(ConvergenceWarning, match="flat to float32 precision"):
        clf.fit(X, y)
    assert clf.n_iter_ < 60
    assert np.all(np.diff(clf.loss_curve_) <= 0)
    J_star = optimum(X.astype(np.float64), y)
    assert relative_gap(clf, X.astype(np.float64), y, J_star) < 1e-6


def test_progress_verdict_does_not_depend_on_which_way_rounding_falls():
    """The stall rule reads a change of J only beyond 4 epsilons and otherwise
    the gradient test: J moving by +-1 ulp (a rounding error either way)
    while the gradient test keeps setting new lows never stalls; the same J
    without new lows stalls after _MAX_STALLED iterations, as "flat" when the
    predicted decrease is within rounding and "stalled" when it is not."""
    J = 0.6384449038
    ulp = np.spacing(J)
    for sign in (1, -1):
        progress = Progress(np, np.float64)
        for k in range(50):
            progress.update(J, J + sign * ulp, 1e-18, 1e-6 * 0.9**k)
        assert progress.stalled == 0 and progress.at_resolution
    for predicted, reason in ((1e-18, "flat"), (1e-12, "stalled")):
        progress = Progress(np, np.float64)
        progress.update(J, J - 1e-9, 1e-9, 1e-6)  # a measured decrease
        for _ in range(_MAX_STALLED):
            progress.update(J, J + ulp, predicted, 2e-6)
        assert progress.stalled == _MAX_STALLED
        assert progress.reason() == reason


def test_degenerate_columns_reach_tol_with_the_diagonal_metric():
    """The CI failure under OpenBLAS's SkylakeX kernel: a zero column, a
    constant one and a duplicate scaled by 1e3 make J flat to float64
    precision (each step's predicted decrease ~1e-18) while the gradient test
    still falls; the fit must reach tol=1e-7 on every kernel, not stop
    "flat" at 8.8e-7."""
    X, y = make_classification(400, 3, n_informative=3, n_redundant=0, flip_y=0.1,
                               random_state=0)
    X = np.hstack([X, np.zeros((400, 1)), np.full((400, 1), 5.0), 1e3 * X[:, :1]])
    clf = BCEPerceptronClassifier(alpha=1e-3, tol=1e-7, max_iter=5000,
                                  preconditioner="diagonal").fit(X, y)
    residual = expit(X @ clf.coef_[0] + clf.intercept_[0]) - y
    grad = X.T @ residual / len(y) + 1e-3 * clf.coef_[0]
    assert max(np.abs(grad).max(), abs(residual.mean())) <= 1e-7 * (1 + 1e-6)
