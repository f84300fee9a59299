# SPDX-License-Identifier: BSD-3-Clause
"""Every private or version-dependent scikit-learn import, in one place."""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

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
