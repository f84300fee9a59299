# SPDX-License-Identifier: BSD-3-Clause
"""Every private or version-dependent scikit-learn import, in one place."""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
import inspect

from sklearn.utils.validation import _check_sample_weight as _sklearn_check_sample_weight
from sklearn.utils.validation import validate_data

_ALLOWS_ZERO = "allow_all_zero_weights" in inspect.signature(
    _sklearn_check_sample_weight
).parameters


def _check_sample_weight(sample_weight, X, **kwargs):
    """sklearn's check, leaving all-zero weights to our own clearer message."""
    if _ALLOWS_ZERO:
        kwargs["allow_all_zero_weights"] = True
    return _sklearn_check_sample_weight(sample_weight, X, **kwargs)

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin

    HAS_CALLBACKS = True
except ImportError:  # pragma: no cover - exercised on older scikit-learn

    class CallbackSupportMixin:
        """Stand-in on scikit-learn < 1.9: no callback support, no methods."""

    HAS_CALLBACKS = False

__all__ = [
    "_fit_context",
    "Interval",
    "StrOptions",
    "validate_data",
    "_check_sample_weight",
    "CallbackSupportMixin",
    "HAS_CALLBACKS",
]
