# SPDX-License-Identifier: BSD-3-Clause
"""The optimization engine, through the estimator and on its own.

Solvers are tested against each other (through the estimator, and at the end
of this file as ``ProximalGradientSolver`` on a hand-built objective, penalty
and metric) and against an independent reference
(``scipy.optimize.minimize`` on the objective written again here), on the
cost of an iteration (products with X), on monotonicity, and on the
diagnostics a user sees (warnings, verbose output).
"""

import itertools
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import skperceptron._rows as rows_module
import skperceptron._solvers as solvers_module
from skperceptron import BCEPerceptronClassifier
from skperceptron._convergence import SolverResult
from skperceptron._data import log_odds
from skperceptron._objective import BCEObjective
from skperceptron._penalty import L1Penalty
from skperceptron._preconditioner import DiagonalMetric
from skperceptron._preconditioner import make as make_metric
from skperceptron._solvers import ProximalGradientSolver

SOLVERS = ["gd", "nesterov"]
PRECONDITIONERS = ["auto", "diagonal", None]  # "auto": the Hessian metric where it applies


# -- independent reference ------------------------------------------------------
def target_matrix(y, classes):
    """(n, K) 0/1 targets, written from the documented encoding."""
    y = np.asarray(y)
    if y.ndim == 2:
        return y.astype(float)
    if len(classes) == 2:
        return (y == classes[1]).astype(float)[:, None]
    return (y[:, None] == classes[None, :]).astype(float)


def reference_objective(X, Y, coef, intercept, alpha, l1_ratio=0.0, sample_weight=None):
    """J(W, b) from the class docstring, with log_expit, in float64."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    X = X.astype(np.float64)
    coef = np.asarray(coef, dtype=np.float64)
    raw = X @ coef.T + np.asarray(intercept, dtype=np.float64)
    bce = -(Y * log_expit(raw) + (1 - Y) * log_expit(-raw))
    s = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    data = float(s @ bce.sum(axis=1)) / s.sum()
    return (
        data
        + 0.5 * alpha * (1 - l1_ratio) * float(np.sum(coef**2))
        + alpha * l1_ratio * float(np.abs(coef).sum())
    )


def reference_optimum(X, y, alpha, scale):
    """Minimum of J for binary y by L-BFGS-B in the coordinates ``z = w * scale``.

    ``X @ w = (X / scale) @ z`` and ``||w||^2 = ||z / scale||^2``: an exact
    change of variables in which the data term is well conditioned, so that
    L-BFGS-B converges tightly even when the columns of X are not.
    """
    Z = X / scale
    n_samples = X.shape[0]

    def fun(theta):
        z, b = theta[:-1], theta[-1]
        w = z / scale
        raw = Z @ z + b
        value = np.mean(-(y * log_expit(raw) + (1 - y) * log_expit(-raw)))
        value += 0.5 * alpha * w @ w
        residual = (expit(raw) - y) / n_samples
        grad_z = Z.T @ residual + alpha * w / scale
        return value, np.append(grad_z, residual.sum())

    result = minimize(
        fun,
        np.zeros(X.shape[1] + 1),
        jac=True,
        method="L-BFGS-B",
        options=dict(maxiter=20000, maxcor=30, ftol=1e-16, gtol=1e-13),
    )
    # In these coordinates the Hessian is bounded below by about alpha, so
    # this gradient puts the value within ~|g|^2 / alpha ~ 1e-8 * J of the
    # minimum, well inside the 1e-6 gaps measured against it.
    assert np.max(np.abs(result.jac)) < 1e-6, result.message
    return float(result.fun)


def non_increasing(curve, rtol=1e-12):
    curve = np.asarray(curve)
    increase = np.diff(curve)
    return bool(np.all(increase <= rtol * np.abs(curve[:-1])))


def ill_scaled(n_samples, n_features, seed, low=-3, high=3):
    """make_classification with columns scaled by 10**u, u ~ U[low, high].

    ``n_redundant=0``: redundant (collinear) features would make the problem
    itself ill-conditioned once the L2 penalty is weak in their coordinates
    (a large column scale makes its penalty negligible), which no diagonal
    preconditioner can or should fix; here only the scaling differs.
    """
    X, y = make_classification(
        n_samples,
        n_features,
        n_informative=n_features // 2,
        n_redundant=0,
        random_state=seed,
    )
    scale = 10.0 ** np.random.default_rng(seed).uniform(low, high, n_features)
    return X * scale, y, scale


def small_problem(kind):
    """Small well-conditioned problems every solver can finish."""
    if kind == "binary":
        X, y = make_classification(
            120, 6, n_informative=4, n_redundant=0, random_state=0
        )
    elif kind == "multiclass":
        X, y = make_classification(
            150,
            6,
            n_informative=4,
            n_redundant=0,
            n_classes=3,
            n_clusters_per_class=1,
            random_state=0,
        )
    else:
        X, y = make_multilabel_classification(120, 6, n_classes=3, random_state=0)
        X = StandardScaler().fit_transform(X)
    return X, y


def fit_quietly(clf, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y, **fit_params)


# -- solvers agree ----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_solvers_reach_the_same_solution_float64(kind, sparse):
    X, y = small_problem(kind)
    if sparse:
        X = sp.csr_matrix(X)
    fits = {}
    for solver, preconditioner in itertools.product(SOLVERS, PRECONDITIONERS):
        clf = BCEPerceptronClassifier(
            solver=solver,
            preconditioner=preconditioner,
            alpha=1e-2,
            tol=1e-8,
            max_iter=20000,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            clf.fit(X, y)
        assert clf.n_iter_ < 20000
        fits[solver, preconditioner] = clf
    reference = fits["gd", None]
    for key, clf in fits.items():
        assert clf.coef_.dtype == np.float64
        assert_allclose(clf.coef_, reference.coef_, rtol=0, atol=1e-6, err_msg=str(key))
        assert_allclose(
            clf.intercept_, reference.intercept_, rtol=0, atol=1e-6, err_msg=str(key)
        )
    # And all of them at the minimum of J as written here: no perturbation of
    # the solution lowers it (a shared wrong gradient would not be caught by
    # agreement alone).
    Y = target_matrix(y, reference.classes_)
    X_dense = X.toarray() if sparse else X
    J0 = reference_objective(X_dense, Y, reference.coef_, reference.intercept_, 1e-2)
    rng = np.random.default_rng(0)
    for _ in range(5):
        dW = 1e-4 * rng.standard_normal(reference.coef_.shape)
        db = 1e-4 * rng.standard_normal(reference.intercept_.shape)
        J1 = reference_objective(
            X_dense, Y, reference.coef_ + dW, reference.intercept_ + db, 1e-2
        )
        assert J1 >= J0


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_solvers_float32_close_to_float64(kind, sparse):
    X, y = small_problem(kind)
    reference = BCEPerceptronClassifier(alpha=0.1, tol=1e-8, max_iter=20000).fit(X, y)
    X32 = X.astype(np.float32)
    if sparse:
        X32 = sp.csr_matrix(X32)
    for solver, preconditioner in itertools.product(SOLVERS, PRECONDITIONERS):
        clf = BCEPerceptronClassifier(
            solver=solver, preconditioner=preconditioner, alpha=0.1, tol=1e-4, max_iter=2000
        )
        # tol=1e-4 is near sqrt(float32 eps): the line search may end on a flat
        # objective a little above it, which warns; the solution is what counts.
        fit_quietly(clf, X32, y)
        assert clf.coef_.dtype == np.float32
        assert clf.intercept_.dtype == np.float32
        key = (solver, preconditioner)
        assert_allclose(clf.coef_, reference.coef_, rtol=0, atol=2e-3, err_msg=str(key))
        assert_allclose(
            clf.intercept_, reference.intercept_, rtol=0, atol=2e-3, err_msg=str(key)
        )


@pytest.mark.parametrize(
    "solver, preconditioner", list(itertools.product(SOLVERS, PRECONDITIONERS))
)
def test_unreachable_tol_stops_by_itself(solver, preconditioner):
    # max|grad| <= 1e-12 is below what a float64 objective resolves on this
    # problem (every solver reaches 1e-8 in < 100 iterations).  The fit must
    # then either converge or notice that it cannot progress and stop; running
    # thousands of iterations with a collapsed step is wasted work.
    X, y = small_problem("binary")
    clf = BCEPerceptronClassifier(
        solver=solver, preconditioner=preconditioner, alpha=1e-2, tol=1e-12, max_iter=3000
    )
    fit_quietly(clf, X, y)
    assert clf.n_iter_ < 1000, (
        f"{clf.n_iter_} iterations at a float64 plateau; final step "
        f"{clf.learning_rate_:.3e}"
    )


@pytest.mark.parametrize("seed", [9, 24, 31])
@pytest.mark.parametrize("solver", SOLVERS)
def test_no_premature_stop_with_weak_penalty(solver, seed):
    # Nearly separable data and a weak penalty: large coefficients, a long
    # flat valley.  Every solver must get to tol (gd does in < 100
    # iterations), the step must stay a step (positive), and the solutions
    # must agree.
    X, y = make_classification(200, 10, class_sep=3, flip_y=0, random_state=seed)
    fits = []
    for s in (solver, "gd"):
        clf = BCEPerceptronClassifier(solver=s, alpha=1e-6, tol=1e-6)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            clf.fit(X, y)
        assert clf.learning_rate_ > 0
        fits.append(clf)
    # Both stop at max|grad| <= tol; J is alpha-strongly convex, so each is within
    # ||grad||^2 / (2 alpha) <= (n_features + 1) tol^2 / (2 alpha) of the optimum.
    bound = (X.shape[1] + 1) * 1e-6**2 / (2 * 1e-6)
    assert abs(fits[0].loss_curve_[-1] - fits[1].loss_curve_[-1]) <= bound


# -- scale invariance -------------------------------------------------------------
def iterations_to_gap(loss_curve, optimum, gap=1e-6):
    relative = (np.asarray(loss_curve) - optimum) / optimum
    reached = np.flatnonzero(relative <= gap)
    return int(reached[0]) + 1 if reached.size else None


@pytest.mark.parametrize("seed", [0, 1])
def test_default_settings_insensitive_to_feature_scales(seed):
    alpha = 1e-4
    X, y, scale = ill_scaled(2000, 50, seed)
    X_std = StandardScaler().fit_transform(X)
    optimum = reference_optimum(X, y, alpha, scale)
    optimum_std = reference_optimum(X_std, y, alpha, np.ones(X.shape[1]))

    clf = fit_quietly(BCEPerceptronClassifier(alpha=alpha, tol=1e-10, max_iter=400), X, y)
    clf_std = fit_quietly(
        BCEPerceptronClassifier(alpha=alpha, tol=1e-10, max_iter=400), X_std, y
    )
    # The reference is the minimum: our iterates never go meaningfully below it.
    assert min(clf.loss_curve_) >= optimum * (1 - 1e-10)
    assert min(clf_std.loss_curve_) >= optimum_std * (1 - 1e-10)

    n_std = iterations_to_gap(clf_std.loss_curve_, optimum_std)
    n_ill = iterations_to_gap(clf.loss_curve_, optimum)
    assert n_std is not None, "no 1e-6 gap on standardized data in 400 iterations"
    assert n_ill is not None, "no 1e-6 gap on ill-scaled data in 400 iterations"
    assert n_ill <= 3 * n_std, (n_ill, n_std)


# -- cost of an iteration ---------------------------------------------------------
POWER_ITERATION_PRODUCTS = 2 * 20  # documented setup of the auto step, see below


def setup_budget(preconditioner, line_search, learning_rate):
    # One matvec at the start and one rmatvec for the final convergence test,
    # with some slack; the auto step in the diagonal metric without a line
    # search is documented to cost up to 20 power iterations (a matvec and an
    # rmatvec each) in the setup ("auto" is the diagonal metric there).
    budget = 4
    if preconditioner in ("diagonal", "auto") and not line_search and learning_rate == "auto":
        budget += POWER_ITERATION_PRODUCTS
    return budget


@pytest.fixture
def product_counter(monkeypatch):
    """Count the actual products with X done through the backend functions."""
    counts = {"matmul": 0, "rmatmul": 0}

    def wrap(name):
        original = getattr(rows_module, name)

        def counted(*args, **kwargs):
            counts[name] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(rows_module, name, counted)

    wrap("matmul")
    wrap("rmatmul")
    return counts


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
@pytest.mark.parametrize("line_search", [True, False])
@pytest.mark.parametrize("preconditioner", PRECONDITIONERS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_each_iteration_reads_X_at_most_twice(
    solver, preconditioner, line_search, l1_ratio, product_counter
):
    X, y, _ = ill_scaled(300, 10, 0, -1, 1)
    clf = BCEPerceptronClassifier(
        solver=solver,
        preconditioner=preconditioner,
        line_search=line_search,
        l1_ratio=l1_ratio,
        alpha=1e-3,
        tol=1e-6,
        max_iter=150,
    )
    fit_quietly(clf, X, y)
    # The reported counters are honest.
    assert clf.n_matvec_ == product_counter["matmul"]
    assert clf.n_rmatvec_ == product_counter["rmatmul"]
    budget = setup_budget(preconditioner, line_search, "auto")
    assert clf.n_matvec_ + clf.n_rmatvec_ <= 2 * clf.n_iter_ + budget

    # The marginal cost, free of any setup: 2 products per extra iteration (the
    # Hessian metric reaches float64 precision here in about 10 iterations,
    # its proximal Newton steps in about 8).
    if preconditioner == "auto" and line_search:
        lengths = (2, 5) if l1_ratio else (2, 7)
    else:
        lengths = (5, 15)
    costs = []
    for max_iter in lengths:
        short = BCEPerceptronClassifier(
            solver=solver,
            preconditioner=preconditioner,
            line_search=line_search,
            l1_ratio=l1_ratio,
            alpha=1e-3,
            tol=1e-12,
            max_iter=max_iter,
        )
        fit_quietly(short, X, y)
        assert short.n_iter_ == max_iter
        costs.append(short.n_matvec_ + short.n_rmatvec_)
    assert costs[1] - costs[0] <= 2 * (lengths[1] - lengths[0])


@pytest.mark.parametrize("preconditioner", PRECONDITIONERS)
def test_fixed_learning_rate_setup_is_small(preconditioner):
    X, y, _ = ill_scaled(300, 10, 0, -1, 1)
    clf = BCEPerceptronClassifier(
        preconditioner=preconditioner,
        line_search=False,
        learning_rate=0.5 if preconditioner in ("diagonal", "auto") else 1e-3,
        max_iter=50,
    )
    fit_quietly(clf, X, y)
    assert clf.n_matvec_ + clf.n_rmatvec_ <= 2 * clf.n_iter_ + 4


# "auto" takes proximal Newton steps with an L1 part: no momentum to restart.
@pytest.mark.parametrize("preconditioner", ["diagonal", None])
def test_nesterov_with_many_restarts_reads_X_at_most_twice(preconditioner, product_counter):
    # With an L1 part the accelerated solver overshoots often on this
    # ill-scaled problem; a rejected step leaves the objective unchanged (a
    # monotone restart) and must not cost extra products.
    X, y, _ = ill_scaled(600, 30, 0, -2, 2)
    clf = BCEPerceptronClassifier(
        solver="nesterov",
        preconditioner=preconditioner,
        l1_ratio=0.5,
        alpha=1e-3,
        tol=1e-7,
        max_iter=300,
    )
    fit_quietly(clf, X, y)
    n_restarts = int(np.sum(np.diff(clf.loss_curve_) == 0))
    assert n_restarts >= 3, "the problem no longer triggers restarts: pick another"
    assert clf.n_matvec_ == product_counter["matmul"]
    assert clf.n_rmatvec_ == product_counter["rmatmul"]
    assert clf.n_matvec_ + clf.n_rmatvec_ <= 2 * clf.n_iter_ + 4


# -- monotonicity -----------------------------------------------------------------
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("preconditioner", PRECONDITIONERS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_loss_curve_non_increasing(solver, preconditioner, l1_ratio):
    X, y, _ = ill_scaled(300, 10, 1, -1.5, 1.5)
    clf = BCEPerceptronClassifier(
        solver=solver,
        preconditioner=preconditioner,
        l1_ratio=l1_ratio,
        alpha=1e-3,
        tol=1e-8,
        max_iter=300,
    )
    fit_quietly(clf, X, y)
    assert len(clf.loss_curve_) == clf.n_iter_
    assert non_increasing(clf.loss_curve_)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


def metric_curvature_bound(X, alpha, fit_intercept):
    """Largest eigenvalue of D^-1/2 H D^-1/2, H the documented Hessian bound.

    ``H = [Xc, 1]^T [Xc, 1] / (4 n) + alpha I`` (no penalty on the intercept,
    Xc the centred columns when fitting an intercept), ``D`` its diagonal over
    the coefficients and ``1/4`` for the intercept.
    """
    n_samples, n_features = X.shape
    Xc = X - X.mean(axis=0) if fit_intercept else X
    penalty = np.full(n_features, alpha)
    if fit_intercept:
        Xc = np.column_stack([Xc, np.ones(n_samples)])
        penalty = np.append(penalty, 0.0)
    H = 0.25 * Xc.T @ Xc / n_samples + np.diag(penalty)
    D = np.diag(H).copy()
    M = H / np.sqrt(np.outer(D, D))
    return float(np.linalg.eigvalsh(M)[-1])


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_auto_step_without_line_search_decreases_objective(solver, fit_intercept):
    alpha = 1e-4
    X, y, scale = ill_scaled(2000, 50, 0)
    clf = BCEPerceptronClassifier(
        solver=solver,
        preconditioner="diagonal",
        line_search=False,
        learning_rate="auto",
        alpha=alpha,
        fit_intercept=fit_intercept,
        tol=1e-8,
        max_iter=150,
    )
    fit_quietly(clf, X, y)
    # The step is below 1 / (curvature bound in the metric): each step
    # provably decreases J (the actual Hessian is below the bound).
    assert clf.learning_rate_ * metric_curvature_bound(X, alpha, fit_intercept) <= 1.0
    assert non_increasing(clf.loss_curve_)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    if fit_intercept:
        # And it gets there: steps of this size are not uselessly small.
        optimum = reference_optimum(X, y, alpha, scale)
        assert (clf.loss_curve_[-1] - optimum) / optimum < 1e-6


# -- the objective method -----------------------------------------------------------
@pytest.mark.parametrize(
    "kind, l1_ratio, weighted, class_weight",
    [
        ("binary", 0.0, False, None),
        ("binary", 0.0, True, None),
        ("binary", 0.5, True, None),
        ("binary", 0.3, True, "balanced"),
        ("multiclass", 0.5, True, None),
        ("multilabel", 0.5, True, None),
    ],
)
@pytest.mark.parametrize("solver", SOLVERS)
def test_objective_equals_last_loss(kind, l1_ratio, weighted, class_weight, solver):
    X, y = small_problem(kind)
    if kind == "binary":
        # Unbalanced classes so that class_weight matters.
        keep = (y == 0) | (np.arange(len(y)) % 3 == 0)
        X, y = X[keep], y[keep]
    rng = np.random.default_rng(0)
    sample_weight = rng.uniform(0.1, 3.0, X.shape[0]) if weighted else None
    clf = BCEPerceptronClassifier(
        solver=solver, l1_ratio=l1_ratio, alpha=1e-2, class_weight=class_weight, max_iter=500
    )
    clf.fit(X, y, sample_weight=sample_weight)
    value = clf.objective(X, y, sample_weight=sample_weight)
    assert value == pytest.approx(clf.loss_curve_[-1], rel=1e-10)

    s = np.ones(X.shape[0]) if sample_weight is None else sample_weight.copy()
    if class_weight == "balanced":
        classes, counts = np.unique(y, return_counts=True)
        per_class = len(y) / (len(classes) * counts)
        s = s * per_class[np.searchsorted(classes, y)]
    Y = target_matrix(y, clf.classes_)
    expected = reference_objective(X, Y, clf.coef_, clf.intercept_, 1e-2, l1_ratio, s)
    assert value == pytest.approx(expected, rel=1e-10)
    if weighted:
        # The weights are not ignored.
        assert clf.objective(X, y) != pytest.approx(value, rel=1e-6)


# -- warm start ---------------------------------------------------------------------
@pytest.mark.parametrize("second_solver", SOLVERS)
@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_warm_start_from_solution(kind, second_solver):
    X, y = small_problem(kind)
    X = X * np.array([1, 10, 0.1, 1, 5, 0.5]) + 3.0  # not centred: the intercept matters
    clf = BCEPerceptronClassifier(alpha=1e-2, tol=1e-8, max_iter=5000, warm_start=True)
    clf.fit(X, y)
    first_iter = clf.n_iter_
    coef, intercept = clf.coef_.copy(), clf.intercept_.copy()
    assert first_iter > 5
    clf.set_params(solver=second_solver)
    clf.fit(X, y)
    assert clf.n_iter_ <= 3
    assert_allclose(clf.coef_, coef, rtol=0, atol=1e-6)
    assert_allclose(clf.intercept_, intercept, rtol=0, atol=1e-6)

    cold = BCEPerceptronClassifier(alpha=1e-2, tol=1e-8, max_iter=5000, solver=second_solver)
    assert fit_quietly(cold, X, y).n_iter_ > clf.n_iter_


# -- diagnostics --------------------------------------------------------------------
def barely_separable(n_samples=400, margin=0.02, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, 3))
    m = X[:, 0] + 0.5 * X[:, 1]
    keep = np.abs(m) > margin
    return X[keep], (m[keep] > 0).astype(int)


@pytest.mark.parametrize("preconditioner", PRECONDITIONERS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_separable_data_warning(solver, preconditioner):
    # tol=0 cannot be met (the gradient only vanishes at infinity), so the fit
    # warns whatever stops it (max_iter, or a flat objective once the loss has
    # all but vanished); the warning must name the cause.
    X, y = barely_separable()
    clf = BCEPerceptronClassifier(
        alpha=0.0, solver=solver, preconditioner=preconditioner, tol=0.0, max_iter=50
    )
    with pytest.warns(ConvergenceWarning) as record:
        clf.fit(X, y)
    messages = [str(w.message) for w in record if w.category is ConvergenceWarning]
    assert len(messages) == 1
    assert "linearly separable" in messages[0], messages[0]
    assert "set alpha > 0" in messages[0]

    # With alpha > 0 the optimum is finite and the message does not blame
    # separability.
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        BCEPerceptronClassifier(
            alpha=1e-2, solver=solver, preconditioner=preconditioner, max_iter=3, tol=1e-12
        ).fit(X, y)
    assert record
    assert all("linearly separable" not in str(w.message) for w in record)


VERBOSE_LINE = re.compile(
    r"iter\s+(\d+)\s+objective\s+(\S+)\s+max\|grad map\|\s+(\S+)\s+step\s+(\S+)"
)


@pytest.mark.parametrize("solver", SOLVERS)
def test_verbose_prints_progress(solver, capsys):
    X, y = small_problem("binary")
    clf = BCEPerceptronClassifier(solver=solver, alpha=1e-2, tol=1e-6, verbose=1).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    parsed = [VERBOSE_LINE.search(line) for line in lines]
    assert parsed and all(parsed), lines
    iterations = [int(m.group(1)) for m in parsed]
    objectives = [float(m.group(2)) for m in parsed]
    criteria = [float(m.group(3)) for m in parsed]
    steps = [float(m.group(4)) for m in parsed]
    assert iterations[0] == 0
    assert iterations == sorted(iterations) and iterations[-1] <= clf.n_iter_
    assert len(lines) >= clf.n_iter_ // 10
    assert all(np.isfinite(steps)) and all(s > 0 for s in steps)
    assert objectives[-1] <= objectives[0]
    # The last line reports the convergence.
    assert criteria[-1] <= 1e-6
    assert objectives[-1] == pytest.approx(clf.loss_curve_[-1], rel=1e-8)

    BCEPerceptronClassifier(solver=solver, alpha=1e-2, verbose=0).fit(X, y)
    assert capsys.readouterr().out == ""


TRIAL_LINE = re.compile(r"^  trial step (\S+)  objective (\S+)  (accepted|rejected)$")


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("l1_ratio", [0.0, 1.0])
def test_verbose_2_prints_every_iteration_and_each_trial(solver, l1_ratio, capsys):
    X, y = small_problem("binary")
    clf = BCEPerceptronClassifier(
        solver=solver, alpha=1e-2, l1_ratio=l1_ratio, tol=1e-6, verbose=2
    ).fit(X, y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    iterations = [int(m.group(1)) for m in map(VERBOSE_LINE.search, lines) if m]
    trials = [TRIAL_LINE.match(line) for line in lines if not VERBOSE_LINE.search(line)]
    # A line per iteration, the last check included (an accelerated fit may
    # stop on its extrapolated point, which it counts as one more iteration).
    assert iterations == list(range(len(iterations)))
    assert clf.n_iter_ <= len(iterations) <= clf.n_iter_ + 1
    assert trials and all(trials), lines
    # Every iteration that moves ends with an accepted trial, whose objective
    # it records (a restart of the momentum moves nowhere).
    accepted = [float(m.group(2)) for m in trials if m.group(3) == "accepted"]
    n_moves = 1 + int(np.sum(np.diff(clf.loss_curve_) < 0))
    assert len(accepted) >= n_moves
    assert min(accepted) == pytest.approx(clf.loss_curve_[-1], rel=1e-8)


# -- the solver itself, without the estimator ------------------------------------
# BCEObjective + L1Penalty + a metric from _preconditioner.make, handed to
# ProximalGradientSolver as _classifier._fit_prepared hands them: every
# direction must reach the same optimum of the same problem.
SOLVER_L2, SOLVER_L1 = 1e-2, 5e-2  # the L1 part zeroes 6 of the 15 coefficients
# Keyed by "with an L1 part": its line search resolves the objective to about
# 1e-9 in float64 (asked for 1e-9, some fits stop "flat", depending on the
# BLAS kernel).  At these tolerances the coefficients agree to 3.4e-7 and the
# objective values to 2e-15 (relative) under both OpenBLAS kernels.
SOLVER_TOL = {False: 1e-10, True: 1e-8}


@pytest.fixture(scope="module")
def solver_problem():
    """(X, Y, sw): 3 units, non-centred columns of different scales, weights."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((90, 5)) * [0.5, 1.0, 2.0, 4.0, 1.0] + [1.0, -2.0, 0.0, 3.0, 0.5]
    logits = X @ rng.standard_normal((5, 3)) * 0.5
    Y = (rng.random((90, 3)) < expit(logits)).astype(np.float64)
    sw = rng.uniform(0.2, 2.0, 90)
    return X, Y, sw / sw.sum()


def solve_directly(problem, *, preconditioner, accelerated, line_search, with_l1):
    """Build the objective, penalty and metric and run the solver on them."""
    X, Y, sw = problem
    l1 = SOLVER_L1 if with_l1 else 0.0
    objective = BCEObjective(
        X, Y, sw, l2=SOLVER_L2, fit_intercept=True, center=preconditioner is not None
    )
    penalty = L1Penalty(l1)
    kind, step, metric = make_metric(
        preconditioner, objective, l1=l1, line_search=line_search, learning_rate="auto"
    )
    solver = ProximalGradientSolver(
        objective,
        penalty,
        accelerated=accelerated,
        metric=metric,
        step=step,
        line_search=line_search,
        max_iter=50_000,
        tol=SOLVER_TOL[with_l1],
    )
    # The estimator's cold start: W = 0 and the intercepts at the log-odds.
    W0, c0 = objective.parameters_of(np.zeros((Y.shape[1], X.shape[1])), log_odds(sw @ Y))
    result = solver.solve(W0, c0)
    # In the original coordinates, whatever the centring.
    coef = result.W
    intercept = objective.intercept_of(result.W, result.c)
    value = objective.value(result.W, objective.matvec(result.W, result.c)) + penalty.value(coef)
    return kind, result, coef, intercept, value


@pytest.fixture(scope="module")
def solver_reference(solver_problem):
    """Gradient descent with the line search in the diagonal metric, per L1 part."""
    return {
        with_l1: solve_directly(
            solver_problem, preconditioner="diagonal", accelerated=False, line_search=True,
            with_l1=with_l1,
        )
        for with_l1 in (False, True)
    }


@pytest.fixture
def direction_calls(monkeypatch):
    """How many moves each direction made (to see which one the solver chose)."""
    calls = {"PlanarMomentum": 0, "Fista": 0, "ProximalNewtonDirection": 0}
    for cls in (
        solvers_module.PlanarMomentum,
        solvers_module.Fista,
        solvers_module.ProximalNewtonDirection,
    ):
        move = cls.move

        def counted(self, *args, _move=move, _name=cls.__name__):
            calls[_name] += 1
            return _move(self, *args)

        monkeypatch.setattr(cls, "move", counted)
    return calls


@pytest.mark.parametrize("with_l1", [False, True], ids=["smooth", "l1"])
@pytest.mark.parametrize("line_search", [True, False], ids=["search", "fixed"])
@pytest.mark.parametrize("accelerated", [False, True], ids=["gd", "accelerated"])
@pytest.mark.parametrize("preconditioner", [None, "diagonal", "auto"])
def test_every_direction_reaches_the_same_optimum(
    solver_problem, solver_reference, direction_calls, preconditioner, accelerated,
    line_search, with_l1,
):
    kind, result, coef, intercept, value = solve_directly(
        solver_problem, preconditioner=preconditioner, accelerated=accelerated,
        line_search=line_search, with_l1=with_l1,
    )
    # The metric make() chose: the Hessian only where "auto" allows it.
    expected_kind = {None: None, "diagonal": "diagonal"}.get(
        preconditioner, "hessian" if line_search else "diagonal"
    )
    assert kind == expected_kind
    # The direction the solver chose: proximal Newton in the Hessian with an
    # L1 part; planar momentum for an accelerated search without one; gd or
    # FISTA otherwise.
    newton = kind == "hessian" and with_l1
    planar = accelerated and line_search and not with_l1
    assert (direction_calls["ProximalNewtonDirection"] > 0) == newton
    assert (direction_calls["PlanarMomentum"] > 0) == planar
    assert (direction_calls["Fista"] > 0) == (not planar and not newton)

    assert isinstance(result, SolverResult)
    assert result.converged and result.stop_reason == "converged", result.stop_reason
    assert result.criterion <= SOLVER_TOL[with_l1]
    assert len(result.loss_curve) == result.n_iter >= 1
    assert len(result.coef_norm_curve) == result.n_iter
    curve = np.asarray(result.loss_curve)
    assert np.all(np.isfinite(curve))
    if line_search:
        assert np.all(np.diff(curve) <= 0), np.diff(curve).max()
    # The value recorded last is the objective at the returned point.
    assert_allclose(curve[-1], value, rtol=1e-12)

    _, _, ref_coef, ref_intercept, ref_value = solver_reference[with_l1]
    assert_allclose(value, ref_value, rtol=1e-10)
    assert_allclose(coef, ref_coef, rtol=0, atol=1e-6)
    assert_allclose(intercept, ref_intercept, rtol=0, atol=1e-6)
    if with_l1:
        # The L1 part leaves exact zeros, the same ones whatever the direction.
        assert np.any(ref_coef == 0)
        assert_array_equal(coef == 0, ref_coef == 0)


def test_solver_refuses_a_non_diagonal_metric_with_l1(solver_problem):
    X, Y, sw = solver_problem
    objective = BCEObjective(X, Y, sw, l2=SOLVER_L2, fit_intercept=True, center=True)
    _, step, metric = make_metric(
        "hessian", objective, l1=0.0, line_search=True, learning_rate="auto"
    )
    assert not isinstance(metric, DiagonalMetric)
    with pytest.raises(ValueError, match="a diagonal or a proximal Newton metric"):
        ProximalGradientSolver(
            objective, L1Penalty(SOLVER_L1), accelerated=False, metric=metric, step=step,
            line_search=True, max_iter=10, tol=1e-6,
        )
