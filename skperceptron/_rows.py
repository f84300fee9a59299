# SPDX-License-Identifier: BSD-3-Clause
"""Row engines: where the objective's passes over the rows run.

:class:`~skperceptron._objective.BCEObjective` is written once; every pass
over the n rows (the two products with X, the losses, residuals and
curvatures of ``_loss`` on the (n, K) raw predictions) goes through its row
engine, which decides only *where* the maths runs:

- :class:`WholeRows`: one pass over all rows as whole arrays of the Array API
  namespace (an Array API library on its device), scalars read back in one
  transfer per call;
- :class:`NumpyRows`: NumPy and SciPy data, in cache-sized chunks of rows on
  the fit's threads (``_passes``);
- ``_dask_rows.DaskRows``: each chunk of a dask array on the workers, per-chunk
  partial sums added by a tree of sums, one ``compute`` per call.

Every engine has the same methods and returns host NumPy results for
reductions; none knows the intercept, the centring or the L2 term, which are
the objective's.  Counters ``n_matvec`` and ``n_rmatvec`` count the passes
over X.
"""

import contextlib

import numpy as np

from . import _loss
from ._backend import (
    accumulation_dtype,
    column_moments,
    device_of,
    from_host,
    inner,
    is_sparse,
    matmul,
    namespace,
    rmatmul,
    to_host,
)
from ._passes import DenseRowBlocks, RawPasses, SparseRowBlocks, fit_threads
from ._threads import Threads


def rows_for(X, Y, sw):
    """The row engine of the data: Dask's for a dask X, NumPy's for NumPy and
    SciPy data, else the whole-array engine of X's Array API namespace."""
    from ._dask import is_dask_collection

    if is_dask_collection(X):
        from ._dask_rows import DaskRows

        return DaskRows(X, Y, sw)
    if namespace(X, Y, sw) is np:
        return NumpyRows(X, Y, sw)
    return WholeRows(X, Y, sw)


class WholeRows:
    """Every pass over all rows at once, in the namespace ``xp`` of the data."""

    # The Hessian metric's sample is filled this many bytes of it at a time
    # (None: at once), so that no temporary is as large as the sample.
    sample_chunk_bytes = 2**20

    def __init__(self, X, Y, sw):
        self.xp = namespace(X, Y, sw)
        self.device = None if self.xp is np else device_of(Y)
        self.X, self.Y, self.sw = X, Y, sw
        self.dtype = sw.dtype
        self.n_matvec = self.n_rmatvec = 0
        self.threads = Threads(1)
        # Reused by every pass over the raw predictions.
        self._sign = _loss.signs(Y, self.dtype, self.xp)
        self._sw_col = sw[:, None]

    # -- threads (the NumPy engine's; none here) ---------------------------------
    @contextlib.contextmanager
    def product_threads(self):
        """The context a fit runs in; the fit's threads end with it."""
        try:
            yield
        finally:
            self.threads.close()

    def matrix_threads(self, n_flops):
        """A context for ``n_flops`` of matrix-matrix work inside the fit."""
        return self.threads.blas(n_flops)

    def setup_threads(self):
        """A context for matrix work before the fit's passes (the choice of
        preconditioner)."""
        return contextlib.nullcontext()

    # -- X -------------------------------------------------------------------------
    def moments(self):
        """Weighted column mean and second moment of X (float64 NumPy, one pass)."""
        return column_moments(self.X, self.sw)

    def sample_rows(self, a, rows):
        """Rows ``rows`` (sorted NumPy indices) of ``X``, ``sw`` or raw predictions,
        dense, in ``xp`` on its device, in float64 where the device has it."""
        xp = self.xp
        index = from_host(xp, rows, xp.int64, self.device)
        return xp.astype(xp.take(a, index, axis=0), accumulation_dtype(xp, self.device))

    def matvec(self, W, shift):
        """``X @ W.T (+ shift)``: shape (n, K)."""
        self.n_matvec += 1
        raw = matmul(self.X, W.T)
        if shift is not None:
            raw += shift
        return raw

    def rmatvec(self, R):
        """``(R.T @ X, R.sum(0))``."""
        self.n_rmatvec += 1
        return rmatmul(self.X, R), self.xp.sum(R, axis=0)

    def gradient(self, raw, curvature=False):
        """``(R.T @ X, R.sum(0), H)`` at ``raw``: one pass over X (H None
        unless ``curvature``)."""
        R, H = self.residual(raw, curvature)
        return (*self.rmatvec(R), H)

    def bound_product(self, W, shift):
        """``(R.T @ X, R.sum(0))`` for ``R = (sw / 4) (X @ W.T + shift)``."""
        raw = self.matvec(W, shift)
        raw *= 0.25 * self.sw[:, None]
        return self.rmatvec(raw)

    # -- the raw predictions -----------------------------------------------------------
    def loss(self, raw, weights, draws=(), coefs=(), speculate=False):
        """``sum_i weights_i sum_k bce(Y_ik, v_ik)`` at ``v = raw + sum_j coefs[j]
        draws[j]``, a float.  ``speculate``: the solver will likely move there
        (a hint for engines that can bring the gradient in the same trip)."""
        xp = self.xp
        v = _loss.combine(raw, draws, coefs, xp) if draws else raw
        return float(to_host(xp, [self.loss_array(v, weights)])[0])

    def loss_array(self, v, weights):
        """:meth:`loss` at ``v`` as a 0-d array of the namespace, not read."""
        return _loss.bce_sum(v, self.Y, weights, self.xp, sign=self._sign)

    def residual(self, raw, curvature=False):
        """``(R, H)``: ``sw (expit(raw) - Y)`` and ``sw expit'(raw)`` (None
        unless ``curvature``)."""
        return _loss.residual(raw, self.Y, self._sw_col, self.xp, curvature)

    def curvature(self, H, draws):
        """``sum H d_j d_k``: the (m, m) NumPy matrix."""
        return _loss.square(to_host(self.xp, _loss.curvature(H, draws, self.xp)), len(draws))

    def subspace(self, raw, draws, coefs, value=True, derivatives=True):
        """At ``v = raw + sum_j coefs[j] draws[j]``: ``(loss, [sum R d_j], sum H d_j d_k)``,
        the loss None unless ``value``, the others None unless ``derivatives``."""
        xp = self.xp
        v = _loss.combine(raw, draws, coefs, xp)
        if not derivatives or xp is np:
            # NumPy: the engine's own passes (see NumpyRows).
            loss = self.loss(v, self.sw) if value else None
            if not derivatives:
                return loss, None, None
            R, H = self.residual(v, curvature=True)
            return loss, self.inner(R, draws), self.curvature(H, draws)
        R, H = self.residual(v, curvature=True)
        m = len(draws)
        # The loss, slopes and curvature in one read.
        values = [self.loss_array(v, self.sw)] if value else []
        values += [inner(xp, R, d) for d in draws] + list(_loss.curvature(H, draws, xp))
        values = to_host(xp, values)
        loss = float(values[0]) if value else None
        values = values[1:] if value else values
        slopes = np.array([float(values[j]) for j in range(m)])
        return loss, slopes, _loss.square(values[m:], m)

    def slopes(self, raw, draws, coefs):
        """``[sum R d_j]`` at ``v = raw + sum_j coefs[j] draws[j]``: one ``expit`` pass."""
        R, _ = self.residual(_loss.combine(raw, draws, coefs, self.xp))
        return self.inner(R, draws)

    def inner(self, R, draws):
        return np.array(to_host(self.xp, [inner(self.xp, R, d) for d in draws]))

    def advance(self, raw, draws, coefs):
        """``(raw + step, step)`` with ``step = sum_j coefs[j] draws[j]``."""
        step = None
        for coef, d in zip(coefs, draws):
            term = float(coef) * d
            step = term if step is None else step + term
        step = self.settle(step)
        return self.settle(raw + step), step

    def settle(self, raw):
        """Hook for raw predictions the solver keeps: a no-op here; Dask
        persists them so that later passes do not recompute them."""
        return raw


class NumpyRows(WholeRows):
    """NumPy and SciPy data: chunked, threaded passes (``_passes.RawPasses``)
    and, on large data, threaded row blocks for the products with X."""

    def __init__(self, X, Y, sw):
        self.xp, self.device = np, None
        self.X, self.Y, self.sw = X, Y, sw
        self.dtype = sw.dtype
        self.n_matvec = self.n_rmatvec = 0
        # Chunked, threaded passes that form sw * Y and 2Y - 1 a chunk at a
        # time (two n-by-K arrays fewer), and threaded row blocks for the
        # products with a dense or CSR X.
        self.threads = fit_threads(Y.size, getattr(X, "nnz", None) or getattr(X, "size", 0))
        n_threads = self.threads.n_threads
        self.passes = RawPasses(Y.shape[0], Y.shape[1], n_threads, self.threads)
        if self.passes.single:
            # Small data (one chunk), where an iteration takes about 100
            # microseconds: the targets' signs and contiguous weights, made
            # once.  The signs stay int8 (+-1 are exact in any dtype): a
            # small fit's transient memory decides whether the caller's
            # next arrays come back in fresh pages (see _hessian._streamed_gram).
            self.sw = np.ascontiguousarray(sw)
            self.passes.sign = _loss.signs(Y, np.int8, np)
        self.blocks = None
        if is_sparse(X) and SparseRowBlocks.usable(X, n_threads):
            self.blocks = SparseRowBlocks(X, n_threads, self.threads)
        elif isinstance(X, np.ndarray) and DenseRowBlocks.usable(X, n_threads):
            self.blocks = DenseRowBlocks(X, n_threads, self.threads)

    @contextlib.contextmanager
    def product_threads(self):
        """While the row blocks of the products run on our own threads, the
        BLAS calls inside them run single-threaded; the threads end with the fit."""
        try:
            with self.threads.single_blas(self.blocks is not None):
                yield
        finally:
            self.threads.close()

    def setup_threads(self):
        # One BLAS thread where the passes will run on the engine's own
        # threads: the BLAS's threads, spinning idle after a call, would take
        # their cores (100,000 x 200, 2 cores: 35 ms of a 113 ms fit).
        return self.threads.single_blas(self.blocks is not None)

    def sample_rows(self, a, rows):
        if is_sparse(a):
            return a[rows].toarray().astype(np.float64)
        return np.asarray(a[rows], dtype=np.float64)

    def matvec(self, W, shift):
        if self.blocks is None:
            return super().matvec(W, shift)
        self.n_matvec += 1
        raw = self.blocks.matmul(W.T)
        if shift is not None:
            raw += shift
        return raw

    def rmatvec(self, R):
        if self.blocks is None:
            return super().rmatvec(R)
        self.n_rmatvec += 1
        return self.blocks.rmatmul(R), R.sum(axis=0)

    def gradient(self, raw, curvature=False):
        if self.blocks is None:
            return super().gradient(raw, curvature)
        # Row blocks on threads: the residual is formed and multiplied a
        # chunk of rows at a time, never as a whole (n, K) array.
        self.n_rmatvec += 1
        H = np.empty_like(raw) if curvature else None
        RX, sums = self.blocks.residual_rmatmul(raw, self.Y, self.sw, H)
        return RX, sums.astype(self.dtype), H

    def loss(self, raw, weights, draws=(), coefs=(), speculate=False):
        return self.passes.loss(raw, self.Y, weights, draws, coefs)

    def residual(self, raw, curvature=False):
        R = np.empty_like(raw)
        H = np.empty_like(raw) if curvature else None
        # Its column sums come with the product (rmatvec), not twice.
        self.passes.residual(raw, self.Y, self.sw, R, H, sums=False)
        return R, H

    def curvature(self, H, draws):
        return self.passes.curvature(H, draws)

    def subspace(self, raw, draws, coefs, value=True, derivatives=True):
        if not derivatives:
            # One fused pass; the point's raw predictions are not kept.
            return (self.loss(raw, self.sw, draws, coefs) if value else None), None, None
        return super().subspace(raw, draws, coefs, value, derivatives)

    def slopes(self, raw, draws, coefs):
        return self.passes.slopes(raw, self.Y, self.sw, draws, coefs)

    def inner(self, R, draws):
        return self.passes.inner(R, draws)

    def advance(self, raw, draws, coefs):
        """In place: the step overwrites ``draws[0]`` and ``raw`` becomes the
        new raw predictions (two n-by-K arrays fewer at the peak of a fit)."""
        return raw, self.passes.advance(raw, draws, coefs)
