# SPDX-License-Identifier: BSD-3-Clause
"""The estimator: parameters, validation, fit orchestration, prediction."""

import warnings
from functools import cache, partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from . import _dask, _preconditioner
from ._backend import astype, copy, from_host, input_namespace, matmul, to_numpy, zeros
from ._compat import HAS_CALLBACKS, CallbackSupportMixin, Interval, StrOptions, _fit_context
from ._compat import check_same_namespace, move_to, validate_data
from ._convergence import DIAGNOSED, diagnose
from ._data import class_list, encode_known_targets, fold_weights, log_odds, prepare_fit
from ._monitor import Monitor
from ._objective import BCEObjective
from ._outputs import decode_labels, probabilities
from ._penalty import L1Penalty
from ._solvers import ProximalGradientSolver


class BCEPerceptronClassifier(CallbackSupportMixin, ClassifierMixin, BaseEstimator):
    r"""Single-layer perceptron trained on binary cross-entropy by full-batch
    gradient descent.

    Each of the ``K`` output units is a sigmoid ``z_k = expit(x @ w_k + b_k)``
    (``K = 1`` for binary targets, the number of classes for multiclass targets,
    one-vs-rest units trained jointly, and the number of labels for a multilabel
    indicator matrix).  The fit minimizes

    .. math::

        J(W, b) &= \frac{1}{S} \sum_i s_i \sum_k
                   \mathrm{BCE}\bigl(y_{ik}, \sigma(x_i \cdot w_k + b_k)\bigr) \\
                &\quad + \frac{\alpha (1 - \rho)}{2} \|W\|_F^2 + \alpha \rho \|W\|_1

    with ``BCE(y, sigma(v)) = -(y log_expit(v) + (1 - y) log_expit(-v))``,
    ``s_i = sample_weight_i * class_weight[y_i]``, ``S = sum_i s_i``,
    ``rho = l1_ratio``, and the intercepts never penalized: for binary targets,
    the problem of ``LogisticRegression(C=1 / (alpha * S), l1_ratio=l1_ratio)``.
    How the fit works and what each choice costs: :doc:`/user_guide/training`.

    Parameters
    ----------
    alpha : float, default=1e-4
        Regularization strength, ``>= 0``. ``alpha=0`` is the unregularized
        perceptron, whose optimum is at infinity on linearly separable data.
    l1_ratio : float, default=0.0
        Elastic-net mixing, in ``[0, 1]``: ``alpha * l1_ratio`` multiplies the
        L1 norm (zeros in ``coef_`` are exact) and ``alpha * (1 - l1_ratio)``
        the squared L2 norm.
    fit_intercept : bool, default=True
        Whether to fit the intercepts ``b`` (never penalized).
    solver : {"nesterov", "gd"}, default="nesterov"
        ``"nesterov"``: gradient steps with momentum, fewer iterations than
        ``"gd"`` at the same cost per iteration, so keep it.  ``"gd"``: plain
        (proximal) gradient descent, for comparisons and teaching.
    preconditioner : {"auto", "hessian", "diagonal"} or None, default="auto"
        ``"hessian"``: (proximal, with L1) Newton steps from a row sample's
        curvature, the fewest iterations; needs ``line_search=True``, with L1
        NumPy or SciPy data, and ``n_outputs * (n_features + 1)**2`` floats.
        ``"diagonal"``: one step size per feature, insensitive to the scales of
        the features.  ``None``: one step size, slow unless the features are
        standardized.  ``"auto"``: ``"hessian"`` where it applies and up to
        512 features (any with L1), else ``"diagonal"`` (``preconditioner_``).
    learning_rate : "auto" or float, default="auto"
        The step size, in the preconditioner's metric.  ``"auto"``: 1 with a
        preconditioner and the line search, else the reciprocal of an upper
        bound on the curvature.  A float is the textbook ``eta``, used as given.
    line_search : bool, default=True
        Backtracking on the step, without extra products with X: the objective
        never increases.  With ``False`` each update is
        ``W <- W - learning_rate * grad J`` (in the metric in use), which may
        diverge: the fit then stops at its last finite iterate with a warning.
    max_iter : int, default=1000
        Maximum number of iterations.
    tol : float, default=1e-4
        Converged when ``max |gradient mapping| <= tol`` over all coefficients
        and intercepts (the gradient of ``J`` when ``l1_ratio == 0``) and the
        objective looks within about ``tol`` (relative) of its minimum.  Also
        the minimal improvement of the validation loss under early stopping.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training data,
        stop when its weighted mean BCE has not improved by ``tol`` for
        ``n_iter_no_change`` iterations, and restore the best coefficients.
    validation_fraction : float, default=0.1
        Fraction of the training data held out when ``early_stopping``.
    n_iter_no_change : int, default=10
        Patience of early stopping, in iterations.
    random_state : int, RandomState instance or None, default=None
        Seeds the early-stopping split.
    warm_start : bool, default=False
        Start from the previous ``coef_`` and ``intercept_`` if shapes and classes match.
    verbose : int, default=0
        ``0``: silent.  ``1``: a line every 10 iterations and at the last one,
        ``iter N  objective J  max|grad map| G  step S`` (``G`` is the
        stopping criterion).  ``2``: that line at every iteration, and one line
        per trial of the line search.  See :doc:`/user_guide/monitoring`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels (``arange(n_labels)`` for multilabel targets).
    coef_ : ndarray of shape (n_outputs, n_features)
        Weights, in the dtype of X.
    intercept_ : ndarray of shape (n_outputs,)
        Intercepts.
    n_iter_ : int
        Number of iterations run (at least 1).
    loss_curve_ : list of float
        ``J`` after each iteration, penalty included.
    validation_loss_curve_ : list of float
        Validation BCE after each iteration (``early_stopping`` only).
    best_iteration_ : int
        Iteration (from 1) whose coefficients were restored (``early_stopping`` only).
    learning_rate_ : float
        The step in use at the end of the fit.
    preconditioner_ : {"hessian", "diagonal"} or None
        The preconditioner the fit used (``"auto"`` resolved).
    n_features_in_ : int
        Number of features seen in fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when X was a DataFrame with string column names.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skperceptron import BCEPerceptronClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), BCEPerceptronClassifier()).fit(X, y)
    >>> round(clf.score(X, y), 2)
    0.99
    """

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"nesterov", "gd"})],
        "preconditioner": [StrOptions({"auto", "diagonal", "hessian"}), None],
        "learning_rate": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "line_search": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        alpha=1e-4,
        l1_ratio=0.0,
        fit_intercept=True,
        solver="nesterov",
        preconditioner="auto",
        learning_rate="auto",
        line_search=True,
        max_iter=1000,
        tol=1e-4,
        class_weight=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=None,
        warm_start=False,
        verbose=0,
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.preconditioner = preconditioner
        self.learning_rate = learning_rate
        self.line_search = line_search
        self.max_iter = max_iter
        self.tol = tol
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    @classmethod
    def _get_param_names(cls):
        # scikit-learn reads __init__'s signature with inspect at every
        # get_params (30 us); a grid search's clone, set_params and the fit's
        # parameter validation ask three to four times a fit.
        return list(_param_names(cls))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        tags.array_api_support = True
        return tags

    # -- fit -------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by full-batch gradient descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 stays float32, sparse stays sparse.  With
            ``sklearn.config_context(array_api_dispatch=True)`` (and
            ``SCIPY_ARRAY_API=1`` before SciPy is imported) any Array API array,
            e.g. a PyTorch tensor on a GPU: the fit, ``coef_``, ``intercept_``
            and the predictions stay in that library and on that device.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        # The data prepared on the workers for a dask X; one fit from there.
        prepare = _dask.prepare_fit if _dask.is_dask_collection(X) else prepare_fit
        return self._fit_prepared(prepare(self, X, y, sample_weight))

    def _problem(self, X, Y, sw, center=False):
        """The smooth part of ``J`` on ``(X, Y, sw)`` and its L1 part."""
        l2, l1 = self.alpha * (1 - self.l1_ratio), self.alpha * self.l1_ratio
        smooth = BCEObjective(X, Y, sw, l2=l2, fit_intercept=self.fit_intercept, center=center)
        return smooth, L1Penalty(l1)

    def _fit_prepared(self, data, start=None, kept=None):
        """The fit from prepared data (a ``FitData``), for every backend;
        ``kept``, a :class:`KeptProblem`, carries a path's objective and
        metric from one alpha to the next."""
        self.classes_, self._label_kind = data.classes, data.kind
        center = self.preconditioner is not None
        l1 = self.alpha * self.l1_ratio
        reused = kept.take(self, data) if kept is not None else None
        if reused is None:
            objective, penalty = self._problem(data.X, data.Y, data.sw, center=center)
        else:
            objective, penalty = reused.objective, L1Penalty(l1)
        W0, c0 = self._initial_parameters(objective, data, start)
        if reused is None:
            self.preconditioner_, step, metric = _preconditioner.make(
                self.preconditioner,
                objective,
                l1=l1,
                line_search=self.line_search,
                learning_rate=self.learning_rate,
                accelerated=self.solver == "nesterov",
                kept=kept is not None,
            )
            if kept is not None:
                kept.keep(self, data, objective, self.preconditioner_, step, metric)
        else:
            self.preconditioner_, step, metric = reused.kind, reused.step, reused.metric.renew(l1)
        # For the diagnosis of a fit that does not converge, from the moments
        # the metric just read (no second pass over X).
        scale_ratio = objective.scale_ratio() if self.preconditioner is None else None
        objective.forget_moments()

        monitor = Monitor(self, objective, data.Y, data.val, data.val_weights)
        X, y, callback_ctx = data.X, data.y, None
        metadata = None if data.sample_weight is None else {"sample_weight": data.sample_weight}
        if HAS_CALLBACKS:
            callback_ctx = self._init_callback_context(max_subtasks=self.max_iter + 1)
            callback_ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
            monitor.attach_callbacks(callback_ctx, X, y, metadata, W0, c0)

        solver = ProximalGradientSolver(
            objective, penalty, metric=metric, step=step, monitor=monitor,
            accelerated=self.solver == "nesterov", line_search=self.line_search,
            max_iter=self.max_iter, tol=self.tol, verbose=self.verbose,
        )
        del metric  # held by the solver, which keeps only its inverse
        start_state = kept.start_state(objective, W0, c0) if kept is not None else None
        result = solver.solve(W0, c0, start_state)
        monitor.close()
        if kept is not None:
            kept.remember(objective, penalty, result)

        W, c = result.W, result.c
        for stale in ("validation_loss_curve_", "best_iteration_"):
            self.__dict__.pop(stale, None)
        if data.val is not None and monitor.best is not None:
            W, c = monitor.best
            self.validation_loss_curve_ = monitor.curve
            self.best_iteration_ = monitor.best_iteration
        xp = objective.xp
        self.coef_ = astype(xp, W, X.dtype, copy=False)
        self.intercept_ = astype(xp, objective.intercept_of(W, c), X.dtype, copy=False)
        # A host list, not an array: fitted arrays live in X's namespace.
        self._fitted_classes = class_list(data.classes)
        self.n_iter_ = max(int(result.n_iter), 1)
        if result.loss_curve:
            self.loss_curve_ = result.loss_curve
        elif result.value is not None and W is result.W:
            # No iteration (a warm start within tol): J at the start, which the
            # solver computed; a path's fits are half of them (20000 x 100).
            self.loss_curve_ = [float(result.value)]
        else:
            self.loss_curve_ = [self._objective_value(objective, penalty)]
        self.learning_rate_ = float(result.step)
        self.n_matvec_, self.n_rmatvec_ = objective.n_matvec, objective.n_rmatvec

        if result.stop_reason not in ("converged", "stopped"):
            settings = {name: getattr(self, name) for name in DIAGNOSED}
            message = diagnose(result, objective.dtype, scale_ratio, data.Y, data.sw, **settings)
            warnings.warn(message, ConvergenceWarning)
        if callback_ctx is not None:
            callback_ctx.call_on_fit_task_end(
                estimator=self, X=X, y=y, metadata=metadata, reconstruction_attributes={}
            )
        return self

    def _initial_parameters(self, objective, data, start=None):
        K, p, dtype = objective.n_outputs, objective.n_features, objective.dtype
        xp, device = objective.xp, objective.device
        warm = self.warm_start and hasattr(self, "_fitted_classes") and self.coef_.shape == (K, p)
        if warm and start is None and self._fitted_classes == class_list(data.classes):
            start = self.coef_, self.intercept_
        if start is not None:
            W, c = start
            if xp is not np:
                W, c = move_to(W, c, xp=xp, device=device)
            # Copies: the solver updates its iterates in place.
            return objective.parameters_of(copy(xp, W), copy(xp, c))
        W = zeros(xp, (K, p), dtype, device)
        if not objective.fit_intercept:
            return W, zeros(xp, K, dtype, device)
        # The K weighted class frequencies, on the host.
        prior = data.prior if data.prior is not None else to_numpy(xp, data.sw @ data.Y)
        return W, from_host(xp, log_odds(prior), dtype, device)

    def _objective_value(self, objective, penalty):
        raw = objective.matvec(*objective.parameters_of(self.coef_, self.intercept_))
        return objective.value(self.coef_, raw) + penalty.value(self.coef_)

    # -- prediction ------------------------------------------------------------
    def _validate_X(self, X):
        xp, _ = input_namespace(X)
        return validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=[xp.float64, xp.float32], reset=False
        )

    def _predict(self, X, method, from_raw):
        """The preamble of the four predict methods, then ``from_raw(raw, kind)``;
        a dask X goes to ``_dask.predict``, which calls ``method`` on each chunk."""
        if _dask.is_dask_collection(X):
            return _dask.predict(self, X, method)
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method=method)
        return from_raw(_raw_outputs(self, self._validate_X(X)), self._label_kind)

    def decision_function(self, X):
        """Raw outputs ``X @ coef_.T + intercept_``.

        Returns
        -------
        scores : ndarray of shape (n_samples,) for binary targets, else (n_samples, n_outputs)
        """
        return self._predict(X, "decision_function", lambda v, kind: v)

    def predict(self, X):
        """Class labels (a 0/1 indicator matrix for multilabel targets)."""
        return self._predict(X, "predict", lambda v, kind: decode_labels(v, kind, self.classes_))

    def predict_log_proba(self, X):
        """Log-probabilities, from ``log_expit`` and ``logsumexp`` (finite for any logit)."""
        return self._predict(X, "predict_log_proba", partial(probabilities, log=True))

    def predict_proba(self, X):
        """Probabilities: ``(1 - expit(v), expit(v))`` for binary targets, the K
        sigmoid outputs normalized to sum to one for multiclass targets, the K
        independent ``expit(v)`` for multilabel targets."""
        return self._predict(X, "predict_proba", probabilities)

    def objective(self, X, y, sample_weight=None):
        """The objective ``J`` at the fitted coefficients on ``(X, y, sample_weight)``.

        Equal to ``loss_curve_[-1]`` on the training data when early stopping
        is off.
        """
        check_is_fitted(self)
        xp, device = input_namespace(X)
        X = self._validate_X(X)
        # The labels are matched to classes_ on the host (a one-off evaluation,
        # not the fit); Y then goes to X's namespace and device.
        kind, n_samples = self._label_kind, X.shape[0]
        Y = encode_known_targets(y, self.classes_, kind)
        if Y.shape[0] != n_samples:
            raise ValueError(f"X has {n_samples} samples but y has {Y.shape[0]}.")
        Y = from_host(xp, Y, X.dtype, device)
        sw, _ = fold_weights(
            y, Y, kind, sample_weight, self.class_weight, n_samples, X.dtype, classes=self.classes_
        )
        return self._objective_value(*self._problem(X, Y, sw))


def fit_prepared(estimator, data, start=None, kept=None):
    """Fit ``estimator`` on ``data``, a ``FitData`` prepared once for a path's fits,
    from ``start = (coef, intercept)`` (None: the warm or the log-odds start);
    ``kept``: a path's :class:`KeptProblem`."""
    return estimator._fit_prepared(data, start, kept)


@cache
def _param_names(cls):
    """BaseEstimator's parameter names of ``cls``, once per class (a subclass
    with its own ``__init__`` gets its own)."""
    return tuple(super(BCEPerceptronClassifier, cls)._get_param_names())


class KeptProblem:
    """A path's objective and sampled-Hessian metric, kept from one alpha to
    the next on the same data: only ``l2`` and ``l1`` change, so the
    objective's centring, the metric's row sample and its design are reused
    (on a breast cancer fold path, 2 iterations per alpha, they were a
    quarter of each fit).  A diagonal metric, which ``l2`` enters, is rebuilt."""

    def __init__(self):
        self.data = self.objective = self.metric = None
        self.end = None  # (W, c, raw, loss, loss gradient) of the last fit

    def keep(self, estimator, data, objective, kind, step, metric):
        if kind != "hessian":
            self.data = None
            return
        self.data, self.objective, self.kind, self.step = data, objective, kind, step
        self.metric, self.settings = metric, self._settings(estimator)
        objective.keep_gradient = objective.xp is np

    def remember(self, objective, penalty, result):
        """The end of a fit on the kept objective: where the next alpha starts
        without a move (an L1 path), its raw predictions, loss and loss
        gradient are known: the start's two products and two passes are not
        made again (3 to 4 iterations a fit: a fifth of its products)."""
        self.end = None
        known = objective.last_loss_gradient
        objective.last_loss_gradient = None
        if objective is not self.objective or result.value is None or known is None:
            return
        # Converged: the stopping test read the gradient at the last point.
        # A fit stopped otherwise may have moved its raw predictions in place
        # after its last gradient (the same array, another point).
        if not result.converged or known[0] is not result.raw:
            return
        W = result.W
        # J's penalty parts are exact functions of W: the loss is what is left.
        loss = result.value - objective.value(W, result.raw, loss=0.0) - penalty.value(W)
        self.end = (W, result.c, result.raw, loss, known[1], known[2])

    def start_state(self, objective, W, c):
        """``(raw, loss)`` at ``(W, c)`` where it is the last fit's end (the
        loss gradient seeded into the objective); else None."""
        end, self.end = self.end, None
        if end is None or objective is not self.objective:
            return None
        W_end, c_end, raw, loss, grad_W, grad_c = end
        # c went through the intercept and back: equal to rounding.
        if not np.array_equal(W, W_end) or not np.allclose(c, c_end, rtol=1e-12, atol=1e-14):
            return None
        objective.seed(raw, grad_W, grad_c)
        return raw, loss

    def take(self, estimator, data):
        """Self, its objective set to ``estimator``'s ``l2``, where the fit of
        ``estimator`` on ``data`` can reuse it; else None."""
        if data is not self.data or self._settings(estimator) != self.settings:
            return None
        self.objective.l2 = float(estimator.alpha * (1 - estimator.l1_ratio))
        self.objective.rows.n_matvec = self.objective.rows.n_rmatvec = 0
        return self

    def extrapolate(self, coef, intercept, l2_change):
        """The optimum for ``l2 + l2_change`` predicted from the optimum
        ``(coef, intercept)`` for ``l2``: ``theta - l2_change M^-1 [W, 0]``,
        ``M`` the kept Hessian (the optimality condition's derivative in
        ``l2``), a start closer than ``theta`` itself."""
        obj = self.objective
        W, c = obj.parameters_of(coef, intercept)
        dW, dc = self.metric.direction(W, zeros(obj.xp, obj.n_outputs, obj.dtype, obj.device))
        W, c = W - l2_change * dW, c - l2_change * dc
        return W, obj.intercept_of(W, c)

    @staticmethod
    def _settings(estimator):
        # What the objective and the metric's kind depend on besides alpha.
        return (
            estimator.fit_intercept, estimator.preconditioner, estimator.line_search,
            estimator.learning_rate, estimator.l1_ratio > 0 and estimator.alpha > 0,
        )  # fmt: skip


def _raw_outputs(clf, X):
    raw = matmul(X, clf.coef_.T) + clf.intercept_
    if raw.shape[1] == 1 and clf._label_kind == "binary":
        raw = raw[:, 0]
    return raw


def predict_validated(clf, X):
    """``clf.predict(X)`` for an ``X`` already validated as the fit's (a path's
    held-out rows): no second validation."""
    return decode_labels(_raw_outputs(clf, X), clf._label_kind, clf.classes_)


def fitted_classifier(params, coef, intercept, classes, kind):
    """A ``BCEPerceptronClassifier(**params)`` fitted to ``coef`` and ``intercept``
    without a fit: a path's point to score, predict with or start from."""
    clf = BCEPerceptronClassifier(**params)
    clf.coef_, clf.intercept_, clf.classes_, clf._label_kind = coef, intercept, classes, kind
    clf._fitted_classes = class_list(classes)
    return clf
