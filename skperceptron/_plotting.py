# SPDX-License-Identifier: BSD-3-Clause
"""Plots of a fit, following scikit-learn's Display convention.

matplotlib is an optional dependency: it is imported inside the methods that
draw, never when :mod:`skperceptron` is imported.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["LossCurveDisplay"]


def _pyplot(caller_name):
    """``matplotlib.pyplot``, or an ImportError that says how to get it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller_name} requires matplotlib, which is not installed. Install it "
            'with `pip install matplotlib` or `pip install "skperceptron[plot]"`.'
        ) from exc
    return plt


class LossCurveDisplay:
    """Training objective per iteration, and the validation loss with early stopping.

    Draws ``loss_curve_`` (the objective ``J`` after each iteration, penalty
    included) against the iteration number, counted from 1.  When the fit used
    early stopping it also draws ``validation_loss_curve_`` (the weighted mean
    BCE on the held-out samples, no penalty) and marks ``best_iteration_``, the
    iteration whose coefficients the estimator kept.

    Create it with :meth:`from_estimator`; the constructor only stores the
    curves, and :meth:`plot` draws them.

    Parameters
    ----------
    loss_curve : array-like of shape (n_iter,)
        Training objective after each iteration.

    validation_loss_curve : array-like of shape (n_iter,), default=None
        Validation loss after each iteration.

    best_iteration : int, default=None
        Iteration (counted from 1) to mark on the validation curve.

    name : str, default=None
        Name of the estimator, used in the legend.

    Attributes
    ----------
    line_ : matplotlib.lines.Line2D
        The training curve.

    validation_line_ : matplotlib.lines.Line2D or None
        The validation curve, None without one.

    best_marker_ : matplotlib.lines.Line2D or None
        The marker at ``(best_iteration, validation_loss_curve[best_iteration - 1])``,
        None without a best iteration.

    ax_ : matplotlib.axes.Axes
        Axes with the curves.

    figure_ : matplotlib.figure.Figure
        Figure holding the axes.

    See Also
    --------
    BCEPerceptronClassifier : The estimator whose fit is drawn.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from skperceptron import BCEPerceptronClassifier, LossCurveDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = BCEPerceptronClassifier(early_stopping=True, random_state=0).fit(X, y)
    >>> display = LossCurveDisplay.from_estimator(clf)
    >>> len(display.line_.get_xdata()) == clf.n_iter_
    True
    """

    def __init__(
        self, *, loss_curve, validation_loss_curve=None, best_iteration=None, name=None
    ):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.best_iteration = best_iteration
        self.name = name

    def plot(
        self,
        ax=None,
        *,
        name=None,
        line_kwargs=None,
        validation_line_kwargs=None,
        best_marker_kwargs=None,
    ):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, default=None
            Axes to draw on; a new figure and axes when None.

        name : str, default=None
            Name for the legend; ``self.name`` when None.

        line_kwargs : dict, default=None
            Passed to ``ax.plot`` for the training curve.

        validation_line_kwargs : dict, default=None
            Passed to ``ax.plot`` for the validation curve.

        best_marker_kwargs : dict, default=None
            Passed to ``ax.plot`` for the best-iteration marker.

        Returns
        -------
        display : LossCurveDisplay
            The object itself, with ``line_``, ``validation_line_``,
            ``best_marker_``, ``ax_`` and ``figure_`` set.
        """
        plt = _pyplot(f"{type(self).__name__}.plot")
        if ax is None:
            _, ax = plt.subplots()
        name = self.name if name is None else name
        prefix = f"{name}: " if name else ""

        loss = np.asarray(self.loss_curve, dtype=float)
        iterations = np.arange(1, loss.size + 1)
        self.line_ = ax.plot(
            iterations,
            loss,
            **{"label": f"{prefix}training objective", **(line_kwargs or {})},
        )[0]

        self.validation_line_ = None
        self.best_marker_ = None
        if self.validation_loss_curve is not None:
            validation = np.asarray(self.validation_loss_curve, dtype=float)
            self.validation_line_ = ax.plot(
                np.arange(1, validation.size + 1),
                validation,
                **{"label": f"{prefix}validation loss", **(validation_line_kwargs or {})},
            )[0]
            if self.best_iteration is not None:
                best = int(self.best_iteration)
                marker = {
                    "marker": "o",
                    "linestyle": "none",
                    "color": self.validation_line_.get_color(),
                    "label": f"best iteration ({best})",
                    **(best_marker_kwargs or {}),
                }
                self.best_marker_ = ax.plot([best], [validation[best - 1]], **marker)[0]

        ax.set_xlabel("iteration")
        ax.set_ylabel("loss")
        ax.legend(loc="upper right")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, **kwargs):
        """Draw the loss curves of a fitted estimator.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`BCEPerceptronClassifier`, any fitted estimator with
            a ``loss_curve_`` attribute, or a fitted pipeline ending in one.

        ax : matplotlib.axes.Axes, default=None
            Axes to draw on; a new figure and axes when None.

        name : str, default=None
            Name for the legend; the estimator's class name when None.

        **kwargs : dict
            Passed to :meth:`plot`: ``line_kwargs``, ``validation_line_kwargs``
            and ``best_marker_kwargs``.

        Returns
        -------
        display : LossCurveDisplay
            The display, drawn.
        """
        _pyplot(f"{cls.__name__}.from_estimator")
        if not hasattr(estimator, "loss_curve_") and hasattr(estimator, "steps"):
            # A pipeline: its final step did the iterations.
            estimator = estimator.steps[-1][1]
        check_is_fitted(estimator)
        if not hasattr(estimator, "loss_curve_"):
            raise TypeError(
                f"{type(estimator).__name__} has no loss_curve_ attribute: "
                f"{cls.__name__} needs an iterative estimator such as "
                "BCEPerceptronClassifier."
            )
        display = cls(
            loss_curve=estimator.loss_curve_,
            validation_loss_curve=getattr(estimator, "validation_loss_curve_", None),
            best_iteration=getattr(estimator, "best_iteration_", None),
            name=type(estimator).__name__ if name is None else name,
        )
        return display.plot(ax=ax, **kwargs)
