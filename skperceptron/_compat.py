# SPDX-License-Identifier: BSD-3-Clause
"""Every private or version-dependent scikit-learn import, in one place."""

import inspect

from sklearn import get_config
from sklearn.base import _fit_context
from sklearn.utils._array_api import (
    _convert_to_numpy,
    _is_numpy_namespace,
    device,
    get_namespace,
    get_namespace_and_device,
    indexing_dtype,
    yield_namespace_device_dtype_combinations,
)
from sklearn.utils._param_validation import Interval, StrOptions

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

try:  # SciPy's own sparse product kernels (private since SciPy 1.8, stable for years)
    from scipy.sparse._sparsetools import csc_matvec, csc_matvecs, csr_matvec, csr_matvecs
except ImportError:  # pragma: no cover - then sparse products stay on one thread
    csc_matvec = csc_matvecs = csr_matvec = csr_matvecs = None

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin

    HAS_CALLBACKS = True
except ImportError:  # pragma: no cover - exercised on older scikit-learn

    class CallbackSupportMixin:
        """Stand-in on scikit-learn < 1.9: no callback support, no methods."""

    HAS_CALLBACKS = False

try:  # scikit-learn >= 1.7 vendors it
    from sklearn.externals import array_api_compat
except ImportError:  # pragma: no cover - older scikit-learn uses the package, if installed
    try:
        import array_api_compat
    except ImportError:
        # No Array API dispatch is possible: every array is NumPy's.
        array_api_compat = None

try:  # scikit-learn >= 1.8
    from sklearn.utils._array_api import move_to
except ImportError:  # pragma: no cover - exercised on older scikit-learn

    def move_to(*arrays, xp, device):
        """Stand-in for sklearn's ``move_to``: through NumPy, one array at a time."""
        moved = []
        for array in arrays:
            if array is not None:
                array_xp = array_api_compat.array_namespace(array)
                array = xp.asarray(_convert_to_numpy(array, array_xp), device=device)
            moved.append(array)
        return moved[0] if len(moved) == 1 else tuple(moved)


try:  # scikit-learn >= 1.9
    from sklearn.utils._array_api import yield_mixed_namespace_input_permutations
except ImportError:  # pragma: no cover - exercised on older scikit-learn

    def yield_mixed_namespace_input_permutations():
        """Stand-in: no mixed-input combinations to check."""
        return iter(())


try:  # scikit-learn >= 1.9
    from sklearn.utils._array_api import check_same_namespace
except ImportError:  # pragma: no cover - exercised on older scikit-learn

    def check_same_namespace(X, estimator, *, attribute, method):
        """Stand-in for sklearn's check: same namespace and device as the fit."""
        if not get_config()["array_api_dispatch"]:
            return
        xp_fit, _, device_fit = get_namespace_and_device(getattr(estimator, attribute))
        xp_X, _, device_X = get_namespace_and_device(X)
        if _is_numpy_namespace(xp_fit) and _is_numpy_namespace(xp_X):
            return
        if xp_fit != xp_X or device_fit != device_X:
            raise ValueError(
                f"Inputs passed to {type(estimator).__name__}.{method}() must use "
                "the same namespace and the same device as those passed to fit()."
            )


__all__ = [
    "_fit_context",
    "Interval",
    "StrOptions",
    "validate_data",
    "_check_sample_weight",
    "CallbackSupportMixin",
    "HAS_CALLBACKS",
    "array_api_compat",
    "check_same_namespace",
    "_convert_to_numpy",
    "_is_numpy_namespace",
    "device",
    "get_namespace",
    "get_namespace_and_device",
    "indexing_dtype",
    "move_to",
    "yield_mixed_namespace_input_permutations",
    "yield_namespace_device_dtype_combinations",
]
