# SPDX-License-Identifier: BSD-3-Clause
"""The estimator: parameters, validation, fit orchestration, prediction."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._backend import (
    asarray,
    astype,
    column_stack,
    copy,
    expit,
    from_host,
    input_namespace,
    log_expit,
    matmul,
    namespace,
    to_numpy,
    zeros,
)
from ._compat import (
    HAS_CALLBACKS,
    CallbackSupportMixin,
    Interval,
    StrOptions,
    _fit_context,
    check_same_namespace,
    get_namespace_and_device,
    indexing_dtype,
    move_to,
    validate_data,
)
from . import _dask
from ._data import encode_targets, fold_weights, holdout_weights, validation_split
from . import _preconditioner
from ._monitor import Monitor
from ._objective import BCEObjective
from ._penalty import L1Penalty
from ._convergence import diagnose
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
    ``rho = l1_ratio``, and the intercepts never penalized.  The gradient with
    respect to the raw outputs is ``(expit(v) - y) * s_i / S``.

    For binary targets this is exactly the problem of
    ``LogisticRegression(C=1 / (alpha * S), l1_ratio=l1_ratio)`` (its
    unnormalized loss is ``S`` times ours, its penalty ``1 / C`` times the
    sum of the penalty terms); with unit weights ``S = n_samples``.

    Parameters
    ----------
    alpha : float, default=1e-4
        Regularization strength, ``>= 0``. ``alpha=0`` is the unregularized
        perceptron, whose optimum is at infinity on linearly separable data.

    l1_ratio : float, default=0.0
        Elastic-net mixing, in ``[0, 1]``: ``alpha * l1_ratio`` multiplies the
        L1 norm (entered through its exact proximal operator, so zeros in
        ``coef_`` are exact) and ``alpha * (1 - l1_ratio)`` the squared L2 norm.

    fit_intercept : bool, default=True
        Whether to fit the intercepts ``b`` (never penalized).

    solver : {"nesterov", "gd"}, default="nesterov"
        ``"nesterov"``: gradient steps with momentum, chosen afresh at each
        iteration; it needs fewer iterations than ``"gd"`` at the same cost
        per iteration (two passes over X), so keep it.  ``"gd"``: plain
        (proximal) gradient descent, the textbook method, for comparisons and
        teaching.  How each works: :doc:`/user_guide/training` ("Nesterov
        acceleration with restart").

    preconditioner : {"auto", "hessian", "diagonal"} or None, default="auto"
        How the steps adapt to the scales and correlations of the features.
        Keep ``"auto"``: it takes ``"hessian"`` where that applies and its
        memory is small (no L1 part, ``line_search=True``, up to 512 features),
        otherwise ``"diagonal"``; ``preconditioner_`` says which a fit used.

        - ``"hessian"``: Newton-type steps from the curvature of a sample of
          rows; they undo the scales and the correlations of the features,
          and need the fewest iterations (6 where ``"diagonal"`` needs 455 on
          the ill-scaled benchmark set).  Set it yourself for more than 512
          features when ``n_outputs * (n_features + 1)**2`` float64 numbers
          fit in memory.  It needs ``line_search=True`` and no L1 part.
        - ``"diagonal"``: one step size per feature: insensitive to the
          scales of the features, not to their correlations; costs
          ``n_features`` numbers.  Used with an L1 part, without the line
          search and for many features (sparse text data).
        - ``None``: one step size for all features, the textbook method;
          slow unless the features are standardized.

        Details (sample size, refreshes, implicit centring, the rule of
        ``"auto"``): :doc:`/user_guide/training`.

    learning_rate : "auto" or float, default="auto"
        The step size.  With ``preconditioner=None``, ``"auto"`` is ``1 / L``
        with ``L = (1/4) (1/S) sum_i s_i (||x_i||^2 + 1) + alpha (1 - l1_ratio)``,
        the trace of the Hessian bound ``[X, 1]^T diag(s/S) [X, 1] / 4 + alpha I``
        (``sigma' <= 1/4``), hence an upper bound on the curvature for dense
        and sparse X, intercept and sample weights included; a float is the
        textbook ``eta``.  With a preconditioner the step is in its metric:
        ``"auto"`` is 1 with the line search, and (``"diagonal"``) without it
        the reciprocal of an upper estimate of the largest eigenvalue of
        ``D^-1/2 H D^-1/2`` (power iterations, times 1.1, capped by its trace).

    line_search : bool, default=True
        Backtracking on the step (Armijo sufficient decrease, halving), then
        up to two Newton steps on the one-dimensional objective along the
        direction, all on cached raw predictions (no product with X).  The
        step carries over and may grow between iterations; the objective
        never increases.  With ``line_search=False`` each update is
        ``W <- W - learning_rate * grad J`` (in the metric in use), which may
        diverge: the fit then stops at the last finite iterate with a
        ``ConvergenceWarning``.

    max_iter : int, default=1000
        Maximum number of iterations.

    tol : float, default=1e-4
        Converged when ``max |gradient mapping| <= tol`` over all coefficients
        and intercepts (the gradient of ``J`` when ``l1_ratio == 0``) and the
        objective is within about ``tol`` (relative) of its minimum: the
        decrease still to come, extrapolated from the objective values of the
        last third of the iterations (Aitken), is at most ``tol / 2`` of
        ``J``, or the last iteration could not decrease ``J`` in this dtype.
        The gradient test alone stops too early with sparse or small-scale
        features (tiny gradient entries) and weak penalties.  Also the
        minimal improvement of the validation loss under early stopping.

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
        Start from the previous ``coef_`` and ``intercept_`` when their shapes
        and classes match.

    verbose : int, default=0
        ``0``: silent.  ``1``: a line every 10 iterations and at the last one,
        ``iter N  objective J  max|grad map| G  step S``, with ``G`` the
        largest entry of the gradient mapping (the stopping criterion, equal
        to the largest entry of the gradient without an L1 part) and ``S``
        the step.  ``2`` (or more): that line at every iteration, and below
        it one line per trial of the line search,
        ``trial step T  objective J  accepted`` (or ``rejected``).  See
        :doc:`/user_guide/monitoring` for this and the other ways to watch a fit.

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
        Validation BCE after each iteration (only with ``early_stopping``).

    best_iteration_ : int
        Iteration (counted from 1) whose coefficients were restored (only with
        ``early_stopping``).

    learning_rate_ : float
        The step in use at the end of the fit.

    preconditioner_ : {"hessian", "diagonal"} or None
        The preconditioner the fit used (``preconditioner`` with ``"auto"``
        resolved).

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        tags.array_api_support = True
        return tags

    # -- fit -------------------------------------------------------------------
    def _validate_fit_data(self, X, y, sample_weight):
        # Under array_api_dispatch the fit runs in X's namespace and on its
        # device; the targets and weights follow X there.  NumPy otherwise.
        xp, device = input_namespace(X)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=[xp.float64, xp.float32],
            multi_output=True,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        classes, Y, kind = encode_targets(y)
        if xp is not np:
            # NumPy keeps the int8 0/1 matrix: the passes over the raw
            # predictions read it a chunk at a time (an eighth of a float64 Y).
            Y = astype(xp, move_to(Y, xp=xp, device=device), X.dtype)
        sw, S = fold_weights(
            y, Y, kind, sample_weight, self.class_weight, X.shape[0], X.dtype, classes=classes
        )
        return X, y, Y, classes, kind, sw, S

    def _initial_parameters(self, objective, classes, Y, sw):
        K, p, dtype = objective.n_outputs, objective.n_features, objective.dtype
        xp, device = objective.xp, objective.device
        if (
            self.warm_start
            and hasattr(self, "coef_")
            and tuple(self.coef_.shape) == (K, p)
            and _same_classes(getattr(self, "_fitted_classes", None), classes)
        ):
            if xp is np:
                W = np.array(self.coef_, dtype=dtype)
                c = np.array(self.intercept_, dtype=dtype)
            else:
                W, c = move_to(self.coef_, self.intercept_, xp=xp, device=device)
                W = copy(xp, asarray(xp, W, dtype, device))
                c = copy(xp, asarray(xp, c, dtype, device))
            if objective.mean is not None:
                c = c + W @ objective.mean
            return W, c
        W = zeros(xp, (K, p), dtype, device)
        if not objective.fit_intercept:
            return W, zeros(xp, K, dtype, device)
        # The optimal intercepts at W = 0 are the weighted log-odds: K numbers,
        # computed on the host from the K weighted class frequencies.
        prior = to_numpy(xp, sw @ Y)
        c = np.zeros(K, dtype=prior.dtype)
        ok = (prior > 0) & (prior < 1)
        c[ok] = np.log(prior[ok]) - np.log1p(-prior[ok])
        return W, from_host(xp, c, dtype, device)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by full-batch gradient descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 stays float32, sparse stays sparse.  Under
            ``sklearn.config_context(array_api_dispatch=True)`` (with
            ``SCIPY_ARRAY_API=1`` set before SciPy is imported), an array of
            any Array API library, e.g. a PyTorch tensor on a GPU: the whole
            fit runs in that library and on that device, and ``coef_``,
            ``intercept_`` and the predictions are arrays of it.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, not all zero.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if _dask.is_dask_collection(X):
            return _dask.fit(self, X, y, sample_weight)
        X, y, Y, classes, kind, sw, S = self._validate_fit_data(X, y, sample_weight)
        self.classes_ = classes
        self._label_kind = kind

        val = val_weights = None
        if self.early_stopping:
            train, val = validation_split(
                Y, kind, self.validation_fraction, self.random_state
            )
            # The held-out rows stay in X with zero training weight: no copy of
            # X, and their raw predictions come for free with the training ones.
            sw, val_weights = holdout_weights(sw, val)

        objective = BCEObjective(
            X,
            Y,
            sw,
            l2=self.alpha * (1 - self.l1_ratio),
            fit_intercept=self.fit_intercept,
            center=self.preconditioner is not None,
        )
        return self._solve(
            objective, X, y, Y, sw, classes, val, val_weights, sample_weight, prior=(Y, sw)
        )

    def _solve(self, objective, X, y, Y, sw, classes, val, val_weights, sample_weight, prior):
        """Everything after the data are ready: shared by the NumPy, Array API and
        dask fits (``objective`` holds the backend; ``prior`` is ``(Y, sw)``, or
        an equivalent one-row pair, for the starting intercepts)."""
        penalty = L1Penalty(self.alpha * self.l1_ratio)
        W0, c0 = self._initial_parameters(objective, classes, *prior)
        self.preconditioner_, step, metric = _preconditioner.make(
            self.preconditioner,
            objective,
            l1=self.alpha * self.l1_ratio,
            line_search=self.line_search,
            learning_rate=self.learning_rate,
        )
        # For the diagnosis of a fit that does not converge, from the moments
        # the metric just read (no second pass over X).
        scale_ratio = objective.scale_ratio() if self.preconditioner is None else None
        objective.forget_moments()

        monitor = Monitor(self, objective, Y, val, val_weights)
        callback_ctx = metadata = None
        if HAS_CALLBACKS:
            callback_ctx = self._init_callback_context(max_subtasks=self.max_iter + 1)
            metadata = {"sample_weight": sample_weight} if sample_weight is not None else None
            callback_ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
            monitor.attach_callbacks(callback_ctx, X, y, metadata, W0, c0)

        solver = ProximalGradientSolver(
            objective,
            penalty,
            accelerated=self.solver == "nesterov",
            metric=metric,
            step=step,
            line_search=self.line_search,
            max_iter=self.max_iter,
            tol=self.tol,
            monitor=monitor,
            verbose=self.verbose,
        )
        del metric  # held by the solver, which keeps only its inverse
        result = solver.solve(W0, c0)
        monitor.close()

        W, c = result.W, result.c
        for stale in ("validation_loss_curve_", "best_iteration_"):
            self.__dict__.pop(stale, None)
        if val is not None and monitor.best is not None:
            W, c = monitor.best
            self.validation_loss_curve_ = monitor.curve
            self.best_iteration_ = monitor.best_iteration
        xp = objective.xp
        self.coef_ = astype(xp, W, X.dtype, copy=False)
        self.intercept_ = astype(xp, objective.intercept_of(W, c), X.dtype, copy=False)
        # A host list, not an array: fitted arrays live in X's namespace.
        self._fitted_classes = _class_list(classes)
        self.n_iter_ = max(int(result.n_iter), 1)
        self.loss_curve_ = result.loss_curve or [self._objective_value(objective, penalty)]
        self.learning_rate_ = float(result.step)
        self.n_matvec_, self.n_rmatvec_ = objective.n_matvec, objective.n_rmatvec

        if result.stop_reason not in ("converged", "stopped"):
            warnings.warn(
                diagnose(
                    result,
                    tol=self.tol,
                    max_iter=self.max_iter,
                    alpha=self.alpha,
                    l1_ratio=self.l1_ratio,
                    line_search=self.line_search,
                    dtype=objective.dtype,
                    scale_ratio=scale_ratio,
                    Y=Y,
                    sw=sw,
                ),
                ConvergenceWarning,
            )
        if callback_ctx is not None:
            callback_ctx.call_on_fit_task_end(
                estimator=self,
                X=X,
                y=y,
                metadata=metadata,
                reconstruction_attributes={},
            )
        return self

    def _objective_value(self, objective, penalty):
        raw = objective.matvec(*objective.parameters_of(self.coef_, self.intercept_))
        return objective.value(self.coef_, raw) + penalty.value(self.coef_)

    # -- prediction ------------------------------------------------------------
    def decision_function(self, X):
        """Raw outputs ``X @ coef_.T + intercept_``.

        Returns
        -------
        scores : ndarray of shape (n_samples,) for binary targets, else (n_samples, n_outputs)
        """
        if _dask.is_dask_collection(X):
            return _dask.predict(self, X, "decision_function")
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method="decision_function")
        return self._decision_function(X)

    def _decision_function(self, X):
        xp, _ = input_namespace(X)
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=[xp.float64, xp.float32], reset=False
        )
        raw = matmul(X, self.coef_.T) + self.intercept_
        if raw.shape[1] == 1 and self._label_kind == "binary":
            return raw[:, 0]
        return raw

    def predict(self, X):
        """Class labels (a 0/1 indicator matrix for multilabel targets)."""
        if _dask.is_dask_collection(X):
            return _dask.predict(self, X, "predict")
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method="predict")
        raw = self._decision_function(X)
        xp = namespace(raw)
        if xp is np:
            if self._label_kind == "multilabel-indicator":
                return (raw > 0).astype(int)
            if raw.ndim == 1:
                return self.classes_[(raw > 0).astype(int)]
            return self.classes_[np.argmax(raw, axis=1)]
        if self._label_kind == "multilabel-indicator":
            return xp.astype(raw > 0, indexing_dtype(xp))
        if raw.ndim == 1:
            index = xp.astype(raw > 0, indexing_dtype(xp))
        else:
            index = xp.argmax(raw, axis=1)
        return _take_classes(self.classes_, index)

    def predict_log_proba(self, X):
        """Log-probabilities, from ``log_expit`` and ``logsumexp`` (finite for any logit)."""
        if _dask.is_dask_collection(X):
            return _dask.predict(self, X, "predict_log_proba")
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method="predict_log_proba")
        return self._log_proba(self._decision_function(X))

    def _log_proba(self, raw):
        xp = namespace(raw)
        if self._label_kind == "multilabel-indicator":
            return log_expit(raw, xp=xp)
        if raw.ndim == 1:
            return column_stack(xp, [log_expit(-raw, xp=xp), log_expit(raw, xp=xp)])
        log_unit = log_expit(raw, xp=xp)
        # SciPy's logsumexp runs in the namespace of its input (SCIPY_ARRAY_API=1).
        return log_unit - logsumexp(log_unit, axis=1, keepdims=True)

    def predict_proba(self, X):
        """Probabilities.

        Binary: ``(1 - expit(v), expit(v))``.  Multiclass: the K sigmoid
        outputs normalized to sum to one (in log space).  Multilabel: the K
        independent probabilities ``expit(v)``.
        """
        if _dask.is_dask_collection(X):
            return _dask.predict(self, X, "predict_proba")
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method="predict_proba")
        raw = self._decision_function(X)
        xp = namespace(raw)
        if self._label_kind == "multilabel-indicator":
            return expit(raw, xp=xp)
        if raw.ndim == 1:
            return column_stack(xp, [expit(-raw, xp=xp), expit(raw, xp=xp)])
        return xp.exp(self._log_proba(raw))

    def objective(self, X, y, sample_weight=None):
        """The objective ``J`` at the fitted coefficients on ``(X, y, sample_weight)``.

        Equal to ``loss_curve_[-1]`` on the training data when early stopping
        is off.
        """
        check_is_fitted(self)
        xp, device = input_namespace(X)
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=[xp.float64, xp.float32], reset=False
        )
        # The labels are matched to classes_ on the host (a one-off evaluation,
        # not the fit); Y then goes to X's namespace and device.
        y, classes = _host_array(y), _host_array(self.classes_)
        host_dtype = X.dtype if xp is np else np.float64
        if self._label_kind == "multilabel-indicator":
            Y = (np.asarray(y) > 0).astype(host_dtype)
            if Y.ndim != 2 or Y.shape[1] != len(classes):
                raise ValueError(
                    f"y must be an indicator matrix with {len(classes)} columns."
                )
        else:
            y = column_or_1d(y)
            unknown = np.setdiff1d(np.unique(y), classes)
            if unknown.size:
                raise ValueError(f"y contains labels not seen in fit: {unknown[:5]!r}")
            index = np.searchsorted(classes, y)
            if len(classes) == 2:
                Y = (index == 1).astype(host_dtype)[:, None]
            else:
                Y = np.eye(len(classes), dtype=host_dtype)[index]
        if Y.shape[0] != X.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} samples but y has {Y.shape[0]}."
            )
        if xp is not np:
            Y = from_host(xp, Y, X.dtype, device)
        sw, _ = fold_weights(
            y,
            Y,
            self._label_kind,
            sample_weight,
            self.class_weight,
            X.shape[0],
            X.dtype,
            classes=self.classes_,
        )
        objective = BCEObjective(
            X, Y, sw, l2=self.alpha * (1 - self.l1_ratio), fit_intercept=self.fit_intercept
        )
        return self._objective_value(objective, L1Penalty(self.alpha * self.l1_ratio))


def _host_array(a):
    """A NumPy array of labels given as a list, a NumPy array or any Array API array."""
    try:
        xp = namespace(a)
    except TypeError:  # lists, pandas objects
        return np.asarray(a)
    return np.asarray(a) if xp is np else to_numpy(xp, a)


def _class_list(classes):
    """The labels as a host list, from an array of any namespace."""
    if isinstance(classes, (list, tuple)):
        return list(classes)
    return to_numpy(namespace(classes), classes).tolist()


def _same_classes(fitted, classes):
    """Whether the classes of the last fit (a list or an array) are ``classes``."""
    return fitted is not None and _class_list(fitted) == _class_list(classes)


def _take_classes(classes, index):
    """``classes[index]`` in the namespace and on the device of ``index``.

    ``classes_`` lives where ``y`` was given (NumPy for string labels): the
    indices move there, and numeric labels come back, as in scikit-learn's
    linear classifiers.
    """
    xp, _, device = get_namespace_and_device(index)
    xp_classes, _, device_classes = get_namespace_and_device(classes)
    labels = xp_classes.take(classes, move_to(index, xp=xp_classes, device=device_classes), axis=0)
    if isinstance(labels, np.ndarray) and labels.dtype.kind in "OUS":
        return labels
    return move_to(labels, xp=xp, device=device)
