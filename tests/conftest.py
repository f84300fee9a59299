# SPDX-License-Identifier: BSD-3-Clause
"""Shared fixtures: small standardized data sets, loaded once per session."""

import os
from importlib.metadata import version

# scikit-learn's Array API support (tests/test_array_api.py, and the Array API
# checks of test_common.py) needs SciPy's, which is read once, when SciPy is
# first imported: before any import below.  scikit-learn refuses dispatch
# with a SciPy older than 1.14; there (the dependency floors) the Array API
# tests skip.
if tuple(int(part) for part in version("scipy").split(".")[:2]) >= (1, 14):
    os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.preprocessing import StandardScaler


def pytest_configure(config):
    # Every ConvergenceWarning a test provokes is asserted with pytest.warns;
    # any other fails the test instead of printing noise.  Here, not in
    # pyproject.toml, where naming the class would import SciPy too early.
    config.addinivalue_line("filterwarnings", "error::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="session")
def breast_cancer():
    """Standardized breast-cancer data (569 x 30, binary)."""
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def iris():
    """Standardized iris data (150 x 4, three classes)."""
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture
def rng():
    return np.random.default_rng(0)
