# SPDX-License-Identifier: BSD-3-Clause
"""Saving and loading fitted models: pickle, joblib and skops."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris, make_classification, make_multilabel_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier

OWN_CLASS = "skperceptron._classifier.BCEPerceptronClassifier"

# Short fits on purpose: what is saved matters here, not convergence.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _binary():
    X, y = make_classification(n_samples=120, n_features=6, random_state=0)
    return X, np.array(["no", "yes"])[y]


def _multiclass():
    return load_iris(return_X_y=True)


def _multilabel():
    return make_multilabel_classification(n_samples=100, n_features=5, random_state=0)


def _sparse():
    X, y = _binary()
    X[np.abs(X) < 0.8] = 0
    return sp.csr_matrix(X), y


CASES = {
    "binary-str-labels": (_binary, {}),
    "multiclass": (_multiclass, {"class_weight": "balanced"}),
    "multilabel": (_multilabel, {}),
    "sparse-elastic-net": (_sparse, {"alpha": 0.05, "l1_ratio": 0.5}),
    "float32": (lambda: (_binary()[0].astype(np.float32), _binary()[1]), {}),
    "early-stopping": (
        _multiclass,
        {"early_stopping": True, "validation_fraction": 0.3, "random_state": 0},
    ),
}


@pytest.fixture(params=sorted(CASES))
def fitted(request):
    make_data, params = CASES[request.param]
    X, y = make_data()
    clf = BCEPerceptronClassifier(max_iter=200, **params).fit(X, y)
    return clf, X, y


def _assert_same_model(loaded, clf, X):
    assert type(loaded) is type(clf)
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.coef_, clf.coef_)
    np.testing.assert_array_equal(loaded.intercept_, clf.intercept_)
    assert loaded.coef_.dtype == clf.coef_.dtype
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.decision_function(X), clf.decision_function(X))
    assert loaded.loss_curve_ == clf.loss_curve_
    assert loaded.n_iter_ == clf.n_iter_
    for name in ("validation_loss_curve_", "best_iteration_"):
        assert hasattr(loaded, name) == hasattr(clf, name)
        if hasattr(clf, name):
            assert getattr(loaded, name) == getattr(clf, name)


def test_pickle_round_trip(fitted):
    clf, X, _ = fitted
    loaded = pickle.loads(pickle.dumps(clf))
    _assert_same_model(loaded, clf, X)


def test_joblib_round_trip(fitted, tmp_path):
    joblib = pytest.importorskip("joblib")
    clf, X, _ = fitted
    path = tmp_path / "model.joblib"
    joblib.dump(clf, path)
    _assert_same_model(joblib.load(path), clf, X)


def test_loaded_model_resumes_warm(fitted):
    # A loaded model is a working estimator: warm-started, it continues from
    # the saved coefficients (the line search never increases the objective).
    clf, X, y = fitted
    loaded = pickle.loads(pickle.dumps(clf))
    loaded.set_params(warm_start=True, early_stopping=False, max_iter=1).fit(X, y)
    # Slack for rounding only: the fit and objective() sum in different orders.
    slack = 1e-5 if clf.coef_.dtype == np.float32 else 1e-12
    assert loaded.loss_curve_[0] <= clf.objective(X, y) * (1 + slack)
    # And it did resume: a cold one-iteration fit is far worse.
    cold = BCEPerceptronClassifier(**{**clf.get_params(), "early_stopping": False, "max_iter": 1})
    assert loaded.loss_curve_[0] < cold.fit(X, y).loss_curve_[0]


def test_skops_round_trip_trusts_only_our_class(fitted, tmp_path):
    sio = pytest.importorskip("skops.io")
    clf, X, _ = fitted
    path = tmp_path / "model.skops"
    sio.dump(clf, path)
    untrusted = sio.get_untrusted_types(file=path)
    # Everything the estimator stores is a type skops already trusts (ndarray,
    # lists of floats, str, int, dict): only the class itself needs trust.
    assert untrusted == [OWN_CLASS]
    _assert_same_model(sio.load(path, trusted=untrusted), clf, X)


def test_skops_refuses_to_load_without_trust(tmp_path):
    sio = pytest.importorskip("skops.io")
    X, y = _binary()
    path = tmp_path / "model.skops"
    sio.dump(BCEPerceptronClassifier(max_iter=10).fit(X, y), path)
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path)


def test_skops_pipeline_and_dataframe_list_only_our_class(tmp_path):
    sio = pytest.importorskip("skops.io")
    pd = pytest.importorskip("pandas")
    X, y = _binary()
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    models = {
        # feature_names_in_ is an object array of str: skops must trust it.
        "frame": BCEPerceptronClassifier(max_iter=50).fit(frame, y),
        "pipeline": make_pipeline(StandardScaler(), BCEPerceptronClassifier(max_iter=50)).fit(
            X, y
        ),
    }
    for name, model in models.items():
        path = tmp_path / f"{name}.skops"
        sio.dump(model, path)
        untrusted = sio.get_untrusted_types(file=path)
        assert untrusted == [OWN_CLASS], name
        loaded = sio.load(path, trusted=untrusted)
        data = frame if name == "frame" else X
        np.testing.assert_array_equal(loaded.predict_proba(data), model.predict_proba(data))
        if name == "frame":
            np.testing.assert_array_equal(loaded.feature_names_in_, frame.columns)
