# SPDX-License-Identifier: BSD-3-Clause
"""The row engine of a dask X (:class:`DaskRows`) and its tree sums (:func:`row_sum`).

``X``, ``Y`` and ``sw`` are persisted on the workers, the coefficients are
NumPy on the client, raw predictions are persisted dask arrays.  Every
reduction is one task per chunk of rows (the elementwise work fused into it)
and a tree of sums (:func:`row_sum`), and all the reductions of one call
run in one ``dask.compute``: only scalars, (m, m) curvatures, a (K, p + 1)
gradient or the Hessian metric's row sample come back.
"""

import operator

import numpy as np

from . import _loss
from ._backend import column_moments, inner
from ._rows import WholeRows
from ._threads import Threads

# Partial sums added by one task: the fan-in of the tree of sums.
_SPLIT_EVERY = 32


def _partial(kernel, *blocks, **kwargs):
    # Overflow in a trial step is the solver's business (it checks that the
    # values are finite); the NumPy fit silences the same warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(kernel(*blocks, **kwargs), dtype=np.float64).reshape(1, -1)


def _sum_blocks(blocks):
    return np.sum(np.concatenate(blocks, axis=0), axis=0, keepdims=True)


def row_sum(kernel, arrays, length, **kwargs):
    """``sum over row chunks of kernel(*blocks, **kwargs)`` (``length`` float64
    numbers): a Delayed.  One task per chunk, then a tree of sums of
    ``_SPLIT_EVERY`` partials per task (dask's ``sum`` adds a task per chunk)."""
    import dask
    import dask.array as da

    args = []
    for position, array in enumerate(arrays):
        # Each input's column index is its own letter, contracted (one chunk).
        args += [array, "i" if array.ndim == 1 else "i" + "klmnopqrstuvwxyz"[position]]
    parts = da.blockwise(
        _partial, "ij", kernel, None, *args, new_axes={"j": length}, adjust_chunks={"i": 1},
        concatenate=True, dtype=np.float64, meta=np.empty((0, 0)), **kwargs,
    )  # fmt: skip
    blocks = list(parts.to_delayed().ravel())
    while True:
        groups = [blocks[i : i + _SPLIT_EVERY] for i in range(0, len(blocks), _SPLIT_EVERY)]
        blocks = [dask.delayed(_sum_blocks, pure=True)(group) for group in groups]
        if len(blocks) == 1:
            return blocks[0]


def compute_sums(*reductions):
    """The float64 vectors of :func:`row_sum` reductions, in one ``dask.compute``."""
    import dask

    return [np.asarray(r)[0] for r in dask.compute(*reductions)]


# -- per-chunk kernels: the maths is _loss's ----------------------------------------
def _loss_kernel(raw, Y, w, *draws, coefs=()):
    v = _loss.combine(raw, draws, coefs, np) if draws else raw
    return [float(_loss.bce_sum(v, Y, w, np))]


def _gradient_kernel(raw, X, Y, sw, *draws, coefs=(), with_loss=False):
    """``[loss], R.T @ X, R.sum(0)`` at ``raw + sum_j coefs[j] draws[j]``."""
    v = _loss.combine(raw, draws, coefs, np) if draws else raw
    R, _ = _loss.residual(v, Y, sw[:, None], np)
    out = [(R.T @ X).ravel(), R.sum(axis=0)]
    return np.concatenate(([_loss_kernel(v, Y, sw)] if with_loss else []) + out)


def _subspace_kernel(raw, Y, sw, *draws, coefs, with_value):
    """At ``raw + sum_j coefs[j] draws[j]``: [loss], ``[sum R d_j]``, ``sum H d_j d_k``."""
    v = _loss.combine(raw, draws, coefs, np)
    R, H = _loss.residual(v, Y, sw[:, None], np, curvature=True)
    grad = [inner(np, R, d) for d in draws]
    value = _loss_kernel(v, Y, sw) if with_value else []
    return np.concatenate([value, grad, _curvature_kernel(H, *draws)])


def _curvature_kernel(H, *draws):
    return _loss.square(_loss.curvature(H, draws, np), len(draws)).ravel()


def _matvec_kernel(X, Wt, shift=None):
    raw = X @ Wt
    return raw if shift is None else raw + shift


class DaskRows(WholeRows):
    """The row engine of a dask X: per-chunk partial sums, tree sums, and one
    ``compute`` per call (``n_compute`` counts them).

    A search's first trial brings, in the same compute, the gradient and the
    Hessian metric's sampled raw predictions at the trial point (``_trial``
    until the solver moves there, then ``_ready``): an iteration of the
    planar solver makes two computes, the plane's curvature and the trial.
    """

    # The Hessian metric's row sample comes to the client in one compute.
    sample_chunk_bytes = None

    def __init__(self, X, Y, sw):
        self.xp, self.device, self.X, self.Y, self.sw = np, None, X, Y, sw
        self.dtype = np.dtype(Y.dtype)
        self.n_matvec = self.n_rmatvec = self.n_compute = 0
        self.threads = Threads(1)
        self._sample_index = self._sampled = self._trial = self._ready = None

    def _sums(self, *reductions):
        self.n_compute += 1
        return compute_sums(*reductions)

    def _split(self, flat, dtype, n_outputs=None):
        K, p = n_outputs or self.Y.shape[1], self.X.shape[1]
        flat = flat.astype(dtype)
        return flat[: K * p].reshape(K, p), flat[K * p :]

    def moments(self):
        p = self.X.shape[1]
        kernel = lambda X, sw: np.concatenate(column_moments(X, sw))
        (flat,) = self._sums(row_sum(kernel, [self.X, self.sw], 2 * p))
        return flat[:p], flat[p:]

    def sample_rows(self, a, rows):
        """Float64 NumPy rows of ``X``, ``sw`` or raw predictions: one small
        compute, none where the trial that led to ``a`` brought them."""
        self._sample_index = rows
        if self._ready is not None and self._ready[0] is a and self._ready[2] is not None:
            return np.array(self._ready[2], dtype=np.float64)
        if self._sampled is not None and self._sampled[0] is a and self._sampled[1] is rows:
            return self._sampled[2]  # the metric's first refresh, asked twice
        self.n_compute += 1
        block = a[rows].compute()
        block = np.array(block.toarray() if hasattr(block, "toarray") else block, np.float64)
        if a is not self.X and a is not self.sw:
            self._sampled = (a, rows, block)
        return block

    def matvec(self, W, shift):
        """``X @ W.T + shift``, persisted on the workers."""
        import dask.array as da

        self.n_matvec += 1
        dtype = np.result_type(self.X.dtype, W.dtype)
        Wt = da.from_array(np.ascontiguousarray(W.T), chunks=-1)
        return da.blockwise(
            _matvec_kernel, "ik", self.X, "ij", Wt, "jk", concatenate=True, dtype=dtype,
            meta=np.empty((0, 0), dtype=dtype), shift=shift,
        ).persist()  # fmt: skip

    def rmatvec(self, R):
        self.n_rmatvec += 1
        kernel = lambda R, X: np.concatenate([(R.T @ X).ravel(), R.sum(axis=0)])
        (flat,) = self._sums(row_sum(kernel, [R, self.X], R.shape[1] * (self.X.shape[1] + 1)))
        return self._split(flat, np.result_type(R.dtype, self.X.dtype))

    def gradient(self, raw, curvature=False):
        if self._ready is not None and self._ready[0] is raw:
            flat = self._ready[1][1:]
        else:
            self.n_rmatvec += 1
            length = self.Y.shape[1] * (self.X.shape[1] + 1)
            (flat,) = self._sums(row_sum(_gradient_kernel, [raw, self.X, self.Y, self.sw], length))
        H = self.residual(raw, curvature=True)[1] if curvature else None
        return (*self._split(flat, np.result_type(raw.dtype, self.X.dtype)), H)

    def bound_product(self, W, shift):
        """Its ``matvec`` and ``rmatvec`` fused in the same tasks: one compute
        (the power iteration's one output)."""
        self.n_matvec += 1
        self.n_rmatvec += 1

        def kernel(X, sw):
            r = X @ W[0] + (0.0 if shift is None else float(shift[0]))
            r *= 0.25 * sw
            return np.concatenate([r @ X, [r.sum()]])

        (flat,) = self._sums(row_sum(kernel, [self.X, self.sw], self.X.shape[1] + 1))
        return self._split(flat, self.dtype, n_outputs=1)

    def loss(self, raw, weights, draws=(), coefs=(), speculate=False):
        if not speculate:
            arrays = [raw, self.Y, weights, *draws]
            (flat,) = self._sums(row_sum(_loss_kernel, arrays, 1, coefs=tuple(coefs)))
            return float(flat[0])
        # The search's first trial (Newton's, usually accepted): the gradient
        # and the sampled rows there come back in the same compute.
        import dask

        self.n_rmatvec += 1
        arrays = [raw, self.X, self.Y, self.sw, *draws]
        length = 1 + self.Y.shape[1] * (self.X.shape[1] + 1)
        reduction = row_sum(_gradient_kernel, arrays, length, coefs=tuple(coefs), with_loss=True)
        sample = None
        if self._sample_index is not None:
            # Its own task name: ``raw + a d`` written with dask's operators
            # would share keys with the solver's next raw predictions.
            point = raw.map_blocks(
                lambda v, *ds: _loss.combine(v, ds, coefs, np), *draws, dtype=raw.dtype
            )
            sample = point[self._sample_index]
        self.n_compute += 1
        flat, sample = dask.compute(reduction, sample)
        self._trial = (raw, draws, tuple(coefs), np.asarray(flat)[0], sample)
        return float(self._trial[3][0])

    def residual(self, raw, curvature=False):
        """Lazy ``R`` and ``H``: elementwise in the persisted raw predictions, so
        each use recomputes them inside its own tasks, no pass over X."""
        import dask.array as da

        def kernel(v, Y, sw, part):
            if part == "H":
                return _loss.curvature_weights(v, sw[:, None], np)
            return _loss.residual(v, Y, sw[:, None], np)[0]

        def lazy(part):
            return da.blockwise(
                kernel, "ij", raw, "ij", self.Y, "ij", self.sw, "i", dtype=raw.dtype,
                meta=raw._meta, part=part,
            )  # fmt: skip

        return lazy("R"), (lazy("H") if curvature else None)

    def curvature(self, H, draws):
        m = len(draws)
        (flat,) = self._sums(row_sum(_curvature_kernel, [H, *draws], m * m))
        return flat.reshape(m, m)

    def subspace(self, raw, draws, coefs, value=True, derivatives=True):
        if not derivatives:
            return (self.loss(raw, self.sw, draws, coefs) if value else None), None, None
        m = len(draws)
        arrays = [raw, self.Y, self.sw, *draws]
        length = int(value) + m + m * m
        reduction = row_sum(_subspace_kernel, arrays, length, coefs=tuple(coefs), with_value=value)
        (flat,) = self._sums(reduction)
        loss = float(flat[0]) if value else None
        flat = flat[int(value) :]
        return loss, flat[:m], flat[m:].reshape(m, m)

    def slopes(self, raw, draws, coefs):
        return self.subspace(raw, draws, coefs, value=False)[1]

    def advance(self, raw, draws, coefs):
        """The trial at these coefficients, if any, keeps its results for the
        new raw predictions."""
        new_raw, step = super().advance(raw, draws, coefs)
        # What was kept of the old point would keep its raw predictions alive.
        trial, self._trial, self._ready, self._sampled = self._trial, None, None, None
        same = trial is not None and trial[0] is raw and all(map(operator.is_, trial[1], draws))
        if same and trial[2] == tuple(np.asarray(coefs, float)):
            self._ready = (new_raw, trial[3], trial[4])
        return new_raw, step

    def settle(self, raw):
        import dask

        return raw.persist() if dask.is_dask_collection(raw) else raw
