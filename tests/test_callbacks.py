# SPDX-License-Identifier: BSD-3-Clause
"""scikit-learn callbacks (``sklearn.callback``, scikit-learn >= 1.9)."""

import pickle
import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

callback = pytest.importorskip("sklearn.callback")

from skperceptron import BCEPerceptronClassifier  # noqa: E402


class Recorder:
    """A FitCallback that records every hook call; optionally stops the fit."""

    def __init__(self, stop_at=None):
        self.stop_at = stop_at
        self.setups = 0
        self.teardowns = 0
        self.begins = []
        self.begin_states = []
        self.ends = []

    def setup(self, estimator, context):
        self.setups += 1

    def teardown(self, estimator, context):
        self.teardowns += 1

    def on_fit_task_begin(
        self, estimator, context, *, X=None, y=None, metadata=None, fitted_estimator=None
    ):
        self.begins.append((context.task_name, context.task_id))
        if context.task_name == "iteration":
            self.begin_states.append(fitted_estimator)

    def on_fit_task_end(
        self, estimator, context, *, X=None, y=None, metadata=None, fitted_estimator=None
    ):
        depth = 0
        node = context
        while node.parent is not None:
            depth, node = depth + 1, node.parent
        self.ends.append(
            dict(
                task_name=context.task_name,
                task_id=context.task_id,
                depth=depth,
                fitted=fitted_estimator,
                X_shape=None if X is None else X.shape,
                metadata=metadata,
            )
        )
        if (
            self.stop_at is not None
            and context.task_name == "iteration"
            and fitted_estimator is not None
            and fitted_estimator.n_iter_ == self.stop_at
        ):
            return True
        return False

    def iteration_ends(self):
        return [
            end
            for end in self.ends
            if end["task_name"] == "iteration" and end["fitted"] is not None
        ]


@pytest.fixture
def data():
    return make_classification(200, 6, n_informative=4, random_state=0)


@pytest.mark.parametrize("solver", ["nesterov", "gd"])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_iteration_callbacks(data, solver, l1_ratio):
    X, y = data
    recorder = Recorder()
    sample_weight = np.linspace(0.5, 1.5, len(y))
    clf = BCEPerceptronClassifier(solver=solver, l1_ratio=l1_ratio, alpha=1e-2)
    clf.set_callbacks(recorder).fit(X, y, sample_weight=sample_weight)

    assert recorder.setups == recorder.teardowns == 1
    ends = recorder.iteration_ends()
    assert len(ends) == clf.n_iter_
    # One level below the root "fit" task, numbered in order.
    assert all(end["depth"] == 1 for end in ends)
    assert [end["task_id"] for end in ends] == list(range(clf.n_iter_))
    assert all(end["X_shape"] == X.shape for end in ends)
    assert all(end["metadata"]["sample_weight"] is sample_weight for end in ends)
    # Each iteration hands over a usable estimator at that iteration.
    # (An accelerated iteration whose momentum overshot is rejected: the
    # coefficients then stay, and so does the objective.)
    coefs = [end["fitted"].coef_ for end in ends]
    losses = clf.loss_curve_
    assert all(
        not np.array_equal(a, b)
        for a, b, before, after in zip(coefs, coefs[1:], losses, losses[1:])
        if after < before
    )
    assert sum(not np.array_equal(a, b) for a, b in zip(coefs, coefs[1:])) >= len(coefs) // 2
    assert [end["fitted"].n_iter_ for end in ends] == list(range(1, clf.n_iter_ + 1))
    assert_allclose(coefs[-1], clf.coef_)
    assert_allclose(ends[-1]["fitted"].intercept_, clf.intercept_)
    assert ends[-1]["fitted"].predict(X).shape == y.shape
    # The intercept of an intermediate iterate is in original coordinates:
    # its objective is on the loss curve.
    k = len(ends) // 2
    assert ends[k]["fitted"].objective(X, y, sample_weight) == pytest.approx(
        clf.loss_curve_[k], rel=1e-10
    )
    # The estimator being fitted is not the one handed over.
    assert all(end["fitted"] is not clf for end in ends)

    roots = [end for end in recorder.ends if end["depth"] == 0]
    assert len(roots) == 1 and roots[0]["task_name"] == "fit"


@pytest.mark.parametrize("solver", ["nesterov", "gd"])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_iteration_begin_sees_the_state_at_its_start(data, solver, l1_ratio):
    """As LogisticRegression: the begin hook of iteration i (counted from 0)
    gets the estimator after i iterations, the end hook's state of iteration
    i - 1, which is a fit with max_iter=i."""
    X, y = data
    sample_weight = np.linspace(0.5, 1.5, len(y))
    params = dict(solver=solver, l1_ratio=l1_ratio, alpha=1e-2, tol=1e-10, max_iter=4)
    recorder = Recorder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = BCEPerceptronClassifier(**params).set_callbacks(recorder)
        clf.fit(X, y, sample_weight=sample_weight)
    assert clf.n_iter_ == 4
    begins = recorder.begin_states
    ends = [end["fitted"] for end in recorder.iteration_ends()]
    # One begin per iteration, and the one opened after the last (never run).
    assert len(begins) == clf.n_iter_ + 1 == len(ends) + 1
    assert all(begin is not None and begin is not clf for begin in begins)
    assert [begin.n_iter_ for begin in begins] == list(range(clf.n_iter_ + 1))

    # Iteration 0 starts at W = 0 and the weighted log-odds of the classes.
    assert_array_equal(begins[0].coef_, np.zeros((1, X.shape[1])))
    prior = sample_weight[y == 1].sum() / sample_weight.sum()
    assert_allclose(begins[0].intercept_, [np.log(prior / (1 - prior))], rtol=1e-12)

    for i in range(1, clf.n_iter_ + 1):
        assert_array_equal(begins[i].coef_, ends[i - 1].coef_)
        assert_array_equal(begins[i].intercept_, ends[i - 1].intercept_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for i in (1, 2, 4):
            short = BCEPerceptronClassifier(**{**params, "max_iter": i})
            short.fit(X, y, sample_weight=sample_weight)
            assert_allclose(begins[i].coef_, short.coef_, rtol=1e-12, atol=1e-15)
            assert_allclose(begins[i].intercept_, short.intercept_, rtol=1e-12, atol=1e-15)
    # The begin state is usable, and its predictions are those of the fit so far.
    assert_array_equal(begins[3].predict_proba(X), ends[2].predict_proba(X))


@pytest.mark.parametrize("solver", ["nesterov", "gd"])
def test_callback_stops_the_fit(data, solver):
    X, y = data
    recorder = Recorder(stop_at=3)
    clf = BCEPerceptronClassifier(solver=solver, tol=1e-10, max_iter=500)
    clf.set_callbacks(recorder).fit(X, y)
    assert clf.n_iter_ == 3
    assert len(clf.loss_curve_) == 3
    assert len(recorder.iteration_ends()) == 3
    assert_allclose(recorder.iteration_ends()[-1]["fitted"].coef_, clf.coef_)


def test_callback_does_not_change_the_fit(data):
    X, y = data
    plain = BCEPerceptronClassifier(alpha=1e-3).fit(X, y)
    with_callback = BCEPerceptronClassifier(alpha=1e-3).set_callbacks(Recorder()).fit(X, y)
    assert_array_equal(plain.coef_, with_callback.coef_)
    assert plain.n_iter_ == with_callback.n_iter_


def test_progress_bar(data, capsys):
    pytest.importorskip("rich")
    X, y = data
    clf = BCEPerceptronClassifier().set_callbacks(callback.ProgressBar())
    clf.fit(X, y)
    out = capsys.readouterr().out
    assert re.search(r"BCEPerceptronClassifier - fit", out)
    assert "100%" in out
    assert not re.search(r"\b[0-9]{1,2}%", out)


def test_progress_bar_in_pipeline(data, capsys):
    pytest.importorskip("rich")
    X, y = data
    pipe = make_pipeline(StandardScaler(), BCEPerceptronClassifier())
    pipe.set_callbacks(callback.ProgressBar(max_propagation_depth=None)).fit(X, y)
    out = capsys.readouterr().out
    assert re.search(r"Pipeline - fit", out)
    assert re.search(r"BCEPerceptronClassifier - fit", out)
    plain = make_pipeline(StandardScaler(), BCEPerceptronClassifier()).fit(X, y)
    assert_array_equal(pipe[-1].coef_, plain[-1].coef_)


def test_progress_bar_in_grid_search(data, capsys):
    pytest.importorskip("rich")
    X, y = data
    search = GridSearchCV(BCEPerceptronClassifier(), {"alpha": [1e-3, 1e-1]}, cv=2)
    search.set_callbacks(callback.ProgressBar(max_propagation_depth=None)).fit(X, y)
    out = capsys.readouterr().out
    assert re.search(r"GridSearchCV - fit", out)
    assert "BCEPerceptronClassifier" in out
    assert search.best_estimator_.n_iter_ >= 1


def test_scoring_monitor(data):
    X, y = data
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = BCEPerceptronClassifier(alpha=1e-2).set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    iterations = [row for row in rows if row["task_name"] == "iteration"]
    assert len(iterations) == clf.n_iter_
    assert all(0 <= row["accuracy"] <= 1 for row in iterations)
    # The root task is scored on the final model.
    root = [row for row in rows if row["task_name"] == "fit"]
    assert len(root) == 1
    assert root[0]["accuracy"] == pytest.approx(clf.score(X, y))
    assert iterations[-1]["accuracy"] == pytest.approx(clf.score(X, y))


def test_clone_and_pickle_with_callbacks(data):
    X, y = data
    recorder = Recorder()
    clf = BCEPerceptronClassifier(alpha=1e-2).set_callbacks(recorder)
    cloned = clone(clf)
    # scikit-learn's convention: clones share the callback instances.
    assert cloned._skl_callbacks == [recorder]
    cloned.fit(X, y)
    assert len(recorder.iteration_ends()) == cloned.n_iter_

    clf.fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(restored.coef_, clf.coef_)
    # The fit left no callback context behind, and the restored one refits.
    assert not hasattr(clf, "_callback_fit_ctx")
    restored.fit(X, y)
    assert_allclose(restored.coef_, clf.coef_)


def test_progress_bar_estimator_pickles(data):
    pytest.importorskip("rich")
    X, y = data
    clf = BCEPerceptronClassifier().set_callbacks(callback.ProgressBar())
    clf.fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict(X), clf.predict(X))
    assert_array_equal(clone(clf).fit(X, y).coef_, clf.coef_)
