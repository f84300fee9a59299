# SPDX-License-Identifier: BSD-3-Clause
"""The smooth part of the objective: weighted binary cross-entropy plus L2."""

import contextlib

import numpy as np

from ._backend import (
    accumulation_dtype,
    asarray,
    column_moments,
    copy,
    device_of,
    from_host,
    inner,
    is_sparse,
    matmul,
    namespace,
    outer,
    rmatmul,
    to_host,
    vdot,
    zeros,
)
from . import _loss
from ._passes import DenseRowBlocks, RawPasses, SparseRowBlocks, fit_threads
from ._threads import Threads


class BCEObjective:
    r"""Weighted binary cross-entropy of K sigmoid units, plus an L2 penalty.

    .. math::

        f(W, b) = \sum_i s_i \sum_k \mathrm{bce}(Y_{ik}, v_{ik})
                  + \frac{\lambda_2}{2} \|W\|_F^2,
        \qquad v = X W^\top + b,

        \mathrm{bce}(y, v) = -(y \log\sigma(v) + (1 - y)\log\sigma(-v))
                           = -\log\sigma((2y - 1) v) \quad (y \in \{0, 1\}),

    with ``s`` the sample weights normalized to sum to one, so that
    :math:`\partial f / \partial v_{ik} = s_i (\sigma(v_{ik}) - Y_{ik})`.
    The intercept ``b`` is never penalized.

    Conventions
    -----------
    - ``X``: (n_samples, n_features), dense or sparse, never copied.
    - ``Y``: (n_samples, n_outputs) with entries in {0, 1}.
    - ``sw``: (n_samples,), non-negative, sums to one.
    - Parameters are ``W`` (n_outputs, n_features) and ``c`` (n_outputs,).
    - ``raw``: (n_samples, n_outputs), the cached ``X @ W.T + b``.

    When ``center`` is true the solver works in centred coordinates: the
    intercept parameter is ``c = b + W @ mean`` with ``mean`` the weighted
    column means, so that ``raw = (X - 1 mean^T) W^T + c``.  This is an exact
    change of variables (the L2 and L1 penalties only involve ``W``) that
    removes the coupling between the intercept and non-centred features; the
    centred matrix is never formed, it enters both products as a rank-one
    correction, and sparse X stays sparse.  ``intercept_of`` maps back.

    Every product with X goes through :meth:`matvec` and :meth:`rmatvec`, which
    count themselves in ``n_matvec`` and ``n_rmatvec``.

    ``X``, ``Y``, ``sw`` and every array built from them (``W``, ``c``,
    ``raw``, gradients) live in one array namespace ``xp`` (NumPy itself for
    NumPy and SciPy sparse data, else an Array API library such as PyTorch)
    and on its device; only scalars come back to the host (values, slopes,
    the small (m, m) curvature matrices, the float64 column ``moments``).
    """

    # A subclass that builds its own state gets the NumPy namespace.
    xp = np
    device = None
    # The NumPy passes and threaded CSR products (see ``_passes``), if any.
    _passes = None
    _blocks = None
    # The Hessian metric's sample is filled this many bytes of it at a time
    # (None: at once), so that no temporary is as large as the sample.
    sample_chunk_bytes = 2**20

    def __init__(self, X, Y, sw, *, l2, fit_intercept, center=False):
        self.xp = namespace(X, Y, sw)
        self.device = None if self.xp is np else device_of(Y)
        # Y may be int8 (NumPy); the weights have the data's floating dtype.
        self._set_data(X, Y, sw, l2, fit_intercept, sw.dtype)
        self._sw_col = sw[:, None]
        self._passes = self._blocks = None
        if self.xp is np:
            # Chunked, threaded passes that form sw * Y and 2Y - 1 a chunk at a
            # time (two n-by-K arrays fewer), and threaded row blocks for the
            # products with a dense or CSR X.
            self.threads = fit_threads(Y.size, getattr(X, "nnz", None) or getattr(X, "size", 0))
            n_threads = self.threads.n_threads
            self._passes = RawPasses(self.n_samples, self.n_outputs, n_threads, self.threads)
            if self._passes.single:
                # Small data (one chunk): memory is no concern, per-call overhead
                # is (an iteration takes about 100 microseconds): float
                # targets, their signs and contiguous weights, made once.
                self.Y = Y = Y.astype(self.dtype)
                self.sw = sw = np.ascontiguousarray(sw)
                self._sw_col = sw[:, None]
                self._passes.sign = _loss.signs(Y, self.dtype, np)
            if is_sparse(X) and SparseRowBlocks.usable(X, n_threads):
                self._blocks = SparseRowBlocks(X, n_threads, self.threads)
            elif isinstance(X, np.ndarray) and DenseRowBlocks.usable(X, n_threads):
                self._blocks = DenseRowBlocks(X, n_threads, self.threads)
        else:
            # Reused by every pass over the raw predictions.
            self._sign = _loss.signs(Y, self.dtype, self.xp)
        self._center(center)

    def _set_data(self, X, Y, sw, l2, fit_intercept, dtype):
        """The attributes every objective has (subclasses included)."""
        self.X, self.Y, self.sw = X, Y, sw
        self.l2 = float(l2)
        self.fit_intercept = bool(fit_intercept)
        self.dtype = dtype
        self.n_samples, self.n_features = X.shape
        self.n_outputs = Y.shape[1]
        self.n_matvec = 0
        self.n_rmatvec = 0
        self._moments = None
        # The threads of the fit: one, unless the NumPy passes take more.
        self.threads = Threads(1)

    def _center(self, center):
        """The weighted column means of the centred coordinates, if any."""
        self.mean = None
        if center and self.fit_intercept:
            self.mean = from_host(self.xp, self.moments()[0], self.dtype, self.device)

    @contextlib.contextmanager
    def product_threads(self):
        """The context a fit runs in: while the row blocks of the products run
        on our own threads, the BLAS calls inside them run single-threaded;
        the fit's threads end with it."""
        try:
            with self.threads.single_blas(self._blocks is not None):
                yield
        finally:
            self.threads.close()

    def matrix_threads(self, n_flops):
        """A context for ``n_flops`` of matrix-matrix work inside the fit (a
        preconditioner's refresh): the BLAS's threads where they pay."""
        return self.threads.blas(n_flops)

    def intercept_of(self, W, c):
        """The intercept ``b`` of the parameters ``(W, c)``."""
        if not self.fit_intercept:
            return zeros(self.xp, self.n_outputs, self.dtype, self.device)
        return c - W @ self.mean if self.mean is not None else copy(self.xp, c)

    def parameters_of(self, coef, intercept):
        """``(W, c)`` of a coefficient matrix and an intercept vector."""
        W = asarray(self.xp, coef, self.dtype, self.device)
        c = asarray(self.xp, intercept, self.dtype, self.device)
        if self.mean is not None:
            c = c + W @ self.mean
        return W, c

    # -- the data, touched only here -------------------------------------------
    def moments(self):
        """Weighted column mean and second moment of X (float64, one pass)."""
        if self._moments is None:
            self._moments = column_moments(self.X, self.sw)
        return self._moments

    def sample_rows(self, a, rows):
        """Rows ``rows`` (sorted NumPy indices) of ``X``, ``sw`` or raw predictions,
        dense, in ``xp`` on its device, in float64 where the device has it."""
        if is_sparse(a):
            return a[rows].toarray().astype(np.float64)
        if self.xp is np:
            return np.asarray(a[rows], dtype=np.float64)
        xp = self.xp
        index = from_host(xp, rows, xp.int64, self.device)
        return xp.astype(xp.take(a, index, axis=0), accumulation_dtype(xp, self.device))

    def scale_ratio(self):
        """Largest over smallest positive column variance (uncentred second
        moment without an intercept), from the cached moments."""
        mean, second = self.moments()
        var = second - mean**2 if self.fit_intercept else second
        var = var[var > 0]
        return float(var.max() / var.min()) if var.size else 1.0

    def forget_moments(self):
        """Drop the cached column moments (two float64 p-vectors) once the metric
        and step are set; a later :meth:`moments` reads X again."""
        self._moments = None

    def matvec(self, W, c):
        """``raw`` of the (linear) parameters ``(W, c)``: shape (n, K)."""
        self.n_matvec += 1
        raw = self._blocks.matmul(W.T) if self._blocks else matmul(self.X, W.T)
        if self.fit_intercept:
            shift = c if self.mean is None else c - W @ self.mean
            raw += shift
        return raw

    def rmatvec(self, R):
        """Adjoint of :meth:`matvec`: ``(R.T @ X_centred, R.sum(0))``."""
        self.n_rmatvec += 1
        grad_W = self._blocks.rmatmul(R) if self._blocks else rmatmul(self.X, R)
        return self._adjoint(grad_W, self.xp.sum(R, axis=0))

    def _adjoint(self, RX, R_sums):
        """``(R.T @ X, R.sum(0))`` to the adjoint of :meth:`matvec`: no intercept
        gradient without an intercept, the rank-one centring correction with
        centred coordinates."""
        xp = self.xp
        if not self.fit_intercept:
            return RX, xp.zeros_like(R_sums)
        if self.mean is not None:
            RX -= outer(xp, R_sums, self.mean)
        return RX, R_sums

    # -- values and gradients from cached raw predictions ----------------------
    def loss(self, raw):
        """Weighted BCE summed over outputs, from raw predictions."""
        return self.weighted_loss(raw, self.sw)

    def weighted_loss(self, raw, weights):
        """``sum_i weights_i sum_k bce(Y_ik, raw_ik)``; ``weights`` may be other
        than ``sw`` (the early-stopping validation rows, zero elsewhere)."""
        if self._passes is not None:
            return self._passes.loss(raw, self.Y, weights)
        xp = self.xp
        return float(to_host(xp, [_loss.bce_sum(raw, self.Y, weights, xp, sign=self._sign)])[0])

    def settle(self, raw):
        """Hook for raw predictions the solver keeps across passes: a no-op here;
        a distributed backend materializes them once so that later passes do
        not recompute them."""
        return raw

    def residual(self, raw, curvature=False):
        """``dF/draw = sw * (expit(raw) - Y)``, and ``sw * expit' (raw)`` if asked.

        The second array is the diagonal of the Hessian with respect to the raw
        predictions, which gives the curvature along any direction of the
        parameters from that direction's raw predictions, without new products.
        """
        if self._passes is not None:
            R = np.empty_like(raw)
            H = np.empty_like(raw) if curvature else None
            self._passes.residual(raw, self.Y, self.sw, R, H)
            return (R, H) if curvature else R
        R, H = _loss.residual(raw, self.Y, self._sw_col, self.xp, curvature)
        return (R, H) if curvature else R

    def value(self, W, raw):
        return self.loss(raw) + 0.5 * self.l2 * float(vdot(self.xp, W, W))

    def gradient(self, W, raw, curvature=False):
        """Gradient ``(grad_W, grad_c)`` of the smooth part: one rmatvec.

        With ``curvature=True`` also returns the raw-space Hessian diagonal
        (see :meth:`residual`).
        """
        if self._blocks is not None:
            # Row blocks on threads: the residual is formed and multiplied a
            # chunk of rows at a time, never as a whole (n, K) array.
            self.n_rmatvec += 1
            H = np.empty_like(raw) if curvature else None
            RX, sums = self._blocks.residual_rmatmul(raw, self.Y, self.sw, H)
            grad_W, grad_c = self._adjoint(RX, sums.astype(self.dtype))
        else:
            R, H = self.residual(raw, curvature=True) if curvature else (self.residual(raw), None)
            grad_W, grad_c = self.rmatvec(R)
        if self.l2:
            grad_W += self.l2 * W
        return grad_W, grad_c, H

    def value_and_grad(self, W, raw):
        """Smooth value and gradient ``(f, grad_W, grad_c)``: one rmatvec."""
        grad_W, grad_c, _ = self.gradient(W, raw)
        return self.value(W, raw), grad_W, grad_c

    def curvature(self, H, dWs, draws):
        """Hessian of ``f`` restricted to the span of the directions, at the point
        whose raw-space Hessian diagonal is ``H``: an (m, m) matrix, no product."""
        xp = self.xp
        m = len(draws)
        if self._passes is not None:
            hess = self._passes.curvature(H, draws)
            if self.l2:
                stacked = np.stack([u.ravel() for u in dWs])
                hess += self.l2 * (stacked @ stacked.T)
            return hess
        entries = _loss.curvature(H, draws, xp)
        n_pairs = len(entries)
        if self.l2:
            entries.extend(vdot(xp, u, v) for u in dWs for v in dWs)
        entries = to_host(xp, entries)
        hess = _loss.square(entries[:n_pairs], m)
        if self.l2:
            gram = entries[n_pairs:]
            hess += self.l2 * np.array(
                [[float(gram[j * m + k]) for k in range(m)] for j in range(m)]
            )
        return hess

    def subspace(self, W, raw, dWs, draws, speculate=False):
        """The smooth objective on ``W + sum_j a_j dWs[j]`` (``raw + sum_j a_j draws[j]``).

        Returns ``phi(a, derivatives=True) -> (value, gradient, hessian)`` for
        coefficients ``a`` of shape (m,): each call is one pass over the
        (n, K) raw predictions and none over X.  ``speculate``: the caller
        will likely move to the first point it evaluates (without
        derivatives) by :meth:`advance`; a distributed backend then brings the
        gradient there in the same round trip (here it changes nothing).
        """
        xp = self.xp
        m = len(dWs)
        if xp is np:
            # All (m + 1)^2 inner products of the coefficients in one product.
            stacked = np.stack([u.ravel() for u in dWs] + [W.ravel()])
            full = (stacked @ stacked.T).astype(np.float64)
            gram, lin, ww = full[:m, :m], full[m, :m], float(full[m, m])
        else:
            # One read-back for the m*m + m + 1 inner products of the coefficients.
            products = to_host(
                xp,
                [vdot(xp, u, v) for u in dWs for v in dWs]
                + [vdot(xp, W, u) for u in dWs]
                + [vdot(xp, W, W)],
            )
            gram = np.array([[float(products[j * m + k]) for k in range(m)] for j in range(m)])
            lin = np.array([float(products[m * m + j]) for j in range(m)])
            ww = float(products[-1])
        l2 = self.l2

        passes = self._passes

        def penalty(a):
            return 0.5 * l2 * (ww + 2 * lin @ a + a @ gram @ a)

        def combination(a):
            return _loss.combine(raw, draws, a, xp)

        def phi(a, derivatives=True, value=True):
            if passes is not None and not derivatives:
                # One fused pass; the point's raw predictions are not kept.
                return passes.loss(raw, self.Y, self.sw, draws, a) + penalty(a), None, None
            v = combination(a)
            # The one log_expit pass; slopes alone need only expit.
            value = self.loss(v) + penalty(a) if value else None
            if not derivatives:
                return value, None, None
            R, H = self.residual(v, curvature=True)
            if passes is not None:
                grad = passes.inner(R, draws)
            else:
                grad = np.array(to_host(xp, [inner(xp, R, d) for d in draws]))
            grad += l2 * (gram @ a + lin)
            return value, grad, self.curvature(H, dWs, draws)

        def slope(a):
            """The gradient of ``phi`` at ``a`` alone: one ``expit`` pass."""
            if passes is not None:
                grad = passes.slopes(raw, self.Y, self.sw, draws, a)
            else:
                R = self.residual(combination(a))
                grad = np.array(to_host(xp, [inner(xp, R, d) for d in draws]))
            return grad + l2 * (gram @ a + lin)

        phi.slope = slope
        return phi

    def advance(self, raw, draws, coefs):
        """The step ``sum_j coefs[j] draws[j]`` and the raw predictions after it.

        Returns ``(raw + step, step)``.  NumPy updates in place: the step
        overwrites ``draws[0]`` and ``raw`` becomes the new raw predictions,
        so the caller must hold no other use for either (two n-by-K arrays
        fewer at the peak of a fit).
        """
        if self._passes is not None:
            step = self._passes.advance(raw, draws, coefs)
            return raw, step
        step = None
        for coef, d in zip(coefs, draws):
            term = float(coef) * d
            step = term if step is None else step + term
        step = self.settle(step)
        return self.settle(raw + step), step

    def bound_product(self, W, c):
        """``X_c.T diag(sw / 4) X_c [W, c]``: the product of the curvature bound
        (``sigma' <= 1/4``) with a direction, one ``matvec`` and one ``rmatvec``
        (see ``_preconditioner.metric_lipschitz``)."""
        raw = self.matvec(W, c)
        raw *= 0.25 * self.sw[:, None]
        return self.rmatvec(raw)
