# SPDX-License-Identifier: BSD-3-Clause
"""Input validation: targets to the (n, K) matrix Y, weights to ``sw``, splits,
and the prepared data of a fit (:class:`FitData`).

NumPy inputs take the NumPy code below; under scikit-learn's
``array_api_dispatch``, targets given as arrays of another Array API library
are encoded in that library (no conversion of ``y`` to NumPy), and weights
are folded in the namespace and on the device of ``Y``.
"""

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from ._backend import asarray, astype, from_host, input_namespace, namespace, to_numpy
from ._compat import (
    _check_sample_weight,
    move_to,
    validate_data,
)
from ._compat import (
    device as array_device,
)


@dataclass
class FitData:
    """The data of a fit, validated and encoded: what the estimator needs next.

    Built by :func:`prepare_fit` (NumPy and Array API) and by the dask fit;
    the estimator takes it from there.

    ``X``, ``y`` and ``sample_weight`` are the inputs as the fit sees them
    (for the callbacks), ``Y`` (n, K) the encoded targets, ``sw`` the
    training weights summing to one (zero on held-out rows), ``classes`` and
    ``kind`` as :func:`encode_targets` returns them.  With early stopping,
    ``val`` marks the held-out rows and ``val_weights`` (full length, zero
    off them) weigh their loss.  ``prior`` is ``sw @ Y`` (the weighted class
    frequencies, K numbers on the host) when already known, else None.
    """

    X: Any
    y: Any
    Y: Any
    sw: Any
    classes: Any
    kind: str
    sample_weight: Any = None
    val: Any = None
    val_weights: Any = None
    prior: Any = None


def prepare_fit(estimator, X, y, sample_weight):
    """Validate and encode the data of ``estimator.fit``: a :class:`FitData` in
    X's namespace and on its device (under ``array_api_dispatch``; NumPy
    otherwise), with the early-stopping split when the estimator asks for it."""
    xp, device = input_namespace(X)
    X, y = validate_data(
        estimator,
        X,
        y,
        accept_sparse=["csr", "csc"],
        dtype=[xp.float64, xp.float32],
        multi_output=True,
    )
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)
    classes, Y, kind = encode_targets(y)
    if xp is not np:
        # NumPy keeps the int8 0/1 matrix: the passes over the raw
        # predictions read it a chunk at a time (an eighth of a float64 Y).
        Y = astype(xp, move_to(Y, xp=xp, device=device), X.dtype)
    sw, _ = fold_weights(
        y, Y, kind, sample_weight, estimator.class_weight, X.shape[0], X.dtype, classes=classes
    )
    data = FitData(X, y, Y, sw, classes, kind, sample_weight)
    if estimator.early_stopping:
        _, val = validation_split(Y, kind, estimator.validation_fraction, estimator.random_state)
        held_out = np.zeros(X.shape[0], dtype=bool)
        held_out[val] = True
        # The held-out rows stay in X with zero training weight: no copy of
        # X, and their raw predictions come for free with the training ones.
        data.val = asarray(xp, held_out, None, device)
        data.sw, data.val_weights = holdout_weights(sw, data.val)
    return data


def encode_targets(y):
    """Classes and the target matrix.

    Returns ``(classes, Y_int, kind)`` where ``Y_int`` is (n, K) of 0/1,
    ``K = 1`` for binary targets, ``n_classes`` for multiclass and ``n_labels``
    for a multilabel indicator matrix; ``kind`` is "binary", "multiclass" or
    "multilabel-indicator".
    """
    if _plain_labels(y):
        # type_of_target's answer for a 1-D NumPy vector of integers, whole
        # floats or strings, from the one np.unique below: it would take 5
        # passes and ~0.2 ms, a fifth of a small fit's fixed cost.
        classes, Y, kind = _encode_labels(y)
        if len(y) > 20 and len(classes) > round(0.5 * len(y)):
            # check_classification_targets' warning, in its words.
            warnings.warn(
                "The number of unique classes is greater than 50% of the number "
                "of samples. `y` could represent a regression problem, not a "
                "classification problem.",
                UserWarning,
                stacklevel=4,
            )
        return classes, Y, kind
    check_classification_targets(y)
    kind = type_of_target(y, input_name="y")
    if kind not in ("binary", "multiclass", "multilabel-indicator"):
        raise ValueError(
            f"y is {kind}: BCEPerceptronClassifier fits binary, multiclass or "
            "multilabel-indicator targets (wrap it in "
            "sklearn.multioutput.MultiOutputClassifier for multiclass-multioutput)."
        )
    # Encoded in y's namespace (on its device) under array_api_dispatch.
    xp = namespace(y) if not hasattr(y, "toarray") else np
    if kind == "multilabel-indicator":
        Y = _multilabel_indicator(y) if xp is np else xp.astype(y > 0, xp.int8)
        return np.arange(Y.shape[1]), Y, kind
    y = np.asarray(y) if xp is np else y
    if y.ndim == 2 and y.shape[1] == 1:
        y = xp.reshape(y, (-1,))
    return _encode_labels(y, xp)


def _plain_labels(y):
    """Whether ``y`` is a 1-D NumPy vector whose target type :func:`_encode_labels`
    can tell alone: integers, booleans, strings, or floats that are all whole
    (other floats are continuous targets, left to ``type_of_target``'s error)."""
    if not (isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "biufU"):
        return False
    return y.dtype.kind != "f" or bool(np.all(np.isfinite(y) & (y == np.round(y))))


def _encode_labels(y, xp=np):
    """Classes and Y of a 1-D vector of class labels, in its namespace."""
    # np.unique keeps the labels' dtype (object stays object).  Its
    # return_inverse costs about 5 n-vectors of int64 at once; the positions
    # found by searchsorted in the sorted classes are the same indices.  The
    # standard leaves the order of unique_values open: sorted like np.unique.
    classes = np.unique(y) if xp is np else xp.sort(xp.unique_values(y))
    n_classes = classes.shape[0]
    if n_classes < 2:
        raise ValueError(
            f"y has only one class ({_label(host_array(classes)[0])}): a classifier "
            "needs samples of at least 2 classes."
        )
    return classes, _indicator(y, classes, xp), "binary" if n_classes == 2 else "multiclass"


def encode_known_targets(y, classes, kind):
    """The int8 matrix Y of :func:`encode_targets` for ``y`` against the
    ``classes`` and ``kind`` of a fit, on the host (NumPy).

    Raises a ValueError for labels not in ``classes``, or an indicator matrix
    whose width is not ``len(classes)``.
    """
    y, classes = host_array(y), host_array(classes)
    if kind == "multilabel-indicator":
        Y = _multilabel_indicator(y)
        if Y.ndim != 2 or Y.shape[1] != len(classes):
            raise ValueError(f"y must be an indicator matrix with {len(classes)} columns.")
        return Y
    y = column_or_1d(y)
    unknown = np.setdiff1d(np.unique(y), classes)
    if unknown.size:
        raise ValueError(
            "y contains labels not seen in fit: "
            + ", ".join(_label(value) for value in unknown[:5])
            + (", ..." if unknown.size > 5 else "")
        )
    return _indicator(y, classes)


def indicator_matrix(y, classes, kind, dtype=np.int8):
    """The 0/1 matrix Y of labels ``y`` known to be in the sorted ``classes``
    (or of a multilabel indicator matrix), on the host: a whole ``y`` or a
    block of its rows."""
    if kind == "multilabel-indicator":
        Y = _multilabel_indicator(y)
    else:
        Y = _indicator(y, classes)
    return Y if Y.dtype == dtype else Y.astype(dtype)


def _multilabel_indicator(y):
    """A multilabel indicator matrix (dense or sparse) as int8 0/1."""
    return (np.asarray(y.toarray() if hasattr(y, "toarray") else y) > 0).astype(np.int8)


def _indicator(y, classes, xp=np):
    """Labels ``y``, all in the sorted ``classes``, as (n, K) int8 0/1: one
    column (``y == classes[1]``) for two classes, else one per class."""
    n_classes = classes.shape[0]
    if n_classes == 2:
        return astype(xp, y == classes[1], xp.int8)[:, None]
    index = xp.searchsorted(classes, y)
    if xp is np:
        Y = np.zeros((len(y), n_classes), dtype=np.int8)
        Y[np.arange(len(y)), index] = 1
        return Y
    columns = xp.arange(n_classes, dtype=index.dtype, device=array_device(index))
    return xp.astype(index[:, None] == columns[None, :], xp.int8)


def _label(value):
    """A class label as a user wrote it: ``setosa``, ``1``, not ``np.str_('setosa')``."""
    return str(value.item() if isinstance(value, np.generic) else value)


def log_odds(prior):
    """The optimal intercepts at ``W = 0``: the log-odds of the weighted class
    frequencies ``prior`` (``sw @ Y``, K host numbers), 0 where one is 0 or 1."""
    c = np.zeros(len(prior), dtype=prior.dtype)
    ok = (prior > 0) & (prior < 1)
    c[ok] = np.log(prior[ok]) - np.log1p(-prior[ok])
    return c


def host_array(a):
    """A NumPy array of labels given as a list, a NumPy array or any Array API array."""
    try:
        xp = namespace(a)
    except TypeError:  # lists, pandas objects
        return np.asarray(a)
    return np.asarray(a) if xp is np else to_numpy(xp, a)


def class_list(classes):
    """The labels as a host list, from an array of any namespace."""
    if isinstance(classes, (list, tuple)):
        return list(classes)
    return to_numpy(namespace(classes), classes).tolist()


def fold_weights(y, Y, kind, sample_weight, class_weight, n_samples, dtype, classes=None):
    """``s_i = sample_weight_i * class_weight[y_i]``, checked and summing to one.

    Returns ``(sw, S)`` with ``S`` the sum before normalization.  Fitting never
    writes into the caller's ``sample_weight``.  ``sw`` is computed in the
    namespace and on the device of ``Y`` (the encoded targets), the class
    weights from ``Y`` and ``classes`` (the sorted labels of ``y``).
    """
    xp = namespace(Y)
    if sample_weight is None and class_weight is None and xp is np:
        # Equal weights: one number seen as a read-only (n,) array of stride 0,
        # which costs no memory (an n-vector fewer in every fit).
        return np.broadcast_to(np.asarray(1.0 / n_samples, dtype=dtype), (n_samples,)), float(
            n_samples
        )
    # Checked against Y's rows (X's for NumPy: Y may be a list of labels'
    # matrix), moved to its namespace and device, float64 where it has it.
    sw = _check_sample_weight(
        sample_weight,
        np.empty((n_samples, 0)) if xp is np else Y,
        dtype=xp.float64,
        copy=sample_weight is not None,
    )
    if sample_weight is not None and bool(xp.any(sw < 0)):
        raise ValueError("sample_weight must be non-negative; got negative values.")
    if class_weight is not None:
        classes = np.unique(host_array(y)) if classes is None else classes
        weights = class_weights(class_weight, classes, class_counts(Y), kind)
        sw = sample_weights(Y, from_host(xp, weights, sw.dtype, array_device(sw)), sw)
    S = check_total(float(xp.sum(sw)))
    return astype(xp, sw / S, dtype), S


def check_total(S, what="The sample weights sum to zero"):
    """``S``, the sum of the weights, if positive; else a ValueError."""
    if not S > 0:
        raise ValueError(f"{what}: at least one sample needs a positive weight.")
    return S


def class_index(Y):
    """The class of each row of Y (the one column's 0/1 for two classes)."""
    xp = namespace(Y)
    return astype(xp, Y[:, 0] > 0, xp.int64) if Y.shape[1] == 1 else xp.argmax(Y, axis=1)


def class_counts(Y):
    """The number of rows of each class in Y (or a block of its rows): float64
    NumPy, one number per class (two for the one column of binary targets)."""
    xp = namespace(Y)
    counts = to_numpy(xp, xp.sum(Y, axis=0)).astype(np.float64)
    if Y.shape[1] == 1:
        counts = np.concatenate([Y.shape[0] - counts, counts])
    return counts


def sample_weights(Y, weights, sample_weight):
    """``sample_weight_i * weights[class of row i]`` for the rows of Y (or a block)."""
    return sample_weight * namespace(Y).take(weights, class_index(Y), axis=0)


def class_weights(class_weight, classes, counts, kind="multiclass"):
    """Weight of each class, a float64 NumPy array: K numbers, on the host.

    As ``compute_sample_weight``: "balanced" is ``n / (n_classes * count)``
    with the unweighted ``counts`` of the classes (needed only then).
    """
    if kind == "multilabel-indicator":
        raise ValueError(
            "class_weight is not supported for multilabel targets; pass sample_weight instead."
        )
    if class_weight == "balanced":
        counts = np.asarray(counts, dtype=np.float64)
        return counts.sum() / (len(counts) * counts)
    classes = to_numpy(namespace(classes), classes)
    return np.asarray(
        compute_class_weight(class_weight, classes=classes, y=classes), dtype=np.float64
    )


def holdout_weights(sw, held_out, totals=None):
    """Training weights with the held-out rows zeroed and the full-length
    validation weights (zero off them), each summing to one.

    ``held_out`` is a boolean mask of the rows (a dask array in a dask fit);
    ``totals``, when known, the validation and training sums of ``sw``.
    """
    xp = namespace(sw)
    zero = xp.zeros_like(sw)
    val_weights, train_weights = xp.where(held_out, sw, zero), xp.where(held_out, zero, sw)
    if totals is None:
        totals = to_numpy(xp, xp.stack([xp.sum(val_weights), xp.sum(train_weights)]))
    total_val = check_total(float(totals[0]), "The early-stopping validation samples all have zero weight")
    total_train = check_total(float(totals[1]), "The early-stopping training samples all have zero weight")
    return train_weights / total_train, val_weights / total_val


def validation_split(Y, kind, validation_fraction, random_state):
    """Stratified (plain for multilabel) train/validation indices."""
    n_samples, labels = Y.shape[0], None
    splitter = ShuffleSplit if kind == "multilabel-indicator" else StratifiedShuffleSplit
    splitter = splitter(n_splits=1, test_size=validation_fraction, random_state=random_state)
    if kind != "multilabel-indicator":
        # sklearn's splitters run on the host: the n class indices go there
        # once (Y itself stays on its device).
        labels = to_numpy(namespace(Y), class_index(Y)).astype(np.intp)
    try:
        train, val = next(splitter.split(np.zeros((n_samples, 1)), labels))
    except ValueError as exc:
        raise ValueError(
            f"early_stopping could not split {n_samples} samples with "
            f"validation_fraction={validation_fraction}: {exc}"
        ) from exc
    if len(val) < 2:
        raise ValueError(
            f"validation_fraction={validation_fraction} leaves {len(val)} validation "
            f"sample(s) out of {n_samples}; early stopping needs at least 2. "
            "Increase validation_fraction or set early_stopping=False."
        )
    if kind != "multilabel-indicator":
        counts = np.bincount(labels[train], minlength=max(2, Y.shape[1]))
        if np.any(counts == 0):
            raise ValueError(
                "The early-stopping split leaves a class without training samples; "
                "decrease validation_fraction or set early_stopping=False."
            )
    return train, val


def sorted_split(counts, kind, validation_fraction, random_state):
    """The early-stopping split of :func:`validation_split` from the class
    ``counts`` alone, for rows sorted by class: a boolean vector (held out).

    The split depends on the labels only through the class counts
    (``StratifiedShuffleSplit`` permutes the positions of each class in order
    of appearance; ``ShuffleSplit`` only sees the length), so entry
    ``start[k] + r`` says whether the ``r``-th row of class ``k`` is held out
    (for multilabel targets: whether row ``r`` is).
    """
    n_samples = int(np.sum(counts))
    labels = np.repeat(np.arange(len(counts)), np.asarray(counts, dtype=np.intp))
    if kind == "multilabel-indicator":
        Y = np.zeros((n_samples, 1), dtype=np.int8)
    elif kind == "binary":
        Y = labels[:, None].astype(np.int8)
    else:
        Y = _indicator(labels, np.arange(len(counts)))
    held_out = np.zeros(n_samples, dtype=bool)
    held_out[validation_split(Y, kind, validation_fraction, random_state)[1]] = True
    return held_out
