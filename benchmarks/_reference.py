# SPDX-License-Identifier: BSD-3-Clause
"""The objective ``J``, written independently of the package, and its optimum.

Every method in the benchmark is scored on the same ``J`` (unit sample
weights, so ``S = n_train``)::

    J(W, b) = (1/n) sum_i sum_k BCE(Y_ik, expit(x_i . w_k + b_k)) + alpha/2 ||W||_F^2
    BCE(y, expit(v)) = -(y log_expit(v) + (1 - y) log_expit(-v))

It separates over the ``K`` output units, so the reference optimum ``J*`` is
the sum of ``K`` independent binary problems.  Each is solved in the
coordinates ``z_j = w_j * scale_j`` with ``scale_j = sqrt(var_j + alpha)`` and
the intercept taken at the column means (``c = b + w . mean``), which removes
the scales of the features (the ill-scaled set) and the coupling of the
intercept with uncentred features (raw breast cancer): SciPy's L-BFGS-B first,
then, for dense X with at most ``_NEWTON_MAX_FEATURES`` features, Newton steps
with the exact Hessian until the Newton decrement is at the level of float64
rounding (L-BFGS alone stalls at a relative accuracy of about 1e-12 on highly
correlated features).  Sparse X (20,000 features) is random and well
conditioned in these coordinates: L-BFGS-B runs until it can no longer
decrease ``J`` in float64.
"""

import time

import numpy as np
import scipy.sparse as sp
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize
from scipy.special import expit, log_expit

# Rows per block when a statistic needs an elementwise function of X, so that
# no temporary of the size of X is ever formed (about 32 MB per block).
_BLOCK_BYTES = 2**25
# Above this many features the dense Hessian (p x p) is not worth forming.
_NEWTON_MAX_FEATURES = 2000


def as_float64(X):
    """X with float64 values: the same object when it already is."""
    if X.dtype == np.float64:
        return X
    return X.astype(np.float64)


def objective(X, Y, W, b, alpha):
    """``J(W, b)`` in float64 on float64 ``X``; W of shape (K, p), b of shape (K,)."""
    W = np.asarray(W, dtype=np.float64).reshape(Y.shape[1], X.shape[1])
    b = np.asarray(b, dtype=np.float64).reshape(Y.shape[1])
    raw = np.asarray(X @ W.T) + b
    # The definition itself (two log_expit), not the one-call identity the
    # package uses, so that a slip in either shows up as a disagreement.
    pointwise = Y * log_expit(raw)
    pointwise += (1 - Y) * log_expit(-raw)
    return float(-pointwise.sum() / X.shape[0] + 0.5 * alpha * np.vdot(W, W))


def column_statistics(X):
    """Column means and variances (float64), in blocks of rows."""
    n, p = X.shape
    if sp.issparse(X):
        mean = np.asarray(X.mean(axis=0)).ravel()
        second = np.asarray(X.multiply(X).mean(axis=0)).ravel()
    else:
        mean = np.zeros(p)
        second = np.zeros(p)
        step = max(1, _BLOCK_BYTES // (8 * p))
        for start in range(0, n, step):
            block = np.asarray(X[start : start + step], dtype=np.float64)
            mean += block.sum(axis=0)
            second += np.einsum("ij,ij->j", block, block)
        mean /= n
        second /= n
    return mean, np.maximum(second - mean**2, 0.0)


class _Unit:
    """One binary unit of J in the scaled, centred coordinates ``x = (z, c)``."""

    def __init__(self, X, y, alpha, mean, scale):
        self.X, self.y, self.alpha = X, y, alpha
        self.mean, self.scale = mean, scale
        self.n = X.shape[0]
        self.n_evaluations = 0

    def weights(self, x):
        w = x[:-1] / self.scale
        return w, x[-1] - w @ self.mean

    def __call__(self, x):
        self.n_evaluations += 1
        w, b = self.weights(x)
        raw = np.asarray(self.X @ w).ravel() + b
        value = np.logaddexp(0.0, raw).sum() - self.y @ raw
        value = value / self.n + 0.5 * self.alpha * (w @ w)
        r = (expit(raw) - self.y) / self.n
        grad_b = r.sum()
        grad_w = np.asarray(self.X.T @ r).ravel() + self.alpha * w
        # raw = X w - w . mean + c: the chain rule through b = c - w . mean.
        grad_z = (grad_w - grad_b * self.mean) / self.scale
        return value, np.append(grad_z, grad_b)

    def hessian(self, x):
        """Exact Hessian in ``(z, c)``, accumulated over blocks of rows of dense X."""
        w, b = self.weights(x)
        p = self.X.shape[1]
        H = np.zeros((p + 1, p + 1))
        step = max(1, _BLOCK_BYTES // (8 * (p + 1)))
        for start in range(0, self.n, step):
            block = np.asarray(self.X[start : start + step], dtype=np.float64)
            A = np.empty((block.shape[0], p + 1))
            np.subtract(block, self.mean, out=A[:, :p])
            A[:, :p] /= self.scale
            A[:, p] = 1.0
            prob = expit(block @ w + b)
            d = prob * (1 - prob) / self.n
            H += A.T @ (A * d[:, None])
        H[np.arange(p), np.arange(p)] += self.alpha / self.scale**2
        return H

    def original_gradient(self, x):
        """max |dJ/d(w, b)| in the original coordinates."""
        w, b = self.weights(x)
        raw = np.asarray(self.X @ w).ravel() + b
        r = (expit(raw) - self.y) / self.n
        grad_w = np.asarray(self.X.T @ r).ravel() + self.alpha * w
        return float(max(np.max(np.abs(grad_w)), abs(r.sum())))


def _newton(unit, x, max_iter=30):
    """Damped Newton from ``x`` until the decrement reaches float64 rounding."""
    value, grad = unit(x)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        H = unit.hessian(x)
        try:
            direction = -cho_solve(cho_factor(H), grad)
        except np.linalg.LinAlgError:
            direction = -np.linalg.lstsq(H, grad, rcond=None)[0]
        decrement = -float(grad @ direction)
        if not decrement > 1e-20 * max(1.0, abs(value)):
            break  # below what a step could change in float64
        # Near the optimum the change of J is below its rounding error, so the
        # Armijo test is decided by noise: there, a step that reduces the
        # gradient is the progress that float64 can still see.
        close = decrement <= 1e-10 * max(1.0, abs(value))
        t = 1.0
        for _ in range(40):
            new_value, new_grad = unit(x + t * direction)
            if new_value <= value - 1e-4 * t * decrement:
                break
            if close and np.max(np.abs(new_grad)) < np.max(np.abs(grad)):
                break
            t *= 0.5
        else:
            break  # no decrease left in float64
        x, value, grad = x + t * direction, new_value, new_grad
        # The decrement is about twice the remaining gap: after this full step
        # the gap is below float64 rounding of J.
        if t == 1.0 and decrement <= 1e-14 * max(1.0, abs(value)):
            break
    return x, n_iter


def reference_optimum(X, Y, alpha):
    """``J*``, the optimal ``(W, b)`` and how they were found.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features), float64
    Y : ndarray of shape (n_samples, K) of 0/1
    alpha : float

    Returns
    -------
    info : dict
        ``J_star``, ``W`` (K, p), ``b`` (K,), ``lbfgs_iterations`` and
        ``newton_iterations`` (summed over the units), ``seconds``, ``max_grad``
        (max |dJ/d(W, b)| at the optimum, original coordinates) and
        ``messages`` (L-BFGS-B's).
    """
    start = time.perf_counter()
    mean, var = column_statistics(X)
    scale = np.sqrt(var + alpha)
    K, p = Y.shape[1], X.shape[1]
    newton = not sp.issparse(X) and p <= _NEWTON_MAX_FEATURES
    W, b = np.zeros((K, p)), np.zeros(K)
    lbfgs_iterations, newton_iterations, max_grad, messages = 0, 0, 0.0, []
    for k in range(K):
        y = np.ascontiguousarray(Y[:, k], dtype=np.float64)
        unit = _Unit(X, y, alpha, mean, scale)
        prior = min(max(y.mean(), 1e-12), 1 - 1e-12)
        x0 = np.zeros(p + 1)
        x0[-1] = np.log(prior) - np.log1p(-prior)
        # Without the Newton polish: ftol=0 and a tiny gtol, i.e. run until the
        # line search can no longer decrease J in float64.  With it, L-BFGS
        # only has to bring Newton into its region of quadratic convergence.
        options = {"maxiter": 20000, "maxcor": 30, "ftol": 0.0, "gtol": 1e-14, "maxls": 50}
        if newton:
            options.update(maxiter=30, ftol=1e-10, gtol=1e-8)
        result = minimize(unit, x0, jac=True, method="L-BFGS-B", options=options)
        x = result.x
        lbfgs_iterations += int(result.nit)
        messages.append(str(result.message))
        if newton:
            x, n_newton = _newton(unit, x)
            newton_iterations += n_newton
        W[k], b[k] = unit.weights(x)
        max_grad = max(max_grad, unit.original_gradient(x))
    J_star = objective(X, Y, W, b, alpha)
    return {
        "J_star": J_star,
        "W": W,
        "b": b,
        "lbfgs_iterations": lbfgs_iterations,
        "newton_iterations": newton_iterations,
        "seconds": time.perf_counter() - start,
        "max_grad": max_grad,
        "messages": sorted(set(messages)),
    }
