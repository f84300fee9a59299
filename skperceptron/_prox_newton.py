# SPDX-License-Identifier: BSD-3-Clause
r"""Proximal Newton steps: the sampled Hessian with the L1 part.

Each iteration minimizes, for every output unit ``k`` separately, the model

.. math::

    m_k(d) = g_k^\top d + \tfrac12 d^\top M_k d + \lambda_1 \|w_k + d\|_1
             - \lambda_1 \|w_k\|_1

over the step ``d`` of the unit's coefficients and intercept (the intercept
unpenalized), ``M_k`` the unit's block of the sampled Hessian
(:class:`~._hessian.HessianMetric`, whose sample, floor and refresh rule it
shares), as glmnet and liblinear's newGLMNET do.  The model is minimized by
cyclic coordinate descent, each coordinate in closed form
(soft-thresholding), and polished by a *face solve*: where a sweep leaves the
signs of ``w + d`` unchanged, Newton's equations on the nonzero coordinates
with those signs give the model's exact minimizer on that face, which is the
subproblem's solution once no zero coordinate violates its optimality
condition ``|g_j + (M d)_j| <= lambda_1``.  Before any sweep, the face of
``w`` itself is tried (near an optimum it is the answer), and at a fit's
start, where ``w`` has no nonzeros, the face guessed from the smooth model's
minimizer.  The step is then searched on the
exact objective (:meth:`~._linesearch.LineSearch.ray`), so the sample only
costs iterations, never accuracy; the zeros of ``w + d`` are exact.

With many features (``n_features > _WORKING_SET_FEATURES``) the model is
formed and minimized on a *working set* only: the nonzero features and the
features that violate the optimality condition at the current gradient
(``|g_j| > lambda_1`` at ``w_j = 0``), the strongest first; the others keep
their zeros.  The set is chosen afresh at every iteration from the exact
gradient, so the fit's optimum is the full problem's: the cost follows the
active features, not ``p``.
"""

import math

import numpy as np
from scipy.linalg.lapack import dgesv as _gesv
from scipy.linalg.lapack import dposv as _posv

from ._hessian import HessianMetric

# The model's blocks are refreshed wherever the sample's curvature weights
# moved at all (the Hessian metric waits for 25%): a stale block makes Newton's
# steps converge linearly.  Measured: with 25%, standardized breast cancer
# stopped 1.3e-4 (relative) above the optimum at tol=1e-4; with 2%, digits at
# alpha=2.8e-5, l1_ratio=1 crawled to max_iter=1000; refreshed always, 16
# iterations.
_REFRESH_CHANGE = 0.0
# Beyond this many features the model is restricted to a working set.
_WORKING_SET_FEATURES = 256
# The working set admits at most this many violators, or as many as there are
# nonzero features if more: it grows with the support, and a start from zero
# on 2,000 features does not form a 2,001 x 2,001 model.
_WORKING_SET_VIOLATORS = 64
# Coordinate descent stops when a sweep's largest move ``M_jj d_j^2`` is below
# this fraction of the first sweep's total, or after _MAX_SWEEPS sweeps.
_SWEEP_RTOL = 1e-8
_MAX_SWEEPS = 100
# Face solves that the guessed face of a start may take (each clip one more):
# a guess that far off is left to coordinate descent.
_ENTRY_CLIPS = 8
# A zero coordinate violates its optimality condition beyond this relative
# margin of lambda_1 (rounding of the face solve's residual).
_KKT_RTOL = 1e-9


class ProximalNewtonMetric:
    """The sampled Hessian of the smooth part and the L1 weight ``l1``: the
    metric of proximal Newton steps (NumPy only).  Built with :meth:`create`."""

    def __init__(self, hessian, l1, working_set):
        hessian.factor = False  # the matrices themselves, not their inverses
        hessian.refresh_change = _REFRESH_CHANGE
        self.hessian = hessian
        self.objective = hessian.objective
        self.l1 = float(l1)
        self.working_set = working_set
        self.h = None  # the sample's curvature weights (working set only)
        self._cache = None  # (grad_W, solution) of the last solve
        self._raw = None  # the raw predictions of the last refresh

    @classmethod
    def create(cls, objective, l1, all_rows=False):
        """The metric, or None when the Hessian's row sample misrepresents a
        column (see :meth:`HessianMetric.create`)."""
        hessian = HessianMetric.create(objective, all_rows=all_rows)
        if hessian is None:
            return None
        return cls(hessian, l1, objective.n_features > _WORKING_SET_FEATURES)

    def renew(self, l1):
        """The metric of the same rows for new ``l1`` and ``l2`` (see
        :meth:`HessianMetric.renew`)."""
        self.hessian.renew()
        self.l1 = float(l1)
        self.h = self._cache = self._raw = None
        return self

    def measure(self, raw, keep=True):
        """Nothing to read with the criterion: the model is on the host."""
        return ()

    def refresh(self, raw, measured=None, stale=False):
        """Bring the model's curvature to ``raw``; True when it changed.  Once
        per point: the direction refreshes before the stopping test, so that
        the model solved for the test is the one the step takes."""
        if raw is self._raw:
            return False
        self._raw = raw
        self._cache = None
        if self.working_set:
            # Formed on the working set at each solve, from these weights.
            self.h = self.hessian.curvature_of(raw)
            return False
        return self.hessian.refresh(raw)

    def step(self, W, grad_W, grad_c):
        """The proximal Newton step ``(dW, dc)`` at ``W``."""
        return self.solve(W, grad_W, grad_c)[:2]

    def model_decrease(self, W, grad_W, grad_c):
        """``-min m(d)``, summed over the units: 0 exactly at an optimum."""
        return self.solve(W, grad_W, grad_c)[2]

    def solve(self, W, grad_W, grad_c):
        """``(dW, dc, decrease)``: the minimizer of the model at ``W`` (the
        intercepts, unpenalized, do not enter it) and the decrease it predicts;
        the last one is kept for the same gradient (the stopping test and the
        step ask for it in turn)."""
        if self._cache is not None and self._cache[0] is grad_W:
            return self._cache[1]
        obj = self.objective
        K, p = W.shape
        intercept = obj.fit_intercept
        columns = self._columns(W, grad_W) if self.working_set else None
        if columns is None:
            G, Z0 = _stack(grad_W, grad_c, intercept), _stack(W, 0.0, intercept)
        else:
            G = _stack(grad_W[:, columns], grad_c, intercept)
            Z0 = _stack(W[:, columns], 0.0, intercept)
        n_penalized = p if columns is None else len(columns)
        if columns is None:
            matrices = self.hessian.inverses  # the matrices, see factor
        else:
            index = np.append(columns, p) if intercept else columns
            with obj.matrix_threads(len(self.hessian.rows) * len(index) ** 2 * K):
                matrices = [self.hessian.matrix(self.h[:, k : k + 1], index) for k in range(K)]
        D = np.empty_like(G)
        decrease = 0.0
        for k in range(K):
            D[k], change, _ = minimize_model(matrices[k], G[k], Z0[k], self.l1, n_penalized)
            decrease -= change
        if columns is None:
            dW = D[:, :p].astype(W.dtype)
        else:
            dW = np.zeros_like(W)
            dW[:, columns] = D[:, :n_penalized]
        dc = D[:, n_penalized] if intercept else np.zeros(K)
        dc = dc.astype(W.dtype)
        solution = (dW, dc, decrease)
        self._cache = (grad_W, solution)
        return solution

    def _columns(self, W, grad_W):
        """The working set: the features nonzero in some unit, then the
        strongest violators of ``|g_j| <= l1`` among the others."""
        active = np.any(W != 0, axis=0)
        excess = np.max(np.abs(grad_W), axis=0) - self.l1
        excess[active] = -np.inf
        n_violators = int(np.sum(excess > 0))
        budget = max(_WORKING_SET_VIOLATORS, int(np.sum(active)))
        if n_violators > budget:
            strongest = np.argpartition(-excess, budget)[:budget]
        else:
            strongest = np.flatnonzero(excess > 0)
        return np.union1d(np.flatnonzero(active), strongest)


def _stack(A, b, intercept):
    """``[A, b]`` (b, an array or a scalar, as the last column) in float64, or
    a float64 copy of ``A`` alone."""
    K, p = A.shape
    out = np.empty((K, p + 1 if intercept else p))
    out[:, :p] = A
    if intercept:
        out[:, p] = b
    return out


def minimize_model(M, g, z0, l1, n_penalized):
    r"""Minimize ``g'd + d'Md / 2 + l1 (|z0 + d|_1 - |z0|_1)`` over ``d``, the
    L1 term on the first ``n_penalized`` coordinates only.

    Newton on the face of ``z0`` first (near an optimum the zero pattern no
    longer changes, and one solve is the answer); at a start (``z0`` without
    penalized nonzeros), on the face guessed from the smooth model's
    minimizer (:func:`_entry_face`); then cyclic coordinate
    descent, each coordinate's exact minimizer (soft-thresholding of the
    Newton update at ``l1 / M_jj``), with Newton on the face after every sweep
    that left the zero pattern as it was (see the module docstring).  Returns
    ``(d, model value, sweeps)``; the model value is at most 0 (``d = 0`` is
    feasible).
    """
    # One dtype for the dot products below (the sample's may be float32).
    M = np.asarray(M, dtype=np.float64)
    z, exact = _polish(M, g, z0, z0, l1, n_penalized)
    if exact:
        return z - z0, _model(M, g, z0, z - z0, l1, n_penalized), 0
    q = len(g)
    diagonal = np.diagonal(M).copy()
    # A column of zeros (no curvature, no penalty) has a zero gradient: any
    # positive curvature leaves it where it is.
    diagonal[~(diagonal > 0)] = 1.0
    if not np.any(z0[:n_penalized]):
        entry = _entry_face(M, g, z0, l1, n_penalized, diagonal)
        if entry is not None:
            z, exact = entry
            if exact:
                return z - z0, _model(M, g, z0, z - z0, l1, n_penalized), 0
    rows = list(M)
    a = diagonal.tolist()
    gl, base = g.tolist(), z0.tolist()
    # The step d = z - z0, each coordinate's (M d)_j a dot product of its row
    # (0.4 us) rather than M d kept up to date by a row per move (0.9 us).
    d = z - z0
    z = z.tolist()
    first = None
    sweeps = 0
    for sweeps in range(1, _MAX_SWEEPS + 1):
        moved, largest, pattern_changed = 0.0, 0.0, False
        for j in range(q):
            a_j, z_j = a[j], z[j]
            u = z_j - (gl[j] + float(rows[j].dot(d))) / a_j
            if j < n_penalized:
                t = l1 / a_j
                new = u - t if u > t else (u + t if u < -t else 0.0)
                pattern_changed |= (new == 0.0) != (z_j == 0.0)
            else:
                new = u
            delta = new - z_j
            if delta != 0.0:
                z[j] = new
                d[j] = new - base[j]
                size = a_j * delta * delta
                moved += size
                if size > largest:
                    largest = size
        if first is None:
            first = moved
        if not pattern_changed:
            z, exact = _polish(M, g, z0, np.array(z), l1, n_penalized)
            if exact:
                break
            d = z - z0
            z = z.tolist()
        if largest <= _SWEEP_RTOL * first:
            break
    d = np.asarray(z) - z0
    return d, _model(M, g, z0, d, l1, n_penalized), sweeps


def _entry_face(M, g, z0, l1, n_penalized, diagonal):
    """From a start (no penalized nonzeros in ``z0``): the face that a
    coordinate step from the smooth model's minimizer ``u`` keeps (``|u_j|
    M_jj > l1``), with the signs of ``u``, polished by at most
    ``_ENTRY_CLIPS`` face solves: ``(z, exact)`` as :func:`_polish` gives
    them (``z`` the last point of the polish, where descent goes on), or None
    where the model is singular.

    Coordinate descent from zero took 6 to 14 sweeps and 3 to 5 face solves
    on standardized breast cancer before its pattern settled, a third of the
    subproblems' time in a grid search."""
    u = _solve_spd(M, -g)
    if u is None:
        return None
    signs = np.sign(u)
    signs[:n_penalized][np.abs(u[:n_penalized]) * diagonal[:n_penalized] <= l1] = 0.0
    signs[n_penalized:] = 1.0
    return _polish(M, g, z0, z0, l1, n_penalized, signs, _ENTRY_CLIPS)


def _polish(M, g, z0, z, l1, n_penalized, signs=None, max_solves=None):
    """Newton on the face of ``z`` (or of ``signs``, see :func:`_face_solve`),
    clipped at the first sign change, until the signs hold (each clip fixes
    one more zero: at most ``len(z)`` solves, or ``max_solves``): ``(z,
    exact)``, ``exact`` when it is the model's minimizer."""
    for _ in range(len(z) if max_solves is None else max_solves):
        polished = _face_solve(M, g, z0, z, l1, n_penalized, signs)
        if polished is None:
            break
        z, status, signs = polished
        if status != "clipped":
            return z, status == "exact"
    return z, False


def _face_solve(M, g, z0, z, l1, n_penalized, signs=None):
    """The model's minimizer with the zeros of ``z`` kept and the signs of its
    nonzero penalized coordinates: ``(z_face, status, signs)``.  ``"exact"``:
    no zero coordinate violates its optimality condition there, it is the
    model's minimizer; ``"face"``: some does; ``"clipped"``: the minimizer
    changes a sign, ``z_face`` is the way to it up to the first zero and
    ``signs`` the face there.  None where the face's matrix is singular.

    ``signs``: the face, given (zero coordinates of ``z`` among it enter it
    with those signs); by default the signs of ``z``.  A coordinate that
    enters against its sign is fixed at zero again by the clip (``t = 0``)."""
    if signs is None:
        signs = np.sign(z)
        signs[n_penalized:] = 1.0  # the unpenalized coordinates are always free
    free = signs != 0
    face = free.nonzero()[0]
    rows = M[face]
    # Optimality on the face F, the zeros Z fixed (d_Z = -z0_Z):
    # M_FF d_F = -(g_F + l1 s_F - M_FZ z0_Z).
    rhs = g[face] + l1 * signs[face]
    if n_penalized < len(signs):
        rhs[-(len(signs) - n_penalized) :] = g[n_penalized:]
    zeros = None
    if len(face) < len(z):
        zeros = (~free).nonzero()[0]
        rhs -= rows[:, zeros] @ z0[zeros]
    step = _solve_spd(rows[:, face], rhs)
    if step is None:
        return None
    z_face = np.zeros(len(z))
    z_face[face] = z0[face] - step
    flipped = np.sign(z_face[:n_penalized]) != signs[:n_penalized]
    flipped = (flipped & free[:n_penalized]).nonzero()[0]
    if len(flipped):
        # The face's minimizer leaves the orthant: go towards it as far as the
        # first coordinate that reaches zero (the model decreases all the way,
        # being convex with its minimum at the end) and fix that one at zero.
        fraction = z[flipped] / (z[flipped] - z_face[flipped])
        t = float(fraction.min())
        z_face = z + t * (z_face - z)
        dropped = flipped[fraction <= t]
        z_face[dropped] = 0.0
        signs = signs.copy()
        signs[dropped] = 0.0
        return z_face, "clipped", signs
    if zeros is None:
        return z_face, "exact", signs
    residual = g[zeros] + M[zeros] @ (z_face - z0)
    exact = float(np.abs(residual).max()) <= l1 * (1 + _KKT_RTOL)
    return z_face, "exact" if exact else "face", signs


def _solve_spd(A, b):
    """``A^-1 b`` for the symmetric ``A`` (left unchanged), by
    Cholesky, or by LU where ``A`` is not positive definite; None where it is
    singular or the solution not finite.  LAPACK directly: a face solve is a
    few microseconds of arithmetic, and ``numpy.linalg.solve``'s checks cost
    more than that."""
    if not len(b):
        return b  # an empty face: nothing free
    _, x, info = _posv(A, b, lower=0, overwrite_a=0, overwrite_b=0)
    if info != 0:
        _, _, x, info = _gesv(A, b, overwrite_a=0, overwrite_b=0)
        if info != 0:
            return None
    # One reduction for finiteness (an overflowing square is as unusable).
    if not math.isfinite(float(x @ x)):
        return None
    return x


def _model(M, g, z0, d, l1, n_penalized):
    """The model's value at ``d``, relative to ``d = 0``."""
    change = np.sum(np.abs((z0 + d)[:n_penalized])) - np.sum(np.abs(z0[:n_penalized]))
    return float(g @ d + 0.5 * d @ (M @ d) + l1 * change)
