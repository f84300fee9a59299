# SPDX-License-Identifier: BSD-3-Clause
"""What only Dask needs: chunk-wise data preparation, tree sums, lazy predict.

A dask ``X`` is chunked by rows (the features in one chunk).  The fit is the
NumPy fit: :func:`prepare_fit` maps ``_data``'s functions over the chunks and
adds their small per-chunk results with tree sums (``_dask_rows.row_sum``; no
``n_samples``-long array comes to the client); the one
:class:`~skperceptron._objective.BCEObjective` then runs its passes through
the Dask row engine (``_dask_rows.DaskRows``).  Dask is imported only when a
dask collection is seen.
"""

import math
import sys
import warnings

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from . import _data
from ._compat import validate_data
from ._dask_rows import compute_sums, row_sum

_HINT = "convert dask DataFrames with X.to_dask_array(lengths=True)"


def is_dask_collection(obj):
    """Whether ``obj`` is a dask collection; never imports dask."""
    if "dask" not in sys.modules:
        return False
    import dask

    return dask.is_dask_collection(obj)


# -- input preparation -------------------------------------------------------------
def _as_dask_matrix(X):
    """A 2-D dask array of NumPy chunks (lazy) and the feature names of a dask DataFrame."""
    import dask.array as da

    names = None
    if hasattr(X, "to_dask_array") and hasattr(X, "columns"):
        bad = [col for col, dtype in X.dtypes.items() if dtype.kind not in "biuf"]
        if bad:
            raise ValueError(f"X has non-numeric columns {bad[:5]!r}: encode them first.")
        names = X._meta  # empty pandas frame: its columns give the feature names
        X = X.to_dask_array()
    elif not isinstance(X, da.Array):
        raise TypeError(f"A dask X must be a dask array or DataFrame, got {type(X).__name__}.")
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
    if not _unknown_chunks(X) and len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X, names


def _unknown_chunks(a):
    return any(math.isnan(size) for sizes in a.chunks for size in sizes)


def _rows_like(v, X, name, dtype=None):
    """``v`` (dask, NumPy or a dask Series) as a dask array with X's row chunks."""
    import dask.array as da

    v = v.to_dask_array() if hasattr(v, "to_dask_array") else v
    if not isinstance(v, da.Array):
        v = np.asarray(v, dtype=dtype)
        if v.ndim == 0 and name == "sample_weight":
            return da.full(X.shape[0], float(v), chunks=X.chunks[0])
    if v.ndim == 0 or v.shape[0] != X.shape[0]:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: X has "
            f"{X.shape[0]}, {name} has shape {v.shape}."
        )
    if not isinstance(v, da.Array):
        return da.from_array(v, chunks=(X.chunks[0],) + v.shape[1:])
    return v.rechunk({0: X.chunks[0], **({1: -1} if v.ndim == 2 else {})}).astype(dtype or v.dtype)


def _persist(*arrays):
    """Persist together (a shared source is read once); unknown chunk sizes
    are then learnt from the persisted chunks."""
    import dask

    arrays = list(dask.persist(*arrays))
    for i, a in enumerate(arrays):
        if a is not None and _unknown_chunks(a):
            a.compute_chunk_sizes()
            if a.ndim == 2 and len(a.chunks[1]) > 1:
                arrays[i] = a.rechunk({1: -1}).persist()
    return arrays


def _held_out(Y, lookup, kind, starts, offsets, block_info=None):
    """Whether each row of a chunk is held out: ``lookup`` (:func:`_data.sorted_split`)
    at the row's position, or at its class's start plus its rank in its class
    (over the previous chunks, ``offsets``, then in this one)."""
    if kind == "multilabel-indicator":
        first, last = block_info[0]["array-location"][0]
        return lookup[first:last]
    index = _data.class_index(Y)
    rank = np.empty(len(index), dtype=np.intp)
    before = offsets[block_info[0]["chunk-location"][0]]
    for k, start in enumerate(starts):
        rows = index == k
        rank[rows] = start + before[k] + np.arange(np.count_nonzero(rows))
    return lookup[rank]


def prepare_fit(estimator, X, y, sample_weight):
    """The :class:`~skperceptron._data.FitData` of a fit on a dask ``X``.

    ``_data``'s functions run on each chunk of rows on the workers; only class
    labels, counts per chunk and sums come to the client.
    """
    import dask
    import dask.array as da

    X, names = _as_dask_matrix(X)
    lazy = [v if is_dask_collection(v) else None for v in (y, sample_weight)]
    X, *lazy = _persist(X, *[v.to_dask_array() if hasattr(v, "to_dask_array") else v for v in lazy])
    if min(X.shape) < 1:
        raise ValueError(f"Found array with shape {X.shape} while at least 1 sample and 1 "
                         "feature are required.")  # fmt: skip
    # Feature names and n_features_in_, exactly as the NumPy fit sets them.
    validate_data(estimator, np.empty((0, X.shape[1])) if names is None else names,
                  reset=True, skip_check_array=True)  # fmt: skip
    y = _rows_like(lazy[0] if lazy[0] is not None else y, X, "y")
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected. Please "
                      "change the shape of y to (n_samples, ), for example using ravel().",
                      DataConversionWarning, stacklevel=3)  # fmt: skip
        y = y[:, 0]
    weight = lazy[1] if lazy[1] is not None else sample_weight
    if weight is not None:
        weight = _rows_like(weight, X, "sample_weight", np.float64)
        if weight.ndim != 1:
            raise ValueError(f"Sample weights must be 1D array or scalar, got {weight.shape}.")
    checks = [da.isfinite(X).all(), da.unique(y.ravel())]
    checks += [] if weight is None else [da.isfinite(weight).all(), weight.min()]
    finite, labels, *weight_checks = dask.compute(*checks)
    if not finite:
        raise ValueError("Input X contains NaN or infinity.")
    if weight_checks and not weight_checks[0]:
        raise ValueError("Input sample_weight contains NaN or infinity.")
    if weight_checks and weight_checks[1] < 0:
        raise ValueError("sample_weight must be non-negative; got negative values.")

    if y.ndim == 1:
        classes, _, kind = _data.encode_targets(labels)
    else:
        # A small matrix holding every value of y has y's target type.
        sample = np.resize(labels, (-(-len(labels) // y.shape[1]), y.shape[1]))
        check_classification_targets(sample)
        kind, classes = type_of_target(sample, input_name="y"), np.arange(y.shape[1])
        if kind != "multilabel-indicator":
            raise ValueError(f"2D y must be a multilabel indicator matrix of 0/1 values; got "
                             f"{kind!r} targets.")  # fmt: skip
    K = 1 if kind == "binary" else len(classes)
    Y = y.map_blocks(_data.indicator_matrix, classes, kind, X.dtype, dtype=X.dtype,
                     chunks=(X.chunks[0], (K,)), **({"new_axis": 1} if y.ndim == 1 else {}))
    unit = weight if weight is not None else da.ones(X.shape[0], chunks=X.chunks[0])
    counts = None
    if kind != "multilabel-indicator" and (estimator.class_weight or estimator.early_stopping):
        # The class counts of each chunk: for the class weights and the split.
        counts = dask.compute(Y.map_blocks(lambda Y: _data.class_counts(Y)[None], dtype=float,
                                           chunks=((1,) * Y.numblocks[0], (max(K, 2),))))[0]
    if estimator.class_weight is not None:
        weights = _data.class_weights(
            estimator.class_weight, classes, None if counts is None else counts.sum(0), kind
        )
        unit = da.blockwise(_data.sample_weights, "i", Y, "ij", weights, None, unit, "i",
                            concatenate=True, dtype=np.float64)  # fmt: skip
    # The total weight and the weight of each class, in one compute: the
    # starting intercepts are the log-odds of their ratios (``sw @ Y``).
    kernel = lambda w, Y: np.concatenate([[w.sum()], w @ Y])
    (totals,) = compute_sums(row_sum(kernel, [unit, Y], 1 + K))
    S = _data.check_total(float(totals[0]))
    sw, prior = (unit / S).astype(X.dtype), totals[1:] / S
    held_out = sw_val = None
    if estimator.early_stopping:
        split_counts = [X.shape[0]] if counts is None else counts.sum(0).astype(np.intp)
        lookup = dask.delayed(_data.sorted_split, pure=True)(
            split_counts, kind, estimator.validation_fraction, estimator.random_state)
        offsets = None if counts is None else np.cumsum(counts, axis=0) - counts
        starts = np.concatenate([[0], np.cumsum(split_counts)[:-1]])
        held_out = Y.map_blocks(_held_out, lookup, kind, starts, offsets, dtype=bool,
                                drop_axis=1, meta=np.empty(0, dtype=bool))
        kernel = lambda h, w, Y: np.concatenate([[w[h].sum(), w[~h].sum()], w[~h] @ Y[~h]])
        (totals,) = compute_sums(row_sum(kernel, [held_out, sw, Y], 2 + K))
        sw, sw_val = _data.holdout_weights(sw, held_out, totals[:2])
        prior = totals[2:] / totals[1]
    Y, sw, held_out, sw_val = dask.persist(Y, sw, held_out, sw_val)
    return _data.FitData(X, y, Y, sw, classes, kind, sample_weight, val=held_out,
                         val_weights=sw_val, prior=prior.astype(X.dtype))


# -- prediction ---------------------------------------------------------------------
def _predict_kernel(block, estimator, method, columns):
    if columns is not None:
        import pandas as pd

        block = pd.DataFrame(block, columns=columns, copy=False)
    return getattr(estimator, method)(block)


def predict(estimator, X, method):
    """``estimator.<method>(X)`` for a dask ``X``, as a lazy dask array: each
    chunk of rows through the NumPy method (same values, same checks)."""
    check_is_fitted(estimator)
    X, names = _as_dask_matrix(X)
    if len(X.chunks[1]) > 1:
        raise ValueError(f"X has unknown chunk sizes and its features in several chunks: {_HINT}.")
    n_features = X.shape[1]
    # n_features_in_ and the feature names, checked (and warned about) once.
    validate_data(estimator, np.empty((0, n_features)) if names is None else names,
                  reset=False, skip_check_array=True)  # fmt: skip
    columns = getattr(estimator, "feature_names_in_", None)
    # The shape and dtype of the output, from one row.
    example = _predict_kernel(np.zeros((1, n_features), X.dtype), estimator, method, columns)
    return X.map_blocks(
        _predict_kernel, estimator, method, columns, dtype=example.dtype, meta=example[:0],
        chunks=(X.chunks[0],) + tuple((size,) for size in example.shape[1:]),
        **({"drop_axis": 1} if example.ndim == 1 else {}),
    )  # fmt: skip
