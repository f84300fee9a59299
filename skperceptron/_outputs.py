# SPDX-License-Identifier: BSD-3-Clause
"""From the raw outputs ``X @ coef_.T + intercept_`` to what the predict
methods return: labels (the inverse of the target encoding) and probabilities.
They know nothing of the solver."""

import numpy as np
from scipy.special import logsumexp

from ._backend import column_stack, expit, log_expit, namespace
from ._compat import get_namespace_and_device, indexing_dtype, move_to


def decode_labels(raw, kind, classes):
    """The labels that the raw outputs ``raw`` predict: the class of the
    largest output (of the sign for one output), or the 0/1 indicator matrix
    of the positive outputs for multilabel targets."""
    xp = namespace(raw)
    if xp is np:
        if kind == "multilabel-indicator":
            return (raw > 0).astype(int)
        if raw.ndim == 1:
            return classes[(raw > 0).astype(int)]
        return classes[np.argmax(raw, axis=1)]
    if kind == "multilabel-indicator":
        return xp.astype(raw > 0, indexing_dtype(xp))
    if raw.ndim == 1:
        index = xp.astype(raw > 0, indexing_dtype(xp))
    else:
        index = xp.argmax(raw, axis=1)
    return _take_classes(classes, index)


def probabilities(raw, kind, log=False):
    """Probabilities (their logarithms with ``log``) of the raw outputs.

    Binary: ``(1 - expit(v), expit(v))``.  Multiclass: the K sigmoid outputs
    normalized to sum to one, in log space (finite for any logit).
    Multilabel: the K independent probabilities ``expit(v)``.
    """
    xp = namespace(raw)
    sigmoid = log_expit if log else expit
    if kind == "multilabel-indicator":
        return sigmoid(raw, xp=xp)
    if raw.ndim == 1:
        return column_stack(xp, [sigmoid(-raw, xp=xp), sigmoid(raw, xp=xp)])
    log_unit = log_expit(raw, xp=xp)
    # SciPy's logsumexp runs in the namespace of its input (SCIPY_ARRAY_API=1).
    log_proba = log_unit - logsumexp(log_unit, axis=1, keepdims=True)
    return log_proba if log else xp.exp(log_proba)


def _take_classes(classes, index):
    """``classes[index]`` in the namespace and on the device of ``index``.

    ``classes_`` lives where ``y`` was given (NumPy for string labels): the
    indices move there, and numeric labels come back, as in scikit-learn's
    linear classifiers.
    """
    xp, _, device = get_namespace_and_device(index)
    xp_classes, _, device_classes = get_namespace_and_device(classes)
    labels = xp_classes.take(classes, move_to(index, xp=xp_classes, device=device_classes), axis=0)
    if isinstance(labels, np.ndarray) and labels.dtype.kind in "OUS":
        return labels
    return move_to(labels, xp=xp, device=device)
