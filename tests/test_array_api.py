# SPDX-License-Identifier: BSD-3-Clause
"""The Array API path: fit and predict in the namespace and on the device of X.

Each test runs for array-api-strict (on its default device and on its second,
"device1", where any conversion to NumPy raises) and for PyTorch on the CPU,
and is skipped when the library is not installed.  scikit-learn's Array API
support needs ``SCIPY_ARRAY_API=1`` before SciPy is imported: tests/conftest.py
sets it.
"""

import math
import os
import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import estimator_checks

import skperceptron._backend as backend_module
import skperceptron._rows as rows_module
from skperceptron import BCEPerceptronClassifier
from skperceptron._backend import expit, log_expit
from skperceptron._compat import (
    device as array_device,
    get_namespace,
    move_to,
    yield_mixed_namespace_input_permutations,
    yield_namespace_device_dtype_combinations,
)

needs_dispatch = pytest.mark.skipif(
    os.environ.get("SCIPY_ARRAY_API") != "1",
    reason="scikit-learn's Array API support needs SCIPY_ARRAY_API=1 before SciPy loads",
)

# (library, device name): the namespaces this machine can run.
NAMESPACES = [
    ("array_api_strict", "CPU_DEVICE"),
    ("array_api_strict", "device1"),
    ("torch", "cpu"),
]
DTYPES = ["float64", "float32"]


def library(name, device_name):
    """The library module and a device object of it; skips when not installed."""
    lib = pytest.importorskip(name)
    device = lib.Device(device_name) if name == "array_api_strict" else device_name
    return lib, device


def to_namespace(lib, device, *arrays):
    return [None if a is None else lib.asarray(a, device=device) for a in arrays]


def to_numpy(a):
    return np.asarray(move_to(a, xp=np, device="cpu"))


def namespace_name(a):
    with sklearn.config_context(array_api_dispatch=True):
        return get_namespace(a)[0].__name__


@pytest.fixture(scope="module")
def data():
    """Well-conditioned three-class data; binary and multilabel targets from it."""
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=6, n_redundant=0, n_classes=3, random_state=0
    )
    y_binary = (y > 0).astype(np.int64)
    Y_labels = np.stack([y == 0, y == 1, (y == 2) | (X[:, 0] > 0)], axis=1).astype(np.int64)
    weights = np.random.default_rng(0).uniform(0, 2, size=len(y))
    weights[:20] = 0
    return X, y, y_binary, Y_labels, weights


# Each case: (targets, estimator parameters, use sample weights).
CASES = {
    "binary": ("binary", {}, False),
    "multiclass": ("multiclass", {}, False),
    "multilabel": ("multilabel", {}, False),
    "sample_weight": ("multiclass", {"class_weight": "balanced"}, True),
    # The diagonal metric on both sides: NumPy's "auto" takes proximal Newton
    # steps with an L1 part, which the Array API path does not.
    "elastic_net": ("multiclass", {"l1_ratio": 0.5, "preconditioner": "diagonal"}, False),
    "early_stopping": (
        "multiclass",
        {
            "early_stopping": True,
            "validation_fraction": 0.2,
            "n_iter_no_change": 3,
            "random_state": 0,
        },
        False,
    ),
}


def case_parameters(case, dtype):
    _, params, _ = CASES[case]
    if dtype == "float64":
        # Converged far below the tolerance of the comparison.
        return {"alpha": 1e-2, "tol": 1e-8, **params}
    if case == "elastic_net":
        # In float32 the L1 line search stops where J is flat to float32
        # (1e-4 away from the float64 optimum for the NumPy fit too): compare
        # the same ten iterations instead, which the two paths must agree on.
        return {"alpha": 1e-1, "tol": 0.0, "max_iter": 10, **params}
    return {"alpha": 1e-1, "tol": 1e-5, **params}


def fit_quietly(clf, *args, **kwargs):
    # Where float32 or float64 is flat before tol the fit warns; the results
    # are what these tests compare.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(*args, **kwargs)


@needs_dispatch
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, device_name", NAMESPACES)
def test_same_fit_as_numpy(name, device_name, dtype, case, data):
    lib, device = library(name, device_name)
    X, y, y_binary, Y_labels, weights = data
    targets, _, weighted = CASES[case]
    y = {"binary": y_binary, "multiclass": y, "multilabel": Y_labels}[targets]
    X = X.astype(dtype)
    sample_weight = weights if weighted else None
    params = case_parameters(case, dtype)
    atol = 1e-6 if dtype == "float64" else 1e-4

    ref = fit_quietly(BCEPerceptronClassifier(**params), X, y, sample_weight=sample_weight)
    X_xp, y_xp, sw_xp = to_namespace(lib, device, X, y, sample_weight)
    with sklearn.config_context(array_api_dispatch=True):
        clf = fit_quietly(BCEPerceptronClassifier(**params), X_xp, y_xp, sample_weight=sw_xp)
        proba = to_numpy(clf.predict_proba(X_xp))
        pred = to_numpy(clf.predict(X_xp))

    assert namespace_name(clf.coef_) == namespace_name(X_xp)
    assert clf.coef_.dtype == X_xp.dtype and clf.intercept_.dtype == X_xp.dtype
    assert_allclose(to_numpy(clf.coef_), ref.coef_, rtol=0, atol=atol)
    assert_allclose(to_numpy(clf.intercept_), ref.intercept_, rtol=0, atol=atol)
    assert_allclose(proba, ref.predict_proba(X), rtol=0, atol=atol)
    assert_array_equal(pred, ref.predict(X))
    assert_allclose(clf.loss_curve_[-1], ref.loss_curve_[-1], rtol=atol)
    assert all(isinstance(v, float) for v in clf.loss_curve_)
    assert np.all(np.diff(clf.loss_curve_) <= 0)
    assert clf.n_matvec_ >= clf.n_iter_ and clf.n_rmatvec_ >= clf.n_iter_
    if case == "early_stopping":
        assert clf.best_iteration_ == ref.best_iteration_
        assert_allclose(clf.validation_loss_curve_, ref.validation_loss_curve_, rtol=atol)


@needs_dispatch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("targets", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("name, device_name", NAMESPACES)
def test_outputs_in_the_namespace_and_on_the_device_of_X(name, device_name, targets, dtype, data):
    lib, device = library(name, device_name)
    X, y, y_binary, Y_labels, _ = data
    y = {"binary": y_binary, "multiclass": y, "multilabel": Y_labels}[targets]
    X_xp, y_xp = to_namespace(lib, device, X.astype(dtype), y)
    n_samples, n_outputs = X.shape[0], 1 if targets == "binary" else 3
    with sklearn.config_context(array_api_dispatch=True):
        clf = BCEPerceptronClassifier().fit(X_xp, y_xp)
        outputs = {
            "coef_": (clf.coef_, (n_outputs, X.shape[1])),
            "intercept_": (clf.intercept_, (n_outputs,)),
            "decision_function": (
                clf.decision_function(X_xp),
                (n_samples,) if targets == "binary" else (n_samples, n_outputs),
            ),
            "predict": (clf.predict(X_xp), y.shape),
            "predict_proba": (clf.predict_proba(X_xp), (n_samples, max(2, n_outputs))),
            "predict_log_proba": (clf.predict_log_proba(X_xp), (n_samples, max(2, n_outputs))),
        }
        score = clf.score(X_xp, y_xp)
    for what, (array, shape) in outputs.items():
        assert namespace_name(array) == namespace_name(X_xp), what
        assert array_device(array) == array_device(X_xp), what
        assert tuple(array.shape) == shape, what
        if what != "predict":
            assert array.dtype == X_xp.dtype, what
    proba = to_numpy(outputs["predict_proba"][0])
    assert_allclose(np.exp(to_numpy(outputs["predict_log_proba"][0])), proba, rtol=1e-4)
    if targets != "multilabel":
        assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert isinstance(score, float) and 0.5 < score <= 1.0


@needs_dispatch
@pytest.mark.parametrize(
    "name, device_name, dtype_name",
    [
        combination
        for combination in yield_namespace_device_dtype_combinations()
        if combination[0] in ("array_api_strict", "torch")
        and combination[1] in (None, "cpu", "CPU_DEVICE", "device1")
    ],
)
@pytest.mark.parametrize("check_sample_weight", [False, True])
def test_sklearn_array_api_checks(name, device_name, dtype_name, check_sample_weight):
    pytest.importorskip(name)
    estimator_checks.check_array_api_input(
        "BCEPerceptronClassifier",
        BCEPerceptronClassifier(),
        array_namespace=name,
        device_name=device_name,
        dtype_name=dtype_name,
        check_values=True,
        check_sample_weight=check_sample_weight,
    )


@needs_dispatch
@pytest.mark.parametrize(
    "X_ns_and_device, other_ns_and_device",
    [
        (X_ns, other_ns)
        for other_ns, X_ns, _ in yield_mixed_namespace_input_permutations()
        if {X_ns.xp, other_ns.xp} <= {"numpy", "array_api_strict", "torch"}
        and {X_ns.device, other_ns.device} <= {None, "cpu", "CPU_DEVICE", "device1"}
    ],
    ids=str,
)
def test_sklearn_mixed_inputs_check(X_ns_and_device, other_ns_and_device):
    # X in one namespace, y and sample_weight in another: they follow X.
    for ns in (X_ns_and_device, other_ns_and_device):
        pytest.importorskip(ns.xp)
    estimator_checks.check_array_api_mixed_inputs(
        "BCEPerceptronClassifier",
        BCEPerceptronClassifier(),
        X_ns_and_device=X_ns_and_device,
        other_ns_and_device=other_ns_and_device,
    )


@needs_dispatch
def test_sklearn_same_namespace_check():
    # Predicting on arrays of another namespace than the fit's raises.
    pytest.importorskip("array_api_strict")
    if not hasattr(estimator_checks, "check_array_api_same_namespace"):
        pytest.skip("scikit-learn < 1.9 has no check_array_api_same_namespace")
    estimator_checks.check_array_api_same_namespace(
        "BCEPerceptronClassifier", BCEPerceptronClassifier(), array_namespace="array_api_strict"
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_without_dispatch_inputs_go_to_numpy_as_before(dtype, data):
    torch = pytest.importorskip("torch")
    X, y, *_ = data
    X = X.astype(dtype)
    clf = BCEPerceptronClassifier().fit(torch.asarray(X), torch.asarray(y))
    # As always without dispatch: scikit-learn's validation converts the
    # tensor to NumPy, in float64 (it does not read a torch dtype).
    X = X.astype(np.float64)
    ref = BCEPerceptronClassifier().fit(X, y)
    assert isinstance(clf.coef_, np.ndarray) and clf.coef_.dtype == np.float64
    assert_array_equal(clf.coef_, ref.coef_)
    assert_array_equal(clf.intercept_, ref.intercept_)
    assert clf.loss_curve_ == ref.loss_curve_
    proba = clf.predict_proba(torch.asarray(X))
    assert isinstance(proba, np.ndarray)
    assert_array_equal(proba, ref.predict_proba(X))


@needs_dispatch
@pytest.mark.parametrize(
    "params",
    [{}, {"solver": "gd"}, {"l1_ratio": 0.5}, {"line_search": False}, {"early_stopping": True}],
    ids=["nesterov", "gd", "elastic_net", "fixed_step", "early_stopping"],
)
def test_no_array_of_n_samples_comes_to_the_host(params, monkeypatch):
    # On array-api-strict's "device1" any implicit conversion to NumPy raises,
    # so a fit that runs there converts nothing implicitly; explicit reads to
    # the host all go through one function, watched here: none may carry
    # anything n_samples long (X, Y, the weights, raw predictions,
    # residuals), and there are a few per iteration.  The largest allowed are
    # the (2, p) column moments: "auto" reads only the eigenvalues of the
    # start's scaled Hessian to choose, and the Hessian metric (it picks it
    # here: the columns share a factor) forms, inverts and applies its
    # (p + 1, p + 1) matrices on the device.
    xp, device = library("array_api_strict", "device1")
    X, y = make_classification(n_samples=500, n_features=20, random_state=0)
    X[:, 1:] += X[:, :1]
    shapes = []
    convert = backend_module._convert_to_numpy

    def watched(array, namespace):
        shapes.append(tuple(array.shape))
        return convert(array, namespace)

    monkeypatch.setattr(backend_module, "_convert_to_numpy", watched)
    X_xp, y_xp = to_namespace(xp, device, X, y)
    with pytest.raises((RuntimeError, TypeError, ValueError)):
        np.asarray(X_xp)
    with sklearn.config_context(array_api_dispatch=True):
        clf = fit_quietly(BCEPerceptronClassifier(max_iter=200, **params), X_xp, y_xp)
    assert clf.n_iter_ < X.shape[0]
    n_labels_for_the_split = int(bool(params.get("early_stopping")))
    assert sum(shape[:1] == (X.shape[0],) for shape in shapes) == n_labels_for_the_split
    # Not 1-D: (n_iter,) stacks of scalars.
    blocks = [shape for shape in shapes if len(shape) > 1]
    hessian = clf.preconditioner_ == "hessian"
    assert max(math.prod(shape) for shape in blocks) == 2 * X.shape[1]
    assert hessian == (params.get("l1_ratio", 0) == 0 and params.get("line_search", True))
    assert len(shapes) <= 16 * (clf.n_iter_ + 2)


@pytest.mark.parametrize("params", [{}, {"l1_ratio": 0.5}, {"line_search": False}])
@pytest.mark.parametrize(
    "name, device_name",
    [("numpy", None), *(pytest.param(*ns, marks=needs_dispatch) for ns in NAMESPACES)],
)
def test_float32_stays_float32(name, device_name, params, monkeypatch):
    X, y = make_classification(n_samples=200, n_features=8, random_state=0)
    X = X.astype(np.float32)
    if name == "numpy":
        X_in, y_in = X, y
    else:
        lib, device = library(name, device_name)
        X_in, y_in = to_namespace(lib, device, X, y)
    dtypes = set()
    for product in ("matmul", "rmatmul"):
        original = getattr(rows_module, product)

        def watched(A, B, original=original):
            dtypes.update({str(A.dtype), str(B.dtype)})
            return original(A, B)

        monkeypatch.setattr(rows_module, product, watched)
    with sklearn.config_context(array_api_dispatch=name != "numpy"):
        clf = fit_quietly(BCEPerceptronClassifier(**params), X_in, y_in)
    # Every product with X (and so every iterate, raw prediction, residual)
    # is in float32: never a silent float64 copy of X.
    assert dtypes and all(d.endswith("float32") for d in dtypes)
    assert clf.coef_.dtype == X_in.dtype


@needs_dispatch
@pytest.mark.parametrize("name, device_name", NAMESPACES)
def test_expit_and_log_expit_are_stable_in_the_namespace(name, device_name):
    lib, device = library(name, device_name)
    values = np.array([-1000.0, -40.0, -1.0, 0.0, 2.0, 40.0, 1000.0])
    (v,) = to_namespace(lib, device, values)
    dispatch = sklearn.config_context(array_api_dispatch=True)
    with dispatch, np.errstate(over="raise", invalid="raise"):
        xp = backend_module.namespace(v)
        p, logp = expit(v, xp=xp), log_expit(v, xp=xp)
    assert namespace_name(p) == namespace_name(v) == namespace_name(logp)
    assert array_device(p) == array_device(v) == array_device(logp)
    with np.errstate(over="ignore"):
        expected = 1 / (1 + np.exp(-values))
    assert_allclose(to_numpy(p), expected, rtol=1e-15, atol=0)
    assert_allclose(to_numpy(logp), -np.logaddexp(0, -values), rtol=1e-15)
    assert np.all(np.isfinite(to_numpy(logp)))


@needs_dispatch
@pytest.mark.parametrize("name, device_name", NAMESPACES)
def test_warm_start_and_objective_in_the_namespace(name, device_name, data):
    lib, device = library(name, device_name)
    X, y, *_ = data
    X_xp, y_xp = to_namespace(lib, device, X, y)
    with sklearn.config_context(array_api_dispatch=True):
        clf = BCEPerceptronClassifier(warm_start=True).fit(X_xp, y_xp)
        first = clf.n_iter_
        # Restarted at its own optimum: converged at once.
        clf.fit(X_xp, y_xp)
        value = clf.objective(X_xp, y_xp)
    assert first > 1 and clf.n_iter_ == 1
    assert value == pytest.approx(clf.loss_curve_[-1], rel=1e-10)
