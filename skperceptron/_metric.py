# SPDX-License-Identifier: BSD-3-Clause
"""The metrics the solver takes its steps in: diagonal, or the Hessian of a row sample.

A metric turns the gradient into a direction, ``d = -step M^-1 g``.  The
diagonal metric divides by per-coordinate curvature bounds: it undoes the
scales of the features, never their correlations.  The Hessian metric solves
with the Hessian of ``J`` itself, per output unit (the units' losses are
separate, so their Hessian is block diagonal), estimated on a sample of rows
(all of them up to ``2 max(2048, 8 (p + 1))``, else ``max(2048, 8 (p + 1))``
evenly spaced ones): it also undoes correlated, redundant and badly scaled
columns together, which a diagonal cannot (on the ill-scaled benchmark set:
455 iterations to a gap of 1e-6 with the diagonal, 9 with the Hessian).

Only the sample enters the metric, so the solver's answer does not depend on
it: every step is still searched on the exact objective and the stopping test
is the exact gradient.  A poor metric costs iterations, never accuracy.
"""

import numpy as np

from ._backend import expit, from_host, to_host, to_numpy, vdot, zeros
from ._passes import blas_threads

# Rows in the Hessian's sample: all rows up to twice this size, else the larger
# of _SAMPLE_MIN and _SAMPLE_PER_COLUMN per column of [X, 1], evenly spaced.
_SAMPLE_MIN = 2048
_SAMPLE_PER_COLUMN = 8
# A sample whose weighted variance of some column is off by more than this
# factor from the whole data's (a rare dummy column, say) would leave that
# coordinate's curvature wrong by as much: "auto" then takes the diagonal
# metric, an explicit "hessian" all rows.
_SAMPLE_VARIANCE_FACTOR = 4.0
# The Hessian is refactored at the current point when the curvature weights
# w_i sigma'(v_ik) of the sample have moved by more than this fraction of their
# sum since the last factorization (for some unit k): early on, every
# iteration; near the optimum, where they no longer move, never.
_REFRESH_CHANGE = 0.25


class DiagonalMetric:
    """``M = diag(D_W, D_c)``; ``inv_W``, ``inv_c`` are its inverse, as arrays of
    the objective's namespace (``inv_c`` zero without an intercept)."""

    kind = "diagonal"
    n_refresh = 0

    def __init__(self, inv_W, inv_c):
        self.inv_W, self.inv_c = inv_W, inv_c

    def direction(self, grad_W, grad_c):
        """``M^-1 g``: the preconditioned gradient, in the objective's namespace."""
        return grad_W * self.inv_W, grad_c * self.inv_c

    def refresh(self, raw):
        """Bring the metric to the point with raw predictions ``raw``: True when
        it changed (the solver then restarts its step from 1)."""
        return False


class HessianMetric:
    """The Hessian of ``J`` on a sample of rows, per output unit.

    For unit ``k``: ``M_k = (1/s) sum_{i in S} w_i sigma'(v_ik) x_i x_i^T +
    l2 I_W`` over the sampled rows ``S`` of the (implicitly centred) ``[X, 1]``,
    with ``s`` the sample's total weight, so that it estimates the whole
    Hessian (the objective's weights sum to 1).  The sample stays in the
    objective's namespace and on its device (in float64 where the device has
    it); each refresh brings back the K (q, q) matrices, ``q = p + 1``, and
    inverts them on the host in float64 (Cholesky proves each positive
    definite first).  All of it runs on NumPy's own BLAS: calls into SciPy's,
    a second OpenBLAS with its own spinning threads, slowed every product of
    a small fit (digits) by 5 to 40 times.  Built with :meth:`create`.
    """

    kind = "hessian"

    def __init__(self, objective, rows, A, weights):
        self.objective = objective
        self.rows = rows
        self.A = A  # (m, q): the sampled rows of [X - mean, 1]
        self.weights = weights  # (m, 1), summing to 1
        self.inverses = None  # (K, q, q) float64
        self.curvature = None  # (m, K) weights of the last refresh
        self.n_refresh = 0

    @classmethod
    def sample_size(cls, n_samples, n_columns):
        m = max(_SAMPLE_MIN, _SAMPLE_PER_COLUMN * n_columns)
        return n_samples if n_samples <= 2 * m else m

    @classmethod
    def create(cls, objective, all_rows=False):
        """The metric on an evenly spaced sample of rows, or None when the
        sample misrepresents a column of X (see ``_SAMPLE_VARIANCE_FACTOR``)
        or has no weight; with ``all_rows``, on all rows in that case."""
        n = objective.n_samples
        m = cls.sample_size(n, objective.n_features + objective.fit_intercept)
        metric = cls._on_rows(objective, m)
        if metric is None and all_rows and m < n:
            metric = cls._on_rows(objective, n)
        return metric

    @classmethod
    def _on_rows(cls, objective, m):
        xp, n = objective.xp, objective.n_samples
        # Evenly spaced, not random: no random_state, the same rows for every
        # backend, and rows sorted by class are spread over all classes.
        rows = np.unique(np.linspace(0, n - 1, m).round().astype(np.int64))
        A = objective.sample_rows(objective.X, rows)
        weights = objective.sample_rows(objective.sw, rows)
        (total,) = to_host(xp, [xp.sum(weights)])
        if not float(total) > 0:
            return None
        weights = xp.reshape(weights / float(total), (-1, 1))
        mean, second = objective.moments()
        if objective.mean is not None:
            A = A - from_host(xp, mean, A.dtype, objective.device)
        if len(rows) < n:
            sample_mean = xp.sum(weights * A, axis=0)
            sample_var = xp.sum(weights * (A * A), axis=0) - sample_mean**2
            sample_var = to_numpy(xp, sample_var).astype(np.float64)
            var = second - mean**2 if objective.mean is not None else second
            informative = var > 1e-12 * np.maximum(second, 1e-300)
            ratio = sample_var[informative] / var[informative]
            factor = _SAMPLE_VARIANCE_FACTOR
            if not np.all((ratio >= 1 / factor) & (ratio <= factor)):
                return None
        if objective.fit_intercept:
            if xp is np:  # np.concat and the device keyword need NumPy 2
                A = np.hstack([A, np.ones((len(rows), 1))])
            else:
                ones = xp.ones((len(rows), 1), dtype=A.dtype, device=objective.device)
                A = xp.concat([A, ones], axis=1)
        return cls(objective, rows, A, weights)

    def refresh(self, raw):
        obj = self.objective
        xp = obj.xp
        v = obj.sample_rows(raw, self.rows)
        # sigma'(v) = expit(v) expit(-v): no overflow, no cancellation.
        h = expit(v, xp=xp) * expit(-v, xp=xp) * self.weights
        if self.curvature is None:
            units = list(range(obj.n_outputs))
            q = self.A.shape[1]
            self.inverses = np.empty((obj.n_outputs, q, q))
        else:
            # The units are separate problems: refresh only those that moved.
            moved, before = to_numpy(
                xp,
                xp.stack(
                    [xp.sum(xp.abs(h - self.curvature), axis=0), xp.sum(self.curvature, axis=0)]
                ),
            )
            units = np.flatnonzero(moved > _REFRESH_CHANGE * before).tolist()
            if not units:
                return False
        p = obj.n_features
        m, q = self.A.shape
        # Inside the fit the BLAS runs on one thread (see _passes); these
        # products are matrix-matrix work that its threads do speed up.
        n_threads = obj._passes.n_threads if obj._passes is not None else 1
        with blas_threads(n_threads, m * q * q * len(units)):
            grams = [self._gram(h, k) for k in units]
        for k, M in zip(units, grams):
            M[np.arange(p), np.arange(p)] += obj.l2
            self.inverses[k] = _inverse(M)
        if self.curvature is None or len(units) == obj.n_outputs:
            self.curvature = h
        else:
            # Each unit keeps the weights it was last factored with.
            mask = np.zeros(obj.n_outputs, dtype=bool)
            mask[units] = True
            if xp is not np:
                mask = from_host(xp, mask, xp.bool, obj.device)
            self.curvature = xp.where(mask, h, self.curvature)
        self.n_refresh += 1
        return True

    def _gram(self, h, k):
        """``A' diag(h[:, k]) A`` as float64 NumPy: ``B' B`` with ``B = A
        sqrt(h_k)``, which NumPy computes with BLAS ``syrk`` (half the flops
        of a general product)."""
        xp = self.objective.xp
        B = self.A * xp.sqrt(h[:, k : k + 1])
        return np.array(to_numpy(xp, B.T @ B), dtype=np.float64)

    def direction(self, grad_W, grad_c):
        obj = self.objective
        xp, p = obj.xp, obj.n_features
        G = to_numpy(xp, grad_W).astype(np.float64)
        if obj.fit_intercept:
            G = np.hstack([G, to_numpy(xp, grad_c).astype(np.float64)[:, None]])
        D = np.matmul(self.inverses, G[:, :, None])[:, :, 0]
        dW = from_host(xp, D[:, :p], obj.dtype, obj.device)
        if obj.fit_intercept:
            return dW, from_host(xp, D[:, p], obj.dtype, obj.device)
        return dW, zeros(xp, obj.n_outputs, obj.dtype, obj.device)


def _inverse(M):
    """Inverse of the symmetric positive semi-definite ``M``, computed as
    ``S^-1 (S^-1 M S^-1 + r I)^-1 S^-1`` with ``S = sqrt(diag M)``: the
    scaling takes the columns' scales (10^-3 to 10^3 on the ill-scaled set)
    out of the conditioning, and ``r`` is the smallest ridge, from 0 and then
    1e-12 up by factors of 100, for which Cholesky accepts the scaled matrix
    and its inverse is finite (redundant columns without a penalty leave ``M``
    singular).  Should none up to 1e10 do (non-finite entries), the inverse
    of the diagonal."""
    d = np.sqrt(np.maximum(np.diag(M), 0.0))
    d[~(d > 0)] = 1.0
    C = M / d[:, None] / d[None, :]
    identity = np.eye(len(M))
    inverse = identity
    ridge = 0.0
    for _ in range(13):
        try:
            shifted = C + ridge * identity
            np.linalg.cholesky(shifted)
            candidate = np.linalg.inv(shifted)
            if np.all(np.isfinite(candidate)):
                inverse = candidate
                break
        except np.linalg.LinAlgError:
            pass
        ridge = 1e-12 if ridge == 0 else 100 * ridge
    # A metric must be symmetric; inv's rounding is not, quite.
    inverse = 0.5 * (inverse + inverse.T)
    inverse /= d[:, None]
    inverse /= d[None, :]
    return inverse


def quadratic(metric, grad_W, grad_c, xp):
    """``g' M^-1 g`` as a Python float."""
    dW, dc = metric.direction(grad_W, grad_c)
    qW, qc = to_host(xp, [vdot(xp, dW, grad_W), vdot(xp, dc, grad_c)])
    return float(qW + qc)
