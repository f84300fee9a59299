# SPDX-License-Identifier: BSD-3-Clause
"""BCEObjective: values, gradients against finite differences, curvature bounds."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.special import expit, log_expit

from skperceptron._linesearch import along
from skperceptron._objective import BCEObjective
from skperceptron._preconditioner import diagonal, lipschitz, metric_lipschitz

N_SAMPLES, N_FEATURES = 23, 4


def make_problem(kind, *, dtype=np.float64, sparse=False, weighted=False, seed=0):
    """``(X, Y, sw)`` with non-centred, differently scaled columns."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N_SAMPLES, N_FEATURES)) * [0.5, 1.0, 2.0, 3.0] + [1.0, -2.0, 0.0, 0.5]
    if sparse:
        X[rng.random(X.shape) < 0.4] = 0.0
    if kind == "binary":
        Y = (rng.random((N_SAMPLES, 1)) < 0.4).astype(float)
    elif kind == "multiclass":
        Y = np.eye(3)[rng.integers(0, 3, N_SAMPLES)]
    else:  # multilabel: arbitrary 0/1 rows, all-zero and all-one rows included
        Y = (rng.random((N_SAMPLES, 3)) < 0.5).astype(float)
        Y[0], Y[1] = 0.0, 1.0
    sw = rng.uniform(0.1, 3.0, N_SAMPLES) if weighted else np.ones(N_SAMPLES)
    sw /= sw.sum()
    X = X.astype(dtype)
    if sparse:
        X = sp.csr_matrix(X)
    return X, Y.astype(dtype), sw.astype(dtype)


def random_parameters(K, dtype, seed=1):
    rng = np.random.default_rng(seed)
    W = (0.5 * rng.standard_normal((K, N_FEATURES))).astype(dtype)
    c = (0.5 * rng.standard_normal(K)).astype(dtype)
    return W, c


def central_difference(fun, W, c, h):
    """Central finite-difference gradient of ``fun(W, c)`` in float64."""
    W, c = W.astype(np.float64), c.astype(np.float64)
    grad_W, grad_c = np.zeros_like(W), np.zeros_like(c)
    for grad, param in ((grad_W, W), (grad_c, c)):
        for idx in np.ndindex(param.shape):
            old = param[idx]
            param[idx] = old + h
            plus = fun(W, c)
            param[idx] = old - h
            minus = fun(W, c)
            param[idx] = old
            grad[idx] = (plus - minus) / (2 * h)
    return grad_W, grad_c


KINDS = ["binary", "multiclass", "multilabel"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gradient_matches_finite_differences(kind, fit_intercept, weighted, sparse, center, dtype):
    X, Y, sw = make_problem(kind, dtype=dtype, sparse=sparse, weighted=weighted)
    l2 = 0.3
    obj = BCEObjective(X, Y, sw, l2=l2, fit_intercept=fit_intercept, center=center)
    W, c = random_parameters(Y.shape[1], dtype)
    raw = obj.matvec(W, c)
    assert raw.dtype == dtype
    f, grad_W, grad_c = obj.value_and_grad(W, raw)
    assert grad_W.dtype == dtype and grad_W.shape == W.shape
    assert grad_c.shape == c.shape

    # The reference is always taken on the float64 problem, so that the float32
    # gradient is judged against the exact one, not against float32 noise.
    obj64 = BCEObjective(
        X.astype(np.float64), Y.astype(np.float64), sw.astype(np.float64),
        l2=l2, fit_intercept=fit_intercept, center=center,
    )
    # With center=True this is c -> value(W, matvec(W, c)): the gradient must be
    # in the (W, c) coordinates of the solver.
    def fun(W_, c_):
        return obj64.value(W_, obj64.matvec(W_, c_))

    assert_allclose(f, fun(W, c), rtol=1e-12 if dtype == np.float64 else 1e-5)
    fd_W, fd_c = central_difference(fun, W, c, h=1e-5)
    rtol = 1e-7 if dtype == np.float64 else 2e-5
    scale = max(np.abs(fd_W).max(), np.abs(fd_c).max())
    assert_allclose(grad_W, fd_W, rtol=rtol, atol=rtol * scale)
    if fit_intercept:
        assert_allclose(grad_c, fd_c, rtol=rtol, atol=rtol * scale)
        assert np.abs(grad_c).max() > 1e-3  # the check above is not vacuous
    else:
        assert np.all(grad_c == 0)
        assert np.all(fd_c == 0)  # the intercept parameter has no effect


@pytest.mark.parametrize("kind", KINDS)
def test_center_is_an_exact_change_of_variables(kind):
    """Same raw predictions and value for (W, b) and (W, c = b + W @ mean)."""
    X, Y, sw = make_problem(kind, weighted=True)
    plain = BCEObjective(X, Y, sw, l2=0.1, fit_intercept=True)
    centred = BCEObjective(X, Y, sw, l2=0.1, fit_intercept=True, center=True)
    assert_allclose(centred.mean, sw @ X, rtol=1e-12)
    W, b = random_parameters(Y.shape[1], np.float64)
    W_c, c = centred.parameters_of(W, b)
    assert_allclose(c, b + W @ (sw @ X), rtol=1e-12)
    assert_allclose(centred.matvec(W_c, c), plain.matvec(W, b), rtol=1e-12, atol=1e-12)
    assert_allclose(centred.intercept_of(W_c, c), b, rtol=1e-12, atol=1e-14)
    _, gW_plain, gb = plain.value_and_grad(W, plain.matvec(W, b))
    _, gW_cent, gc = centred.value_and_grad(W_c, centred.matvec(W_c, c))
    # d/dW in original coordinates = d/dW centred + grad_c mean^T.
    assert_allclose(gc, gb, rtol=1e-12)
    assert_allclose(gW_cent + np.outer(gc, centred.mean), gW_plain, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_matches_literal_formula(kind, dtype):
    X, Y, sw = make_problem(kind, dtype=dtype, weighted=True)
    obj = BCEObjective(X, Y, sw, l2=0.7, fit_intercept=True)
    W, c = random_parameters(Y.shape[1], dtype)
    raw = obj.matvec(W, c)
    v, y, s = raw.astype(np.float64), Y.astype(np.float64), sw.astype(np.float64)
    literal = -(y * log_expit(v) + (1 - y) * log_expit(-v))
    expected = float(s @ literal.sum(axis=1))
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert_allclose(obj.loss(raw), expected, rtol=rtol)
    W64 = W.astype(np.float64)
    assert_allclose(obj.value(W, raw), expected + 0.35 * np.sum(W64 * W64), rtol=rtol)
    # The residual is d loss / d raw.
    assert_allclose(obj.residual(raw), s[:, None] * (1 / (1 + np.exp(-v)) - y), rtol=rtol, atol=1e-9)


def _dense_hessian_bound(X, sw, l2, fit_intercept, mean=None):
    """``[X_c, 1]^T diag(sw) [X_c, 1] / 4 + l2 on W``: the bound per output unit."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    X = X.astype(np.float64)
    if mean is not None:
        X = X - mean
    if fit_intercept:
        X = np.column_stack([X, np.ones(len(X))])
    H = 0.25 * X.T @ (sw[:, None] * X)
    H[np.arange(X.shape[1] - fit_intercept), np.arange(X.shape[1] - fit_intercept)] += l2
    return H


def _dense_true_hessian(X, sw, l2, fit_intercept, raw_column):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    if fit_intercept:
        X = np.column_stack([X, np.ones(len(X))])
    p = 1 / (1 + np.exp(-raw_column))
    H = X.T @ ((sw * p * (1 - p))[:, None] * X)
    H[np.arange(X.shape[1] - fit_intercept), np.arange(X.shape[1] - fit_intercept)] += l2
    return H


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("l2", [0.0, 0.5])
def test_lipschitz_bounds_the_hessian(fit_intercept, center, sparse, l2):
    X, Y, sw = make_problem("binary", sparse=sparse, weighted=True)
    obj = BCEObjective(X, Y, sw, l2=l2, fit_intercept=fit_intercept, center=center)
    L = lipschitz(obj)
    H = _dense_hessian_bound(X, sw, l2, fit_intercept, obj.mean)
    eig_max = np.linalg.eigvalsh(H).max()
    assert L >= eig_max * (1 - 1e-12)
    # As documented: the trace of the data part plus l2 (the largest eigenvalue
    # of A + l2 I is that of A plus l2), a bound, not a loose guess.
    H_data = _dense_hessian_bound(X, sw, 0.0, fit_intercept, obj.mean)
    assert_allclose(L, np.trace(H_data) + l2, rtol=1e-12)
    # The true Hessian at any point is below the bound.
    W, c = random_parameters(1, np.float64)
    raw = obj.matvec(W, c)
    H_true = _dense_true_hessian(X, sw, l2, fit_intercept, raw[:, 0])
    assert np.linalg.eigvalsh(H_true).max() <= L


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_diagonal_matches_formula(center, sparse, dtype):
    X, Y, sw = make_problem("multiclass", dtype=dtype, sparse=sparse, weighted=True)
    l2 = 0.2
    obj = BCEObjective(X, Y, sw, l2=l2, fit_intercept=True, center=center)
    D_W, D_c = diagonal(obj)
    assert D_W.dtype == dtype and D_W.shape == (N_FEATURES,)
    assert D_c.shape == (3,)
    Xd = (X.toarray() if sparse else X).astype(np.float64)
    s = sw.astype(np.float64)
    if center:
        Xd = Xd - s @ Xd
    expected = 0.25 * (s @ (Xd * Xd)) + l2
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert_allclose(D_W, expected, rtol=rtol)
    assert_allclose(D_c, 0.25)
    # The diagonal of the dense bound, exactly.
    H = _dense_hessian_bound(X, s, l2, True, obj.mean)
    assert_allclose(D_W, np.diag(H)[:-1], rtol=rtol)


def test_diagonal_of_constant_column_is_positive():
    X = np.column_stack([np.full(10, 3.0), np.arange(10.0), np.zeros(10)])
    Y = (np.arange(10) % 2).astype(float)[:, None]
    sw = np.full(10, 0.1)
    obj = BCEObjective(X, Y, sw, l2=0.0, fit_intercept=True, center=True)
    D_W, _ = diagonal(obj)
    assert np.all(np.isfinite(D_W)) and np.all(D_W > 0)


@pytest.mark.parametrize("center", [False, True])
def test_metric_lipschitz_bounds_preconditioned_hessian(center):
    X, Y, sw = make_problem("binary", weighted=True)
    obj = BCEObjective(X, Y, sw, l2=0.1, fit_intercept=True, center=center)
    D_W, D_c = diagonal(obj)
    estimate = metric_lipschitz(obj, D_W, D_c)
    H = _dense_hessian_bound(X, sw, 0.1, True, obj.mean)
    d = np.concatenate([D_W, D_c[:1]])
    M = H / np.sqrt(np.outer(d, d))
    assert estimate >= np.linalg.eigvalsh(M).max() * (1 - 1e-9)
    assert estimate <= np.trace(M) * (1 + 1e-12)


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("sparse", [False, True])
def test_product_counters(center, sparse):
    X, Y, sw = make_problem("multilabel", sparse=sparse)
    obj = BCEObjective(X, Y, sw, l2=0.1, fit_intercept=True, center=center)
    assert (obj.n_matvec, obj.n_rmatvec) == (0, 0)
    W, c = random_parameters(3, np.float64)
    raw = obj.matvec(W, c)
    assert (obj.n_matvec, obj.n_rmatvec) == (1, 0)
    obj.loss(raw)
    obj.residual(raw)
    obj.value(W, raw)
    assert (obj.n_matvec, obj.n_rmatvec) == (1, 0)
    obj.value_and_grad(W, raw)
    assert (obj.n_matvec, obj.n_rmatvec) == (1, 1)
    obj.rmatvec(obj.residual(raw))
    assert (obj.n_matvec, obj.n_rmatvec) == (1, 2)
    dW, dc = random_parameters(3, np.float64, seed=5)
    draw = obj.matvec(dW, dc)
    phi = along(obj, W, raw, dW, draw)
    for s in (0.0, 0.5, 1.0):
        phi(s, True)
    assert (obj.n_matvec, obj.n_rmatvec) == (2, 2)
    lipschitz(obj)
    diagonal(obj)
    assert (obj.n_matvec, obj.n_rmatvec) == (2, 2)


def test_line_matches_value_and_derivatives():
    """phi(s) along W + s dW: value, slope and curvature of the smooth objective."""
    X, Y, sw = make_problem("multiclass", weighted=True)
    obj = BCEObjective(X, Y, sw, l2=0.3, fit_intercept=True, center=True)
    W, c = random_parameters(3, np.float64)
    dW, dc = random_parameters(3, np.float64, seed=7)
    raw, draw = obj.matvec(W, c), obj.matvec(dW, dc)
    phi = along(obj, W, raw, dW, draw)

    def f(s):
        return obj.value(W + s * dW, obj.matvec(W + s * dW, c + s * dc))

    s, h = 0.4, 1e-4
    value, slope, curv = phi(s, True)
    assert_allclose(value, f(s), rtol=1e-12)
    assert_allclose(slope, (f(s + h) - f(s - h)) / (2 * h), rtol=1e-6)
    assert_allclose(curv, (f(s + h) - 2 * f(s) + f(s - h)) / h**2, rtol=1e-4)


EXTREME = np.array([1e-8, -1e-8, 35.0, -35.0, 89.0, -89.0, 710.0, -710.0, 1e4, -1e4])


def _softplus(v):
    """``log(1 + exp(v))`` without overflow, in float64."""
    return np.logaddexp(0.0, v)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_and_residual_at_extreme_logits(dtype):
    n = len(EXTREME)
    # Each logit with y = 1 and y = 0; the logits enter through the intercept-free
    # one-feature model raw = x * 1.
    X = np.concatenate([EXTREME, EXTREME])[:, None].astype(dtype)
    y = np.concatenate([np.ones(n), np.zeros(n)])
    Y = y[:, None].astype(dtype)
    sw = np.full(2 * n, 1 / (2 * n), dtype=dtype)
    obj = BCEObjective(X, Y, sw, l2=0.0, fit_intercept=False)
    W = np.ones((1, 1), dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        raw = obj.matvec(W, np.zeros(1, dtype))
        v = raw[:, 0].astype(np.float64)
        pointwise = obj.loss(raw)
        R = obj.residual(raw)
        f, grad_W, grad_c = obj.value_and_grad(W, raw)
    # Exact references: bce(1, v) = softplus(-v), bce(0, v) = softplus(v).
    ref = np.where(y == 1, _softplus(-v), _softplus(v))
    assert np.isfinite(pointwise) and np.isfinite(f)
    # Each term may lose an absolute eps * |v| to the -log_expit(-v) - y v form.
    eps = np.finfo(dtype).eps
    assert abs(pointwise - ref.mean()) <= 4 * eps * np.abs(v).mean() + 1e-300
    # The residual expit(v) - y lies in [-1, 1]: accurate to eps absolutely,
    # and relatively where it does not cancel (y = 0), down to the smallest normal.
    expit_ref = np.exp(-_softplus(-v))
    assert np.all(np.isfinite(R))
    assert_allclose(R[:, 0] / sw[0], expit_ref - y, rtol=4 * eps, atol=eps)
    assert_allclose(R[n:, 0] / sw[0], expit_ref[n:], rtol=4 * eps, atol=np.finfo(dtype).tiny)
    assert np.isfinite(grad_W).all() and np.isfinite(grad_c).all()
    # Spot values: expit(-1e4) - 1 is exactly -1, expit(1e4) - 0 exactly 1.
    assert R[n - 1, 0] / sw[0] == -1.0 and R[n + n - 2, 0] / sw[0] == 1.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_single_extreme_loss_terms(dtype):
    """One sample at a time: bce(y, -1e4) for y = 1 is 1e4, not inf."""
    for v_value in EXTREME:
        for y_value in (0.0, 1.0):
            X = np.array([[v_value]], dtype=dtype)
            Y = np.array([[y_value]], dtype=dtype)
            obj = BCEObjective(X, Y, np.ones(1, dtype), l2=0.0, fit_intercept=False)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                loss = obj.loss(obj.matvec(np.ones((1, 1), dtype), np.zeros(1, dtype)))
            v = float(dtype(v_value))
            ref = _softplus(-v) if y_value else _softplus(v)
            eps = np.finfo(dtype).eps
            assert np.isfinite(loss)
            assert abs(loss - ref) <= 4 * eps * max(1.0, abs(v)), (v, y_value, loss, ref)


# -- the gradient formula of "The mathematics", in every configuration -----------
# (moved from test_docs_math.py)


def _problem(kind, rng, n_samples=40, n_features=5):
    X = rng.standard_normal((n_samples, n_features)) * rng.uniform(0.1, 10, n_features)
    n_outputs = {"binary": 1, "multiclass": 3, "multilabel": 4}[kind]
    if kind == "multiclass":
        Y = np.eye(n_outputs)[rng.integers(0, n_outputs, n_samples)]
    else:
        Y = rng.integers(0, 2, size=(n_samples, n_outputs)).astype(float)
    return X, Y


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("sparse", [True, False])
def test_documented_gradient_formula(kind, fit_intercept, weighted, sparse, rng):
    """grad_W = (s * (Z - Y))^T X / S + alpha W and grad_b = sum_i s_i (z_i - y_i) / S."""
    X, Y = _problem(kind, rng)
    s = rng.uniform(0.2, 3.0, X.shape[0]) if weighted else np.ones(X.shape[0])
    S = s.sum()
    alpha = 0.7
    W = rng.standard_normal((Y.shape[1], X.shape[1])) * 0.3
    b = rng.standard_normal(Y.shape[1]) if fit_intercept else np.zeros(Y.shape[1])
    X_in = sp.csr_matrix(X) if sparse else X
    objective = BCEObjective(X_in, Y, s / S, l2=alpha, fit_intercept=fit_intercept)

    V = X @ W.T + b
    Z = expit(V)
    J = s @ (-(Y * np.log(Z) + (1 - Y) * np.log(1 - Z))).sum(axis=1) / S
    J += alpha / 2 * np.sum(W**2)
    residual = s[:, None] * (Z - Y) / S

    raw = objective.matvec(W, b)
    np.testing.assert_allclose(raw, V, rtol=1e-12, atol=1e-12)
    value, grad_W, grad_b = objective.value_and_grad(W, raw)
    np.testing.assert_allclose(value, J, rtol=1e-12)
    np.testing.assert_allclose(grad_W, X.T.dot(residual).T + alpha * W, rtol=1e-10, atol=1e-14)
    expected_b = residual.sum(axis=0) if fit_intercept else np.zeros(Y.shape[1])
    np.testing.assert_allclose(grad_b, expected_b, rtol=1e-10, atol=1e-14)


def test_stray_ones_term_changes_the_gradient_by_sigma_prime(rng):
    """The first classic mistake adds X^T (s z (1 - z)) / S to grad_W, nothing else."""
    X, Y = _problem("binary", rng)
    sw = np.full(X.shape[0], 1 / X.shape[0])
    objective = BCEObjective(X, Y, sw, l2=0.0, fit_intercept=True)
    W, b = rng.standard_normal((1, X.shape[1])) * 0.1, np.zeros(1)
    Z = expit(objective.matvec(W, b))
    dL_dz = -Y / Z + (1 - Y) / (1 - Z)
    wrong_residual = sw[:, None] * (dL_dz + 1) * Z * (1 - Z)
    _, grad_W, grad_b = objective.value_and_grad(W, objective.matvec(W, b))
    np.testing.assert_allclose(
        wrong_residual.T @ X - grad_W, (sw[:, None] * Z * (1 - Z)).T @ X, atol=1e-12
    )
    assert wrong_residual.sum() - grad_b[0] > 0


# -- row engines: where the passes run, not what they compute ------------------------
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_row_engines_agree(monkeypatch, kind, sparse):
    """The threaded, chunked NumPy engine (forced to 7-entry chunks on two
    threads, with row blocks for the products) and the whole-array engine give
    the same losses, residuals, gradients, curvatures and searches."""
    from skperceptron import _passes
    from skperceptron._rows import NumpyRows, WholeRows
    from skperceptron._threads import Threads

    monkeypatch.setattr(_passes, "_CHUNK_ENTRIES", 7)
    monkeypatch.setattr(_passes, "_MIN_THREADED_ENTRIES", 20)
    monkeypatch.setattr(_passes, "_MIN_THREADED_NNZ", 20)
    monkeypatch.setattr(Threads, "of_blas", classmethod(lambda cls: cls(2)))
    X, Y, sw = make_problem(kind, sparse=sparse, weighted=True)
    chunked, whole = NumpyRows(X, Y, sw), WholeRows(X, Y, sw)
    assert not chunked.passes.single and chunked.blocks is not None
    rng = np.random.default_rng(3)
    W, shift = rng.standard_normal((Y.shape[1], N_FEATURES)), rng.standard_normal(Y.shape[1])
    raw = whole.matvec(W, shift)
    draws = [whole.matvec(rng.standard_normal(W.shape), None) for _ in range(2)]
    a = np.array([0.3, -0.7])
    with chunked.product_threads():
        assert_allclose(chunked.matvec(W, shift), raw, rtol=1e-12)
        for got, want in zip(chunked.gradient(raw, True), whole.gradient(raw, True)):
            assert_allclose(got, want, rtol=1e-12, atol=1e-15)
        assert_allclose(chunked.loss(raw, sw, draws, a), whole.loss(raw, sw, draws, a), rtol=1e-12)
        for got, want in zip(chunked.subspace(raw, draws, a), whole.subspace(raw, draws, a)):
            assert_allclose(got, want, rtol=1e-12, atol=1e-15)
        assert_allclose(chunked.slopes(raw, draws, a), whole.slopes(raw, draws, a), rtol=1e-12)
        step = a[0] * draws[0] + a[1] * draws[1]
        new_raw, new_step = chunked.advance(raw.copy(), [d.copy() for d in draws], a)
        assert_allclose(new_step, step, rtol=1e-12, atol=1e-15)
        assert_allclose(new_raw, raw + step, rtol=1e-12, atol=1e-15)
