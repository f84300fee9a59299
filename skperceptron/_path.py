# SPDX-License-Identifier: BSD-3-Clause
r"""The regularization path: ``alpha_max`` and warm-started fits from the
largest alpha down, with strong-rule screening checked by KKT for an L1 part.

Every fit on the path is a :class:`BCEPerceptronClassifier` fit from data
already validated and encoded (``fit_prepared``): a fold is a weight vector
``sw`` with zeros on its held-out rows, so no fit copies ``X``.  Screening
fits only the columns of a working set (a copy of those columns alone).

KKT conditions (``G`` the gradient of the weighted BCE in ``W``, ``l1 =
alpha * l1_ratio``): a coefficient at zero is optimal iff ``|G_kj| <= l1``.
The solvers stop at ``max |gradient mapping| <= tol``, which for a zero
coefficient is ``|G_kj| - l1 <= tol``: the same test decides whether a
feature left out of the working set violates them.
"""

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._classifier import KeptProblem, fit_prepared
from ._data import FitData, log_odds
from ._objective import BCEObjective
from ._prox_newton import _WORKING_SET_FEATURES


@dataclass
class Path:
    """The fits of one path, in the order of ``alphas`` (largest first).

    ``coefs`` (n_alphas, K, p), ``intercepts`` (n_alphas, K), ``n_iter``
    (n_alphas,) solver iterations (0 where screening left no feature and the
    intercept-only solution is exact), ``n_fits`` (n_alphas,) fits run
    (more than 1 where the KKT check added features), ``n_working``
    (n_alphas,) the features of the last fit (``p`` without screening),
    ``seconds`` (n_alphas,) the time each alpha took, checks included.
    """

    coefs: np.ndarray
    intercepts: np.ndarray
    n_iter: np.ndarray
    n_fits: np.ndarray
    n_working: np.ndarray
    seconds: np.ndarray


def intercept_only(Y, sw, fit_intercept, dtype):
    """The optimal intercepts at ``W = 0``: log-odds of the weighted class
    frequencies (zeros without an intercept)."""
    if not fit_intercept:
        return np.zeros(Y.shape[1], dtype=dtype)
    return log_odds(np.asarray(sw @ Y, dtype=np.float64)).astype(dtype)


def loss_gradient(X, Y, sw, coef, intercept, fit_intercept):
    """``G`` (K, p): the gradient in ``W`` of the weighted BCE alone (no penalty)
    at ``(coef, intercept)``, from the estimator's objective."""
    objective = BCEObjective(X, Y, sw, l2=0.0, fit_intercept=fit_intercept)
    W, c = objective.parameters_of(coef, intercept)
    with objective.product_threads():
        grad_W, _, _ = objective.gradient(W, objective.matvec(W, c))
    return grad_W


def alpha_max(X, Y, sw, fit_intercept, l1_ratio):
    r"""The smallest alpha at which every coefficient is zero, for ``l1_ratio > 0``:
    ``max |G| / l1_ratio`` with ``G`` the loss gradient at the intercept-only
    fit (``W = 0`` is optimal iff ``|G_kj| <= alpha * l1_ratio`` for all k, j).

    For pure L2 (``l1_ratio == 0``) no finite alpha makes the coefficients
    zero; the same formula with ``l1_ratio = 1`` is used: the alpha at which
    an L1 penalty would zero them all, a data-derived scale of the penalty
    (it is the gradient's size at ``W = 0``).  1.0 if that gradient is zero.
    """
    dtype = sw.dtype
    W = np.zeros((Y.shape[1], X.shape[1]), dtype=dtype)
    G = loss_gradient(X, Y, sw, W, intercept_only(Y, sw, fit_intercept, dtype), fit_intercept)
    top = float(np.max(np.abs(G))) if G.size else 0.0
    if not top > 0:
        return 1.0
    return top / (l1_ratio if l1_ratio > 0 else 1.0)


def screens(n_samples, n_features):
    """Whether ``screening="auto"`` screens: features outnumber the samples and
    the proximal Newton model's own working-set threshold.  Below that the
    KKT rounds (1 to 3 fits per alpha, each on a copy of its columns) cost
    more than they save; measured over 20 alphas of an L1 path: breast cancer
    55 ms screened against 32 ms not, digits 727 against 646, 500 x 400 292
    against 191; 200 x 1000 123 against 155 and 50 x 5000 0.04 s against 0.08."""
    return n_features > max(n_samples, _WORKING_SET_FEATURES)


def regularization_path(estimator, data, alphas, l1_ratio, screening="auto"):
    """Fits of ``estimator`` (a :class:`BCEPerceptronClassifier`, its
    ``alpha`` and ``l1_ratio`` set here) on ``data`` (a
    ``FitData``, typically a fold's weights) at each of ``alphas`` (sorted
    largest first), each warm-started from the previous one.

    With ``l1_ratio > 0`` and ``screening`` (True, or "auto" where
    :func:`screens`), each fit runs on a working set of
    features: the ever-active set first; then the features of the sequential
    strong rule (Tibshirani et al. 2012: keep ``j`` if ``max_k |G_kj| >=
    l1_ratio * (2 alpha - alpha_previous)`` at the previous solution) that
    violate the KKT conditions at the solution; then any other violators; a
    refit after each addition, until none violates them.  (Fitting the whole
    strong set at once takes 1 fit per alpha instead of 1 to 3, but on the
    50 x 5000 path of ``benchmarks/_cv.py`` that set holds 180 to 790
    features for 6 to 50 non-zeros: the working set would not follow the
    active set.)
    """
    X, Y, sw = data.X, data.Y, data.sw
    dtype, (K, p) = sw.dtype, (Y.shape[1], X.shape[1])
    # Attributes, not set_params: its signature inspection was 9% of a
    # breast cancer path's time (one call per alpha).
    estimator.l1_ratio = l1_ratio
    fit_intercept = estimator.fit_intercept
    n_alphas = len(alphas)
    path = Path(
        coefs=np.zeros((n_alphas, K, p), dtype=dtype),
        intercepts=np.zeros((n_alphas, K), dtype=dtype),
        n_iter=np.zeros(n_alphas, dtype=np.int64),
        n_fits=np.zeros(n_alphas, dtype=np.int64),
        n_working=np.full(n_alphas, p, dtype=np.int64),
        seconds=np.zeros(n_alphas),
    )
    W = np.zeros((K, p), dtype=dtype)
    b = intercept_only(Y, sw, fit_intercept, dtype)
    if screening == "auto":
        screening = screens(*X.shape)
    screen = screening and l1_ratio > 0
    kept = KeptProblem()
    start_at = W, b
    if screen:
        X = X.tocsc() if sp.issparse(X) else X  # column slices of the working sets
        G = loss_gradient(X, Y, sw, W, b, fit_intercept)
        alpha_previous = max(float(alphas[0]), float(np.max(np.abs(G), initial=0)) / l1_ratio)
        ever_active = np.zeros(p, dtype=bool)
    for index, alpha in enumerate(alphas):
        start = time.perf_counter()
        estimator.alpha = float(alpha)
        if not screen:
            W, b, path.n_iter[index] = fit_columns(
                estimator, data, *start_at, kept=kept
            )
            path.n_fits[index] = 1
            start_at = W, b
            if index + 1 < n_alphas and l1_ratio == 0 and kept.metric is not None:
                start_at = kept.extrapolate(W, b, float(alphas[index + 1]) - float(alpha))
        else:
            strong = ever_active | (
                np.max(np.abs(G), axis=0) >= l1_ratio * (2 * alpha - alpha_previous)
            )
            W, b, G, path.n_iter[index], path.n_fits[index], path.n_working[index] = (
                _screened_fit(estimator, data, X, W, b, ever_active, strong)
            )
            ever_active |= np.any(W != 0, axis=0)
            alpha_previous = float(alpha)
        path.coefs[index], path.intercepts[index] = W, b
        path.seconds[index] = time.perf_counter() - start
    return path


def _screened_fit(estimator, data, X, W, b, working, strong):
    """Fits on a growing working set until the KKT conditions hold for every
    feature: strong-set violators are added first, then any others.  Returns ``(W, b, G, n_iter, n_fits, n_working)`` with ``G`` the
    loss gradient at the solution."""
    Y, sw, fit_intercept = data.Y, data.sw, estimator.fit_intercept
    l1 = estimator.alpha * estimator.l1_ratio
    working, n_iter, n_fits = working.copy(), 0, 0
    while True:
        if working.any():
            W, b, iterations = fit_columns(estimator, data, W, b, np.flatnonzero(working), X)
            n_iter, n_fits = n_iter + iterations, n_fits + 1
        else:
            # No feature: W = 0 and the intercept-only optimum, exactly.
            W = np.zeros_like(W)
            b = intercept_only(Y, sw, fit_intercept, W.dtype)
        G = loss_gradient(X, Y, sw, W, b, fit_intercept)
        violators = (np.max(np.abs(G), axis=0) > l1 + estimator.tol) & ~working
        if (violators & strong).any():
            violators &= strong
        if not violators.any():
            return W, b, G, n_iter, n_fits, int(working.sum())
        working |= violators


def fit_columns(estimator, data, W, b, columns=None, X=None, kept=None):
    """One fit of ``estimator`` on ``data`` from ``(W, b)``, on ``columns`` of
    ``X`` only (all when None), reusing the path's ``kept`` problem; returns
    the full ``(W, b)`` and the iterations."""
    if columns is not None and len(columns) < W.shape[1]:
        fold = FitData(X[:, columns], data.y, data.Y, data.sw, data.classes, data.kind)
        start = W[:, columns]
    else:
        fold, start, columns = data, W, None
    fit_prepared(estimator, fold, start=(start, b), kept=kept)
    if columns is None:
        return estimator.coef_.copy(), estimator.intercept_.copy(), estimator.n_iter_
    W = np.zeros_like(W)
    W[:, columns] = estimator.coef_
    return W, estimator.intercept_.copy(), estimator.n_iter_
