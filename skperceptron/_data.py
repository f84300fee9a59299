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
from sklearn.utils import compute_sample_weight
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from ._backend import astype, from_host, input_namespace, namespace, to_numpy
from ._compat import (
    _check_sample_weight,
    device as array_device,
    move_to,
    validate_data,
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
        _, data.val = validation_split(
            Y, kind, estimator.validation_fraction, estimator.random_state
        )
        # The held-out rows stay in X with zero training weight: no copy of
        # X, and their raw predictions come for free with the training ones.
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
    xp = namespace(y) if not hasattr(y, "toarray") else np
    if xp is not np:
        return _encode_targets_xp(xp, y, kind)
    if kind == "multilabel-indicator":
        Y = _multilabel_indicator(y)
        return np.arange(Y.shape[1]), Y, kind
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    return _encode_labels(y)


def _plain_labels(y):
    """Whether ``y`` is a 1-D NumPy vector whose target type :func:`_encode_labels`
    can tell alone: integers, booleans, strings, or floats that are all whole
    (other floats are continuous targets, left to ``type_of_target``'s error)."""
    if not (isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "biufU"):
        return False
    return y.dtype.kind != "f" or bool(np.all(np.isfinite(y) & (y == np.round(y))))


def _encode_labels(y):
    """Classes and Y of a 1-D vector of class labels."""
    # np.unique keeps the labels' dtype (object stays object).  Its
    # return_inverse costs about 5 n-vectors of int64 at once; the positions
    # found by searchsorted in the sorted classes are the same indices.
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(
            f"y has only one class ({_label(classes[0])}): a classifier needs samples "
            "of at least 2 classes."
        )
    return classes, _indicator(y, classes), "binary" if len(classes) == 2 else "multiclass"


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


def _indicator(y, classes):
    """Labels ``y``, all in the sorted ``classes``, as (n, K) int8 0/1: one
    column (``y == classes[1]``) for two classes, else one per class."""
    if len(classes) == 2:
        return (y == classes[1]).astype(np.int8)[:, None]
    Y = np.zeros((len(y), len(classes)), dtype=np.int8)
    Y[np.arange(len(y)), np.searchsorted(classes, y)] = 1
    return Y


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


def _encode_targets_xp(xp, y, kind):
    """:func:`encode_targets` in the namespace of ``y``: same classes, same Y."""
    if kind == "multilabel-indicator":
        return np.arange(y.shape[1]), xp.astype(y > 0, xp.int8), kind
    if y.ndim == 2 and y.shape[1] == 1:
        y = xp.reshape(y, (-1,))
    # Sorted like np.unique (the standard leaves the order of unique_values open).
    classes = xp.sort(xp.unique_values(y))
    n_classes = classes.shape[0]
    if n_classes < 2:
        raise ValueError(
            f"y has only one class ({_label(to_numpy(xp, classes)[0])}): a classifier needs "
            "samples of at least 2 classes."
        )
    index = xp.searchsorted(classes, y)
    if n_classes == 2:
        return classes, xp.astype(index == 1, xp.int8)[:, None], "binary"
    columns = xp.arange(n_classes, dtype=index.dtype, device=array_device(index))
    return classes, xp.astype(index[:, None] == columns[None, :], xp.int8), "multiclass"


def fold_weights(y, Y, kind, sample_weight, class_weight, n_samples, dtype, classes=None):
    """``s_i = sample_weight_i * class_weight[y_i]``, checked and summing to one.

    Returns ``(sw, S)`` with ``S`` the sum before normalization.  Fitting never
    writes into the caller's ``sample_weight``.  When ``Y`` (the encoded
    targets, rows of 0/1) is not a NumPy array, ``sw`` is computed in its
    namespace and on its device, the class weights from ``Y`` and
    ``classes``.
    """
    xp = namespace(Y)
    if xp is not np:
        return _fold_weights_xp(xp, Y, kind, sample_weight, class_weight, dtype, classes)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, np.empty((n_samples, 0)), dtype=np.float64, copy=True
        )
        if np.any(sample_weight < 0):
            raise ValueError("sample_weight must be non-negative; got negative values.")
    if sample_weight is None and class_weight is None:
        # Equal weights: one number seen as a read-only (n,) array of stride 0,
        # which costs no memory (an n-vector fewer in every fit).
        return np.broadcast_to(np.asarray(1.0 / n_samples, dtype=dtype), (n_samples,)), float(
            n_samples
        )
    sw = np.ones(n_samples) if sample_weight is None else sample_weight
    if class_weight is not None:
        if kind == "multilabel-indicator":
            raise ValueError(
                "class_weight is not supported for multilabel targets; "
                "pass sample_weight instead."
            )
        sw = sw * compute_sample_weight(class_weight, column_or_1d(host_array(y)))
    S = float(sw.sum())
    if not S > 0:
        raise ValueError(
            "The sample weights sum to zero: at least one sample needs a positive weight."
        )
    return (sw / S).astype(dtype), S


def _class_weights(class_weight, classes, Y):
    """:func:`class_weights` with the class counts read from the columns of ``Y``."""
    counts = None
    if class_weight == "balanced":
        xp = namespace(Y)
        counts = to_numpy(xp, xp.sum(Y, axis=0)).astype(np.float64)
        if Y.shape[1] == 1:  # binary: the one column counts the second class
            counts = np.concatenate([Y.shape[0] - counts, counts])
    return class_weights(class_weight, classes, counts)


def class_weights(class_weight, classes, counts):
    """Weight of each class, a float64 NumPy array: K numbers, on the host.

    As ``compute_sample_weight``: "balanced" is ``n / (n_classes * count)``
    with the unweighted ``counts`` of the classes (needed only then).
    """
    if class_weight == "balanced":
        counts = np.asarray(counts, dtype=np.float64)
        return counts.sum() / (len(counts) * counts)
    classes = to_numpy(namespace(classes), classes)
    return np.asarray(
        compute_class_weight(class_weight, classes=classes, y=classes), dtype=np.float64
    )


def _fold_weights_xp(xp, Y, kind, sample_weight, class_weight, dtype, classes):
    """:func:`fold_weights` in the namespace and on the device of ``Y``."""
    device = array_device(Y)
    # Y stands in for X: the weights are checked against its rows and moved
    # to its namespace and device (float64 where the device has it).
    sw = _check_sample_weight(sample_weight, Y, dtype=xp.float64, copy=sample_weight is not None)
    if sample_weight is not None and bool(xp.any(sw < 0)):
        raise ValueError("sample_weight must be non-negative; got negative values.")
    if class_weight is not None:
        if kind == "multilabel-indicator":
            raise ValueError(
                "class_weight is not supported for multilabel targets; "
                "pass sample_weight instead."
            )
        weights = from_host(xp, _class_weights(class_weight, classes, Y), sw.dtype, device)
        if Y.shape[1] == 1:
            index = xp.astype(Y[:, 0] > 0, xp.int64)
        else:
            index = xp.argmax(Y, axis=1)
        sw = sw * xp.take(weights, index, axis=0)
    S = float(xp.sum(sw))
    if not S > 0:
        raise ValueError(
            "The sample weights sum to zero: at least one sample needs a positive weight."
        )
    return xp.astype(sw / S, dtype), S


def holdout_weights(sw, val):
    """Training weights with the validation rows ``val`` zeroed, and the
    full-length validation weights (zero off ``val``), each summing to one."""
    xp = namespace(sw)
    if xp is np:
        total_val = sw[val].sum()
        if not total_val > 0:
            raise ValueError("The early-stopping validation samples all have zero weight.")
        val_weights = np.zeros_like(sw)
        val_weights[val] = sw[val] / total_val
        sw = sw.copy()
        sw[val] = 0
        if not sw.sum() > 0:
            raise ValueError("The early-stopping training samples all have zero weight.")
        sw /= sw.sum()
        return sw, val_weights
    is_val = np.zeros(sw.shape[0], dtype=bool)
    is_val[val] = True
    is_val = xp.asarray(is_val, device=array_device(sw))
    zero = xp.zeros_like(sw)
    val_weights = xp.where(is_val, sw, zero)
    train_weights = xp.where(is_val, zero, sw)
    total_val, total_train = (float(v) for v in to_numpy(
        xp, xp.stack([xp.sum(val_weights), xp.sum(train_weights)])
    ))
    if not total_val > 0:
        raise ValueError("The early-stopping validation samples all have zero weight.")
    if not total_train > 0:
        raise ValueError("The early-stopping training samples all have zero weight.")
    return train_weights / total_train, val_weights / total_val


def validation_split(Y, kind, validation_fraction, random_state):
    """Stratified (plain for multilabel) train/validation indices."""
    n_samples = Y.shape[0]
    if kind == "multilabel-indicator":
        splitter = ShuffleSplit(
            n_splits=1, test_size=validation_fraction, random_state=random_state
        )
        labels = None
    else:
        splitter = StratifiedShuffleSplit(
            n_splits=1, test_size=validation_fraction, random_state=random_state
        )
        xp = namespace(Y)
        if xp is np:
            labels = Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0].astype(np.intp)
        else:
            # sklearn's splitters run on the host: the n class indices go
            # there once (Y itself stays on its device).
            labels = xp.argmax(Y, axis=1) if Y.shape[1] > 1 else xp.astype(Y[:, 0], xp.int64)
            labels = to_numpy(xp, labels).astype(np.intp)
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
