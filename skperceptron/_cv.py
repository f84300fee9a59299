# SPDX-License-Identifier: BSD-3-Clause
"""The cross-validated estimator: a regularization path per fold, the choice of
alpha (and l1_ratio), and the refit."""

import time
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils.validation import check_is_fitted

from ._classifier import (
    BCEPerceptronClassifier,
    fit_prepared,
    fitted_classifier,
    predict_validated,
)
from ._compat import (
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
)
from ._data import FitData, fold_weights, prepare_fit
from ._path import alpha_max, regularization_path

# The parameters of BCEPerceptronClassifier that every fit on a path takes.
_FIT_PARAMS = ("fit_intercept", "solver", "preconditioner", "max_iter", "tol", "class_weight")
# The smallest alpha of an int grid, relative to alpha_max (glmnet's
# lambda.min.ratio for n < p, LogisticRegressionCV's Cs span half of it).
_GRID_RATIO = 1e-4


class BCEPerceptronClassifierCV(ClassifierMixin, BaseEstimator):
    r"""The BCE perceptron with ``alpha`` (and ``l1_ratio``) chosen by
    cross-validation over a regularization path.

    For each fold and each ``l1_ratio``, the path of
    :class:`BCEPerceptronClassifier` fits runs from the largest alpha down,
    each fit warm-started from the previous one; with an L1 part and more
    features than samples (and 256), a strong rule screens the features
    (checked by the KKT conditions afterwards, so the fits are those of the
    unscreened problem).  A fold's training set is
    the full ``X`` with zero weights on its held-out rows: no copy of ``X``.
    The user guide: :doc:`/user_guide/cross_validation`.

    Parameters
    ----------
    alphas : int or array-like of shape (n_alphas,), default=20
        An int: that many values on a log grid from ``alpha_max`` down to
        ``alpha_max * 1e-4``, per ``l1_ratio``.  ``alpha_max`` is computed on
        the full training data: for ``l1_ratio > 0`` the smallest alpha at
        which every coefficient is zero, ``max |G| / l1_ratio`` with ``G`` the
        gradient of the weighted BCE in ``W`` at the intercept-only fit; for
        ``l1_ratio == 0``, ``max |G|`` (the same with ``l1_ratio = 1``).
        An array: those alphas (``>= 0``) for every ``l1_ratio``, fitted
        largest first.
    l1_ratios : array-like of float in [0, 1], default=(0.0,)
        The elastic-net mixings tried, each with its own path.
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn: None is 5-fold, an int that many folds
        (stratified for binary and multiclass targets, plain for multilabel).
    scoring : str, callable or None, default=None
        A scikit-learn scorer; None is accuracy (as ``LogisticRegressionCV``).
        With ``sample_weight``, the held-out rows' weights are passed to it.
    refit : bool, default=True
        Refit on all the data at the chosen ``alpha_`` and ``l1_ratio_``,
        warm-started from the folds' mean coefficients there.  With False,
        ``coef_`` and ``intercept_`` are that mean (as ``LogisticRegressionCV``).
    selection : {"best", "1se"}, default="best"
        ``"best"``: the highest mean score (over folds) over every
        ``(l1_ratio, alpha)``, the largest alpha on ties.  ``"1se"``: on the
        path of the best ``l1_ratio``, the largest alpha whose mean score is
        at least the best mean minus its standard error,
        ``std(scores, ddof=1) / sqrt(n_folds)`` over the folds at the best
        alpha (glmnet's ``lambda.1se``; 0 with one fold).
    n_jobs : int, default=None
        Folds run in parallel by joblib; None is 1 unless in a
        ``joblib.parallel_config`` context.
    fit_intercept, solver, preconditioner, max_iter, tol, class_weight
        As in :class:`BCEPerceptronClassifier`, for every fit.
    verbose : int, default=0
        ``1``: a line per fold and ``l1_ratio``; ``2`` and more: also the
        fits' own lines (their ``verbose`` is one less).

    Attributes
    ----------
    alpha_ : float
        The chosen alpha.
    l1_ratio_ : float
        The chosen l1_ratio.
    alphas_ : ndarray of shape (n_l1_ratios, n_alphas)
        The alphas of each path, largest first.
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
        The l1_ratios, as given.
    scores_ : ndarray of shape (n_folds, n_l1_ratios, n_alphas)
        Held-out score of each fit.
    coefs_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_alphas, n_outputs, n_features)
        Coefficients of each fit.
    intercepts_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_alphas, n_outputs)
        Intercepts of each fit.
    n_iter_ : ndarray of shape (n_folds, n_l1_ratios, n_alphas)
        Solver iterations of each fit (all of its KKT rounds; 0 where
        screening left no feature and the intercept-only solution is exact).
    classes_, coef_, intercept_ : ndarray
        As in :class:`BCEPerceptronClassifier`: of the refit, or the folds'
        mean with ``refit=False``.
    loss_curve_ : list of float
        The refit's objective per iteration (``refit=True`` only).
    n_features_in_, feature_names_in_
        As in :class:`BCEPerceptronClassifier`.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skperceptron import BCEPerceptronClassifierCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = BCEPerceptronClassifierCV(alphas=10, cv=3).fit(X, y)
    >>> clf.scores_.shape
    (3, 1, 10)
    >>> bool(clf.alphas_[0, -1] <= clf.alpha_ <= clf.alphas_[0, 0])
    True
    """

    _parameter_constraints = {
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "l1_ratios": ["array-like"],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "refit": ["boolean"],
        "selection": [StrOptions({"best", "1se"})],
        "n_jobs": [Integral, None],
    } | {name: BCEPerceptronClassifier._parameter_constraints[name] for name in _FIT_PARAMS}
    # prepare_fit's question: no early-stopping split (the folds hold out data).
    early_stopping = False

    def __init__(
        self,
        *,
        alphas=20,
        l1_ratios=(0.0,),
        cv=None,
        scoring=None,
        refit=True,
        selection="best",
        n_jobs=None,
        fit_intercept=True,
        solver="nesterov",
        preconditioner="auto",
        max_iter=1000,
        tol=1e-4,
        class_weight=None,
        verbose=0,
    ):
        # The search.
        self.alphas, self.l1_ratios, self.cv, self.scoring = alphas, l1_ratios, cv, scoring
        self.refit, self.selection, self.n_jobs = refit, selection, n_jobs
        # Each path's BCEPerceptronClassifier fits.
        self.fit_intercept, self.solver, self.preconditioner = fit_intercept, solver, preconditioner
        self.max_iter, self.tol, self.class_weight = max_iter, tol, class_weight
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # As the classifier's, without Array API support: the paths run on NumPy.
        tags.input_tags.sparse = tags.classifier_tags.multi_label = True
        return tags

    def _fit_params(self):
        """The parameters of every :class:`BCEPerceptronClassifier` fit."""
        params = {name: getattr(self, name) for name in _FIT_PARAMS}
        return params | {"verbose": max(0, self.verbose - 1)}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit a path per fold and ``l1_ratio``, choose ``alpha_`` and
        ``l1_ratio_``, and refit (with ``refit=True``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 stays float32, sparse stays sparse.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, in the fits and in the scores.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        data = prepare_fit(self, X, y, sample_weight)
        X, y, classes, kind = data.X, data.y, data.classes, data.kind
        if sample_weight is not None:
            # Sliced per fold below (prepare_fit keeps what the caller gave).
            data.sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        self.l1_ratios_ = _check_l1_ratios(self.l1_ratios)
        self.alphas_ = np.stack(
            [self._alpha_grid(data, l1_ratio) for l1_ratio in self.l1_ratios_]
        )
        folds = list(check_cv(self.cv, y, classifier=True).split(X, y))
        scorer = check_scoring(self, scoring=self.scoring) if self.scoring else None
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_paths)(self, data, train, test, fold, scorer)
            for fold, (train, test) in enumerate(folds)
        )
        coefs, intercepts, n_iter, scores = (np.stack(r) for r in zip(*results))
        self.coefs_paths_, self.intercepts_paths_ = coefs, intercepts
        self.n_iter_, self.scores_ = n_iter, scores
        i, j = self._select(scores)
        self.l1_ratio_, self.alpha_ = float(self.l1_ratios_[i]), float(self.alphas_[i, j])

        params = self._fit_params() | {"alpha": self.alpha_, "l1_ratio": self.l1_ratio_}
        coef, intercept = coefs[:, i, j].mean(axis=0), intercepts[:, i, j].mean(axis=0)
        final = fitted_classifier(params, coef, intercept, classes, kind)
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self, name):
                setattr(final, name, getattr(self, name))
        self.loss_curve_ = None
        if self.refit:
            fit_prepared(final, data, start=(coef, intercept))
            self.loss_curve_ = final.loss_curve_
        self._final = final
        self.classes_, self.coef_, self.intercept_ = classes, final.coef_, final.intercept_
        return self

    def _alpha_grid(self, data, l1_ratio):
        """The alphas of one path, largest first (see ``alphas``)."""
        if isinstance(self.alphas, Integral):
            top = alpha_max(data.X, data.Y, data.sw, self.fit_intercept, l1_ratio)
            return top * np.logspace(0, np.log10(_GRID_RATIO), self.alphas)
        alphas = np.asarray(self.alphas, dtype=np.float64)
        if alphas.ndim != 1 or alphas.size == 0:
            raise ValueError(f"alphas must be an int or a non-empty 1-D array; got {self.alphas!r}.")
        if not np.all(np.isfinite(alphas) & (alphas >= 0)):
            raise ValueError(f"alphas must be finite and non-negative; got {self.alphas!r}.")
        return np.sort(alphas)[::-1]

    def _select(self, scores):
        """The indices ``(l1_ratio, alpha)`` of the chosen fit (see ``selection``)."""
        mean = scores.mean(axis=0)
        # argmax takes the first maximum: the first l1_ratio, the largest alpha.
        i, j = np.unravel_index(np.argmax(mean), mean.shape)
        if self.selection == "1se":
            n_folds = scores.shape[0]
            se = scores[:, i, j].std(ddof=1) / np.sqrt(n_folds) if n_folds > 1 else 0.0
            j = int(np.flatnonzero(mean[i] >= mean[i, j] - se)[0])
        return int(i), int(j)

    # -- prediction: the final classifier's ----------------------------------------
    def _predict(self, method, X):
        check_is_fitted(self)
        return getattr(self._final, method)(X)

    def decision_function(self, X):
        """Raw outputs ``X @ coef_.T + intercept_``, as :class:`BCEPerceptronClassifier`."""
        return self._predict("decision_function", X)

    def predict(self, X):
        """Class labels (a 0/1 indicator matrix for multilabel targets)."""
        return self._predict("predict", X)

    def predict_proba(self, X):
        """Probabilities, as :class:`BCEPerceptronClassifier`."""
        return self._predict("predict_proba", X)

    def predict_log_proba(self, X):
        """Log-probabilities, as :class:`BCEPerceptronClassifier`."""
        return self._predict("predict_log_proba", X)


def _check_l1_ratios(l1_ratios):
    ratios = np.asarray(l1_ratios, dtype=np.float64).reshape(-1)
    if ratios.size == 0 or not np.all((ratios >= 0) & (ratios <= 1)):
        raise ValueError(f"l1_ratios must be a non-empty list of floats in [0, 1]; got {l1_ratios!r}.")
    return ratios


def _fold_paths(cv_estimator, data, train, test, fold, scorer):
    """One fold: a path per l1_ratio on the training rows' weights, each fit
    scored on the held-out rows.  Returns coefficients, intercepts, iterations
    and scores, each with leading axes (n_l1_ratios, n_alphas)."""
    y, Y, kind, classes = data.y, data.Y, data.kind, data.classes
    sample_weight = data.sample_weight
    sw = np.zeros(Y.shape[0], dtype=data.sw.dtype)
    # The weights of a fit on the training rows alone ("balanced" counts them only).
    sw[train], _ = fold_weights(
        y[train],
        Y[train],
        kind,
        None if sample_weight is None else sample_weight[train],
        cv_estimator.class_weight,
        len(train),
        sw.dtype,
        classes=classes,
    )
    fold_data = FitData(data.X, y, Y, sw, classes, kind)
    X_test, y_test = data.X[test], y[test]
    score_params = {} if sample_weight is None else {"sample_weight": sample_weight[test]}
    params = cv_estimator._fit_params()
    results = []
    for l1_ratio, alphas in zip(cv_estimator.l1_ratios_, cv_estimator.alphas_):
        start = time.perf_counter()
        path = regularization_path(
            BCEPerceptronClassifier(**params), fold_data, alphas, l1_ratio
        )
        scores = []
        for coef, intercept in zip(path.coefs, path.intercepts):
            point = fitted_classifier(params, coef, intercept, classes, kind)
            scores.append(
                _accuracy(point, X_test, y_test, score_params.get("sample_weight"))
                if scorer is None
                else scorer(point, X_test, y_test, **score_params)
            )
        if cv_estimator.verbose:
            print(
                f"fold {fold}  l1_ratio {l1_ratio:g}  {len(alphas)} alphas  "
                f"{int(path.n_iter.sum())} iterations  {time.perf_counter() - start:.3f} s"
            )
        results.append((path.coefs, path.intercepts, path.n_iter, np.asarray(scores)))
    return tuple(np.stack(r) for r in zip(*results))


def _accuracy(point, X, y, sample_weight):
    """``point.score(X, y, sample_weight)``, accuracy (subset accuracy for
    multilabel targets), without its target-type checks: the fold's labels
    are the fit's, checked once, and those checks were 45% of a breast
    cancer path's time (100 scores of 114 rows).  ``X``, rows of the validated
    data, is not validated again (11% of that path's time)."""
    predicted = predict_validated(point, X)
    if not isinstance(y, np.ndarray) or predicted.shape != y.shape:
        return point.score(X, y, sample_weight=sample_weight)
    same = predicted == y
    if same.ndim == 2:
        same = same.all(axis=1)
    return float(np.average(same, weights=sample_weight))
