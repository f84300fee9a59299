# SPDX-License-Identifier: BSD-3-Clause
"""Helpers shared by test modules (pytest puts tests/ on the import path)."""

import warnings

import numpy as np
from numpy.testing import assert_allclose


def fit_strictly(clf, X, y, **fit_params):
    """Fit with every warning an error, ConvergenceWarning included."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return clf.fit(X, y, **fit_params)


def assert_close_to(actual, desired, rtol):
    """Relative to the largest entry of ``desired``, so small entries do not dominate."""
    desired = np.asarray(desired, dtype=np.float64)
    assert_allclose(actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max())
