# SPDX-License-Identifier: BSD-3-Clause
"""Input validation: targets to the (n, K) matrix Y, weights to ``sw``, splits."""

import numpy as np
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit
from sklearn.utils import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from ._compat import _check_sample_weight


def encode_targets(y):
    """Classes and the target matrix.

    Returns ``(classes, Y_int, kind)`` where ``Y_int`` is (n, K) of 0/1,
    ``K = 1`` for binary targets, ``n_classes`` for multiclass and ``n_labels``
    for a multilabel indicator matrix; ``kind`` is "binary", "multiclass" or
    "multilabel-indicator".
    """
    check_classification_targets(y)
    kind = type_of_target(y, input_name="y")
    if kind == "multilabel-indicator":
        Y = np.asarray(y.toarray() if hasattr(y, "toarray") else y)
        classes = np.arange(Y.shape[1])
        return classes, (Y > 0).astype(np.int8), kind
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    # np.unique keeps the labels' dtype (object stays object).
    classes, index = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"y has only one class ({classes[0]!r}): a classifier needs samples "
            "of at least 2 classes."
        )
    if len(classes) == 2:
        return classes, (index == 1).astype(np.int8)[:, None], "binary"
    Y = np.zeros((len(y), len(classes)), dtype=np.int8)
    Y[np.arange(len(y)), index] = 1
    return classes, Y, "multiclass"


def fold_weights(y, Y, kind, sample_weight, class_weight, n_samples, dtype):
    """``s_i = sample_weight_i * class_weight[y_i]``, checked and summing to one.

    Returns ``(sw, S)`` with ``S`` the sum before normalization.  Fitting never
    writes into the caller's ``sample_weight``.
    """
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, np.empty((n_samples, 0)), dtype=np.float64, copy=True
        )
        if np.any(sample_weight < 0):
            raise ValueError("sample_weight must be non-negative; got negative values.")
    sw = np.ones(n_samples) if sample_weight is None else sample_weight
    if class_weight is not None:
        if kind == "multilabel-indicator":
            raise ValueError(
                "class_weight is not supported for multilabel targets; "
                "pass sample_weight instead."
            )
        sw = sw * compute_sample_weight(class_weight, np.asarray(y))
    S = float(sw.sum())
    if not S > 0:
        raise ValueError(
            "The sample weights sum to zero: at least one sample needs a positive weight."
        )
    return (sw / S).astype(dtype), S


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
        labels = Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0].astype(np.intp)
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
