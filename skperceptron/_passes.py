# SPDX-License-Identifier: BSD-3-Clause
"""Passes over NumPy and SciPy data: in cache-sized chunks, on the BLAS's threads.

Besides its two products with X, an iteration makes three passes over the
(n, K) raw predictions: the residual and the Hessian diagonal (one ``expit``),
the curvature of the search plane (a few weighted inner products) and the
objective at the trial point (one ``log_expit``).  Written as whole-array NumPy
expressions, every intermediate is a new n-length array streamed through
memory, and SciPy's ``expit`` and ``log_expit`` (scalar code, about 14 ns an
entry) run on one core: at n = 150,000 that was 6 ms an iteration, half of
the two products.  Here each pass walks chunks of rows small enough to stay in
cache, with chunk-sized temporaries only, and splits the rows over as many
threads as the BLAS may use (NumPy and SciPy release the GIL in their loops).
SciPy's single-threaded sparse products are split the same way.

The partial sums of the chunks are added in a fixed order, so a result does
not depend on thread timing.
"""

import numpy as np

from ._backend import inner
from ._compat import csc_matvec, csc_matvecs, csr_matvec, csr_matvecs
from ._loss import bce_sum, combine, curvature, residual, square
from ._threads import Threads

# Entries of an (n, K) array per chunk: 128 KiB of float64, so that a pass's
# few chunk-sized arrays stay in a core's L2 cache.
_CHUNK_ENTRIES = 2**14
# Below this many entries a pass is one chunk on the calling thread: thread
# hand-offs (tens of microseconds) would cost more than they save.
_MIN_THREADED_ENTRIES = 2**16
# Products are split over threads from this many stored entries of X.
_MIN_THREADED_NNZ = 2**18

def fit_threads(n_entries, nnz=0):
    """The :class:`Threads` of a fit with ``n_entries`` raw predictions and
    ``nnz`` stored entries of X: one thread for small problems, without
    asking threadpoolctl."""
    if n_entries < _MIN_THREADED_ENTRIES and nnz < _MIN_THREADED_NNZ:
        return Threads(1)
    return Threads.of_blas()


def _residual(raw, Y, sw, rows, H=None, R=None):
    """:func:`~._loss.residual` on ``rows``, written into ``R[rows]`` when
    ``R`` is given (else a new array) and into ``H[rows]`` when ``H`` is: no
    temporary beyond the result."""
    r = np.empty_like(raw[rows]) if R is None else R[rows]
    h = None if H is None else H[rows]
    residual(raw[rows], Y[rows], sw[rows, None], np, curvature=H is not None, out=(r, h))
    return r


def _total(results):
    """The sum of the chunks' results, in chunk order (a fixed order: results do
    not depend on thread timing); one chunk costs nothing."""
    total = results[0]
    for result in results[1:]:
        total = total + result
    return total


class RawPasses:
    """The chunked, threaded passes over (n, K) arrays of one fit.

    ``n_threads`` contiguous ranges of rows, each walked in chunks of about
    ``_CHUNK_ENTRIES`` entries by one thread; one thread below
    ``_MIN_THREADED_ENTRIES`` entries, one chunk up to ``_CHUNK_ENTRIES``.
    """

    def __init__(self, n_rows, n_cols, n_threads, threads=None):
        entries = n_rows * n_cols
        # At least two chunks a thread: a machine with many cores gets no
        # more threads than the data can keep busy.
        n_threads = max(1, min(n_threads, entries // (2 * _CHUNK_ENTRIES)))
        if entries < _MIN_THREADED_ENTRIES:
            n_threads = 1
        step = max(n_rows, 1) if entries <= _CHUNK_ENTRIES else max(1, _CHUNK_ENTRIES // n_cols)
        bounds = np.linspace(0, n_rows, n_threads + 1).astype(int)
        self.parts = [
            [slice(s, min(s + step, hi)) for s in range(lo, hi, step)]
            for lo, hi in zip(bounds[:-1], bounds[1:])
            if hi > lo
        ]
        self.n_threads = len(self.parts)
        self.threads = threads if threads is not None else Threads(self.n_threads)
        # Small data: one chunk, run inline.
        self.single = len(self.parts) == 1 and len(self.parts[0]) == 1
        # ``2 Y - 1`` as int8, when the objective keeps it (small data).
        self.sign = None

    def map(self, work, threaded=True):
        """``[work(rows) for each chunk]``, in row order.

        Only passes that call ``expit`` or ``log_expit`` are worth threads:
        the others are a few memory-bound operations per entry, for which
        the hand-off to a second thread costs more than it saves.
        """
        if self.single:
            return [work(slice(None))]
        if self.n_threads <= 1 or not threaded:
            return [work(rows) for part in self.parts for rows in part]
        tasks = [lambda part=part: [work(rows) for rows in part] for part in self.parts]
        return [result for results in self.threads.run(tasks) for result in results]

    # -- the passes ----------------------------------------------------------
    def residual(self, raw, Y, sw, R, H=None, sums=True):
        """``R = sw (expit(raw) - Y)`` and ``H = sw expit'(raw)`` into the given
        arrays; returns the column sums of ``R`` (float64; None without
        ``sums``)."""

        def work(rows):
            r = _residual(raw, Y, sw, rows, H=H, R=R)
            return r.sum(axis=0, dtype=np.float64) if sums else None

        results = self.map(work)
        return _total(results) if sums else None

    def curvature(self, H, draws):
        """``C[j, k] = sum H * draws[j] * draws[k]``: an (m, m) float64 matrix."""
        m = len(draws)

        def work(rows):
            return square(curvature(H[rows], [d[rows] for d in draws], np), m)

        return _total(self.map(work, threaded=False))

    def loss(self, raw, Y, weights, draws=(), coefs=()):
        """``sum_i weights_i sum_k bce(Y_ik, v_ik)`` at ``v = raw + sum_j coefs[j] draws[j]``.

        The per-entry loss is ``-log_expit((2y - 1) v)`` (see
        :meth:`BCEObjective.weighted_loss`); ``v`` exists a chunk at a time.
        ``coefs`` are Python floats, so float32 stays float32.
        """
        sign = self.sign if self.sign is not None and self.sign.shape == raw.shape else None

        def work(rows):
            v = combine(raw[rows], [d[rows] for d in draws], coefs, np) if draws else raw[rows]
            chunk_sign = None if sign is None else sign[rows]
            # ``v`` is a chunk of ``raw`` itself without draws, else scratch.
            return float(bce_sum(v, Y[rows], weights[rows], np, sign=chunk_sign,
                                 overwrite=bool(draws)))

        return float(_total(self.map(work)))

    def slopes(self, raw, Y, sw, draws, coefs):
        """``[sum R * d for d in draws]`` with ``R = sw (expit(v) - Y)`` at
        ``v = raw + sum_j coefs[j] draws[j]``: the derivatives of the loss
        along the draws there, in one pass (float64)."""
        def work(rows):
            v = combine(raw[rows], [d[rows] for d in draws], coefs, np)
            r, _ = residual(v, Y[rows], sw[rows, None], np)
            return np.array([inner(np, r, d[rows]) for d in draws], dtype=float)

        return _total(self.map(work))

    def advance(self, raw, draws, coefs):
        """``draws[0] = sum_j coefs[j] draws[j]`` and ``raw += draws[0]``, in place;
        returns ``draws[0]``."""
        (a0, first), rest = (float(coefs[0]), draws[0]), [
            (float(a), d) for a, d in zip(coefs[1:], draws[1:]) if a
        ]

        def work(rows):
            o = first[rows]
            o *= a0
            for a, d in rest:
                o += a * d[rows]
            raw[rows] += o

        self.map(work, threaded=False)
        return first

    def inner(self, A, Bs):
        """``[sum A * B for B in Bs]`` as float64."""

        def work(rows):
            a = A[rows]
            return np.array([np.einsum("ij,ij->", a, B[rows]) for B in Bs], dtype=float)

        return _total(self.map(work, threaded=False))


def _csr_product(n_row, n_col, K, indptr, indices, data, x, y):
    """``y += A @ x`` for the CSR rows ``indptr`` (K columns in x and y, flattened);
    the one-vector kernel when K == 1, about twice as fast as the K-vector one."""
    if K == 1:
        csr_matvec(n_row, n_col, indptr, indices, data, x, y)
    else:
        csr_matvecs(n_row, n_col, K, indptr, indices, data, x, y)


def _csc_product(n_row, n_col, K, indptr, indices, data, x, y):
    """``y += A @ x`` for a CSC matrix (the transpose of CSR rows)."""
    if K == 1:
        csc_matvec(n_row, n_col, indptr, indices, data, x, y)
    else:
        csc_matvecs(n_row, n_col, K, indptr, indices, data, x, y)


class _RowBlocks:
    """The two products of X, its rows split into one block per thread.

    ``X @ V`` writes each block's rows of the result; ``X.T @ R`` adds one
    (p, K) partial per block, in block order, and is fused with the residual
    that it multiplies (:meth:`residual_rmatmul`): R exists a chunk of rows at
    a time, each chunk multiplied into its thread's partial while it is in
    cache.  The fit runs with the BLAS on one thread
    (:meth:`Threads.single_blas`): OpenBLAS's own threads keep spinning on
    the cores for a while after each of its calls, which slowed every pass
    of ours that followed a BLAS product.
    """

    def __init__(self, X, bounds, threads=None):
        self.X = X
        self.blocks = [(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]
        self.threads = threads if threads is not None else Threads(len(self.blocks))

    def _run(self, work):
        return self.threads.run([lambda lo=lo, hi=hi: work(lo, hi) for lo, hi in self.blocks])

    def _add_product(self, start, stop, r, partial):
        """``partial += X[start:stop].T @ r``."""
        raise NotImplementedError

    def residual_rmatmul(self, raw, Y, sw, H=None):
        """``(R.T @ X, R.sum(0))`` for ``R = sw (expit(raw) - Y)``, and ``H`` as in
        :meth:`RawPasses.residual`: one pass over X and the raw predictions."""
        X = self.X
        n_outputs = raw.shape[1]
        step = max(1, _CHUNK_ENTRIES // n_outputs)

        def work(lo, hi):
            partial = np.zeros((X.shape[1], n_outputs), dtype=X.dtype)
            sums = np.zeros(n_outputs)
            for start in range(lo, hi, step):
                stop = min(start + step, hi)
                r = _residual(raw, Y, sw, slice(start, stop), H=H)
                sums += r.sum(axis=0, dtype=np.float64)
                self._add_product(start, stop, r.astype(X.dtype, copy=False), partial)
            return partial, sums

        results = self._run(work)
        total, sums = results[0]
        for partial, more in results[1:]:
            total += partial
            sums = sums + more
        return total.T, sums

    def rmatmul(self, R):
        """``R.T @ X`` for R of shape (n, K): shape (K, p)."""
        X = self.X
        R = np.ascontiguousarray(R, dtype=X.dtype)

        def work(lo, hi):
            partial = np.zeros((X.shape[1], R.shape[1]), dtype=X.dtype)
            self._add_product(lo, hi, R[lo:hi], partial)
            return partial

        partials = self._run(work)
        total = partials[0]
        for partial in partials[1:]:
            total += partial
        return total.T


def _block_count(n_threads, n_stored):
    """Blocks of at least half of ``_MIN_THREADED_NNZ`` stored entries each."""
    return max(1, min(n_threads, 2 * n_stored // _MIN_THREADED_NNZ))


class SparseRowBlocks(_RowBlocks):
    """CSR X: SciPy's own kernels (one core each) on blocks of about equal
    numbers of stored entries, called with views into the matrix's arrays
    (a block's ``indptr`` keeps absolute offsets into the whole ``indices``
    and ``data``): nothing of X is copied."""

    def __init__(self, X, n_threads, threads=None):
        n_threads = _block_count(n_threads, X.nnz)
        targets = np.linspace(0, X.nnz, n_threads + 1)
        bounds = np.searchsorted(X.indptr, targets).clip(0, X.shape[0])
        bounds[0], bounds[-1] = 0, X.shape[0]
        super().__init__(X, bounds, threads)

    @classmethod
    def usable(cls, X, n_threads):
        return (
            n_threads > 1
            and csr_matvec is not None
            and X.format == "csr"
            and X.nnz >= _MIN_THREADED_NNZ
        )

    def matmul(self, V):
        """``X @ V`` for V of shape (p, K): shape (n, K)."""
        X = self.X
        V = np.ascontiguousarray(V, dtype=X.dtype)
        K = V.shape[1]
        out = np.zeros((X.shape[0], K), dtype=X.dtype)

        def work(lo, hi):
            _csr_product(
                hi - lo,
                X.shape[1],
                K,
                X.indptr[lo : hi + 1],
                X.indices,
                X.data,
                V.ravel(),
                out[lo:hi].ravel(),
            )

        self._run(work)
        return out

    def _add_product(self, start, stop, r, partial):
        # X[start:stop].T is CSC with column pointers indptr[start:stop+1].
        X = self.X
        _csc_product(
            X.shape[1],
            stop - start,
            r.shape[1],
            X.indptr[start : stop + 1],
            X.indices,
            X.data,
            np.ascontiguousarray(r).ravel(),
            partial.ravel(),
        )


class DenseRowBlocks(_RowBlocks):
    """C-ordered dense X: single-threaded BLAS for ``X @ V`` on each block
    (views, no copy); ``X.T @ R`` chunk by chunk, by einsum for one column
    (faster than OpenBLAS's transposed product here, which does not scale
    with threads), by BLAS for several."""

    def __init__(self, X, n_threads, threads=None):
        n_threads = _block_count(n_threads, X.size)
        super().__init__(X, np.linspace(0, X.shape[0], n_threads + 1).astype(int), threads)

    @classmethod
    def usable(cls, X, n_threads):
        return n_threads > 1 and X.flags.c_contiguous and X.size >= _MIN_THREADED_NNZ

    def matmul(self, V):
        """``X @ V`` for V of shape (p, K): shape (n, K)."""
        X = self.X
        K = V.shape[1]
        out = np.empty((X.shape[0], K), dtype=np.result_type(X, V))
        if K == 1:
            v = np.ascontiguousarray(V[:, 0])

            def work(lo, hi):
                np.matmul(X[lo:hi], v, out=out[lo:hi, 0])

        else:

            def work(lo, hi):
                np.matmul(X[lo:hi], V, out=out[lo:hi])

        self._run(work)
        return out

    def _add_product(self, start, stop, r, partial):
        if r.shape[1] == 1:
            partial[:, 0] += np.einsum("ij,i->j", self.X[start:stop], r[:, 0])
        else:
            # Several columns: BLAS, not einsum, whose two-operand contraction
            # is not a BLAS call (one thread, half of a block's rows: 10,000 x
            # 100 with 5 columns 588 us against 4,904; 50,000 x 200 with 3
            # 13.3 ms against 46.1; 8,000 x 64 with 10 353 us against 2,865).
            partial += (r.T @ self.X[start:stop]).T
