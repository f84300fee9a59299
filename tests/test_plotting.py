# SPDX-License-Identifier: BSD-3-Clause
"""LossCurveDisplay: sklearn's Display convention, drawn with the Agg backend."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier, LossCurveDisplay

# Short fits on purpose: the curves are under test, not convergence.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def pyplot():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def binary_data():
    return make_classification(n_samples=200, n_features=5, random_state=0)


def test_import_does_not_import_matplotlib():
    # A fresh interpreter: this test process may already have matplotlib.
    code = "import sys, skperceptron; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_from_estimator_attributes_and_training_line(pyplot, binary_data):
    X, y = binary_data
    clf = BCEPerceptronClassifier(max_iter=30, tol=0).fit(X, y)
    display = LossCurveDisplay.from_estimator(clf)

    assert isinstance(display, LossCurveDisplay)
    assert display.ax_ is not None and display.figure_ is display.ax_.figure
    np.testing.assert_array_equal(display.line_.get_ydata(), clf.loss_curve_)
    np.testing.assert_array_equal(
        display.line_.get_xdata(), np.arange(1, len(clf.loss_curve_) + 1)
    )
    assert display.validation_line_ is None
    assert display.best_marker_ is None
    assert display.line_ in display.ax_.get_lines()
    assert "BCEPerceptronClassifier" in display.line_.get_label()
    assert display.ax_.get_xlabel() == "iteration"


def _check_early_stopping_display(display, clf):
    assert display.validation_line_ is not None
    np.testing.assert_array_equal(
        display.validation_line_.get_ydata(), clf.validation_loss_curve_
    )
    np.testing.assert_array_equal(display.line_.get_ydata(), clf.loss_curve_)
    best = clf.best_iteration_
    np.testing.assert_array_equal(display.best_marker_.get_xdata(), [best])
    np.testing.assert_array_equal(
        display.best_marker_.get_ydata(), [clf.validation_loss_curve_[best - 1]]
    )
    # The marked point is the minimum of the validation curve.
    assert display.best_marker_.get_ydata()[0] == min(clf.validation_loss_curve_)


def test_early_stopping_multiclass_marks_best_iteration(pyplot):
    X, y = load_iris(return_X_y=True)
    clf = BCEPerceptronClassifier(
        early_stopping=True, validation_fraction=0.3, random_state=0, max_iter=300
    ).fit(X, y)
    display = LossCurveDisplay.from_estimator(clf)
    _check_early_stopping_display(display, clf)


def test_early_stopping_binary_marks_best_iteration(pyplot, binary_data):
    X, y = binary_data
    clf = BCEPerceptronClassifier(early_stopping=True, random_state=0).fit(X, y)
    display = LossCurveDisplay.from_estimator(clf)
    _check_early_stopping_display(display, clf)


def test_plot_on_given_axes_with_kwargs(pyplot, binary_data):
    X, y = binary_data
    clf = BCEPerceptronClassifier(max_iter=20, tol=0).fit(X, y)
    fig, (ax0, ax1) = pyplot.subplots(1, 2)
    display = LossCurveDisplay.from_estimator(
        clf, ax=ax1, name="mine", line_kwargs={"color": "red", "linewidth": 3}
    )
    assert display.ax_ is ax1 and display.figure_ is fig
    assert len(ax0.get_lines()) == 0
    assert display.line_.get_color() == "red"
    assert display.line_.get_linewidth() == 3
    assert display.line_.get_label() == "mine: training objective"


def test_constructor_then_plot_redraws_on_new_axes(pyplot):
    display = LossCurveDisplay(
        loss_curve=[3.0, 2.0, 1.5, 1.4],
        validation_loss_curve=[3.1, 2.5, 2.4, 2.6],
        best_iteration=3,
    )
    _, ax = pyplot.subplots()
    display.plot(ax=ax, best_marker_kwargs={"marker": "x"})
    assert display.ax_ is ax
    assert display.best_marker_.get_marker() == "x"
    np.testing.assert_array_equal(display.best_marker_.get_xdata(), [3])
    np.testing.assert_array_equal(display.best_marker_.get_ydata(), [2.4])
    np.testing.assert_array_equal(display.validation_line_.get_xdata(), [1, 2, 3, 4])


def test_pipeline_uses_final_step(pyplot, binary_data):
    X, y = binary_data
    pipe = make_pipeline(StandardScaler(), BCEPerceptronClassifier(max_iter=15, tol=0))
    pipe.fit(X, y)
    display = LossCurveDisplay.from_estimator(pipe)
    np.testing.assert_array_equal(display.line_.get_ydata(), pipe[-1].loss_curve_)


def test_unfitted_estimator_raises(pyplot):
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(BCEPerceptronClassifier())


def test_estimator_without_loss_curve_raises(pyplot, binary_data):
    X, y = binary_data
    with pytest.raises(TypeError, match="no loss_curve_"):
        LossCurveDisplay.from_estimator(LogisticRegression().fit(X, y))


def test_missing_matplotlib_gives_clear_import_error(monkeypatch, binary_data):
    X, y = binary_data
    clf = BCEPerceptronClassifier(max_iter=5, tol=0).fit(X, y)
    # None in sys.modules makes any import of these names fail.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"from_estimator requires matplotlib.*pip install"):
        LossCurveDisplay.from_estimator(clf)
    with pytest.raises(ImportError, match=r"LossCurveDisplay.plot requires matplotlib"):
        LossCurveDisplay(loss_curve=[1.0]).plot()


def test_docstring_example(pyplot):
    import doctest

    from skperceptron import _plotting

    result = doctest.testmod(_plotting, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_from_estimator_passes_the_plot_keywords(pyplot, binary_data):
    X, y = binary_data
    clf = BCEPerceptronClassifier(early_stopping=True, random_state=0).fit(X, y)
    display = LossCurveDisplay.from_estimator(
        clf, validation_line_kwargs={"linestyle": "--"}, best_marker_kwargs={"marker": "x"}
    )
    assert display.validation_line_.get_linestyle() == "--"
    assert display.best_marker_.get_marker() == "x"
    with pytest.raises(TypeError, match="line_kwarg"):
        LossCurveDisplay.from_estimator(clf, line_kwarg={})
