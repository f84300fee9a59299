# SPDX-License-Identifier: BSD-3-Clause
"""Property-based tests: any small data set fits cleanly or is rejected with ValueError."""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier

LABEL_SETS = {
    "int": np.array([-2, 0, 3, 7]),
    "str": np.array(["a", "b", "c", "d"]),
    "bool": np.array([False, True]),
}


@st.composite
def datasets(draw):
    n_samples = draw(st.integers(2, 30))
    n_features = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    label_type = draw(st.sampled_from(sorted(LABEL_SETS)))
    labels = LABEL_SETS[label_type]
    n_classes = draw(st.integers(2, min(4, len(labels))))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scale = 10.0 ** draw(st.integers(-3, 3))
    X = (scale * rng.standard_normal((n_samples, n_features))).astype(dtype)
    # Codes may miss classes, or be a single class: then fit must say so.
    y = labels[:n_classes][rng.integers(0, n_classes, n_samples)]
    sample_weight = None
    if draw(st.booleans()):
        sample_weight = rng.uniform(0.1, 5.0, n_samples)
    alpha = draw(st.sampled_from([0.0, 1e-4, 1e-1]))
    return X, y, sample_weight, alpha


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets())
def test_fit_succeeds_or_raises_value_error(data):
    X, y, sample_weight, alpha = data
    clf = BCEPerceptronClassifier(alpha=alpha, max_iter=200)
    n_distinct = len(np.unique(y))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            clf.fit(X, y, sample_weight=sample_weight)
        except ValueError:
            # The only data these strategies draw that cannot be fitted.
            assert n_distinct < 2
            return
        proba = clf.predict_proba(X)
        log_proba = clf.predict_log_proba(X)
        pred = clf.predict(X)
    assert n_distinct >= 2
    assert np.all(np.isfinite(clf.coef_)) and np.all(np.isfinite(clf.intercept_))
    assert clf.coef_.dtype == X.dtype
    assert np.all(np.isfinite(clf.loss_curve_))
    assert np.all(np.diff(clf.loss_curve_) <= 0)
    assert proba.shape == (len(y), n_distinct)
    assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1))
    assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(np.isfinite(log_proba))
    assert_array_equal(clf.classes_, np.unique(y))
    assert set(np.unique(pred)) <= set(np.unique(y))
    assert pred.dtype.kind == y.dtype.kind


def gradient_mapping(clf, X, y):
    """max |gradient mapping| of J at the fitted coefficients, written
    independently of the package: one sigmoid unit per class (one for binary),
    uniform weights, intercepts unpenalized."""
    classes = np.unique(y)
    Y = (y[:, None] == classes[None, :]).astype(float)
    if len(classes) == 2:
        Y = Y[:, 1:]
    W, b = clf.coef_, clf.intercept_
    residual = expit(X @ W.T + b) - Y
    l1 = clf.alpha * clf.l1_ratio
    grad_W = residual.T @ X / len(y) + clf.alpha * (1 - clf.l1_ratio) * W
    mapping = W - np.sign(W - grad_W) * np.maximum(np.abs(W - grad_W) - l1, 0)
    return max(np.abs(mapping).max(), np.abs(residual.mean(axis=0)).max())


@st.composite
def well_posed_problems(draw):
    n_classes = draw(st.sampled_from([2, 3]))
    n_samples = draw(st.integers(20, 150))
    n_features = draw(st.integers(1, 8))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)) @ rng.standard_normal(
        (n_features, n_features)
    )
    X = StandardScaler().fit_transform(X)
    logits = X @ rng.standard_normal((n_features, n_classes))
    y = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
    y[:n_classes] = np.arange(n_classes)  # every class present
    alpha = 10.0 ** draw(st.floats(-4, 0))
    l1_ratio = draw(st.sampled_from([0.0, 0.5, 1.0]))
    # With an L1 part "hessian" is the proximal Newton metric.
    preconditioner = draw(st.sampled_from(["diagonal", "hessian"]))
    return X, y, alpha, l1_ratio, preconditioner


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(well_posed_problems())
def test_well_posed_fit_reaches_a_tight_tol_without_warning(problem):
    """Standardized features, alpha in [1e-4, 1]: the fit reaches tol=1e-8
    whichever BLAS kernel computes it, and says nothing (pytest turns a
    ConvergenceWarning into an error)."""
    X, y, alpha, l1_ratio, preconditioner = problem
    clf = BCEPerceptronClassifier(
        alpha=alpha, l1_ratio=l1_ratio, preconditioner=preconditioner, tol=1e-8, max_iter=20_000
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)
    assert gradient_mapping(clf, X, y) <= 1e-8 * (1 + 1e-6)
