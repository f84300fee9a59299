# SPDX-License-Identifier: BSD-3-Clause
"""Distributed fitting and prediction on Dask.

Full-batch gradient descent is a map-reduce per iteration: each chunk of rows
gives its part of ``R.T @ X``.  :class:`DaskBCEObjective` is the
:class:`~skperceptron._objective.BCEObjective` of a dask array ``X`` chunked
by rows (the features in one chunk), so that the shared
:class:`~skperceptron._solvers.ProximalGradientSolver` runs unchanged:

- ``X``, ``Y`` and ``sw`` are persisted once on the workers;
- the coefficients ``(W, c)`` are NumPy arrays on the client;
- raw predictions ``(n_samples, n_outputs)`` are dask arrays persisted on the
  workers (:meth:`DaskBCEObjective.settle`); the solver combines them
  elementwise (``raw + s * draw``), which stays distributed;
- every reduction returns only small NumPy results to the client: a
  ``(K, p + 1)`` gradient, an ``(m, m)`` curvature, a few scalars.  Each
  reduction is one task per chunk of rows and a tree sum, and all the
  reductions of one call run in one ``dask.compute``.

:func:`fit` prepares the data without bringing any ``n_samples``-long array
to the client (targets encoded, weights folded and the early-stopping split
drawn on the workers) and runs the same solver as the NumPy fit;
:func:`predict` maps the NumPy prediction methods over the chunks of rows.
Dask is imported only when a dask collection is seen.
"""

import math
import sys
import warnings
from types import SimpleNamespace

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from ._backend import column_moments, inner
from ._compat import validate_data
from ._data import FitData, class_weights, encode_targets, indicator_matrix, validation_split
from ._loss import bce_sum, combine, curvature, curvature_weights, residual, square
from ._objective import BCEObjective

__all__ = ["DaskBCEObjective", "fit", "is_dask_collection", "predict"]

_UNKNOWN_CHUNKS_HINT = (
    "convert dask DataFrames with X.to_dask_array(lengths=True) and dask arrays "
    "with X.compute_chunk_sizes()"
)


def is_dask_collection(obj):
    """Whether ``obj`` is a dask collection (array, DataFrame, Series...).

    Never imports dask: an object can only be a dask collection once dask has
    been imported.
    """
    if "dask" not in sys.modules:
        return False
    import dask

    return dask.is_dask_collection(obj)


# -- per-chunk kernels: each returns a float64 vector, summed over the chunks --
def _partial_row(kernel, *blocks, **kwargs):
    # Overflow in a trial step is the solver's business (it checks that the
    # values are finite); the NumPy fit silences the same warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(kernel(*blocks, **kwargs), dtype=np.float64)[None, :]


# Partial sums added by one task: the fan-in of the tree of sums.
_SPLIT_EVERY = 32


def _sum_blocks(blocks):
    return np.sum(np.concatenate(blocks, axis=0), axis=0, keepdims=True)


def _row_sum(kernel, arrays, length, **kwargs):
    """``sum over row chunks of kernel(*blocks, **kwargs)``: a Delayed (1, length) array.

    One task per chunk of rows (the elementwise work on the raw predictions
    before it is fused into the same task), then a tree of sums with
    ``_SPLIT_EVERY`` partials per task: ``n_chunks + 1`` tasks up to 32
    chunks.  (dask's own ``sum`` adds a task per chunk and, on a small
    cluster, about half again to the latency of each reduction.)
    """
    import dask
    import dask.array as da

    args = []
    for position, array in enumerate(arrays):
        # Each input's column index is its own letter, contracted (one chunk).
        args += [array, "i" if array.ndim == 1 else "i" + "klmnopqrstuvwxyz"[position]]
    parts = da.blockwise(
        _partial_row,
        "ij",
        kernel,
        None,
        *args,
        new_axes={"j": length},
        adjust_chunks={"i": 1},
        concatenate=True,
        dtype=np.float64,
        meta=np.empty((0, 0)),
        **kwargs,
    )
    blocks = list(parts.to_delayed().ravel())
    while True:
        groups = [blocks[i : i + _SPLIT_EVERY] for i in range(0, len(blocks), _SPLIT_EVERY)]
        blocks = [dask.delayed(_sum_blocks, pure=True)(group) for group in groups]
        if len(blocks) == 1:
            return blocks[0]


def _compute_sums(*reductions):
    """The (length,) results of :func:`_row_sum` reductions, in one ``dask.compute``."""
    import dask

    return [np.asarray(r)[0] for r in dask.compute(*reductions)]


def _loss_kernel(raw, Y, sw):
    return [float(bce_sum(raw, Y, sw, np))]


def _gradient_kernel(raw, X, Y, sw, with_loss=False):
    """``[loss], R.T @ X, R.sum(0)`` with ``R = sw * (expit(raw) - Y)``."""
    R, _ = residual(raw, Y, sw[:, None], np)
    out = [(R.T @ X).ravel(), R.sum(axis=0)]
    if with_loss:
        out.insert(0, _loss_kernel(raw, Y, sw))
    return np.concatenate(out)


def _trial_kernel(raw, X, Y, sw, *draws, coefficients):
    """At ``v = raw + sum_j a_j draws[j]``: the loss and, for the iteration
    after an accepted trial, ``R.T @ X`` and ``R.sum(0)`` there."""
    return _gradient_kernel(combine(raw, draws, coefficients, np), X, Y, sw, with_loss=True)


def _point_kernel(raw, *draws, coefficients):
    return combine(raw, draws, coefficients, np)


def _matvec_kernel(X, Wt, shift=None):
    raw = X @ Wt
    if shift is not None:
        raw += shift
    return raw


def _rmatvec_kernel(R, X):
    return np.concatenate([(R.T @ X).ravel(), R.sum(axis=0)])


def _residual_kernel(raw, Y, sw):
    return residual(raw, Y, sw[:, None], np)[0]


def _hessian_kernel(raw, sw):
    return curvature_weights(raw, sw[:, None], np)


def _curvature_kernel(H, *draws):
    return square(curvature(H, draws, np), len(draws)).ravel()


def _subspace_kernel(raw, Y, sw, *draws, coefficients, derivatives, with_value):
    """Loss at ``raw + sum_j a_j draws[j]`` and/or its gradient and Hessian in ``a``."""
    v = combine(raw, draws, coefficients, np)
    value = _loss_kernel(v, Y, sw) if with_value else []
    if not derivatives:
        return value
    R, H = residual(v, Y, sw[:, None], np, curvature=True)
    grad = [inner(np, R, d) for d in draws]
    return np.concatenate([value, grad, _curvature_kernel(H, *draws)])


def _moments_kernel(X, sw):
    return np.concatenate(column_moments(X, sw))


def _power_kernel(X, sw, direction, shift):
    """One step of power iteration on ``X_c.T diag(sw / 4) X_c``: (p + 1) numbers."""
    r = X @ direction
    r += shift
    r *= 0.25 * sw
    return np.concatenate([r @ X, [r.sum()]])


class DaskBCEObjective(BCEObjective):
    """:class:`BCEObjective` on a dask array chunked by rows.

    Same interface and return conventions as the parent, and the same values
    up to the order of floating-point summation.  ``X`` is a dask array of
    shape (n_samples, n_features) with the features in one chunk, ``Y`` (n,
    K) and ``sw`` (n,) dask arrays with the same row chunks, all persisted.
    Raw predictions are persisted dask arrays; parameters, gradients,
    moments and curvature matrices are NumPy.

    Every method that reduces over the samples runs one ``dask.compute`` and
    brings back at most ``max(K (n_features + 1), 2 n_features)`` numbers;
    only :meth:`matvec`, the gradient methods and :meth:`moments` read ``X``.
    """

    # The solver's own arithmetic (on W, c and the results) is NumPy's.
    xp = np
    device = None
    # The Hessian metric's row sample comes to the client in one compute.
    sample_chunk_bytes = None

    def __init__(self, X, Y, sw, *, l2, fit_intercept, center=False):
        # The parent's constructor precomputes NumPy products: set the same
        # attributes without them.
        self._set_data(X, Y, sw, l2, fit_intercept, np.dtype(Y.dtype))
        self.n_compute = 0
        self._center(center)
        # A search's trial point brings, in the same compute, the gradient and
        # the sampled raw predictions the next iteration will ask for there
        # (see subspace): ``_trial`` until the solver moves, then ``_ready``,
        # keyed by the new raw predictions.  So an iteration of the planar
        # solver makes two computes: the plane's curvature, and the trial.
        self._sample_index = self._sampled = None
        self._trial = self._ready = None

    # -- plumbing ----------------------------------------------------------------
    def _compute(self, *reductions):
        """The results of :func:`_row_sum` reductions, in one ``dask.compute``."""
        self.n_compute += 1
        return _compute_sums(*reductions)

    def _shift(self, W, c):
        if not self.fit_intercept:
            return None
        return c if self.mean is None else c - W @ self.mean

    def _split_gradient(self, flat, n_outputs=None):
        K, p = n_outputs or self.n_outputs, self.n_features
        return self._adjoint(flat[: K * p].reshape(K, p), flat[K * p :].copy())

    # -- the data ----------------------------------------------------------------
    def moments(self):
        """Weighted column mean and second moment of X (float64, one pass)."""
        if self._moments is None:
            p = self.n_features
            (flat,) = self._compute(_row_sum(_moments_kernel, [self.X, self.sw], 2 * p))
            self._moments = flat[:p], flat[p:]
        return self._moments

    def sample_rows(self, a, rows):
        """Rows ``rows`` of ``X``, ``sw`` or raw predictions as a float64 NumPy
        array on the client: one small ``compute``, none where the trial that
        led to ``a`` brought them."""
        self._sample_index = rows
        if self._ready is not None and self._ready[0] is a and self._ready[2] is not None:
            return np.array(self._ready[2], dtype=np.float64)
        if self._sampled is not None and self._sampled[0] is a and self._sampled[1] is rows:
            return self._sampled[2]  # the metric's first refresh, asked twice
        self.n_compute += 1
        block = a[rows].compute()
        if hasattr(block, "toarray"):
            block = block.toarray()
        block = np.array(block, dtype=np.float64)
        if a is not self.X and a is not self.sw:
            self._sampled = (a, rows, block)
        return block

    def matvec(self, W, c):
        """``X @ W.T + shift``, persisted on the workers: one pass over X."""
        import dask.array as da

        self.n_matvec += 1
        W = np.asarray(W)
        dtype = np.result_type(self.X.dtype, W.dtype)
        Wt = da.from_array(np.ascontiguousarray(W.T), chunks=-1)
        raw = da.blockwise(
            _matvec_kernel,
            "ik",
            self.X,
            "ij",
            Wt,
            "jk",
            concatenate=True,
            dtype=dtype,
            meta=np.empty((0, 0), dtype=dtype),
            shift=self._shift(W, c),
        )
        return raw.persist()

    def rmatvec(self, R):
        """``(R.T @ X_centred, R.sum(0))`` as NumPy: one pass over X."""
        self.n_rmatvec += 1
        length = self.n_outputs * (self.n_features + 1)
        (flat,) = self._compute(_row_sum(_rmatvec_kernel, [R, self.X], length))
        return self._split_gradient(flat.astype(np.result_type(R.dtype, self.X.dtype)))

    # -- values and gradients from cached raw predictions -------------------------
    def settle(self, raw):
        """Persist raw predictions the solver keeps, so that no later pass
        recomputes them (and graphs do not grow from one iteration to the next)."""
        return raw.persist() if is_dask_collection(raw) else raw

    def loss(self, raw):
        (value,) = self._compute(_row_sum(_loss_kernel, [raw, self.Y, self.sw], 1))
        return float(value[0])

    def weighted_loss(self, raw, weights):
        (value,) = self._compute(_row_sum(_loss_kernel, [raw, self.Y, weights], 1))
        return float(value[0])

    def residual(self, raw, curvature=False):
        """Lazy ``sw * (expit(raw) - Y)`` (and ``sw * expit'(raw)``)."""
        import dask.array as da

        R = da.blockwise(
            _residual_kernel, "ij", raw, "ij", self.Y, "ij", self.sw, "i",
            dtype=raw.dtype, meta=raw._meta,
        )  # fmt: skip
        if not curvature:
            return R
        return R, self._hessian_diagonal(raw)

    def _hessian_diagonal(self, raw):
        # Lazy: it is elementwise in the persisted raw predictions, so each use
        # recomputes it inside its own tasks at no cost in passes over X.
        import dask.array as da

        return da.blockwise(
            _hessian_kernel, "ij", raw, "ij", self.sw, "i", dtype=raw.dtype, meta=raw._meta
        )

    def _gradient(self, W, raw, with_loss):
        if self._ready is not None and self._ready[0] is raw:
            flat = self._ready[1][int(not with_loss) :]
        else:
            self.n_rmatvec += 1
            length = with_loss + self.n_outputs * (self.n_features + 1)
            arrays = [raw, self.X, self.Y, self.sw]
            reduction = _row_sum(_gradient_kernel, arrays, length, with_loss=with_loss)
            (flat,) = self._compute(reduction)
        dtype = np.result_type(raw.dtype, self.X.dtype)
        grad_W, grad_c = self._split_gradient(flat[int(with_loss) :].astype(dtype))
        if self.l2:
            grad_W += self.l2 * W
        return (float(flat[0]) if with_loss else None), grad_W, grad_c

    def gradient(self, W, raw, curvature=False):
        """``(grad_W, grad_c, H)``: one pass over X, one compute; ``H`` lazy."""
        _, grad_W, grad_c = self._gradient(W, raw, with_loss=False)
        H = self._hessian_diagonal(raw) if curvature else None
        return grad_W, grad_c, H

    def value_and_grad(self, W, raw):
        loss, grad_W, grad_c = self._gradient(W, raw, with_loss=True)
        return loss + 0.5 * self.l2 * float(np.vdot(W, W)), grad_W, grad_c

    def curvature(self, H, dWs, draws):
        m = len(draws)
        (flat,) = self._compute(_row_sum(_curvature_kernel, [H, *draws], m * m))
        hess = flat.reshape(m, m)
        if self.l2:
            hess += self.l2 * np.array([[float(np.vdot(u, v)) for v in dWs] for u in dWs])
        return hess

    def subspace(self, W, raw, dWs, draws, speculate=False):
        """Each ``phi(a)`` call is one compute over the raw predictions, none over X."""
        gram = np.array([[float(np.vdot(u, v)) for v in dWs] for u in dWs])
        lin = np.array([float(np.vdot(W, u)) for u in dWs])
        ww = float(np.vdot(W, W))
        l2, m = self.l2, len(draws)
        arrays = [raw, self.Y, self.sw, *draws]

        speculate = [True] if speculate else []

        def evaluate(a, derivatives=True, value=True):
            a = np.asarray(a, dtype=np.float64)
            if value and not derivatives and speculate:
                # The search's first trial (Newton's, usually accepted).
                speculate.pop()
                penalty = 0.5 * l2 * (ww + 2 * lin @ a + a @ gram @ a)
                return self._trial_value(raw, draws, a) + penalty, None, None
            length = int(value) + (m + m * m if derivatives else 0)
            reduction = _row_sum(
                _subspace_kernel,
                arrays,
                length,
                coefficients=a,
                derivatives=derivatives,
                with_value=value,
            )
            (flat,) = self._compute(reduction)
            if value:
                value = float(flat[0]) + 0.5 * l2 * (ww + 2 * lin @ a + a @ gram @ a)
                flat = flat[1:]
            else:
                value = None
            if not derivatives:
                return value, None, None
            grad = flat[:m] + l2 * (gram @ a + lin)
            hess = flat[m:].reshape(m, m) + l2 * gram
            return value, grad, hess

        def phi(a, derivatives=True, value=True):
            return evaluate(a, derivatives, value)

        # The slopes alone (the curvature comes in the same compute).  Through
        # ``evaluate``: an attribute of ``phi`` calling ``phi`` would be a
        # reference cycle, keeping the persisted data alive until the next
        # garbage collection.
        phi.slope = lambda a: evaluate(a, value=False)[1]
        return phi

    def _trial_value(self, raw, draws, a):
        """The loss at ``raw + sum_j a_j draws[j]``; the gradient there and the
        sampled rows come back in the same compute (one pass over X)."""
        import dask

        self.n_rmatvec += 1
        length = 1 + self.n_outputs * (self.n_features + 1)
        arrays = [raw, self.X, self.Y, self.sw, *draws]
        reduction = _row_sum(_trial_kernel, arrays, length, coefficients=a)
        sample = None
        if self._sample_index is not None:
            rows = self._sample_index
            # Its own task name: ``raw + a d`` written with dask's operators
            # would share keys with the solver's next raw predictions.
            point = raw.map_blocks(_point_kernel, *draws, coefficients=a, dtype=raw.dtype)
            sample = point[rows]
        self.n_compute += 1
        flat, sample = dask.compute(reduction, sample)
        flat = np.asarray(flat)[0]
        self._trial = (raw, draws, tuple(a), flat, sample)
        return float(flat[0])

    def advance(self, raw, draws, coefs):
        """The parent's; a trial at these coefficients keeps its results for
        the new raw predictions."""
        new_raw, step = super().advance(raw, draws, coefs)
        # What was kept of the old point would keep its raw predictions alive.
        trial, self._trial, self._ready, self._sampled = self._trial, None, None, None
        if trial is not None and trial[0] is raw and trial[2] == tuple(np.asarray(coefs, float)):
            if all(d is e for d, e in zip(trial[1], draws)):
                self._ready = (new_raw, trial[3], trial[4])
        return new_raw, step

    def bound_product(self, W, c):
        """The parent's product with the curvature bound, its ``matvec`` and
        ``rmatvec`` fused in the same tasks: one compute."""
        self.n_matvec += 1
        self.n_rmatvec += 1
        shift = self._shift(W, c)
        (flat,) = self._compute(
            _row_sum(
                _power_kernel,
                [self.X, self.sw],
                self.n_features + 1,
                direction=W[0],
                shift=0.0 if shift is None else float(shift[0]),
            )
        )
        return self._split_gradient(flat.astype(self.dtype), n_outputs=1)


# -- input preparation ---------------------------------------------------------
def _as_dask_matrix(X):
    """A 2-D dask array (lazy) and the feature names of a dask DataFrame."""
    import dask.array as da

    names = None
    if hasattr(X, "to_dask_array") and hasattr(X, "columns"):
        bad = [col for col, dtype in X.dtypes.items() if dtype.kind not in "biuf"]
        if bad:
            raise ValueError(f"X has non-numeric columns {bad[:5]!r}: encode them first.")
        names = X._meta  # empty pandas frame: its columns give the feature names
        X = X.to_dask_array()
    elif not isinstance(X, da.Array):
        raise TypeError(
            f"A dask X must be a dask array or DataFrame, got {type(X).__name__}."
        )
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D dask array, got {X.ndim}D with shape {X.shape}.")
    if not isinstance(X._meta, np.ndarray):
        raise TypeError(
            f"Only dask arrays of NumPy chunks are supported, got chunks of "
            f"{type(X._meta).__name__}."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric, got dtype {X.dtype}.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    if not _has_unknown_chunks(X) and len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X, names


def _as_dask_rows(v):
    """A dask vector or matrix from a dask array, Series or DataFrame."""
    if hasattr(v, "to_dask_array"):
        v = v.to_dask_array()
    return v


def _has_unknown_chunks(a):
    return any(math.isnan(size) for sizes in a.chunks for size in sizes)


def _persist_with_known_chunks(*arrays):
    """Persist together (a shared source is read once), then learn unknown
    chunk sizes from the persisted chunks: a few integers come back."""
    import dask

    arrays = list(dask.persist(*arrays))
    for i, a in enumerate(arrays):
        if _has_unknown_chunks(a):
            a.compute_chunk_sizes()
            if a.ndim == 2 and len(a.chunks[1]) > 1:
                arrays[i] = a.rechunk({1: -1}).persist()
    return arrays


def _align_rows(v, X, name, dtype=None):
    """``v`` as a dask array with X's row chunks (NumPy input is chunked the same)."""
    import dask.array as da

    n_samples = X.shape[0]
    if isinstance(v, da.Array):
        if v.shape[0] != n_samples:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: X has "
                f"{n_samples}, {name} has {v.shape[0]}."
            )
        if v.chunks[0] != X.chunks[0] or (v.ndim == 2 and len(v.chunks[1]) > 1):
            v = v.rechunk({0: X.chunks[0], **({1: -1} if v.ndim == 2 else {})})
        return v if dtype is None else v.astype(dtype)
    v = np.asarray(v, dtype=dtype)
    if v.ndim == 0 and name == "sample_weight":
        return da.full(n_samples, float(v), chunks=X.chunks[0])
    if v.ndim == 0 or v.shape[0] != n_samples:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: X has "
            f"{n_samples}, {name} has shape {v.shape}."
        )
    return da.from_array(v, chunks=(X.chunks[0],) + v.shape[1:])


def _class_index_kernel(y, classes):
    return np.searchsorted(classes, y)


def _take_kernel(index, values):
    return values[index]


def _class_totals_kernel(index, weight, n_classes):
    """Per chunk: the count and the weight of each class."""
    return np.concatenate(
        [
            np.bincount(index, minlength=n_classes),
            np.bincount(index, weights=weight, minlength=n_classes),
        ]
    )


def _class_counts_kernel(index, n_classes):
    return np.bincount(index, minlength=n_classes)[None, :]


def _label_totals_kernel(Y, weight):
    return np.concatenate([[weight.sum()], weight @ Y])


def _validation_lookup(counts, kind, validation_fraction, random_state):
    """The early-stopping split of the NumPy fit, drawn on a worker.

    The split of ``validation_split`` depends on the labels only through the
    class counts (``StratifiedShuffleSplit`` permutes the positions of each
    class in order of appearance; ``ShuffleSplit`` only sees the length), so
    drawing it for labels sorted by class gives, for each class, which of its
    samples (counted in order) are held out.  Returns a boolean vector in
    that class-sorted order: ``lookup[start[k] + rank]``.
    """
    n_samples = int(np.sum(counts))
    if kind == "multilabel-indicator":
        Y = np.zeros((n_samples, 1), dtype=np.int8)
    else:
        labels = np.repeat(np.arange(len(counts)), counts)
        if kind == "binary":
            Y = labels[:, None].astype(np.int8)
        else:
            Y = np.zeros((n_samples, len(counts)), dtype=np.int8)
            Y[np.arange(n_samples), labels] = 1
    _, val = validation_split(Y, kind, validation_fraction, random_state)
    lookup = np.zeros(n_samples, dtype=bool)
    lookup[val] = True
    return lookup


def _held_out_kernel(index, lookup, starts, offsets, block_info=None):
    """Whether each row of the chunk is in the validation set.

    ``lookup`` is in row order for multilabel targets (``starts is None``),
    else in class-sorted order: the class's start plus the row's rank among
    the rows of its class, counted over the previous chunks (``offsets``) and
    then in this one.
    """
    if starts is None:
        first, last = block_info[0]["array-location"][0]
        return lookup[first:last]
    chunk = block_info[0]["chunk-location"][0]
    rank = np.empty(len(index), dtype=np.intp)
    for k in range(len(starts)):
        rows = index == k
        rank[rows] = starts[k] + offsets[chunk, k] + np.arange(np.count_nonzero(rows))
    return lookup[rank]


def _split_totals_kernel(held_out, sw, Y):
    train = np.where(held_out, 0, sw)
    return np.concatenate([[sw.sum() - train.sum(), train.sum()], train @ Y])


def _prepare(estimator, X, y, sample_weight):
    """Validate and encode the data on the workers; bring back only small results."""
    import dask
    import dask.array as da

    X, names = _as_dask_matrix(X)
    y = _as_dask_rows(y)
    weight = None if sample_weight is None else _as_dask_rows(sample_weight)
    lazy = [v for v in (X, y, weight) if is_dask_collection(v)]
    persisted = iter(_persist_with_known_chunks(*lazy))
    X = next(persisted)
    y = next(persisted) if is_dask_collection(y) else y
    weight = next(persisted) if is_dask_collection(weight) else weight
    n_samples, n_features = X.shape
    if n_samples < 1 or n_features < 1:
        raise ValueError(
            f"Found array with shape {X.shape} while at least 1 sample and 1 feature "
            "are required."
        )
    # Feature names and n_features_in_, exactly as the NumPy fit sets them.
    validate_data(
        estimator,
        names if names is not None else np.empty((0, n_features)),
        reset=True,
        skip_check_array=True,
    )

    y = _align_rows(y, X, "y")
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change "
            "the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y[:, 0]
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1D or 2D, got shape {y.shape}.")
    if weight is not None:
        weight = _align_rows(weight, X, "sample_weight", dtype=np.float64)
        if weight.ndim != 1:
            raise ValueError(f"Sample weights must be 1D array or scalar, got {weight.shape}.")
    y, weight = dask.persist(y, weight)

    checks = [da.isfinite(X).all(), da.unique(y.ravel())]
    if weight is not None:
        checks += [da.isfinite(weight).all(), weight.min()]
    finite, labels, *weight_checks = dask.compute(*checks)
    if not finite:
        raise ValueError("Input X contains NaN or infinity.")
    if weight is not None:
        if not weight_checks[0]:
            raise ValueError("Input sample_weight contains NaN or infinity.")
        if weight_checks[1] < 0:
            raise ValueError("sample_weight must be non-negative; got negative values.")

    if y.ndim == 1:
        classes, _, kind = encode_targets(labels)
    else:
        # A small matrix holding every value of y has y's target type.
        width = y.shape[1]
        sample = np.resize(labels, (-(-len(labels) // width), width))
        check_classification_targets(sample)
        kind = type_of_target(sample, input_name="y")
        if kind != "multilabel-indicator":
            raise ValueError(
                f"2D y must be a multilabel indicator matrix of 0/1 values; got "
                f"{kind!r} targets."
            )
        classes = np.arange(width)
    dtype = X.dtype
    n_outputs = 1 if kind == "binary" else len(classes)
    Y = y.map_blocks(
        indicator_matrix,
        classes,
        kind,
        dtype,
        dtype=dtype,
        chunks=(X.chunks[0], (n_outputs,)),
        **({"new_axis": 1} if y.ndim == 1 else {}),
    )
    unit = weight if weight is not None else da.ones(n_samples, chunks=X.chunks[0])

    # Fold the weights: s_i = sample_weight_i * class_weight[y_i], summing to one.
    if kind == "multilabel-indicator":
        if estimator.class_weight is not None:
            raise ValueError(
                "class_weight is not supported for multilabel targets; "
                "pass sample_weight instead."
            )
        index, counts = None, np.array([n_samples])
        (totals,) = _compute_sums(_row_sum(_label_totals_kernel, [Y, unit], 1 + n_outputs))
        S, weighted_positives = float(totals[0]), totals[1:]
        per_sample = unit
    else:
        n_classes = len(classes)
        index = y.map_blocks(_class_index_kernel, classes, dtype=np.intp)
        totals = _row_sum(_class_totals_kernel, [index, unit], 2 * n_classes, n_classes=n_classes)
        (totals,) = _compute_sums(totals)
        counts, class_sums = totals[:n_classes].astype(np.intp), totals[n_classes:]
        class_weight = np.ones(n_classes)
        if estimator.class_weight is not None:
            class_weight = class_weights(estimator.class_weight, classes, counts)
        S = float(class_weight @ class_sums)
        # sw @ Y before normalizing: the weight of each class (of class 1 if binary).
        weighted_positives = (class_weight * class_sums)[1:] if kind == "binary" else (
            class_weight * class_sums
        )
        per_sample = unit * index.map_blocks(_take_kernel, class_weight, dtype=np.float64)
    if not S > 0:
        raise ValueError(
            "The sample weights sum to zero: at least one sample needs a positive weight."
        )
    sw = (per_sample / S).astype(dtype)
    prior = weighted_positives / S

    held_out = sw_val = None
    if estimator.early_stopping:
        held_out, sw, sw_val, prior = _early_stopping_weights(
            estimator, X, Y, sw, index, counts, kind
        )
    Y, sw, held_out, sw_val = dask.persist(Y, sw, held_out, sw_val)
    return SimpleNamespace(
        X=X,
        y=y,
        Y=Y,
        sw=sw,
        held_out=held_out,
        sw_val=sw_val,
        classes=classes,
        kind=kind,
        prior=np.asarray(prior, dtype=dtype),
    )


def _early_stopping_weights(estimator, X, Y, sw, index, counts, kind):
    """The NumPy fit's split, drawn and applied on the workers.

    Returns the held-out mask, the training and validation weights (each
    summing to one) and the training priors ``sw @ Y``.  The held-out rows
    keep their place in X with zero training weight, as in the NumPy fit.
    Only the class counts per chunk travel to the client.
    """
    import dask
    import dask.array as da

    if index is None:
        offsets = starts = None
        rows = sw  # any vector with the row chunks: only their positions matter
    else:
        n_classes = len(counts)
        per_chunk = index.map_blocks(
            _class_counts_kernel,
            n_classes,
            dtype=np.intp,
            chunks=((1,) * index.numblocks[0], (n_classes,)),
            new_axis=1,
        )
        (per_chunk,) = dask.compute(per_chunk)
        offsets = np.cumsum(per_chunk, axis=0) - per_chunk
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rows = index
    lookup = dask.delayed(_validation_lookup, pure=True)(
        counts, kind, estimator.validation_fraction, estimator.random_state
    )
    held_out = rows.map_blocks(
        _held_out_kernel, lookup, starts, offsets, dtype=bool, meta=np.empty(0, dtype=bool)
    )
    (totals,) = _compute_sums(_row_sum(_split_totals_kernel, [held_out, sw, Y], 2 + Y.shape[1]))
    val_sum, train_sum = float(totals[0]), float(totals[1])
    if not val_sum > 0:
        raise ValueError("The early-stopping validation samples all have zero weight.")
    if not train_sum > 0:
        raise ValueError("The early-stopping training samples all have zero weight.")
    zero = np.zeros((), dtype=sw.dtype)
    sw_val = da.where(held_out, sw, zero) / sw.dtype.type(val_sum)
    sw_train = da.where(held_out, zero, sw) / sw.dtype.type(train_sum)
    return held_out, sw_train, sw_val, totals[2:] / train_sum


# -- fit -------------------------------------------------------------------------
def fit(estimator, X, y, sample_weight=None):
    """``BCEPerceptronClassifier.fit`` for a dask ``X``: same solver, same attributes.

    Runs on the active dask scheduler (a ``dask.distributed.Client`` when one
    is set as default).  The fitted attributes are NumPy arrays.
    """
    data = _prepare(estimator, X, y, sample_weight)
    # The validation weights are full-length, zero off the held-out rows, and
    # persisted: the monitor's validation loss is one reduction.  The starting
    # intercepts (weighted log-odds of ``sw @ Y``) come from the priors
    # computed on the workers.
    prepared = FitData(
        data.X,
        data.y,
        data.Y,
        data.sw,
        data.classes,
        data.kind,
        sample_weight,
        val=data.held_out,
        val_weights=data.sw_val,
        prior=data.prior,
    )
    return estimator._fit_prepared(prepared, objective_class=DaskBCEObjective)


# -- prediction -----------------------------------------------------------------
def _predict_kernel(block, estimator, method, columns):
    if columns is not None:
        import pandas as pd

        block = pd.DataFrame(block, columns=columns, copy=False)
    return getattr(estimator, method)(block)


def predict(estimator, X, method):
    """``estimator.<method>(X)`` for a dask ``X``, as a lazy dask array.

    Each chunk of rows goes through the NumPy method (same values, same
    checks); nothing is computed here.  Unknown chunk sizes (a dask
    DataFrame) are fine: the result then has unknown chunk sizes too.
    """
    check_is_fitted(estimator)
    X, names = _as_dask_matrix(X)
    if len(X.chunks[1]) > 1:
        raise ValueError(
            "X has unknown chunk sizes and its features in several chunks: "
            + _UNKNOWN_CHUNKS_HINT
            + "."
        )
    n_features = X.shape[1]
    # n_features_in_ and the feature names, checked (and warned about) once.
    validate_data(
        estimator,
        names if names is not None else np.empty((0, n_features)),
        reset=False,
        skip_check_array=True,
    )
    columns = getattr(estimator, "feature_names_in_", None)
    # The shape and dtype of the output, from one row.
    example = _predict_kernel(np.zeros((1, n_features), dtype=X.dtype), estimator, method, columns)
    chunks = (X.chunks[0],) + tuple((size,) for size in example.shape[1:])
    return X.map_blocks(
        _predict_kernel,
        estimator,
        method,
        columns,
        dtype=example.dtype,
        chunks=chunks,
        meta=example[:0],
        **({"drop_axis": 1} if example.ndim == 1 else {}),
    )
