# SPDX-License-Identifier: BSD-3-Clause
"""The Hessian metric: its matrix against the exact Hessian, its row sample,
when it is refactored, what "auto" picks, and fits that use it."""

import copy
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.special import expit
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier
from skperceptron._objective import BCEObjective
from skperceptron import _hessian as hessian_module
from skperceptron import _preconditioner as preconditioner_module
from skperceptron._hessian import (
    nearly_diagonal,
    HessianMetric,
    _inverse,
    _inverses,
    condition_sample_size,
    start_condition,
)
from skperceptron._preconditioner import _HESSIAN_FREE_BYTES, resolve


def objective_for(X, Y, sw, l2=0.1, fit_intercept=True):
    return BCEObjective(X, Y, sw / sw.sum(), l2=l2, fit_intercept=fit_intercept, center=True)


def problem(n=300, p=5, K=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.1, 10, p) + rng.uniform(-5, 5, p)
    Y = (rng.random((n, K)) < 0.4).astype(float)
    sw = rng.uniform(0.2, 2.0, n)
    return X, Y, sw


def gradient_at(objective, W, c):
    grad_W, grad_c, _ = objective.gradient(W, objective.matvec(W, c))
    return np.hstack([grad_W, grad_c[:, None]])


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_metric_is_the_hessian_on_all_rows(fit_intercept):
    """With every row sampled, M_k is the exact Hessian of J for unit k: checked
    against central differences of the gradient, column by column."""
    X, Y, sw = problem()
    obj = objective_for(X, Y, sw, fit_intercept=fit_intercept)
    rng = np.random.default_rng(1)
    W, c = rng.standard_normal((3, 5)) * 0.1, rng.standard_normal(3)
    metric = HessianMetric.create(obj)
    assert len(metric.rows) == len(X)  # small data: every row
    assert metric.refresh(obj.matvec(W, c))
    q = 5 + fit_intercept
    eps = 1e-6
    for k in range(3):
        H = np.empty((q, q))
        for j in range(q):
            dW, dc = np.zeros((3, 5)), np.zeros(3)
            if j < 5:
                dW[k, j] = eps
            else:
                dc[k] = eps
            diff = gradient_at(obj, W + dW, c + dc) - gradient_at(obj, W - dW, c - dc)
            H[:, j] = (diff[k] / (2 * eps))[:q]
        # M^-1 applied to unit vectors gives the inverse of the metric.
        G_W, G_c = np.zeros((3, 5)), np.zeros(3)
        inverse = np.empty((q, q))
        for j in range(q):
            G_W[:], G_c[:] = 0, 0
            if j < 5:
                G_W[k, j] = 1
            else:
                G_c[k] = 1
            d_W, d_c = metric.direction(G_W, G_c)
            inverse[:, j] = np.append(d_W[k], d_c[k])[:q]
        assert_allclose(inverse @ H, np.eye(q), atol=1e-6)


def test_metric_matches_an_independent_formula_with_weights():
    """``M_k = [X - m, 1]' diag(s sigma'(v_k)) [X - m, 1] / S + l2 I_W``, plus
    the diagonal metric's floor ``1e-10 E[x^2] / 4`` on the coefficients,
    written out here from scratch, sample weights included."""
    X, Y, sw = problem(K=2, seed=3)
    obj = objective_for(X, Y, sw, l2=0.05)
    W, c = np.full((2, 5), 0.05), np.array([0.3, -0.2])
    metric = HessianMetric.create(obj)
    metric.refresh(obj.matvec(W, c))
    mean = sw @ X / sw.sum()
    A = np.hstack([X - mean, np.ones((len(X), 1))])
    raw = (X - mean) @ W.T + c
    g = np.random.default_rng(0).standard_normal((2, 6))
    d_W, d_c = metric.direction(g[:, :5], g[:, 5])
    for k in range(2):
        weights = sw / sw.sum() * expit(raw[:, k]) * expit(-raw[:, k])
        M = A.T @ (A * weights[:, None])
        M[:5, :5] += np.diag(0.05 + 0.25e-10 * (sw @ X**2) / sw.sum())
        assert_allclose(np.append(d_W[k], d_c[k]), np.linalg.solve(M, g[k]), rtol=1e-9)


def test_refactored_only_when_and_where_the_curvature_moved():
    X, Y, sw = problem(K=3)
    obj = objective_for(X, Y, sw)
    W, c = np.zeros((3, 5)), np.zeros(3)
    metric = HessianMetric.create(obj)
    raw = obj.matvec(W, c)
    assert metric.refresh(raw) and metric.n_refresh == 1
    before = metric.inverses.copy()
    # A small move of every unit: nothing to refactor.
    assert not metric.refresh(raw + 0.01)
    # A large move of unit 1 only: unit 1 is refactored, 0 and 2 are kept.
    moved = raw.copy()
    moved[:, 1] += 3.0
    assert metric.refresh(moved) and metric.n_refresh == 2
    after = metric.inverses
    assert_allclose(after[[0, 2]], before[[0, 2]], rtol=0, atol=0)
    assert not np.allclose(after[1], before[1])
    # The kept units are compared with the weights they were factored with.
    assert not metric.refresh(moved)


def test_stale_metric_is_refreshed_when_the_steps_say_so():
    """digits at alpha=1e-5 is nearly separable: the few rows that carry the
    curvature change by orders of magnitude while the weights' total stays
    within the refresh rule, and the stale Newton steps were cut to 3e-3 of
    their length for 426 iterations to tol=1e-8.  A step multiplier outside
    [0.5, 2] of the initial step now refreshes the metric: 20 iterations."""
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 1e-5
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = BCEPerceptronClassifier(alpha=alpha, tol=1e-8, max_iter=60).fit(X, y)
    theirs = OneVsRestClassifier(
        LogisticRegression(C=1 / (alpha * X.shape[0]), tol=1e-10, max_iter=1000, solver="newton-cholesky")
    ).fit(X, y)
    stacked = np.vstack([estimator.coef_ for estimator in theirs.estimators_])
    peer = copy.deepcopy(ours)
    peer.coef_ = stacked
    peer.intercept_ = np.concatenate([estimator.intercept_ for estimator in theirs.estimators_])
    assert ours.objective(X, y) <= peer.objective(X, y) * (1 + 1e-9)


@pytest.mark.parametrize(
    "n, p, K, expected",
    [
        (455, 30, 1, 0.5),  # every row, 31 columns: a refresh is 15.5 iterations' products
        (150, 4, 3, 0.25),  # 5 columns: 2.5
        (16_000, 100, 5, 0.25),  # a sample of 2,048 rows: 6.5
    ],
)
def test_refresh_rule_follows_the_refresh_cost(n, p, K, expected):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p))
    Y = (rng.random((n, K)) < 0.4).astype(float)
    metric = HessianMetric.create(objective_for(X, Y, np.ones(n)))
    assert metric.refresh_change == expected


def test_refresh_rule_counts_weighted_rows_as_repeated_rows():
    """Weights of 0 and 2 decide as removed and repeated rows (scikit-learn's
    check_sample_weight_equivalence compares the two fits to 1e-7)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 12))
    Y = (rng.random((30, 1)) < 0.5).astype(float)
    sw = rng.integers(0, 3, 30).astype(float)
    repeat = np.repeat(np.arange(30), sw.astype(int))
    weighted = HessianMetric.create(objective_for(X, Y, sw))
    repeated = HessianMetric.create(objective_for(X[repeat], Y[repeat], np.ones(len(repeat))))
    assert weighted.refresh_change == repeated.refresh_change == 0.25
    X = rng.standard_normal((30, 40))
    weighted = HessianMetric.create(objective_for(X, Y, sw))
    repeated = HessianMetric.create(objective_for(X[repeat], Y[repeat], np.ones(len(repeat))))
    assert weighted.refresh_change == repeated.refresh_change == 0.5


def rare_column_problem():
    """6,000 rows, 10 features, the last one non-zero in 4 rows that the
    evenly spaced sample of 2,048 misses."""
    X, y = make_classification(6000, 10, n_informative=5, random_state=0)
    X[:, -1] = 0.0
    rows = HessianMetric.sample_size(6000, 11)
    sampled = set(np.unique(np.linspace(0, 5999, rows).round().astype(int)).tolist())
    rare = [i for i in range(1, 6000, 7) if i not in sampled][:4]
    X[rare, -1] = 5.0
    return X, y, sampled, rare


def test_sample_that_misses_a_column_is_not_used():
    X, y, sampled, rare = rare_column_problem()
    assert not sampled & set(rare) and len(rare) == 4
    sw = np.full(len(X), 1 / len(X))
    obj = BCEObjective(X, y[:, None].astype(float), sw, l2=1e-4, fit_intercept=True, center=True)
    assert HessianMetric.create(obj) is None
    assert len(HessianMetric.create(obj, all_rows=True).rows) == len(X)
    # Without the rare column, the sample of 2,048 rows is used.
    obj = BCEObjective(X[:, :-1], y[:, None].astype(float), sw, l2=1e-4, fit_intercept=True)
    assert len(HessianMetric.create(obj).rows) == HessianMetric.sample_size(6000, 10) < 6000

    assert BCEPerceptronClassifier().fit(X, y).preconditioner_ == "diagonal"
    assert BCEPerceptronClassifier().fit(X[:, :-1], y).preconditioner_ == "hessian"


def test_sample_skips_rows_without_weight():
    """A fold's metric (all rows, zero weight on the held-out ones) samples
    the weighted rows only: the same rows, and the same inverses, as the
    metric of the fold's rows alone."""
    X, y = make_classification(9000, 20, n_informative=10, n_classes=3, random_state=0)
    Y = (y[:, None] == np.arange(3)).astype(float)
    train = np.flatnonzero(np.arange(9000) % 5 != 2)
    sw = np.zeros(9000)
    sw[train] = 1 / len(train)
    fold = BCEObjective(X, Y, sw, l2=1e-3, fit_intercept=True, center=True)
    alone = BCEObjective(X[train], Y[train], sw[train], l2=1e-3, fit_intercept=True, center=True)
    metrics = [HessianMetric.create(fold), HessianMetric.create(alone)]
    assert len(metrics[0].rows) == len(metrics[1].rows) == HessianMetric.sample_size(7200, 21)
    assert_allclose(metrics[0].rows, train[metrics[1].rows], rtol=0, atol=0)
    W, c = np.full((3, 20), 0.05), np.zeros(3)
    for metric, obj in zip(metrics, (fold, alone)):
        metric.refresh(obj.matvec(W, c))
    assert_allclose(metrics[0].inverses, metrics[1].inverses, rtol=1e-10)


def test_inverse_of_badly_scaled_and_singular_matrices():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((50, 4)) * 10.0 ** np.array([-3, -1, 1, 3])
    M = A.T @ A
    # Scales of 1e-6 to 1e6 on the diagonal: accurate all the same.
    assert_allclose(_inverse(M) @ M, np.eye(4), atol=1e-9)
    # A redundant column without penalty: singular.  The floored spectrum
    # keeps the inverse finite and symmetric positive definite, and exact on
    # the range of M, where gradients lie.
    for scales in ([0, 0, 0, 0], [-3, -1, 1, 3]):
        A = rng.standard_normal((50, 4)) * 10.0 ** np.array(scales)
        A = np.hstack([A, A[:, :1] + A[:, 1:2]])
        M = A.T @ A
        inverse = _inverse(M)
        assert np.all(np.isfinite(inverse))
        assert_allclose(inverse, inverse.T, rtol=1e-10)
        assert np.linalg.eigvalsh((inverse + inverse.T) / 2).min() > 0
    A = rng.standard_normal((50, 4))
    A = np.hstack([A, A[:, :1] + A[:, 1:2]])
    M = A.T @ A
    g = M @ rng.standard_normal(5)
    # Rounding in the null direction, amplified by at most 1e12: 3e-5 here.
    assert_allclose(M @ (_inverse(M) @ g), g, rtol=1e-3, atol=1e-6 * np.abs(g).max())


def test_batched_cholesky_equals_each_units_inverse(monkeypatch):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((200, 6)) * 10.0 ** rng.uniform(-3, 3, 6)
    blocks = [A.T @ (A * rng.random((200, 1))) for _ in range(4)]
    expected = [_inverse(M) for M in blocks]
    singular = blocks[0].copy()
    singular[:, 5] = singular[5, :] = 0.0  # no curvature, no penalty: floored
    calls = []
    floored = hessian_module._floored_inverses
    monkeypatch.setattr(
        hessian_module, "_floored_inverses", lambda M, xp: calls.append(M) or floored(M, xp)
    )
    # Well conditioned: the Cholesky path alone, the same inverses.
    for M, inverse, reference in zip(blocks, _inverses(blocks), expected):
        assert_allclose(inverse, reference, rtol=1e-9, atol=1e-12 * np.abs(reference).max())
        assert_allclose(inverse @ M, np.eye(6), atol=1e-9)
        assert_allclose(inverse, inverse.T)
    assert not calls
    # A singular block: the floored eigendecomposition, as one unit would get.
    inverses = _inverses([*blocks, singular])
    assert calls
    assert_allclose(inverses[-1], _inverse(singular))


def test_inverse_falls_back_to_the_diagonal():
    M = np.array([[4.0, np.nan], [np.nan, 1.0]])
    assert_allclose(_inverse(M), np.diag([0.25, 1.0]))
    # The same from the Cholesky path's list, beside a finite block, quietly.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inverses = _inverses([M, np.diag([2.0, 8.0])])
    assert_allclose(inverses[0], np.diag([0.25, 1.0]))
    assert_allclose(inverses[1], np.diag([0.5, 0.125]))


def _namespace(name):
    """The Array API namespace of ``name`` ("array_api_strict", "torch"), as
    the fit sees it, and a converter of NumPy arrays to it."""
    lib = pytest.importorskip(name)
    from skperceptron._compat import array_api_compat

    if array_api_compat is None:  # scikit-learn before 1.4 vendors none
        pytest.skip("no array_api_compat to wrap the namespace")
    xp = array_api_compat.array_namespace(lib.asarray(np.zeros(1)))
    return xp, lambda a: xp.asarray(np.asarray(a, dtype=np.float64))


@pytest.mark.parametrize("name", ["array_api_strict", "torch"])
def test_device_inverses_by_a_shifted_cholesky(name, monkeypatch):
    """Off NumPy the blocks are inverted through the Cholesky factors of the
    scaled blocks shifted by the eigenvalue floor: the exact inverse on
    badly scaled, well-conditioned blocks (the shift's 1e-12 q aside); on a
    singular block finite, symmetric positive definite and exact on the
    range, where gradients lie; a coordinate without curvature kept out of
    the step; a non-finite block its diagonal's inverse, beside the others,
    quietly."""
    xp, to_xp = _namespace(name)
    reference = _inverse  # the eigendecomposition, on NumPy
    rng = np.random.default_rng(0)
    A = rng.standard_normal((200, 6)) * 10.0 ** rng.uniform(-3, 3, 6)
    blocks = [A.T @ (A * rng.random((200, 1))) for _ in range(3)]
    monkeypatch.setattr(hessian_module, "_floored_inverses", None)
    redundant = np.hstack([A[:, :5], A[:, :1] + A[:, 1:2]])
    singular = redundant.T @ redundant
    uncurved = blocks[0].copy()
    uncurved[:, 5] = uncurved[5, :] = 0.0
    broken = blocks[1].copy()
    broken[0, 1] = broken[1, 0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inverses = hessian_module._inverses([to_xp(M) for M in [*blocks, singular, uncurved, broken]], xp)
    inverses = [np.asarray(inverse) for inverse in inverses]
    monkeypatch.undo()
    for M, inverse in zip(blocks, inverses):
        expected = reference(M)
        assert_allclose(inverse, expected, rtol=1e-8, atol=1e-12 * np.abs(expected).max())
        assert_allclose(inverse, inverse.T)
    inverse = inverses[3]
    assert np.all(np.isfinite(inverse))
    assert np.linalg.eigvalsh(inverse).min() > 0
    g = singular @ rng.standard_normal(6)
    assert_allclose(singular @ (inverse @ g), g, rtol=1e-3, atol=1e-6 * np.abs(g).max())
    inverse = inverses[4]
    assert np.all(inverse[5, :] == 0) and np.all(inverse[:, 5] == 0)
    assert_allclose(inverse[:5, :5], _inverse(uncurved[:5, :5]), rtol=1e-8)
    assert_allclose(inverses[5], np.diag(1 / np.diag(broken)))


def test_device_inverse_of_an_indefinite_block_is_its_diagonals():
    """A block that is not positive semi-definite (no Hessian is; a bug
    upstream would be) fails its factorization on PyTorch alone, without
    a read to the host: it gets its diagonal's inverse, the others theirs."""
    xp, to_xp = _namespace("torch")
    from skperceptron import _backend as backend_module

    good = np.array([[2.0, 0.5], [0.5, 1.0]])
    bad = np.array([[1.0, 2.0], [2.0, 1.0]])
    before = backend_module.host_reads()
    inverses = hessian_module._inverses([to_xp(good), to_xp(bad)], xp)
    assert backend_module.host_reads() == before
    assert_allclose(np.asarray(inverses[0]), np.linalg.inv(good), rtol=1e-10)
    assert_allclose(np.asarray(inverses[1]), np.eye(2))


def test_two_samples_without_penalty():
    """Found by the property test on the oldest NumPy: rank 2 in a 3 x 3
    Hessian (two features and the intercept), which Cholesky accepted and
    ``inv`` then found singular."""
    X = np.array([[12.573022, -13.210486], [64.04227, 10.490012]], dtype=np.float32)
    y = np.array([False, True])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # separable
        clf = BCEPerceptronClassifier(alpha=0.0, preconditioner="hessian").fit(X, y)
    assert np.all(np.isfinite(clf.coef_)) and (clf.predict(X) == y).all()


# -- what "auto" picks, and what "hessian" refuses ----------------------------------
@pytest.mark.parametrize(
    "params, data, expected",
    [
        ({}, "dense", "hessian"),
        # Two columns are combinations of others; the rest is nearly isotropic.
        ({}, "redundant", "diagonal"),
        ({"solver": "gd"}, "redundant", "hessian"),  # unaccelerated: Newton
        ({"l1_ratio": 0.5}, "dense", "hessian"),  # proximal Newton
        ({"line_search": False}, "dense", "diagonal"),
        ({}, "wide", "diagonal"),  # 600 features > 512
        ({"l1_ratio": 0.5}, "wide", "hessian"),  # on a working set
        ({}, "sparse-wide", "diagonal"),
        ({"l1_ratio": 0.5}, "sparse-wide", "diagonal"),  # sample 11 MB > 4 MiB
        ({"preconditioner": "diagonal"}, "dense", "diagonal"),
        ({"preconditioner": None}, "dense", None),
    ],
)
def test_auto_picks(params, data, expected):
    rng = np.random.default_rng(0)
    if data in ("dense", "redundant"):
        X, y = make_classification(400, 8, random_state=0)
        if data == "dense":
            X[:, 1:] += 3 * X[:, :1]  # a shared factor
    elif data == "wide":
        X, y = rng.standard_normal((700, 600)), np.arange(700) % 2
    else:
        X = sp.random(700, 2000, density=0.01, format="csr", random_state=0)
        y = np.arange(700) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = BCEPerceptronClassifier(alpha=1e-2, **params).fit(X, y)
    assert clf.preconditioner_ == expected


def _independent_columns(n, p, mixing, seed=0):
    """Standardized columns; ``mixing`` > 0 adds a factor shared by groups of
    5 columns (the start's scaled Hessian then has condition number 1.0 with
    0, 3.6 with 0.4 and 22 with 0.8 as ``start_condition`` estimates it on
    6,000 rows)."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, p))
    X = Z + mixing * np.repeat(Z[:, : p // 5], 5, axis=1)
    X = (X - X.mean(0)) / X.std(0)
    y = (X @ rng.standard_normal(p) / np.sqrt(p) + rng.logistic(size=n) > 0).astype(int)
    return X, y


@pytest.mark.parametrize(
    "mixing, alpha, n_classes, l1_ratio, n_samples, n_features, expected",
    [
        (0.0, 1e-4, 2, 0.0, 6000, 20, "diagonal"),  # nearly diagonal already
        (0.0, 1e-4, 2, 0.0, 3000, 20, "diagonal"),  # every row in the Hessian metric
        (0.4, 1e-4, 2, 0.0, 6000, 20, "hessian"),
        (0.4, 1.0, 2, 0.0, 6000, 20, "diagonal"),  # the penalty dominates
        (0.0, 1e-4, 3, 0.0, 6000, 20, "diagonal"),  # several units, nearly diagonal
        (0.2, 1e-4, 3, 0.0, 6000, 20, "hessian"),  # several units: stricter (1.1)
        (0.2, 1e-4, 2, 0.0, 6000, 20, "diagonal"),  # the same start, one unit (2.5)
        (0.0, 1e-4, 2, 0.5, 6000, 20, "hessian"),  # proximal Newton
        (0.0, 1e-4, 2, 0.0, 600, 80, "hessian"),  # the estimate would cost 190 products
    ],
)
def test_auto_takes_the_diagonal_where_the_hessian_nearly_is(
    mixing, alpha, n_classes, l1_ratio, n_samples, n_features, expected
):
    X, y = _independent_columns(n_samples, n_features, mixing)
    if n_classes > 2:
        y = np.digitize(X @ np.linspace(-1, 1, n_features), [-1.0, 1.0])
    clf = BCEPerceptronClassifier(alpha=alpha, l1_ratio=l1_ratio).fit(X, y)
    assert clf.preconditioner_ == expected
    other = "hessian" if expected == "diagonal" else "diagonal"
    J_other = BCEPerceptronClassifier(
        alpha=alpha, l1_ratio=l1_ratio, preconditioner=other, tol=1e-8, max_iter=5000
    ).fit(X, y).objective(X, y)
    assert clf.objective(X, y) <= J_other * (1 + 1e-4)


@pytest.mark.parametrize(
    "n_samples, n_features, checked, expected",
    [
        (150, 5, False, "hessian"),  # a product of 2,700 entries: not worth the estimate
        (1000, 10, False, "hessian"),  # 33,000
        (2000, 20, True, "diagonal"),  # 126,000, independent columns
    ],
)
def test_several_outputs_estimate_only_past_a_product_size(
    monkeypatch, n_samples, n_features, checked, expected
):
    """With several outputs the start's estimate has a fixed cost (0.15-0.2
    ms) that small data never earn back: it runs only where a product with X
    has at least 2**16 entries, and small fits keep the Hessian unasked."""
    calls = []
    estimate = preconditioner_module._nearly_diagonal

    def counted(objective, threshold, exact):
        calls.append(objective.n_outputs)
        return estimate(objective, threshold, exact)

    monkeypatch.setattr(preconditioner_module, "_nearly_diagonal", counted)
    X, _ = _independent_columns(n_samples, n_features, 0.0)
    y = np.arange(n_samples) % 3
    clf = BCEPerceptronClassifier(alpha=1e-4).fit(X, y)
    assert calls == ([3] if checked else [])
    assert clf.preconditioner_ == expected


@pytest.mark.parametrize(
    "n_samples, n_features, check",
    [
        (3000, 20, "estimate"),
        (2000, 50, "certificate"),
        (10000, 100, "certificate"),
        (600, 80, None),
    ],
)
def test_only_the_certificate_where_the_estimate_costs_too_much(
    monkeypatch, n_samples, n_features, check
):
    """Where the eigenvalue problem would cost more than the budget of
    products but the Gram product and two Cholesky factorizations do not,
    the certificate alone runs: independent columns take the diagonal,
    columns sharing factors the Hessian, the eigenvalue problem unasked."""
    X, y = _independent_columns(n_samples, n_features, 0.0)
    obj = objective_for(X, y[:, None].astype(float), np.ones(len(y)), l2=1e-4)
    assert preconditioner_module._affordable_check(obj) == check
    if check != "certificate":
        return
    monkeypatch.setattr(hessian_module, "_estimate", None)
    clf = BCEPerceptronClassifier(alpha=1e-4).fit(X, y)
    assert clf.preconditioner_ == "diagonal"
    X, y = _independent_columns(n_samples, n_features, 0.4)
    clf = BCEPerceptronClassifier(alpha=1e-4).fit(X, y)
    assert clf.preconditioner_ == "hessian"


@pytest.mark.parametrize("n_samples, n_features", [(2000, 50), (8000, 100)])
def test_lean_certificate_never_answers_yes_where_the_estimate_says_no(n_samples, n_features):
    """The certificate alone runs on half the rows and in float32 (where the
    eigenvalue problem is not affordable): its fewer rows bias correlated
    starts low, so it proves a share of the threshold.  On groups of
    columns sharing a factor, estimated from 1.0 to 4, each of its yes is a
    yes of the estimate on the full sample, and it says yes to independent
    columns."""
    answers = []
    for seed in range(2):
        for mixing in [0.0, 0.1, 0.2, 0.25, 0.3, 0.35]:
            X, y = _independent_columns(n_samples, n_features, mixing, seed=seed)
            obj = objective_for(X, y[:, None].astype(float), np.ones(len(y)), l2=1e-4)
            assert preconditioner_module._affordable_check(obj) == "certificate"
            yes = nearly_diagonal(obj, 2.5, exact=False)
            value = start_condition(obj)
            assert not yes or value <= 2.5, (seed, mixing, value)
            answers.append((mixing, value, yes))
    assert all(yes for mixing, _, yes in answers if mixing == 0.0)
    assert any(value > 2.5 for _, value, _ in answers)


def test_lean_gram_is_centred_before_it_is_rounded():
    """The lean certificate's float32 Gram product equals the float64 one to
    float32's rounding, on columns whose mean is 10,000 times their spread
    and with sample weights: centred in float64 first (rounding first would
    leave errors of 1e-4 of the diagonal)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 30)) + 1e4
    sw = rng.uniform(0.5, 2.0, 3000)
    obj = objective_for(X, (rng.random((3000, 1)) < 0.5).astype(float), sw, l2=1e-4)
    rows = np.arange(0, 3000, 7)
    centre = obj.moments()[0]
    G, total = hessian_module._condition_gram(obj, rows, centre, False)
    G32, total32 = hessian_module._condition_gram(obj, rows, centre, False, single=True)
    assert G32.dtype == np.float32 and G.dtype == np.float64
    assert total32 == total
    scale = np.sqrt(np.outer(np.diag(G), np.diag(G)))
    assert np.max(np.abs(G32 - G) / scale) < 1e-5


@pytest.mark.parametrize("n_samples, n_features", [(2000, 50), (8000, 100)])
def test_several_outputs_certificate_alone_takes_the_penalty(n_samples, n_features):
    """Several outputs' threshold (1.1) is below what the certificate proves
    of an unpenalized isotropic start, but a large alpha lifts the spectrum
    (Weyl's bound falls towards 1): where the certificate runs alone, 3
    classes on independent columns take the diagonal from alpha = 0.1 (a
    share of the threshold, as the lean certificate proves, would lose it:
    2,000 x 50 at alpha = 0.1, 5.8 ms in place of 4.1), the Hessian at
    alpha = 1e-2."""
    X, _ = _independent_columns(n_samples, n_features, 0.0)
    y = np.arange(n_samples) % 3
    Y = (y[:, None] == np.arange(3)).astype(float)
    assert preconditioner_module._affordable_check(objective_for(X, Y, np.ones(n_samples))) == (
        "certificate"
    )
    expected = {1e-2: "hessian", 0.1: "diagonal", 1.0: "diagonal", 10.0: "diagonal"}
    for alpha, expected in expected.items():
        clf = BCEPerceptronClassifier(alpha=alpha).fit(X, y)
        assert clf.preconditioner_ == expected, alpha


@pytest.mark.parametrize("n_samples, n_features", [(2000, 50), (8000, 100)])
def test_certificate_alone_proves_penalized_isotropic_starts(n_samples, n_features):
    """Where the certificate runs alone, independent columns take the
    diagonal at every alpha: a penalty that lifts the spectrum by the spread
    of all its directions but not of one (alpha = 0.1 on standardized
    columns) is proved with the second factorization, where it was given up
    (the Hessian: 8,000 x 100, 12.3 ms against the diagonal's 7.4)."""
    X, y = _independent_columns(n_samples, n_features, 0.0)
    for alpha in [1e-4, 1e-2, 0.1, 1.0, 10.0]:
        assert BCEPerceptronClassifier(alpha=alpha).fit(X, y).preconditioner_ == "diagonal", alpha


def _spanned_condition(X, sw, l2):
    """The condition number of the scaled start Hessian over the directions
    the centred columns span, and Weyl's bound on it, from an SVD of the
    scaled design (independent of the eigenvalue problem that
    ``start_condition`` solves): the bound on the columns' block, beside the
    intercept's scaled eigenvalue 1."""
    p = X.shape[1]
    w = sw / sw.sum()
    mean = w @ X
    A = np.hstack([X - mean, np.ones((len(X), 1))]) * np.sqrt(0.25 * w)[:, None]
    penalty = np.append(np.full(p, l2), 0.0)
    d = np.sqrt(np.sum(A * A, axis=0) + penalty)
    _, s, Vt = np.linalg.svd(A / d, full_matrices=False)
    spanned = s > 1e-6 * s[0]
    basis = Vt[spanned].T
    P = penalty / d**2
    values = np.linalg.eigvalsh(basis.T @ ((A / d).T @ (A / d) + np.diag(P)) @ basis)
    s = np.linalg.svd(A[:, :p] / d[:p], compute_uv=False)
    s = s[s > 1e-6 * s[0]]
    largest = max(s[0] ** 2 + P[:p].max(), 1.0)
    smallest = min(s[-1] ** 2 + P[:p].min(), 1.0)
    return values[-1] / values[0], largest / smallest


@pytest.fixture(params=[None, 1024], ids=["one-block", "blocks-of-5-rows"])
def stream_bytes(request, monkeypatch):
    """start_condition's Gram product over one block of rows, or over blocks
    of 5 rows (a shorter last one): the same product."""
    if request.param is not None:
        monkeypatch.setattr(hessian_module, "_STREAM_BYTES", request.param)


@pytest.mark.parametrize("l2", [1e-2, 10.0])
@pytest.mark.parametrize("redundant", [False, True])
@pytest.mark.parametrize("mixing", [0.0, 0.4, 2.0])
def test_start_condition_bounds_the_spanned_condition_number(mixing, redundant, l2, stream_bytes):
    """On every row (no sampling spread to remove) the estimate is Weyl's
    bound on the condition number over the spanned directions, with or
    without a column that is a combination of others (whose direction the
    full condition number would count): close to it where the penalty is
    small beside the smallest spanned eigenvalue, above it always, and near
    1 where the penalty dominates the columns' curvature.  The intercept,
    unpenalized, is kept apart: at l2=10 the condition numbers are 1.03 to
    1.14 and the estimates 1.04 to 1.24, where Weyl's bound on the whole
    matrix, pairing the intercept's zero penalty with the columns' smallest
    eigenvalue, gave 170 to 36,000."""
    X, y = _independent_columns(150, 20, mixing)
    if redundant:
        X = np.hstack([X, X[:, :3] @ np.array([[1.0], [-2.0], [0.5]])])
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    obj = objective_for(X, y[:, None].astype(float), sw, l2=l2)
    assert condition_sample_size(len(y), X.shape[1] + 1) == len(y)
    exact, bound = _spanned_condition(X, sw, l2)
    estimate = start_condition(obj)
    assert estimate == pytest.approx(bound, rel=1e-6)
    assert estimate >= exact * (1 - 1e-9)
    if mixing < 1:
        assert estimate <= 1.5 * exact
    if l2 > 1:
        assert estimate < 1.3


def test_start_condition_removes_the_spread_of_a_row_sample(stream_bytes):
    """Independent standardized columns: the condition number of the sample's
    Gram product is that of Marchenko-Pastur (4.4 for 168 rows of 21
    columns), the data's is near 1, and so is the estimate."""
    X, y = _independent_columns(60_000, 20, 0.0)
    sw = np.ones(len(y))
    obj = objective_for(X, y[:, None].astype(float), sw, l2=1e-4)
    assert condition_sample_size(len(y), 21) == 168
    assert _spanned_condition(X[:: len(y) // 168][:168], sw[:168], 1e-4)[0] > 3.0
    assert _spanned_condition(X, sw, 1e-4)[0] < 1.3
    assert start_condition(obj) < 1.3


def _tallied_nearly_diagonal(monkeypatch):
    """``(ask, answered)``: ``nearly_diagonal`` and the tally of its answers
    given by the certificate alone and by the eigenvalue problem."""
    answered = {"certificate": 0, "eigenvalues": 0}
    estimate = hessian_module._estimate

    def counted(*args):
        answered["eigenvalues"] += 1
        return estimate(*args)

    monkeypatch.setattr(hessian_module, "_estimate", counted)

    def ask(objective, threshold):
        before = answered["eigenvalues"]
        answer = nearly_diagonal(objective, threshold)
        answered["certificate"] += answered["eigenvalues"] == before
        return answer

    return ask, answered


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weights", ["equal", "uniform(0.5, 2)"])
@pytest.mark.parametrize("l2", [1e-4, 1.0])
def test_nearly_diagonal_answers_as_the_estimate(monkeypatch, fit_intercept, weights, l2):
    """``nearly_diagonal`` gives ``start_condition(.) <= threshold`` for the
    one-output and several-output thresholds, from nearly isotropic starts
    (where the Cholesky certificate answers alone) to correlated ones (where
    the eigenvalue problem decides), on every column mixing whose estimate
    lies on either side of a threshold.  The certificate is what answers
    where it can: with the eigenvalue problem forbidden, the isotropic start
    is still found nearly diagonal."""
    ask, answered = _tallied_nearly_diagonal(monkeypatch)
    for mixing in [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5]:
        X, y = _independent_columns(6000, 20, mixing)
        rng = np.random.default_rng(2)
        sw = np.ones(len(y)) if weights == "equal" else rng.uniform(0.5, 2.0, len(y))
        obj = objective_for(X, y[:, None].astype(float), sw, l2=l2, fit_intercept=fit_intercept)
        value = start_condition(obj)
        for threshold in [1.1, 2.5, 0.9 * value, 1.1 * value]:
            assert ask(obj, threshold) == (value <= threshold), (mixing, threshold)
    assert answered["certificate"] > 0 and answered["eigenvalues"] > 0
    monkeypatch.setattr(hessian_module, "_estimate", None)
    X, y = _independent_columns(6000, 20, 0.0)
    obj = objective_for(X, y[:, None].astype(float), np.ones(len(y)), l2=1e-4)
    assert nearly_diagonal(obj, 2.5)


@pytest.mark.parametrize("name", ["array_api_strict", "torch"])
def test_nearly_diagonal_on_a_device_answers_as_on_numpy(monkeypatch, name):
    """Off NumPy the start's estimate equals NumPy's, and past
    ``_CERTIFIED_COLUMNS`` columns the certificate, evaluated on the device
    and read once, answers where it can, as the eigenvalue problem would;
    its lean form (the Gram product in float32 on the device) answers as on
    NumPy."""
    xp, to_xp = _namespace(name)
    ask, answered = _tallied_nearly_diagonal(monkeypatch)
    p = hessian_module._CERTIFIED_COLUMNS
    lean = []
    for mixing in [0.0, 0.1, 0.3]:
        X, y = _independent_columns(3000, p, mixing)
        Y, sw = y[:, None].astype(float), np.ones(len(y))
        on_numpy = objective_for(X, Y, sw, l2=1e-4)
        on_device = BCEObjective(
            to_xp(X), to_xp(Y), to_xp(sw / sw.sum()), l2=1e-4, fit_intercept=True, center=True
        )
        value = start_condition(on_numpy)
        assert start_condition(on_device) == pytest.approx(value, rel=1e-9)
        for threshold in [1.1, 2.5, 0.9 * value, 1.1 * value]:
            assert ask(on_device, threshold) == (value <= threshold), (mixing, threshold)
        answer = nearly_diagonal(on_numpy, 2.5, exact=False)
        assert nearly_diagonal(on_device, 2.5, exact=False) == answer, mixing
        lean.append(answer)
    assert answered["certificate"] > 0 and answered["eigenvalues"] > 0
    assert lean[0] and not lean[-1]


def test_certificate_never_answers_yes_where_the_estimate_says_no():
    """Random scaled matrices around the threshold: every yes of the two
    Cholesky factorizations is a yes of the eigenvalue problem, and they say
    yes to most matrices whose estimate is well below it."""
    rng = np.random.default_rng(0)
    certified = agreed = 0
    for trial in range(300):
        r, m, n = 20, 168, int(rng.integers(168, 20_000))
        mixing = rng.uniform(0, 0.3) * rng.standard_normal((r, r)) / np.sqrt(r)
        A = rng.standard_normal((m, r)) @ (np.eye(r) + mixing)
        G = A.T @ A
        S = G / np.sqrt(np.outer(np.diag(G), np.diag(G)))
        P = rng.uniform(0, 1e-2, r)
        # P = 4 total penalty / e2 with total 1/4 and e2 ones.
        start = hessian_module._Start(P, bool(trial % 2), m, n)
        values = np.linalg.eigvalsh(S)
        largest, smallest = values[-1] + P.max(), values[0] + P.min()
        if start.apart:
            largest, smallest = max(largest, 1.0), min(smallest, 1.0)
        value = max(1.0, largest / smallest / start.spread(r))
        for threshold in (1.1, 2.5):
            yes = hessian_module._certified(
                np, S, np.ones(r), 0.25, np.True_, start, threshold, None
            )
            certified += yes
            assert not yes or value <= threshold, (trial, value, threshold)
            agreed += yes or value > 0.7 * threshold
    assert certified > 100
    assert agreed > 0.9 * 600


def test_certificate_with_a_penalty_never_answers_yes_where_the_estimate_says_no():
    """As above, with penalties from 1e-3 to 3 times the unpenalized
    diagonal, uniform or not, and a null direction in some: every yes is a
    yes of the eigenvalue problem, and a uniform penalty that lifts the
    spectrum by the spread of all its directions is proved."""
    rng = np.random.default_rng(1)
    certified = 0
    for trial in range(600):
        r = int(rng.integers(5, 40))
        m = int(rng.integers(2 * r, 10 * r))
        n = int(rng.integers(m, 20_000))
        mixing = rng.uniform(0, 0.5) * rng.standard_normal((r, r)) / np.sqrt(r)
        A = rng.standard_normal((m, r)) @ (np.eye(r) + mixing)
        if trial % 5 == 0:
            A[:, -1] = A[:, 0] + A[:, 1]
        G = A.T @ A
        scale = 10 ** rng.uniform(-3, 0.5)
        penalty = rng.uniform(0, scale, r) if trial % 3 else np.full(r, scale)
        # The start's scaled parts: S_ii + P_i = 1.
        P = penalty / (1 + penalty)
        S = G / np.sqrt(np.outer(np.diag(G), np.diag(G))) * np.sqrt(np.outer(1 - P, 1 - P))
        start = hessian_module._Start(P, bool(trial % 2), m, n)
        values = np.linalg.eigvalsh(S)
        spanned = values[values > hessian_module._NULL_FRACTION * values[-1]]
        largest, smallest = spanned[-1] + P.max(), spanned[0] + P.min()
        if start.apart:
            largest, smallest = max(largest, 1.0), min(smallest, 1.0)
        value = max(1.0, largest / smallest / start.spread(spanned.size))
        for threshold in (1.1, 1.625, 2.5):
            yes = hessian_module._certified(
                np, S, np.ones(r), 0.25, np.True_, start, threshold, None
            )
            certified += yes
            assert not yes or value <= threshold, (trial, value, threshold)
    assert certified > 600
    # Standardized independent columns at alpha = 0.1: every direction is
    # lifted by 0.29, more than the spread of 50 directions needs.
    A = rng.standard_normal((204, 50))
    G = A.T @ A
    P = np.full(50, 0.1 / 0.35)
    S = G / np.sqrt(np.outer(np.diag(G), np.diag(G))) * (1 - P[0])
    start = hessian_module._Start(P, True, 204, 2000)
    assert hessian_module._certified(np, S, np.ones(50), 0.25, np.True_, start, 1.625, None)


@pytest.mark.parametrize(
    "x_megabytes, expected", [(1.0, "diagonal"), (100.0, "diagonal"), (110.0, "hessian")]
)
def test_auto_keeps_the_sample_within_a_tenth_of_x(x_megabytes, expected):
    """400 features: the row sample takes 8 x 3,208 x 401 bytes (10.3 MB, over
    the 4 MiB that are always allowed), so "auto" wants X of at least 103 MB.
    Checked on the rule itself, with stand-ins for X."""
    from types import SimpleNamespace

    n, p = 100_000, 400
    assert 8 * HessianMetric.sample_size(n, p + 1) * (p + 1) > _HESSIAN_FREE_BYTES
    objective = SimpleNamespace(
        n_samples=n,
        n_features=p,
        n_outputs=1,
        fit_intercept=True,
        X=SimpleNamespace(nbytes=int(x_megabytes * 1e6), shape=(n, p)),
    )
    assert resolve("auto", objective, l1=0.0, line_search=True) == expected
    # The proximal Newton model is solved on the host: "auto" keeps the
    # diagonal metric for an L1 part on data that is not NumPy's or SciPy's,
    # and an explicit "hessian" is refused there.
    assert resolve("auto", objective, l1=0.1, line_search=True) == "diagonal"
    with pytest.raises(ValueError, match="NumPy or SciPy sparse data"):
        resolve("hessian", objective, l1=0.1, line_search=True)


def test_hessian_refuses_a_fixed_step():
    X, y = make_classification(100, 5, random_state=0)
    with pytest.raises(ValueError, match="needs line_search=True"):
        BCEPerceptronClassifier(preconditioner="hessian", line_search=False).fit(X, y)


def test_hessian_refuses_what_would_not_fit_in_memory():
    X = sp.random(100, 20_000, density=0.001, format="csr", random_state=0)
    y = np.arange(100) % 2
    with pytest.raises(ValueError, match="20001 x 20001"):
        BCEPerceptronClassifier(preconditioner="hessian").fit(X, y)


# -- fits --------------------------------------------------------------------------
def redundant_ill_scaled(n=3000, p=40, seed=1):
    """Columns scaled by 10**U[-3, 3], a fifth of them exact combinations of
    others: what a diagonal metric cannot fix."""
    X, y = make_classification(
        n, p, n_informative=p // 4, n_redundant=p // 5, flip_y=0.02, random_state=seed
    )
    X *= 10.0 ** np.random.default_rng(seed).uniform(-3, 3, p)
    return X, y


def test_hessian_fixes_redundant_ill_scaled_columns():
    """Iterations to a relative gap of 1e-6: a handful against hundreds."""
    X, y = redundant_ill_scaled()
    reference = BCEPerceptronClassifier(tol=1e-10, max_iter=500, preconditioner="hessian")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        J_star = reference.fit(X, y).objective(X, y)
    iterations = {}
    for preconditioner in ("hessian", "diagonal"):
        for k in range(1, 2001):
            clf = BCEPerceptronClassifier(tol=0, max_iter=k, preconditioner=preconditioner)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X, y)
            if (clf.objective(X, y) - J_star) / J_star <= 1e-6:
                iterations[preconditioner] = k
                break
            if k >= 20:
                break  # the diagonal metric: more than 20 is enough to know
    assert iterations["hessian"] <= 12
    assert "diagonal" not in iterations


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_hessian_fit_equals_logistic_regression(kind):
    """The oracle: LogisticRegression (one-vs-rest for several classes) at a
    tight tolerance on the same objective, sample weights included."""
    n_classes = 2 if kind == "binary" else 3
    X, y = make_classification(
        400, 8, n_informative=5, n_classes=n_classes, n_clusters_per_class=1, random_state=0
    )
    X = X * 10.0 ** np.linspace(-2, 2, 8) + 50.0  # unscaled, not centred
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    alpha = 1e-3
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = BCEPerceptronClassifier(alpha=alpha, tol=1e-10, preconditioner="hessian")
        clf.fit(X, y, sample_weight=sw)
    assert clf.n_iter_ < 60
    C = 1.0 / (alpha * sw.sum())
    for k in range(1 if kind == "binary" else n_classes):
        target = y == (1 if kind == "binary" else k)
        lr = LogisticRegression(C=C, tol=1e-12, max_iter=100_000, solver="newton-cholesky")
        lr.fit(X, target, sample_weight=sw)
        assert_allclose(clf.coef_[k], lr.coef_[0], rtol=1e-6, atol=1e-9)
        assert_allclose(clf.intercept_[k], lr.intercept_[0], rtol=1e-6, atol=1e-8)


def test_hessian_without_penalty_on_redundant_columns():
    """alpha = 0 and duplicated columns: a singular Hessian, no NaN, no warning,
    and predictions equal to those on the deduplicated data."""
    X, y = make_classification(500, 6, n_informative=4, n_redundant=0, flip_y=0.2, random_state=0)
    doubled = np.hstack([X, X[:, :2]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = BCEPerceptronClassifier(alpha=0, tol=1e-8, preconditioner="hessian").fit(doubled, y)
        base = BCEPerceptronClassifier(alpha=0, tol=1e-8, preconditioner="hessian").fit(X, y)
    assert np.all(np.isfinite(clf.coef_))
    assert_allclose(clf.decision_function(doubled), base.decision_function(X), atol=1e-5)


def test_hessian_float32_stays_float32():
    X, y = make_classification(300, 6, random_state=0)
    clf = BCEPerceptronClassifier(preconditioner="hessian").fit(X.astype(np.float32), y)
    ref = BCEPerceptronClassifier(preconditioner="hessian").fit(X, y)
    assert clf.coef_.dtype == np.float32 and clf.intercept_.dtype == np.float32
    assert_allclose(clf.coef_, ref.coef_, atol=2e-3)


def test_hessian_iterates_are_scale_invariant_without_penalty(breast_cancer):
    X, y = breast_cancer
    scales = 10.0 ** np.linspace(-3, 3, X.shape[1])
    params = dict(alpha=0, max_iter=6, preconditioner="hessian")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = BCEPerceptronClassifier(**params).fit(X, y)
        rescaled = BCEPerceptronClassifier(**params).fit(X * scales, y)
    assert_allclose(plain.loss_curve_, rescaled.loss_curve_, rtol=1e-8)
    assert_allclose(plain.coef_, rescaled.coef_ * scales, rtol=1e-5)


def test_hessian_with_early_stopping_restores_the_best_iteration():
    """The held-out rows stay in X with zero weight: they carry no weight in
    the Hessian's sample either, and the best iteration is restored."""
    X, y = make_classification(
        600, 30, n_informative=5, flip_y=0.3, random_state=0
    )
    clf = BCEPerceptronClassifier(
        alpha=0.0,
        preconditioner="hessian",
        early_stopping=True,
        n_iter_no_change=2,
        validation_fraction=0.3,
        random_state=0,
        max_iter=200,
    ).fit(X, y)
    curve = clf.validation_loss_curve_
    assert clf.preconditioner_ == "hessian"
    assert len(curve) == clf.n_iter_ and clf.best_iteration_ < clf.n_iter_
    assert curve[clf.best_iteration_ - 1] == min(curve)


@pytest.mark.parametrize("alpha", [0.0, 1e-3])
def test_hessian_with_degenerate_columns(alpha):
    """A zero column, a constant one and a scaled duplicate: a singular sample
    Hessian (alpha = 0) or a nearly singular one, and the same optimum as the
    diagonal metric's, without any warning."""
    X, y = make_classification(400, 3, n_informative=3, n_redundant=0, flip_y=0.1,
                               random_state=0)
    X = np.hstack([X, np.zeros((400, 1)), np.full((400, 1), 5.0), 1e3 * X[:, :1]])
    fits = {}
    for preconditioner in ("hessian", "diagonal"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fits[preconditioner] = BCEPerceptronClassifier(
                alpha=alpha, tol=1e-7, max_iter=5000, preconditioner=preconditioner
            ).fit(X, y)
    hessian, diagonal = fits["hessian"], fits["diagonal"]
    assert np.all(np.isfinite(hessian.coef_))
    assert abs(hessian.coef_[0, 3]) < 1e-12  # the zero column has no gradient, ever
    assert hessian.n_iter_ < diagonal.n_iter_
    assert_allclose(hessian.decision_function(X), diagonal.decision_function(X), atol=1e-5)
    assert_allclose(hessian.objective(X, y), diagonal.objective(X, y), rtol=1e-10)
    if alpha:  # strictly convex: the same coefficients (up to the diagonal
        # metric's slow progress along the duplicate's direction: curvature alpha)
        assert_allclose(hessian.coef_, diagonal.coef_, rtol=1e-5, atol=1e-6)
