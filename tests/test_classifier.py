# SPDX-License-Identifier: BSD-3-Clause
"""BCEPerceptronClassifier: outputs, weights, numerics, input handling, errors.

The equivalences with LogisticRegression (binary, one-vs-rest) are in
``test_equivalence.py``.
"""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils import compute_sample_weight
from sklearn.utils._param_validation import InvalidParameterError

from skperceptron import BCEPerceptronClassifier

from _helpers import assert_close_to, fit_strictly

SOLVERS = ["gd", "nesterov"]
PRECONDITIONERS = [None, "diagonal"]


def fit_quietly(clf, X, y, **fit_params):
    """Fit with every warning an error, except ConvergenceWarning (ignored)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y, **fit_params)


def small_multiclass(n_samples=120, seed=0):
    return make_classification(
        n_samples=n_samples, n_features=5, n_informative=4, n_redundant=0,
        n_classes=3, n_clusters_per_class=1, random_state=seed,
    )


# -- outputs -------------------------------------------------------------------
def test_multiclass_probabilities_are_normalized_sigmoids(iris):
    X, y = iris
    clf = fit_quietly(BCEPerceptronClassifier(alpha=1e-2), X, y)
    raw = clf.decision_function(X)
    assert raw.shape == (150, 3)
    assert_allclose(raw, X @ clf.coef_.T + clf.intercept_, rtol=1e-12)
    units = expit(raw)
    proba = clf.predict_proba(X)
    assert_allclose(proba, units / units.sum(axis=1, keepdims=True), rtol=1e-12)
    assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-12)
    assert_array_equal(clf.predict(X), clf.classes_[raw.argmax(axis=1)])


# -- weights ---------------------------------------------------------------------
WEIGHT_PARAMS = dict(alpha=1e-2, tol=1e-8, max_iter=5000)


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_integer_weights_equal_repeated_rows(kind):
    X, y = small_multiclass(60)
    if kind == "binary":
        y = (y == 1).astype(int)
    repeats = np.random.default_rng(0).integers(0, 4, len(y))
    weighted = fit_strictly(BCEPerceptronClassifier(**WEIGHT_PARAMS), X, y, sample_weight=repeats)
    repeated = fit_strictly(
        BCEPerceptronClassifier(**WEIGHT_PARAMS), np.repeat(X, repeats, axis=0), np.repeat(y, repeats)
    )
    assert_close_to(weighted.coef_, repeated.coef_, 1e-7)
    assert_close_to(weighted.intercept_, repeated.intercept_, 1e-7)


def test_zero_weight_equals_dropping_rows():
    X, y = small_multiclass(60)
    sw = np.ones(len(y))
    sw[::4] = 0.0
    # The dropped rows get wild values: they must not leak into the fit.
    X = X.copy()
    X[::4] *= 1e3
    weighted = fit_strictly(BCEPerceptronClassifier(**WEIGHT_PARAMS), X, y, sample_weight=sw)
    dropped = fit_strictly(BCEPerceptronClassifier(**WEIGHT_PARAMS), X[sw > 0], y[sw > 0])
    assert_close_to(weighted.coef_, dropped.coef_, 1e-8)
    assert_close_to(weighted.intercept_, dropped.intercept_, 1e-8)


def test_scaling_all_weights_changes_nothing():
    X, y = small_multiclass(60)
    sw = np.random.default_rng(1).uniform(0.1, 2.0, len(y))
    a = fit_strictly(BCEPerceptronClassifier(**WEIGHT_PARAMS), X, y, sample_weight=sw)
    b = fit_strictly(BCEPerceptronClassifier(**WEIGHT_PARAMS), X, y, sample_weight=10 * sw)
    # sw / S is then equal up to rounding: the same optimum, to the accuracy of
    # the fit (tol / alpha); without the normalization alpha would act 10x weaker.
    assert_close_to(a.coef_, b.coef_, 1e-6)
    assert_close_to(a.intercept_, b.intercept_, 1e-6)
    # A power of two scales without rounding: then the fit is bitwise the same.
    c = fit_strictly(BCEPerceptronClassifier(**WEIGHT_PARAMS), X, y, sample_weight=8 * sw)
    assert_array_equal(a.coef_, c.coef_)
    assert_array_equal(a.intercept_, c.intercept_)
    assert a.n_iter_ == c.n_iter_


def test_class_weight_balanced_equals_sample_weight():
    X, y = small_multiclass(90)
    keep = (y != 2) | (np.arange(len(y)) % 3 == 0)  # make the classes unbalanced
    X, y = X[keep], y[keep]
    balanced = fit_strictly(BCEPerceptronClassifier(class_weight="balanced", **WEIGHT_PARAMS), X, y)
    sw = compute_sample_weight("balanced", y)
    explicit = fit_strictly(BCEPerceptronClassifier(**WEIGHT_PARAMS), X, y, sample_weight=sw)
    plain = fit_strictly(BCEPerceptronClassifier(**WEIGHT_PARAMS), X, y)
    assert_close_to(balanced.coef_, explicit.coef_, 1e-9)
    assert_close_to(balanced.intercept_, explicit.intercept_, 1e-9)
    # And the weighting has an effect at all.
    assert np.abs(balanced.intercept_ - plain.intercept_).max() > 1e-2


def test_class_weight_dict_multiplies_sample_weight():
    X, y = small_multiclass(60)
    sw = np.random.default_rng(2).uniform(0.5, 1.5, len(y))
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    a = fit_strictly(
        BCEPerceptronClassifier(class_weight=class_weight, **WEIGHT_PARAMS), X, y, sample_weight=sw
    )
    b = fit_strictly(
        BCEPerceptronClassifier(**WEIGHT_PARAMS), X, y,
        sample_weight=sw * np.array([1.0, 3.0, 0.5])[y],
    )
    assert_close_to(a.coef_, b.coef_, 1e-9)


# -- monotonicity and robustness -----------------------------------------------------
def badly_scaled_problem(seed=0):
    X, y = make_classification(n_samples=200, n_features=8, random_state=seed)
    u = np.random.default_rng(seed).uniform(-3, 3, X.shape[1])
    return X * 10.0**u, y


def assert_non_increasing(curve):
    curve = np.asarray(curve)
    assert np.all(np.isfinite(curve))
    assert np.all(np.diff(curve) <= 0), np.diff(curve).max()


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("preconditioner", PRECONDITIONERS)
@pytest.mark.parametrize("learning_rate", ["auto", 1e3])
def test_loss_curve_non_increasing_with_line_search(solver, preconditioner, learning_rate):
    X, y = badly_scaled_problem(1)
    clf = fit_quietly(
        BCEPerceptronClassifier(
            alpha=1e-4, solver=solver, preconditioner=preconditioner,
            learning_rate=learning_rate, max_iter=300,
        ),
        X, y,
    )
    assert len(clf.loss_curve_) == clf.n_iter_
    assert clf.n_iter_ >= 2
    assert_non_increasing(clf.loss_curve_)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    # The curve records the real objective, not a byproduct of the solver.
    assert_allclose(clf.objective(X, y), clf.loss_curve_[-1], rtol=1e-6)


@pytest.mark.parametrize(
    "params",
    [{}, {"preconditioner": None, "solver": "gd"}],
    ids=["defaults", "plain-gd"],
)
def test_badly_scaled_features_no_overflow(params):
    """The seed's failure mode: columns scaled by 10**u, u in [-3, 3], alpha=0."""
    X, y = badly_scaled_problem(0)
    clf = BCEPerceptronClassifier(alpha=0.0, **params)
    fit_quietly(clf, X, y)  # any RuntimeWarning (overflow, invalid) is an error here
    for values in (clf.coef_, clf.intercept_, clf.loss_curve_):
        assert np.all(np.isfinite(values))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = clf.predict_proba(X)
        log_proba = clf.predict_log_proba(X)
    assert np.all(np.isfinite(proba)) and np.all(np.isfinite(log_proba))
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_non_increasing(clf.loss_curve_)
    # It learned something: far better than the prior.
    assert clf.score(X, y) > 0.8


@pytest.mark.parametrize("preconditioner", PRECONDITIONERS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_fixed_huge_step_diverges_gracefully(preconditioner, solver):
    X, y = badly_scaled_problem(0)
    clf = BCEPerceptronClassifier(
        line_search=False, learning_rate=1e8, preconditioner=preconditioner, solver=solver,
        max_iter=200,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("error")
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(X, y)
    assert [w.category for w in caught] == [ConvergenceWarning]
    assert np.all(np.isfinite(clf.coef_)) and np.all(np.isfinite(clf.intercept_))
    assert np.all(np.isfinite(clf.loss_curve_))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(np.isfinite(clf.predict_proba(X)))


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fixed_step_gd_is_the_textbook_loop(kind, fit_intercept):
    X, y = small_multiclass(50, seed=3)
    if kind == "binary":
        y = (y == 0).astype(int)
    sw = np.random.default_rng(3).uniform(0.5, 2.0, len(y))
    alpha, eta, n_steps = 0.1, 0.05, 3
    clf = BCEPerceptronClassifier(
        alpha=alpha, learning_rate=eta, line_search=False, preconditioner=None, solver="gd",
        max_iter=n_steps, tol=0.0, fit_intercept=fit_intercept,
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y, sample_weight=sw)

    Y = (y[:, None] == 1) if kind == "binary" else (y[:, None] == np.arange(3))
    Y = Y.astype(float)
    s = sw / sw.sum()
    W = np.zeros((Y.shape[1], X.shape[1]))
    p = s @ Y
    b = np.log(p / (1 - p)) if fit_intercept else np.zeros(Y.shape[1])
    losses = []
    for _ in range(n_steps):
        residual = s[:, None] * (expit(X @ W.T + b) - Y)
        grad_W = residual.T @ X + alpha * W
        grad_b = residual.sum(axis=0)
        W = W - eta * grad_W
        if fit_intercept:
            b = b - eta * grad_b
        v = X @ W.T + b
        bce = np.logaddexp(0, v) - Y * v
        losses.append(s @ bce.sum(axis=1) + 0.5 * alpha * np.sum(W * W))
    assert clf.n_iter_ == n_steps
    assert_allclose(clf.coef_, W, rtol=1e-10, atol=1e-14)
    assert_allclose(clf.intercept_, b, rtol=1e-10, atol=1e-14)
    assert_allclose(clf.loss_curve_, losses, rtol=1e-10)


# -- dtypes, formats, inputs ------------------------------------------------------
@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_float32_stays_float32(kind):
    X, y = small_multiclass(80)
    if kind == "binary":
        y = (y == 0).astype(int)
    X32 = X.astype(np.float32)
    clf = fit_quietly(BCEPerceptronClassifier(alpha=1e-2), X32, y)
    assert clf.coef_.dtype == np.float32
    assert clf.intercept_.dtype == np.float32
    assert clf.decision_function(X32).dtype == np.float32
    ref = fit_quietly(BCEPerceptronClassifier(alpha=1e-2), X, y)
    assert_close_to(clf.coef_, ref.coef_, 1e-3)
    assert_allclose(clf.predict_proba(X32), ref.predict_proba(X), atol=1e-3)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("preconditioner", PRECONDITIONERS)
@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_sparse_equals_dense(fmt, preconditioner, kind):
    X, y = small_multiclass(80)
    if kind == "binary":
        y = (y == 0).astype(int)
    X = X + 1.0  # non-centred columns: the implicit centring must be exact
    X[np.random.default_rng(0).random(X.shape) < 0.5] = 0.0
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    params = dict(alpha=1e-2, tol=1e-8, max_iter=5000, preconditioner=preconditioner)
    dense = fit_strictly(BCEPerceptronClassifier(**params), X, y, sample_weight=sw)
    Xs = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    sparse = fit_strictly(BCEPerceptronClassifier(**params), Xs, y, sample_weight=sw)
    assert_close_to(sparse.coef_, dense.coef_, 1e-6)
    assert_close_to(sparse.intercept_, dense.intercept_, 1e-6)
    assert_allclose(sparse.predict_proba(Xs), dense.predict_proba(X), atol=1e-6)
    assert_allclose(sparse.decision_function(Xs), dense.decision_function(X), atol=1e-6)


def test_dataframe_sets_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = small_multiclass(40)
    columns = [f"f{j}" for j in range(X.shape[1])]
    df = pd.DataFrame(X, columns=columns)
    clf = fit_quietly(BCEPerceptronClassifier(), df, pd.Series(y))
    assert_array_equal(clf.feature_names_in_, columns)
    assert clf.n_features_in_ == X.shape[1]
    assert_allclose(clf.decision_function(df), X @ clf.coef_.T + clf.intercept_, rtol=1e-12)
    assert not hasattr(fit_quietly(BCEPerceptronClassifier(), X, y), "feature_names_in_")


@pytest.mark.parametrize("sparse", [False, True])
def test_fit_does_not_modify_inputs(sparse):
    X, y = small_multiclass(40)
    X = np.asfortranarray(X)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    if sparse:
        X = sp.csr_matrix(X)
    X_copy, y_copy, sw_copy = X.copy(), y.copy(), sw.copy()
    clf = BCEPerceptronClassifier(class_weight="balanced", early_stopping=True, random_state=0)
    fit_quietly(clf, X, y, sample_weight=sw)
    fit_quietly(BCEPerceptronClassifier(), X, y, sample_weight=sw)
    if sparse:
        assert (X != X_copy).nnz == 0
    else:
        assert_array_equal(X, X_copy)
    assert_array_equal(y, y_copy)
    assert_array_equal(sw, sw_copy)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog"]),
        np.array([False, True]),
        np.array([-3, -1]),
        np.array(["a", "bb", "ccc"], dtype=object),
        np.array([-7, 0, 5]),
    ],
    ids=["str-binary", "bool", "negative-int", "object-multiclass", "int-multiclass"],
)
def test_labels_of_any_type(labels):
    X, y_int = small_multiclass(90)
    y_int = y_int % len(labels)
    y = labels[y_int]
    clf = fit_quietly(BCEPerceptronClassifier(alpha=1e-3), X, y)
    assert_array_equal(clf.classes_, np.sort(labels))
    pred = clf.predict(X)
    assert pred.dtype.kind == y.dtype.kind
    assert set(np.unique(pred)) <= set(labels)
    assert np.mean(pred == y) > 0.7
    # The column order of predict_proba is that of classes_.
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), len(labels))
    assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)


def test_multilabel_outputs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 4))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0.5, X[:, 3] < -0.3]).astype(int)
    clf = fit_quietly(BCEPerceptronClassifier(alpha=1e-3), X, Y)
    assert_array_equal(clf.classes_, [0, 1, 2])
    raw = clf.decision_function(X)
    proba = clf.predict_proba(X)
    pred = clf.predict(X)
    assert raw.shape == proba.shape == pred.shape == (80, 3)
    assert np.all((proba >= 0) & (proba <= 1))
    assert_allclose(proba, expit(raw), rtol=1e-12)
    assert set(np.unique(pred)) <= {0, 1}
    assert_array_equal(pred, (proba > 0.5).astype(int))
    assert_allclose(clf.predict_log_proba(X), -np.logaddexp(0, -raw), rtol=1e-12)
    # Not normalized across labels: rows do not sum to one.
    assert not np.allclose(proba.sum(axis=1), 1.0)
    assert np.mean(pred == Y) > 0.9


# -- extreme logits ----------------------------------------------------------------
EXTREME = np.array([1e-8, -1e-8, 35.0, -35.0, 89.0, -89.0, 710.0, -710.0, 1e4, -1e4])


def _log_expit_reference(v):
    """``log(expit(v)) = -log(1 + exp(-v))``, stable in float64."""
    return -np.logaddexp(0.0, -np.asarray(v, dtype=np.float64))


def _with_logits(clf, dtype):
    """Set a fitted one-feature model to ``raw = x``: X is then the logits."""
    # Binary: the one unit is v; multiclass: the three units are (v, -v, 0).
    units = [[1.0]] if clf.coef_.shape[0] == 1 else [[1.0], [-1.0], [0.0]]
    clf.coef_ = np.array(units, dtype=dtype)
    clf.intercept_ = np.zeros(clf.coef_.shape[0], dtype=dtype)
    return clf


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_predictions_at_extreme_logits(dtype):
    X_fit = np.array([[-1.0], [1.0], [-2.0], [2.0]], dtype=dtype)
    clf = _with_logits(fit_quietly(BCEPerceptronClassifier(), X_fit, [0, 1, 0, 1]), dtype)
    X = EXTREME[:, None].astype(dtype)
    v = X[:, 0].astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        raw = clf.decision_function(X)
        proba = clf.predict_proba(X)
        log_proba = clf.predict_log_proba(X)
        pred = clf.predict(X)
    assert_array_equal(raw, X[:, 0])
    assert np.all(np.isfinite(proba)) and np.all(np.isfinite(log_proba))
    eps, tiny = np.finfo(dtype).eps, np.finfo(dtype).tiny
    log_ref = np.column_stack([_log_expit_reference(-v), _log_expit_reference(v)])
    assert_allclose(log_proba, log_ref, rtol=4 * eps, atol=4 * eps)
    assert_allclose(proba, np.exp(log_ref), rtol=4 * eps, atol=tiny)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=4 * eps)
    # Exact spot values: log P(y=0 | v=1e4) = -1e4 and log P(y=1 | v=-1e4) = -1e4.
    assert log_proba[8, 0] == -1e4 and log_proba[9, 1] == -1e4
    assert log_proba[6, 0] == dtype(-710.0) and log_proba[7, 1] == dtype(-710.0)
    assert proba[8, 1] == 1.0 and proba[9, 0] == 1.0
    assert_array_equal(pred, (v > 0).astype(int))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multiclass_predictions_at_extreme_logits(dtype):
    X_fit = np.array([[-2.0], [0.0], [2.0], [-1.5], [0.1], [1.5]], dtype=dtype)
    clf = _with_logits(fit_quietly(BCEPerceptronClassifier(), X_fit, [0, 1, 2, 0, 1, 2]), dtype)
    X = EXTREME[:, None].astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        raw = clf.decision_function(X)
        proba = clf.predict_proba(X)
        log_proba = clf.predict_log_proba(X)
    # Units (v, -v, 0): the reference normalizes the three sigmoids in log space.
    units = _log_expit_reference(raw.astype(np.float64))
    log_ref = units - np.logaddexp.reduce(units, axis=1, keepdims=True)
    eps = np.finfo(dtype).eps
    assert np.all(np.isfinite(proba)) and np.all(np.isfinite(log_proba))
    assert_allclose(log_proba, log_ref, rtol=8 * eps, atol=8 * eps)
    assert_allclose(proba, np.exp(log_ref), rtol=8 * eps, atol=np.finfo(dtype).tiny)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=8 * eps)
    # v = 1e4: units (1, 0, 1/2) -> log P(class 1) = -1e4 - log(1.5), finite.
    assert_allclose(log_proba[8, 1], -1e4 - np.log(1.5), rtol=4 * eps)


# -- errors and warnings -----------------------------------------------------------
def _data():
    X, y = small_multiclass(30)
    return X, (y == 0).astype(int)


def test_nan_and_inf_in_X_rejected():
    X, y = _data()
    for bad in (np.nan, np.inf, -np.inf):
        X_bad = X.copy()
        X_bad[3, 1] = bad
        with pytest.raises(ValueError, match=r"(?i)nan|inf"):
            BCEPerceptronClassifier().fit(X_bad, y)
    clf = fit_quietly(BCEPerceptronClassifier(), X, y)
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"(?i)nan"):
        clf.predict(X_bad)


def test_single_class_rejected():
    X, _ = _data()
    with pytest.raises(ValueError, match="only one class"):
        BCEPerceptronClassifier().fit(X, np.full(len(X), "a"))


def test_length_mismatch_rejected():
    X, y = _data()
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples|samples"):
        BCEPerceptronClassifier().fit(X, y[:-1])
    with pytest.raises(ValueError, match=r"(?i)sample_weight|shape"):
        BCEPerceptronClassifier().fit(X, y, sample_weight=np.ones(len(y) - 1))


def test_negative_sample_weight_rejected():
    X, y = _data()
    sw = np.ones(len(y))
    sw[2] = -0.5
    with pytest.raises(ValueError, match="non-negative"):
        BCEPerceptronClassifier().fit(X, y, sample_weight=sw)


def test_all_zero_sample_weight_rejected():
    X, y = _data()
    with pytest.raises(ValueError, match="sum to zero"):
        BCEPerceptronClassifier().fit(X, y, sample_weight=np.zeros(len(y)))
    # Class weights that zero every sample are the same error.
    with pytest.raises(ValueError, match="sum to zero"):
        BCEPerceptronClassifier(class_weight={0: 0.0, 1: 0.0}).fit(X, y)


def test_n_features_mismatch_at_predict():
    X, y = _data()
    clf = fit_quietly(BCEPerceptronClassifier(), X, y)
    for method in ("predict", "predict_proba", "decision_function", "predict_log_proba"):
        with pytest.raises(ValueError, match="features"):
            getattr(clf, method)(X[:, :-1])


def test_predict_before_fit():
    X, _ = _data()
    for method in ("predict", "predict_proba", "decision_function", "predict_log_proba"):
        with pytest.raises(NotFittedError):
            getattr(BCEPerceptronClassifier(), method)(X)


@pytest.mark.parametrize(
    "params, name",
    [
        ({"alpha": -1.0}, "alpha"),
        ({"solver": "sgd"}, "solver"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": "optimal"}, "learning_rate"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1e-3}, "tol"),
        ({"l1_ratio": 1.5}, "l1_ratio"),
        ({"preconditioner": "jacobi"}, "preconditioner"),
        ({"class_weight": "auto"}, "class_weight"),
    ],
)
def test_invalid_parameters(params, name):
    X, y = _data()
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        BCEPerceptronClassifier(**params).fit(X, y)


def test_parameter_names_are_the_signatures_per_class():
    """The parameter names, read once per class, are __init__'s: a subclass
    with its own __init__ gets its own, and a caller that changes the list
    it got changes nothing after."""
    from sklearn.base import BaseEstimator

    signature_names = BaseEstimator._get_param_names.__func__
    assert BCEPerceptronClassifier._get_param_names() == signature_names(BCEPerceptronClassifier)
    names = BCEPerceptronClassifier._get_param_names()
    names.append("bogus")
    assert "bogus" not in BCEPerceptronClassifier().get_params()

    class Tuned(BCEPerceptronClassifier):
        def __init__(self, *, shrink=0.5, alpha=1e-4):
            super().__init__(alpha=alpha)
            self.shrink = shrink

    assert Tuned._get_param_names() == ["alpha", "shrink"]
    assert Tuned(shrink=0.25).get_params() == {"alpha": 1e-4, "shrink": 0.25}
    assert "shrink" not in BCEPerceptronClassifier().get_params()


def test_convergence_warning_content():
    X, y = _data()
    clf = BCEPerceptronClassifier(max_iter=2, tol=1e-12)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    conv = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1
    assert len(caught) == 1
    text = str(conv[0].message)
    assert re.search(r"\b2 iterations", text), text
    assert "max |gradient|" in text
    assert "tol=1e-12" in text
    assert "step" in text
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 2


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("preconditioner", PRECONDITIONERS)
def test_tol_below_float_resolution_stops_early(solver, preconditioner):
    """A tol the dtype cannot resolve ends the fit with the 'flat' diagnosis.

    Near the optimum the Armijo test compares objective values that agree to
    the last bit: once the iterate no longer changes at all, the solver must
    stop (stop reason "line_search") instead of running out max_iter and
    advising to increase it.
    """
    X, y = small_multiclass(60)
    params = dict(alpha=1e-2, tol=0.0, solver=solver, preconditioner=preconditioner)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        short = BCEPerceptronClassifier(max_iter=300, **params).fit(X, y)
    clf = BCEPerceptronClassifier(max_iter=3000, **params)
    with pytest.warns(ConvergenceWarning, match="flat to float64 precision"):
        clf.fit(X, y)
    # Whatever ran after the iterate froze was wasted.
    if np.array_equal(short.coef_, clf.coef_):
        assert clf.n_iter_ <= short.n_iter_


def test_no_warning_when_converged(breast_cancer):
    X, y = breast_cancer
    clf = fit_strictly(BCEPerceptronClassifier(alpha=1e-2), X, y)
    assert clf.n_iter_ < clf.max_iter


def test_fitted_attributes(breast_cancer):
    X, y = breast_cancer
    clf = fit_strictly(BCEPerceptronClassifier(alpha=1e-2), X, y)
    assert clf.n_features_in_ == X.shape[1]
    assert clf.n_iter_ >= 1 and len(clf.loss_curve_) == clf.n_iter_
    # At least the setup product and one gradient per iteration.
    assert clf.n_matvec_ >= clf.n_iter_ and clf.n_rmatvec_ >= clf.n_iter_
    assert clf.learning_rate_ > 0
    assert clf.decision_function(X).shape == (len(y),)
    assert clf.predict_proba(X).shape == (len(y), 2)
    assert clf.score(X, y) > 0.95
