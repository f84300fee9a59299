# SPDX-License-Identifier: BSD-3-Clause
"""Early stopping: when it stops, what it restores, and how it fails.

The validation rows are recomputed here from the documented split
(``StratifiedShuffleSplit`` on the class index, plain ``ShuffleSplit`` for
multilabel targets, ``random_state`` the estimator's) and the validation loss
from the returned coefficients.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_expit
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, StratifiedShuffleSplit

from skperceptron import BCEPerceptronClassifier


def noisy_problem(kind):
    n_classes = 2 if kind == "binary" else 3
    return make_classification(
        500,
        50,
        n_informative=5,
        n_classes=n_classes,
        n_clusters_per_class=1,
        flip_y=0.3,
        random_state=0,
    )


def validation_rows(y, validation_fraction, random_state):
    y = np.asarray(y)
    if y.ndim == 2:
        splitter = ShuffleSplit(
            n_splits=1, test_size=validation_fraction, random_state=random_state
        )
        return next(splitter.split(y))[1]
    splitter = StratifiedShuffleSplit(
        n_splits=1, test_size=validation_fraction, random_state=random_state
    )
    return next(splitter.split(np.zeros((len(y), 1)), y))[1]


def validation_loss(clf, X, y, rows, sample_weight=None):
    """Weighted mean over the rows of the BCE summed over the output units."""
    y = np.asarray(y)[rows]
    if y.ndim == 2:
        Y = y.astype(float)
    elif len(clf.classes_) == 2:
        Y = (y == clf.classes_[1]).astype(float)[:, None]
    else:
        Y = (y[:, None] == clf.classes_[None, :]).astype(float)
    raw = X[rows] @ clf.coef_.T + clf.intercept_
    bce = -(Y * log_expit(raw) + (1 - Y) * log_expit(-raw))
    s = np.ones(len(rows)) if sample_weight is None else sample_weight[rows]
    return float(s @ bce.sum(axis=1) / s.sum())


# The diagonal metric: these fits must run long enough for the validation
# loss to turn (the Hessian metric converges in a handful of iterations).
PARAMS = dict(
    alpha=1e-5,
    early_stopping=True,
    validation_fraction=0.2,
    max_iter=1000,
    preconditioner="diagonal",
)


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_stops_early_and_restores_best(kind):
    X, y = noisy_problem(kind)
    clf = BCEPerceptronClassifier(random_state=1, **PARAMS).fit(X, y)
    curve = clf.validation_loss_curve_

    assert clf.n_iter_ < PARAMS["max_iter"]
    assert len(curve) == clf.n_iter_ == len(clf.loss_curve_)
    assert 1 <= clf.best_iteration_ < clf.n_iter_
    assert curve[clf.best_iteration_ - 1] == min(curve)
    # It stopped because the validation loss stopped improving, n_iter_no_change
    # iterations after the best one at most.
    assert clf.n_iter_ - clf.best_iteration_ <= clf.n_iter_no_change
    assert curve[-1] > min(curve)

    # The returned coefficients are the best iterate, not the last one.
    rows = validation_rows(y, PARAMS["validation_fraction"], 1)
    assert validation_loss(clf, X, y, rows) == pytest.approx(min(curve), rel=1e-10)

    # And they are the iterate at best_iteration_: the same fit cut there.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        params = {**PARAMS, "max_iter": clf.best_iteration_}
        cut = BCEPerceptronClassifier(random_state=1, **params).fit(X, y)
    assert_allclose(cut.coef_, clf.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(cut.intercept_, clf.intercept_, rtol=1e-12, atol=1e-14)
    assert_allclose(cut.validation_loss_curve_, curve[: clf.best_iteration_], rtol=1e-12)


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_reproducible_with_random_state(kind):
    X, y = noisy_problem(kind)
    first = BCEPerceptronClassifier(random_state=3, **PARAMS).fit(X, y)
    second = BCEPerceptronClassifier(random_state=3, **PARAMS).fit(X, y)
    assert_array_equal(first.coef_, second.coef_)
    assert_array_equal(first.intercept_, second.intercept_)
    assert first.validation_loss_curve_ == second.validation_loss_curve_
    assert first.best_iteration_ == second.best_iteration_

    other = BCEPerceptronClassifier(random_state=4, **PARAMS).fit(X, y)
    n = min(len(other.validation_loss_curve_), len(first.validation_loss_curve_))
    assert not np.allclose(other.validation_loss_curve_[:n], first.validation_loss_curve_[:n])


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
@pytest.mark.parametrize("solver", ["nesterov", "gd"])
def test_one_validation_loss_per_iteration(solver, l1_ratio):
    # Patience never runs out here: the fit ends on tol, through whatever
    # path the solver takes to convergence; every counted iteration has its
    # validation loss.
    X, y = make_classification(
        200, 6, n_informative=4, n_classes=3, n_clusters_per_class=1, random_state=0
    )
    clf = BCEPerceptronClassifier(
        solver=solver,
        l1_ratio=l1_ratio,
        alpha=1e-2,
        tol=1e-6,
        early_stopping=True,
        n_iter_no_change=1000,
        random_state=0,
    ).fit(X, y)
    assert len(clf.validation_loss_curve_) == clf.n_iter_ == len(clf.loss_curve_)
    assert clf.validation_loss_curve_[clf.best_iteration_ - 1] == min(
        clf.validation_loss_curve_
    )


def test_without_early_stopping():
    X, y = noisy_problem("binary")
    fits = []
    for n_iter_no_change in (1, 50):
        clf = BCEPerceptronClassifier(
            alpha=1e-5,
            n_iter_no_change=n_iter_no_change,
            tol=1e-4,
            max_iter=2000,
            preconditioner="diagonal",
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            clf.fit(X, y)
        assert not hasattr(clf, "validation_loss_curve_")
        assert not hasattr(clf, "best_iteration_")
        fits.append(clf)
    # n_iter_no_change plays no part: the fit runs to tol.
    assert fits[0].n_iter_ == fits[1].n_iter_
    assert_array_equal(fits[0].coef_, fits[1].coef_)
    early = BCEPerceptronClassifier(random_state=1, **PARAMS).fit(X, y)
    assert fits[0].n_iter_ > early.n_iter_

    # Refitting without early stopping drops the attributes of a previous one.
    early.set_params(early_stopping=False).fit(X, y)
    assert not hasattr(early, "validation_loss_curve_")
    assert not hasattr(early, "best_iteration_")


def test_multilabel():
    X, Y = make_multilabel_classification(
        400, 40, n_classes=3, n_labels=1, random_state=0
    )
    rng = np.random.default_rng(0)
    flip = rng.random(Y.shape) < 0.2
    Y = np.where(flip, 1 - Y, Y)
    clf = BCEPerceptronClassifier(random_state=0, **PARAMS).fit(X, Y)
    curve = clf.validation_loss_curve_
    assert len(curve) == clf.n_iter_
    assert curve[clf.best_iteration_ - 1] == min(curve)
    rows = validation_rows(Y, PARAMS["validation_fraction"], 0)
    assert validation_loss(clf, X, Y, rows) == pytest.approx(min(curve), rel=1e-10)


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_sample_weight(kind):
    X, y = noisy_problem(kind)
    sample_weight = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    clf = BCEPerceptronClassifier(random_state=1, **PARAMS)
    clf.fit(X, y, sample_weight=sample_weight)
    curve = clf.validation_loss_curve_
    assert len(curve) == clf.n_iter_
    rows = validation_rows(y, PARAMS["validation_fraction"], 1)
    # The validation loss is weighted too.
    assert validation_loss(clf, X, y, rows, sample_weight) == pytest.approx(
        min(curve), rel=1e-10
    )
    assert validation_loss(clf, X, y, rows) != pytest.approx(min(curve), rel=1e-6)
    unweighted = BCEPerceptronClassifier(random_state=1, **PARAMS).fit(X, y)
    assert not np.allclose(unweighted.coef_, clf.coef_)


@pytest.mark.parametrize(
    "y",
    [
        np.array([0, 1] * 5),  # 10 samples, 1 validation sample
        np.array([0, 1, 2] * 3 + [0]),
        "multilabel",
    ],
    ids=["binary", "multiclass", "multilabel"],
)
def test_error_too_few_validation_samples(y):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 3))
    if isinstance(y, str):
        y = (rng.random((10, 3)) > 0.5).astype(int)
    clf = BCEPerceptronClassifier(early_stopping=True, validation_fraction=0.1, random_state=0)
    with pytest.raises(ValueError, match="validation_fraction") as excinfo:
        clf.fit(X, y)
    assert "early" in str(excinfo.value).lower()


@pytest.mark.parametrize(
    "counts, validation_fraction",
    [([38, 2], 0.9), ([19, 19, 2], 0.8)],
    ids=["binary", "multiclass"],
)
def test_error_class_missing_from_training(counts, validation_fraction):
    y = np.repeat(np.arange(len(counts)), counts)
    X = np.random.default_rng(0).standard_normal((len(y), 3))
    # The documented split indeed leaves the last class out of training.
    splitter = StratifiedShuffleSplit(
        n_splits=1, test_size=validation_fraction, random_state=0
    )
    train = next(splitter.split(X, y))[0]
    assert np.all(y[train] != len(counts) - 1)

    clf = BCEPerceptronClassifier(
        early_stopping=True, validation_fraction=validation_fraction, random_state=0
    )
    with pytest.raises(ValueError, match="class") as excinfo:
        clf.fit(X, y)
    message = str(excinfo.value)
    assert "validation_fraction" in message or "early_stopping" in message
