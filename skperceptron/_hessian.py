# SPDX-License-Identifier: BSD-3-Clause
"""The Hessian metric: the Hessian of ``J`` on a sample of rows, per output unit.

The units' losses are separate, so their Hessian is block diagonal; each
block is estimated on a sample of rows (all of them up to
``2 max(2048, 8 (p + 1))``, else ``max(2048, 8 (p + 1))`` evenly spaced ones;
of the rows of positive weight only, where the weights are on the host),
refactored where its curvature weights moved, and inverted with its
smallest eigenvalues floored (on NumPy by a Cholesky factorization where the
floor is provably inactive, else an eigendecomposition; on other libraries
by a Cholesky factorization with the floor as a shift).  It undoes
correlated, redundant and badly scaled columns together, which a diagonal cannot.
"""

import math

import numpy as np
from scipy.linalg.lapack import dpotrf as _potrf
from scipy.linalg.lapack import dtrtri as _trtri

from ._backend import (
    astype,
    batch_diagonal,
    batch_transpose,
    device_of,
    eps,
    eye,
    from_host,
    inverse_cholesky_factors,
    positive_definite,
    row_chunks,
    to_host,
    to_host_arrays,
    to_numpy,
    zeros,
)
from ._loss import curvature_weights

# Rows in the Hessian's sample: all rows up to twice this size, else the larger
# of _SAMPLE_MIN and _SAMPLE_PER_COLUMN per column of [X, 1], evenly spaced.
_SAMPLE_MIN = 2048
_SAMPLE_PER_COLUMN = 8
# A sample whose weighted variance of some column is off by more than this
# factor from the whole data's (a rare dummy column, say) would leave that
# coordinate's curvature wrong by as much: "auto" then takes the diagonal
# metric, an explicit "hessian" all rows.
_SAMPLE_VARIANCE_FACTOR = 4.0
# Unit k's Hessian is refreshed at the current point when the curvature
# weights w_i sigma'(v_ik) of the sample have moved by more than this fraction
# of their sum since its last refresh: early on, every iteration; near the
# optimum, where they no longer move, never.
_REFRESH_CHANGE = 0.25
# ... and by more than _REFRESH_CHANGE_COSTLY where a refresh costs over
# _COSTLY_REFRESH times the flops of an iteration's two products with X
# (|S| (p + 1)^2 against 2 n (p + 1) per unit).  12 alphas from 1e-5 to 1,
# one thread, this rule against 0.25 everywhere: breast cancer (cost 16) 36.1
# -> 32.0 ms, 4,000 x 50 (26) 67.2 -> 59.2, digits (33) 447 -> 396.  Those
# below keep 0.25: with 0.5 the 5-class 16,000 x 100 (sampled, 6.5) went 802
# -> 883 ms and iris (2.5) 30.0 -> 31.5.
_REFRESH_CHANGE_COSTLY = 0.5
_COSTLY_REFRESH = 10.0
# As in the diagonal metric: every column's curvature is at least this
# fraction of its uncentred second moment (over 4).
_VARIANCE_FLOOR = 1e-10
# Eigenvalues of the scaled Hessian below this fraction of the largest are
# raised to it: rounding (1e-16) then gains at most a factor 1e12.
_EIGENVALUE_FLOOR = 1e-12
# See start_condition: rounding leaves a column that is an exact
# combination of others about 1e-16 of the Gram's scale.
_NULL_FRACTION = 1e-10
# start_condition's Gram product: this many rows per column of [X, 1].
_CONDITION_ROWS_PER_COLUMN = 8
# nearly_diagonal's certificate alone (where the eigenvalue problem is not
# affordable, see _preconditioner._affordable_check) takes this many rows
# per column, its Gram product in float32, and proves this share of the
# threshold: on correlated starts its fewer rows leave Weyl's bound over the
# spread as low as 0.64 times start_condition's estimate (groups of 5
# columns sharing a factor, 1,500 x 50 to 30,000 x 200); it proves
# isotropic ones (estimates 1.0-1.3) from thresholds of 1.17-1.45, below
# 0.65 x 2.5.  One thread, independent columns, the call
# within the fit against 8 rows per column in float64: 2,000 x 50 288
# against 341 us, 8,000 x 100 605 against 956, 10,000 x 100 631 against
# 976, 30,000 x 200 1.8 against 3.5 ms.  Its float32 Gram product overflows
# (then proves nothing: the Hessian is kept) only past entries of 1e17.
_CERTIFIED_ROWS_PER_COLUMN = 4
_LEAN_THRESHOLD_SHARE = 0.65
# nearly_diagonal's bound on the largest scaled eigenvalue: this many times
# the sample's Marchenko-Pastur edge.
_CERTIFIED_MARGIN = 1.25
# ... and off NumPy its certificate from this many columns (see there).
_CERTIFIED_COLUMNS = 150
# Blocks of rows of the sample are processed this many bytes at a time.
_BLOCK_BYTES = 2**20
# start_condition's sample is formed this many bytes at a time on NumPy.
_STREAM_BYTES = 2**16

class HessianMetric:
    """The Hessian of ``J`` on a sample of rows, per output unit.

    For unit ``k``: ``M_k = (1/s) sum_{i in S} w_i sigma'(v_ik) x_i x_i^T +
    l2 I_W`` over the sampled rows ``S`` of the (implicitly centred) ``[X, 1]``,
    with ``s`` the sample's total weight, so that it estimates the whole
    Hessian (the objective's weights sum to 1), plus the diagonal metric's
    curvature floor on the coefficients (``_VARIANCE_FLOOR``).  The sample, the K (q, q)
    matrices (``q = p + 1``) and their inverses stay in the objective's
    namespace and on its device, in float64 where the device has it (see
    :func:`_inverse`); only the K numbers that decide a refresh come back,
    once per iteration.
    On NumPy the products run on NumPy's own BLAS and each block's factor
    and triangular inverse on SciPy's LAPACK, a second OpenBLAS with its own
    threads (threadpoolctl's limits cover both).  Its threads spinning after a
    large call have slowed a small fit's products before (digits, 5 to 40
    times); these small factorizations did not: digits' 60-fit grid on two
    threads took 2022 ms against NumPy's batched factorization's 2207.
    Built with :meth:`create`.
    """

    # Its model's decrease estimates the remaining gap (see Stopping.small_gap).
    second_order = True

    def __init__(self, objective, rows, A, weights, second):
        self.objective = objective
        self.rows = rows
        self.A = A  # (m, q): the sampled rows of [X - mean, 1]
        self.weights = weights  # (m, 1), summing to 1
        self.units = None  # K inverses (q, q), in A's dtype
        self.matrices = None  # the K matrices themselves, where units are inverses
        self.inverses = None  # the same, stacked: (K, q, q)
        self.curvature = None  # (m, K) weights of the last refresh
        # l2 on the diagonal of the coefficients' block, not the intercept's,
        # and the diagonal metric's floor: a constant column, centred, keeps
        # a rounding residue (1e-16) whose curvature (1e-32) would otherwise
        # turn that residue of its gradient into a step of 1e16.
        self.second = second
        self._set_penalty()
        self.n_refresh = 0
        # False: ``units`` and ``inverses`` hold the matrices themselves (the
        # proximal Newton metric solves its own subproblem with them).
        self.factor = True
        self.refresh_change = _REFRESH_CHANGE
        self.every_row = len(rows) == objective.n_samples
        self.before = None  # NumPy: the column sums of ``curvature``
        self._measured = None  # (raw, its sample, its weights) of measure

    def _set_penalty(self):
        obj, q = self.objective, self.A.shape[1]
        p = obj.n_features
        penalty = np.zeros((q, q))
        penalty[np.arange(p), np.arange(p)] = obj.l2 + 0.25 * _VARIANCE_FLOOR * self.second
        self.penalty = from_host(obj.xp, penalty, self.A.dtype, obj.device)

    def renew(self, l1=None):
        """The metric of the same rows for the objective's new ``l2`` (a
        path's next alpha): the row sample, its design and each unit's
        curvature are kept, ``l2`` moves on the blocks' diagonals, and only
        the inverses are computed again (``l1``, for the proximal Newton
        metric's signature, has no part here).  (The curvature weights of a warm
        start are those of the last refresh, up to the refresh rule: forming
        the blocks again was 40% of a digits fold path, 2 iterations per alpha.)"""
        xp, before = self.objective.xp, self.penalty
        self._set_penalty()
        self.n_refresh = 0
        if self.units is None:
            return self
        shift = self.penalty - before
        if self.factor:
            self.matrices = [M + shift for M in self.matrices]
            self.units = _inverses(self.matrices, xp)
        else:
            self.units = [M + shift for M in self.units]
        self.inverses = xp.stack(self.units)
        return self

    @classmethod
    def sample_size(cls, n_samples, n_columns, factor=1):
        m = factor * max(_SAMPLE_MIN, _SAMPLE_PER_COLUMN * n_columns)
        return n_samples if n_samples <= 2 * m else m

    @classmethod
    def create(cls, objective, all_rows=False, sample_factor=1):
        """The metric on an evenly spaced sample of rows (``sample_factor``
        times the usual size), or None when the sample misrepresents a column
        of X (see ``_SAMPLE_VARIANCE_FACTOR``) or has no weight; with
        ``all_rows``, on all rows in that case."""
        candidates = _weighted_rows(objective)
        n = objective.n_samples if candidates is None else len(candidates)
        m = cls.sample_size(n, objective.n_features + objective.fit_intercept, sample_factor)
        metric = cls._on_rows(objective, m, candidates)
        if metric is None and all_rows and m < n:
            metric = cls._on_rows(objective, n, candidates)
        return metric

    @classmethod
    def _on_rows(cls, objective, m, candidates=None):
        """The metric on ``m`` of the rows ``candidates`` (all when None)."""
        xp, p = objective.xp, objective.n_features
        n = objective.n_samples if candidates is None else len(candidates)
        q = p + objective.fit_intercept
        # Evenly spaced, not random: no random_state, the same rows for every
        # backend, and rows sorted by class are spread over all classes.
        rows = _spaced_rows(n, m, candidates)
        weights = objective.sample_rows(objective.sw, rows)
        (total,) = to_host(xp, [xp.sum(weights)])
        if not float(total) > 0:
            return None
        weights = xp.reshape(weights / float(total), (-1, 1))
        mean, second = objective.moments()
        centre = mean if objective.mean is not None else np.zeros(p)
        A = _design(objective, rows, centre)
        if len(rows) < n:
            sample_mean = zeros(xp, p, A.dtype, objective.device)
            sample_second = zeros(xp, p, A.dtype, objective.device)
            for block in row_chunks(len(rows), len(rows) * q, 8, _BLOCK_BYTES):
                weighted = weights[block, :] * A[block, :p]
                sample_mean += xp.sum(weighted, axis=0)
                sample_second += xp.sum(weighted * A[block, :p], axis=0)
            sample_var = to_numpy(xp, sample_second - sample_mean**2).astype(np.float64)
            var = second - mean**2 if objective.mean is not None else second
            informative = var > 1e-12 * np.maximum(second, 1e-300)
            ratio = sample_var[informative] / var[informative]
            factor = _SAMPLE_VARIANCE_FACTOR
            if not np.all((ratio >= 1 / factor) & (ratio <= factor)):
                return None
        metric = cls(objective, rows, A, weights, second)
        # Counted on the rows of positive weight, as the sample is: weights of
        # 0 and 2 then decide as removed and repeated rows would.
        if len(rows) * q > 2 * _COSTLY_REFRESH * n:
            metric.refresh_change = _REFRESH_CHANGE_COSTLY
        return metric

    def curvature_of(self, raw):
        """The sample's curvature weights ``w_i sigma'(v_ik)`` at ``raw``: (m, K)."""
        return curvature_weights(self._sample(raw), self.weights, self.objective.xp)

    def _sample(self, raw):
        if self.every_row and isinstance(raw, np.ndarray) and raw.dtype == self.A.dtype:
            return raw  # the sample is all rows: no copy
        return self.objective.sample_rows(raw, self.rows)

    def measure(self, raw, keep=True):
        """On a device, the units' curvature moves since their last refresh and
        their totals then, ``[moved, before]`` ((K,) arrays, not read), for the
        solver to read with its criterion and pass to :meth:`refresh`; on
        NumPy nothing (there is no transfer to save).  ``keep``: ``raw`` is the
        point of the refresh to come, whose sample is kept for it (not a
        trial point)."""
        xp = self.objective.xp
        if xp is np or self.curvature is None:
            return ()
        v = self._sample(raw)
        h = curvature_weights(v, self.weights, xp)
        self._measured = (raw, v, h) if keep else None
        return self._moves(h)

    def _moves(self, h):
        """Each unit's move of the curvature weights ``h`` since its last
        refresh, and their total then: two (K,) arrays."""
        xp = self.objective.xp
        before = self.before if xp is np else xp.sum(self.curvature, axis=0)
        return [xp.sum(xp.abs(h - self.curvature), axis=0), before]

    def refresh(self, raw, measured=None, stale=False):
        """Refactor the units whose curvature weights moved (see
        ``_REFRESH_CHANGE``) at ``raw``, or all of them when ``stale``; True
        if any was.  ``measured``: the host values of :meth:`measure` at this
        ``raw``, or at the point the solver expected to reach (the first trial
        of its last search, read with that search's values: no read here)."""
        obj = self.objective
        xp = obj.xp
        kept, self._measured = self._measured, None
        if kept is not None and kept[0] is raw:
            _, v, h = kept
        else:
            v = self._sample(raw)
            h = curvature_weights(v, self.weights, xp)
        if self.curvature is None or stale:
            units = list(range(obj.n_outputs))
            self.units = [None] * obj.n_outputs
            self.matrices = [None] * obj.n_outputs
        else:
            # The units are separate problems: refresh only those that moved.
            moved, before = measured if measured is not None else to_host_arrays(xp, self._moves(h))
            units = np.flatnonzero(moved > self.refresh_change * before).tolist()
            if not units:
                return False
        m, q = self.A.shape
        # Inside the fit the BLAS runs on one thread (see _passes); these
        # products are matrix-matrix work that its threads do speed up.
        with obj.matrix_threads(m * q * q * len(units)):
            if self.factor and self.curvature is None and _uniform(v, xp):
                # The start (W = 0): each unit's weights are w_i sigma'(c_k),
                # so M_k = sigma'(c_k) A' diag(w) A + penalty, one product
                # for the K units (digits: 1 instead of 10).  (Not for the
                # proximal Newton model: its tol=1e-9 fits sit at rounding.)
                gram = self._add_gram(0.0, self.A, self.weights)
                scales = to_numpy(xp, curvature_weights(v[0, :], 1.0, xp))
                matrices = [float(s) * gram + self.penalty for s in scales]
            else:
                # Formed one unit at a time (BLAS syrk: a batched product of
                # the K units, a general one, took 1.5x as long on digits),
                # factored in one batched call where NumPy's Cholesky applies.
                matrices = [self.matrix(h[:, k : k + 1]) for k in units]
            if self.factor:
                for k, M in zip(units, matrices):
                    self.matrices[k] = M
                matrices = _inverses(matrices, xp)
            for k, M in zip(units, matrices):
                self.units[k] = M
        self.inverses = xp.stack(self.units)
        if self.curvature is None or len(units) == obj.n_outputs:
            self.curvature = h
        else:
            # Each unit keeps the weights of its last refresh.
            mask = np.zeros(obj.n_outputs, dtype=bool)
            mask[units] = True
            if xp is not np:
                mask = from_host(xp, mask, xp.bool, obj.device)
            self.curvature = xp.where(mask, h, self.curvature)
        if xp is np:
            self.before = np.sum(self.curvature, axis=0)
        self.n_refresh += 1
        return True

    def matrix(self, h, columns=None):
        """``M = A' diag(h) A + penalty`` for one unit's curvature weights ``h``
        (m, 1), on the columns ``columns`` of ``A`` (all by default)."""
        A, M = self.A, self.penalty
        if columns is not None:
            A, M = A[:, columns], M[np.ix_(columns, columns)]
        return self._add_gram(M, A, h)

    def _add_gram(self, M, A, h):
        return _add_gram(self.objective.xp, M, A, h)

    def direction(self, grad_W, grad_c):
        obj = self.objective
        xp, p, K = obj.xp, obj.n_features, obj.n_outputs
        dtype = self.A.dtype
        if xp is np:
            # [grad_W, grad_c] written into one array, one batched product,
            # the two parts as views cast once: an iteration's few
            # microseconds, where the namespace's path copies three times.
            G = np.empty((K, self.A.shape[1]), dtype=dtype)
            G[:, :p] = grad_W
            if obj.fit_intercept:
                G[:, p] = grad_c
            D = np.matmul(self.inverses, G[:, :, None])[:, :, 0]
            dW = D[:, :p].astype(obj.dtype)
            dc = D[:, p].astype(obj.dtype) if obj.fit_intercept else np.zeros(K, obj.dtype)
            return dW, dc
        G = astype(xp, grad_W, dtype, copy=False)
        if obj.fit_intercept:
            c = xp.reshape(astype(xp, grad_c, dtype, copy=False), (K, 1))
            G = np.hstack([G, c]) if xp is np else xp.concat([G, c], axis=1)
        D = xp.reshape(xp.matmul(self.inverses, xp.reshape(G, (K, G.shape[1], 1))), (K, -1))
        dW = astype(xp, D[:, :p], obj.dtype)
        if obj.fit_intercept:
            return dW, astype(xp, D[:, p], obj.dtype)
        return dW, zeros(xp, K, obj.dtype, obj.device)


def _add_gram(xp, M, A, h):
    """``M + A' diag(h) A``."""
    m, q = A.shape
    # Sum of B' B over blocks of rows, B = A sqrt(h): NumPy computes each
    # with BLAS syrk (half the flops of a general product), and no
    # temporary is as large as the sample.
    for block in row_chunks(m, m * q, 8, _BLOCK_BYTES):
        B = A[block, :] * xp.sqrt(h[block, :])
        M = M + B.T @ B
    return M


def _spaced_rows(n, m, candidates=None):
    """``m`` evenly spaced of the ``n`` rows ``candidates`` (all rows when
    None), or all of them where ``m >= n``: sorted NumPy indices."""
    if m >= n:
        rows = np.arange(n)
    else:
        # np.linspace(0, n - 1, m).round(), without linspace's checks (10 us
        # of a 3,000 x 20 estimate's 100).
        rows = np.rint(np.arange(m) * ((n - 1) / (m - 1))).astype(np.int64)
        # Steps of at least a row stay distinct when rounded, up to rounding
        # ties; np.unique (a sort) only then.
        if np.any(rows[1:] <= rows[:-1]):
            rows = np.unique(rows)
    return rows if candidates is None else candidates[rows]


def condition_sample_size(n_samples, n_columns):
    """Rows that :func:`start_condition` reads."""
    return min(n_samples, _CONDITION_ROWS_PER_COLUMN * n_columns)


def start_condition(objective):
    """An estimate of the condition number of the Hessian at the start (``W =
    0``, classes balanced: ``M = 0.25 A' diag(w) A + penalty`` on the centred
    ``A = [X, 1]``) scaled to a unit diagonal, over the directions the
    columns span: how far the diagonal metric is from the Hessian one (1: not
    at all), measured before either is formed.

    The eigenvalues of the scaled Gram product below ``_NULL_FRACTION`` of its
    largest (a column that is a combination of others) are left out: the
    loss's gradient has no part in their directions, so the diagonal metric's
    steps barely enter them (``make_classification``'s redundant columns,
    standardized: 5.6e4 at alpha=1e-5 with them, 2.8 without).  The penalty
    enters through Weyl's bounds (an upper bound: one eigenvalue problem, not
    two), on the columns' block alone where they are centred, the
    intercept's direction then being an eigenvector of its own.  The Gram
    product is formed on ``_CONDITION_ROWS_PER_COLUMN`` evenly spaced rows per
    column (all rows where there are fewer), whose eigenvalues spread more
    than the data's: the estimate removes the spread
    that isotropic data would show (Marchenko-Pastur: ``((1 +- sqrt(g))^2``
    for ``r`` directions and ``g = r (1/m - 1/n)``, no spread where the sample
    is every row).
    """
    return _estimate(objective.xp, *_scaled_start(objective), objective.device)


def _estimate(xp, scaled, e2, total, usable, start, device):
    """:func:`start_condition` from :func:`_scaled_start`'s parts."""
    # On the device, one read of 2 q + 2 numbers (no host BLAS, whose idle
    # threads would spin beside the device library's: 50 ms of a 75 ms
    # PyTorch CPU fit).
    scaled = xp.where(usable, scaled, eye(xp, scaled.shape[0], scaled.dtype, device))
    values = xp.linalg.eigvalsh(scaled)
    if xp is not np:
        last = xp.stack([total, astype(xp, usable, scaled.dtype)])
        values, e2, (total, usable) = to_host_arrays(xp, [values, e2, last])
    if not usable:
        return math.inf
    values = np.sort(values.astype(np.float64))
    spanned = values[values > _NULL_FRACTION * values[-1]]
    if not spanned.size:
        return math.inf
    # Weyl: the scaled penalty P (diagonal) moves each eigenvalue on the
    # spanned directions by between min P and max P.
    P = 4 * float(total) * start.penalty / e2.astype(np.float64)
    largest, smallest = spanned[-1] + P.max(), spanned[0] + P.min()
    if start.apart:
        largest, smallest = max(largest, 1.0), min(smallest, 1.0)
    return max(1.0, float(largest / smallest) / start.spread(spanned.size))


def nearly_diagonal(objective, threshold, exact=True):
    """Whether ``start_condition(objective) <= threshold``; with
    ``exact=False``, whether the certificate proves it (False where it
    cannot, the eigenvalue problem unasked), in its lean form where it can
    (``_CERTIFIED_ROWS_PER_COLUMN``).

    First, on NumPy and where the columns are ``_CERTIFIED_COLUMNS`` or more
    elsewhere, by two Cholesky factorizations that prove it where the start
    is nearly isotropic (:func:`_certified`); where they cannot, the
    eigenvalue problem decides, as in :func:`start_condition`: the answer is
    the same, its cost is not.  One thread, SkylakeX kernels, the call
    within a binary fit of 3,000 x 20, 4,000 x 50 and 20,000 x 100
    (independent columns): 190, 377 and 1,169 us with the eigenvalue problem
    alone, 143, 276 and 887 us with the certificate first (when it came in),
    of which the Gram product and its scaling are 101, 209 and 714;
    the fits on the diagonal metric take 1.8, 3.7 and 14 ms.  Off NumPy the
    certificate costs a dozen more calls (about 10 us each on PyTorch CPU)
    and a read, and pays where the eigenvalue problem is large (PyTorch CPU,
    one thread, ``eigvalsh`` against the two factorizations: 101 columns 296
    against 107 us, 201 columns 1,222 against 462, 501 columns 11.6 against
    3.5 ms)."""
    xp = objective.xp
    # The lean certificate where its share of the threshold can be proved at
    # all (the estimate is at least 1): binary fits, not several outputs'
    # 1.1, whose certificate passes where the penalty lifts the spectrum.
    proved = _LEAN_THRESHOLD_SHARE * threshold
    if exact or proved < 1:
        parts, proved = _scaled_start(objective), threshold
    else:
        parts = _scaled_start(objective, _CERTIFIED_ROWS_PER_COLUMN, single=True)
    columns = objective.n_features + objective.fit_intercept
    certify = proved >= 1 and (xp is np or columns >= _CERTIFIED_COLUMNS)
    if certify and _certified(xp, *parts, proved, objective.device):
        return True
    return exact and _estimate(xp, *parts, objective.device) <= threshold


def _certified(xp, S, e2, total, usable, start, threshold, device):
    """Whether two Cholesky factorizations prove that Weyl's bound on the
    condition number of the scaled start ``S`` (:func:`_scaled_start`'s
    parts), over the sample's spread, is at most ``threshold`` (at least 1);
    False where they cannot.  Off NumPy, two reads: three numbers, then the
    answer.

    ``U I - S`` positive definite bounds the largest eigenvalue by ``U`` (the
    sample's Marchenko-Pastur edge times the largest diagonal entry, with a
    margin of ``_CERTIFIED_MARGIN``), and ``S - c I`` the smallest from
    below by the ``c`` at which Weyl's bound is ``threshold`` (or by a null
    eigenvalue's fraction of ``U``, where the penalty alone reaches the
    bound): all ``r`` eigenvalues spanned.  Or the penalty alone lifts every
    spanned eigenvalue enough, however few are spanned (the spread is least
    for one direction): then the first suffices."""
    r = S.shape[0]
    P = (4 * total) * from_host(xp, start.penalty, S.dtype, device) / e2
    top = xp.max(batch_diagonal(xp, S[None, ...]))
    values = to_host(xp, [xp.min(P), xp.max(P), top, astype(xp, usable, S.dtype)])
    P_min, P_max, top, usable = (float(v) for v in values)
    if not usable:
        return False
    # S is the correlation matrix scaled by its diagonal (below 1 by the
    # penalty's share).
    U = _CERTIFIED_MARGIN * (1 + math.sqrt(r / start.m)) ** 2 * top
    largest = U + P_max
    if start.apart:
        # The intercept's scaled eigenvalue 1, beside the columns' block, is
        # the smallest unless the columns' is below it.
        largest = max(largest, 1.0)
    bound = threshold * start.spread(r)
    c = largest / bound - P_min
    shifts = [U]
    if c <= _NULL_FRACTION * U and largest <= threshold * start.spread(1) * P_min:
        bound = threshold * start.spread(1)
    else:
        # Every eigenvalue above max(c, a null one's): all r spanned.  (A
        # penalty that lifts them by the spread of one direction alone needs
        # no second factorization; one that lifts them by the spread of r,
        # as alpha = 0.1 does standardized columns, takes it.)
        shifts.append(-max(c, _NULL_FRACTION * U))
    if start.apart and largest > bound:
        return False
    if xp is np:
        M = np.empty((len(shifts), r, r), dtype=S.dtype)
        for k, shift in enumerate(shifts):
            np.multiply(S, -1.0 if shift > 0 else 1.0, out=M[k])
            M[k].flat[:: r + 1] += shift
    else:
        identity = eye(xp, r, S.dtype, device)
        M = xp.stack([shift * identity + (-S if shift > 0 else S) for shift in shifts])
    (definite,) = to_host(xp, [xp.all(positive_definite(xp, M, overwrite=True))])
    return bool(definite)


class _Start:
    """What the start's estimate needs besides the scaled matrix: the penalty
    (host, float64), whether the intercept is apart, and the sample's
    ``m`` of ``n`` rows."""

    def __init__(self, penalty, apart, m, n):
        self.penalty, self.apart, self.m, self.n = penalty, apart, m, n

    def spread(self, r):
        """The condition number that ``r`` isotropic directions show on the
        sample (Marchenko-Pastur: ``((1 + sqrt(g)) / (1 - sqrt(g)))^2`` for
        ``g = r (1/m - 1/n)``; 1 where the sample is every row)."""
        g = r * (1.0 / self.m - 1.0 / self.n)
        return ((1 + math.sqrt(g)) / (1 - math.sqrt(g))) ** 2 if g < 1 else math.inf


def _scaled_start(objective, rows_per_column=_CONDITION_ROWS_PER_COLUMN, single=False):
    """``(S, e2, total, usable, start)``: the start's Hessian scaled to a unit
    diagonal ``S`` (the columns' block alone where the intercept is apart),
    ``e2`` = 4 ``total`` times the diagonal it was scaled by, the sample's
    weight ``total``, whether ``S`` is finite, in the objective's namespace,
    and the :class:`_Start` on the host; on ``rows_per_column`` rows per
    column of ``[X, 1]`` (all rows where there are fewer), their Gram product
    in float32 if ``single``."""
    xp = objective.xp
    candidates = _weighted_rows(objective)
    n = objective.n_samples if candidates is None else len(candidates)
    p = objective.n_features
    q = p + objective.fit_intercept
    rows = _spaced_rows(n, min(n, rows_per_column * q), candidates)
    mean, second = objective.moments()
    # Centred columns are orthogonal to the ones column under the weights:
    # the intercept's direction is an eigenvector of the data's M with
    # scaled eigenvalue 1 (unit diagonal, no penalty), apart from the
    # columns' block, which is all the Gram product then forms.  Weyl's
    # bound on the whole matrix would pair the columns' smallest eigenvalue
    # with the intercept's zero penalty, and "auto" took the Hessian at any
    # alpha (4,000 x 50, alpha=1: 4.1 ms in 2 iterations against the
    # diagonal's 2.1 ms in 3).
    apart = objective.fit_intercept and objective.mean is not None
    centre = mean if objective.mean is not None else np.zeros(p)
    G, total = _condition_gram(objective, rows, centre, q > p and not apart, single)
    penalty = np.zeros(G.shape[0])
    penalty[:p] = objective.l2 + 0.25 * _VARIANCE_FLOOR * second
    # M = 0.25 G / total + diag(penalty) scaled by its diagonal d2 is G /
    # (e e') with e^2 = 4 total d2: in as few calls as a well-conditioned
    # fit of a few milliseconds affords (each about 10 us on PyTorch CPU).
    # A zero weight total or diagonal entry, or an overflow, leaves a
    # non-finite entry in the scaled matrix.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        e2 = (4 * total) * from_host(xp, penalty, G.dtype, objective.device)
        e2 = batch_diagonal(xp, G[None, ...])[0, :] + e2
        e = xp.sqrt(e2)
        scaled = G / (e[:, None] * e[None, :])
    usable = xp.all(xp.isfinite(scaled))
    return scaled, e2, total, usable, _Start(penalty, apart, len(rows), n)


def _condition_gram(objective, rows, centre, ones, single=False):
    """``(A' diag(w) A, sum(w))`` for the rows ``rows`` of ``A = [X - centre]``,
    with a ones column if ``ones``, and their weights ``w``: in the objective's
    namespace and its accumulation dtype (the product itself in float32 if
    ``single``), and on NumPy formed ``_STREAM_BYTES`` of ``A`` at a time (or
    as many rows as columns, if more), never whole.

    A fit's transient memory counts beyond its own time: where it exceeds
    the free space of the process's heap, the heap grows, and glibc gives
    the freed top back to the system at the caller's next large free, so
    that the caller's next arrays fault their pages in again.  In a grid
    search over 4,000 x 50 this start condition's sample and its weighted
    copy (0.4 MB) did so once a fit: each fold's copies of X (1.6 MB) came
    back in fresh pages (126 heap trims in 122 fits; 17 with this and the
    residual and loss passes written in place)."""
    xp = objective.xp
    weights = objective.sample_rows(objective.sw, rows)
    if xp is not np:
        A = _design(objective, rows, centre, ones)
        h = xp.reshape(weights, (-1, 1))
        if single:
            A, h = astype(xp, A, xp.float32), astype(xp, h, xp.float32)
        return _add_gram(xp, 0.0, A, h), xp.sum(weights)
    columns = objective.n_features + ones
    G = np.zeros((columns, columns), dtype=np.float32 if single else np.float64)
    # Equal weights (no sample or class weights): one scaling of G, not of
    # every row.
    equal = weights.min() == weights.max()
    # Blocks of at least as many rows as columns: a product of fewer is far
    # from the BLAS's speed (30,000 x 200, 1,608 rows, within the fit: 40
    # blocks took 3.2 ms, 8 blocks 2.5).
    # (A float32 block is gathered in float64 first.)
    chunk = max(_STREAM_BYTES, 8 * columns * columns)
    for block in row_chunks(len(rows), len(rows) * columns, 8, chunk):
        A = _design(objective, rows[block], centre, ones, G.dtype)
        if not equal:
            A *= np.sqrt(weights[block])[:, None]
        G += A.T @ A
        del A  # before the next block's
    if equal:
        G *= weights[0]
    return G, weights.sum()


def _weighted_rows(objective):
    """The rows of positive weight, where some have none and ``sw`` is on the
    host (a cross-validation fold, an early-stopping split, zero sample
    weights); else None.  Rows without weight carry no curvature: a sample
    that spends a fifth of its rows on them estimated one fold of the 20,000
    x 100, 5-class path so poorly that its L1 fits took 63 to 196 iterations
    where the fold's rows alone took 5 to 8."""
    sw = objective.sw
    if not isinstance(sw, np.ndarray):
        return None
    positive = sw > 0
    return None if positive.all() else np.flatnonzero(positive)


def _uniform(v, xp):
    """Whether every column of ``v`` is constant."""
    (same,) = to_host(xp, [xp.all(v == v[:1, :])])
    return bool(same)


def _inverses(matrices, xp=np):
    """The :func:`_floored_inverses` of the list ``matrices`` (off NumPy, the
    :func:`_shifted_inverses`).

    On NumPy, each matrix by LAPACK directly: the Cholesky factor ``L`` of the
    scaled matrix ``C`` (unit diagonal, so ``lambda_max <= trace C = q``) and
    its triangular inverse, where they prove the eigenvalue floor inactive:
    ``1 / trace(C^-1) <= lambda_min``, so ``trace(C^-1) = |L^-1|_F^2 <= 1 /
    (_EIGENVALUE_FLOOR q)`` means the floored inverse is the exact one, ``C^-1
    = L^-T L^-1``.  (NumPy's ``cholesky`` and ``inv`` check and convert
    around a few microseconds of arithmetic: 60 us for breast cancer's 31 x 31
    block against 23 us here, 780 against 670 us for digits' ten 65 x 65
    blocks.)  The others through the eigendecomposition.
    """
    if xp is not np:
        inverses = _shifted_inverses(xp.stack(matrices), xp)
        return [inverses[k, ...] for k in range(len(matrices))]
    return [_cholesky_inverse(M) for M in matrices]


def _cholesky_inverse(M):
    """:func:`_inverses` of one NumPy float64 matrix."""
    if not np.isfinite(M).all():
        return _inverse(M)
    q = M.shape[0]
    diagonal = M.diagonal()
    d = np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
    scale = np.multiply.outer(d, d)
    L, info = _potrf(M / scale, lower=1, clean=1, overwrite_a=1)
    if not info:
        L, info = _trtri(L, lower=1, overwrite_c=1)
    if info or not np.vdot(L, L) * (_EIGENVALUE_FLOOR * q) <= 1.0:
        return _inverse(M)
    inverse = L.T @ L
    # A metric must be symmetric; the product's rounding is not, quite.
    inverse += inverse.T
    inverse /= 2 * scale
    return inverse


def _inverse(M):
    """:func:`_floored_inverses` of the one NumPy matrix ``M``."""
    return _floored_inverses(M[None, :, :], np)[0]


def _shifted_inverses(M, xp):
    """Inverses of the stacked symmetric positive semi-definite ``M`` (K, q,
    q) of ``xp``, on its device: ``S^-1 (C + delta I)^-1 S^-1`` for ``C =
    S^-1 M S^-1``, ``S = sqrt(diag M)``, from the Cholesky factors of ``C +
    delta I``, in one batched call and without a read to the host.  The
    shift ``delta = f q`` is :func:`_floored_inverses`'s eigenvalue floor
    ``f lambda_max`` with ``lambda_max`` bounded by ``trace C = q`` (``f``
    at least 64 rounding errors of the dtype, where the device has no
    float64), which keeps the factorization clear of rounding where ``M``
    is singular; on the well-conditioned blocks it changes the inverse by
    ``delta / lambda_min`` (1e-10 on 8 q rows of 101 independent columns).
    The eigendecomposition it replaces is the GPU's slow call (4
    ``linalg.eigh`` took 41% of a 1,000,000 x 500 float32 fit's device time
    on an H200, issue 14); on PyTorch CPU, one thread, a factorization and triangular
    solve against ``eigh`` and its product: (1, 51, 51) 35 against 194 us,
    (3, 101, 101) 404 against 2,072, (10, 65, 65) 442 against 2,793.  A
    matrix with a non-finite entry, or whose factorization fails, gets the
    inverse of its diagonal, as there."""
    identity, scale, finite, live = _unit_diagonal(M, xp)
    shift = max(_EIGENVALUE_FLOOR, 64 * eps(xp, M.dtype)) * M.shape[1]
    C = xp.where(finite[:, None, None], M / scale, identity) + shift * identity
    L_inv, ok = inverse_cholesky_factors(xp, C)
    # A coordinate without curvature has a shifted inverse of 1 / delta:
    # ``live`` keeps it out of the step.
    inverse = _metric(xp, batch_transpose(xp, L_inv) @ L_inv, live, scale)
    return xp.where((finite & ok)[:, None, None], inverse, identity / scale)


def _unit_diagonal(M, xp):
    """``(identity, scale, finite, live)`` for the stacked ``M`` (K, q, q):
    ``M / scale`` has a unit diagonal (``scale = d d'``, ``d = sqrt(diag M)``,
    1 where that is not positive), ``finite`` (K,) says which blocks are,
    and ``live`` (K, q, q) is 0 on the rows and columns of coordinates
    without curvature (a zero column, unpenalized: no gradient either, so
    they stay out of the step)."""
    K, q = M.shape[0], M.shape[1]
    identity = eye(xp, q, M.dtype, device_of(M))[None, :, :]
    diagonal = batch_diagonal(xp, M)  # (K, q)
    ones = xp.ones_like(diagonal)
    positive = diagonal > 0
    d = xp.where(positive, xp.sqrt(xp.where(positive, diagonal, ones)), ones)
    scale = d[:, :, None] * d[:, None, :]
    finite = xp.all(xp.reshape(xp.isfinite(M), (K, q * q)), axis=1)
    live = astype(xp, positive, M.dtype)
    return identity, scale, finite, live[:, :, None] * live[:, None, :]


def _metric(xp, inverse, live, scale):
    """The inverse of the unit-diagonal blocks back to M's scale, its dead
    coordinates out and symmetric (the product's rounding is not, quite)."""
    return 0.5 * (inverse + batch_transpose(xp, inverse)) * live / scale


def _floored_inverses(M, xp):
    """Inverses of the stacked symmetric positive semi-definite ``M`` (K, q,
    q) of ``xp``, on its device, each from the eigendecomposition of ``C =
    S^-1 M S^-1`` with ``S = sqrt(diag M)``: ``S^-1 V diag(1 / max(lambda,
    f)) V' S^-1``, in one batched call and without a read back to the host.
    The scaling takes the columns' scales (10^-3 to 10^3 on the ill-scaled
    set) out of the conditioning; the floor ``f = _EIGENVALUE_FLOOR
    lambda_max`` bounds the inverse where ``M`` is singular or nearly so
    (redundant columns without a penalty), where Cholesky would accept a pivot
    of rounding size and its inverse (1e15 and more) amplify rounding into
    the direction.  A matrix with a non-finite entry gets the inverse of its
    diagonal (it is decomposed as the identity, and the choice made on the
    device)."""
    identity, scale, finite, live = _unit_diagonal(M, xp)
    finite = finite[:, None, None]
    values, vectors = xp.linalg.eigh(xp.where(finite, M / scale, identity))
    values = xp.maximum(values, _EIGENVALUE_FLOOR * xp.max(values, axis=1, keepdims=True))
    inverse = (vectors / values[:, None, :]) @ batch_transpose(xp, vectors)
    # ``live`` keeps a coordinate without curvature out of the step, which
    # the floor's null space, where eigh mixes it with other singular
    # directions, cannot tell.
    return xp.where(finite, _metric(xp, inverse, live, scale), identity / scale)


def _design(objective, rows, centre, ones=None, dtype=np.float64):
    """The rows ``rows`` of ``[X - centre, 1]`` (the ones column only with an
    intercept, or if ``ones`` where given), dense, as
    ``objective.sample_rows`` gives them; on NumPy in ``dtype``, centred
    before they are rounded to it."""
    xp, p = objective.xp, objective.n_features
    ones = objective.fit_intercept if ones is None else ones
    if xp is not np:
        A = objective.sample_rows(objective.X, rows)
        A = A - from_host(xp, centre, A.dtype, objective.device)
        if not ones:
            return A
        ones = xp.ones((len(rows), 1), dtype=A.dtype, device=objective.device)
        return xp.concat([A, ones], axis=1)
    X = objective.X
    # Every row of a dense X: one pass from a view, where a gather would copy
    # X first (4,000 x 50 in a grid search: 1.7 ms of a 9 ms fit, in fresh
    # pages each time).
    view = isinstance(X, np.ndarray) and len(rows) == objective.n_samples
    if not (ones or view):
        # The gathered rows are a copy of their own: centred in place.
        A = objective.sample_rows(X, rows)
        if dtype == np.float64:
            A -= centre
            return A
        return np.subtract(A, centre, out=np.empty(A.shape, dtype), casting="same_kind")
    A = np.empty((len(rows), p + ones), dtype=dtype)
    if objective.sample_chunk_bytes is None:
        blocks = [slice(None)]
    else:
        blocks = row_chunks(len(rows), A.size, 8, objective.sample_chunk_bytes)
    for block in blocks:
        source = X[block] if view else objective.sample_rows(X, rows[block])
        np.subtract(source, centre, out=A[block, :p], casting="same_kind")
    A[:, p:] = 1.0
    return A
