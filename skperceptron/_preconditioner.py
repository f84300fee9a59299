# SPDX-License-Identifier: BSD-3-Clause
"""The preconditioners the solver takes its steps in, and the choice between them.

A preconditioner is a metric: diagonal (here, with the curvature bounds that
give the step of a fit without line search), or the Hessian of a row sample
(``_hessian``).

A metric turns the gradient into a direction, ``d = -step M^-1 g``.  The
diagonal metric divides by per-coordinate curvature bounds: it undoes the
scales of the features, never their correlations.  The Hessian metric solves
with the Hessian of ``J`` itself, per output unit (the units' losses are
separate, so their Hessian is block diagonal), estimated on a sample of rows
(all of them up to ``2 max(2048, 8 (p + 1))``, else ``max(2048, 8 (p + 1))``
evenly spaced ones): it also undoes correlated, redundant and badly scaled
columns together, which a diagonal cannot (on the ill-scaled benchmark set:
455 iterations to a gap of 1e-6 with the diagonal, 6 with the Hessian).

Only the sample enters the metric, so the solver's answer does not depend on
it: every step is still searched on the exact objective and the stopping test
is the exact gradient.  A poor metric costs iterations, never accuracy.
"""

import math

import numpy as np

from ._backend import from_host, is_sparse, ones, to_host, to_numpy, vdot
from ._hessian import _CERTIFIED_COLUMNS, HessianMetric, condition_sample_size, nearly_diagonal
from ._prox_newton import _WORKING_SET_FEATURES, ProximalNewtonMetric

# preconditioner="auto" takes the Hessian metric up to this many columns of
# [X, 1] (its sample then has 8 rows per column: 4,104 x 513 float64 is 17 MB,
# and a refresh costs as many flops as 21 products with 100,000 rows of X) and
# this many entries in the K inverses; beyond, the diagonal.
_HESSIAN_MAX_COLUMNS = 513
_HESSIAN_MAX_ENTRIES = 2**22
# "auto" keeps the Hessian's row sample within a tenth of X's bytes, or within
# this many bytes (small data: memory is no concern).
_HESSIAN_FREE_BYTES = 2**22
# An explicit preconditioner="hessian" beyond this many float64 numbers (1 GiB)
# in its factors or its row sample is refused rather than left to fail deep
# in NumPy.
_HESSIAN_LIMIT_ENTRIES = 2**27
# A binary "auto" fit with the accelerated solver takes the diagonal metric
# when the start's Hessian, scaled to a unit diagonal, has a condition number
# at most this over the directions X spans (estimated on a row sample,
# without the spread the sample adds: see _hessian.start_condition): the
# diagonal is then nearly the Hessian, its iterations cost no refresh, and
# they are hardly more.  One thread, alpha = 1e-4 unless given (estimate:
# auto's choice, diagonal / Hessian): 4,000 x 50 standardized, two columns
# combinations of others (1.34: diagonal, 5.3 / 9.7 ms; alpha=0.1, 1.56: 4.4
# / 8.1 ms); 6,000 x 20 independent columns (1.0: 3.7 / 5.8 ms), sharing
# factors (1.42: diagonal, 5.8 / 5.5 ms; 3.64: Hessian, 7.9 / 5.2 ms); 60,000
# x 200 (1.0: 130 / 198 ms; 2.97: Hessian, 256 / 204 ms; 28.8: 478 / 183 ms);
# breast cancer standardized (3.5e4: 9.3 / 3.7 ms; now left out, see
# _CHECK_PRODUCTS).  The estimate costs 0.15 ms at 21 columns, 0.3 ms at 51
# and 5 ms at 201 (60,000 rows).  Unaccelerated gradient descent keeps the
# Hessian.
_DIAGONAL_CONDITION = 2.5
# The same with several outputs, stricter: the Hessian's blocks follow each
# unit's curvature, where the diagonal's step is one for all, so the diagonal
# pays only where the start is nearly diagonal already.  One thread (estimate:
# diagonal / Hessian ms): a fold of the 5-class 20,000 x 100 workflow set at
# alpha = 1e-4, 0.03, 0.1, 0.3 (1.38: 86 / 69; 1.16: 68 / 58; 1.0: 54 / 56;
# 1.0: 47 / 43); independent columns, alpha = 1e-4, 3 classes (1.0: 20,000 x
# 100, 50 / 59 with a signal, 25 / 37 without; 6,000 x 20, 7.6 / 9.6 and 4.1
# / 5.1) and 10 classes (1.0: 104 / 96 with a signal, 52 / 64 without); iris,
# whose folds are too small to be estimated (see _CHECK_MIN_UNITS_PRODUCT), at
# alpha = 0.3 (1.08: 1.5 / 1.6) and 0.1 (2.5: 2.1 / 1.8).
_DIAGONAL_CONDITION_UNITS = 1.1
# The estimate runs where it costs at most this many products with X (see
# _affordable_check): 15,000 x 200 (ill-scaled benchmark set), 4.5 ms of a
# 40 ms fit that the Hessian wins by far, is left out; 100,000 x 200, 60,000
# x 200, 4,000 x 50 and 3,000 x 20 are checked.  Where only the Gram product
# and the two Cholesky factorizations of its certificate fit in this budget,
# they alone run, and can only take the diagonal: independent columns, one
# thread, auto against a forced diagonal from 1.63-1.75 (the Hessian, unasked)
# to 1.13-1.20 on 2,000 x 50, 8,000 x 100, 10,000 x 100 and 30,000 x 200.
# Data that keep the Hessian pay for it there: columns sharing factors, the
# same sizes, 4.3 -> 5.0 ms, 14.0 -> 15.0, 14.2 -> 15.2 and 61 -> 63 ms.
_CHECK_PRODUCTS = 16
# With several outputs the estimate runs only where a product with X, n (p +
# 1) K, has at least this many entries: below, its fixed cost (0.15-0.2 ms)
# is more than the diagonal saves.  One thread, alpha = 1e-4, 3 classes,
# independent columns, auto with the estimate against the Hessian without
# it: 500 x 10 2.53 / 2.33 ms (estimate above 1.1), 1,000 x 10 2.60 / 2.49,
# 2,000 x 10 3.28 / 3.55, 4,000 x 20 5.46 / 6.60; iris's max_iter=1 fit 0.99
# / 0.80 ms.
_CHECK_MIN_UNITS_PRODUCT = 2**16
# A path's Hessian metric (without an L1 part) is kept over its alphas and
# refreshed rarely: its sample is this many times the usual one (the
# auto choice and the size limits are still the usual sample's).  The 5-class
# 20,000 x 100 CV paths, 20 alphas x 5 folds, one thread, 'hessian': sample
# x1 2.72-2.96 s (185 iterations), x2 2.47-2.56 (169), x3 2.48-2.55 (159),
# x4 2.48-2.61 (155).  The proximal Newton blocks, refreshed at every
# iteration, keep the usual sample: x3 took its L1 paths 4.7 -> 5.6 s.
_PATH_SAMPLE_FACTOR = 2


def resolve(preconditioner, objective, *, l1, line_search):
    """The preconditioner a fit uses: ``preconditioner``, with "auto" resolved,
    or a ValueError naming why "hessian" cannot be used here."""
    host = _on_host(objective)
    if preconditioner == "hessian" and (not line_search or (l1 and not host)):
        raise ValueError(
            "preconditioner='hessian' needs line_search=True, and with an L1 part "
            "NumPy or SciPy sparse data (got line_search="
            f"{line_search}, alpha * l1_ratio = {l1:g}, X of type "
            f"{type(objective.X).__name__}): a Newton-type step without a line "
            "search may diverge, and the proximal Newton subproblem is solved on "
            "the host. Use preconditioner='diagonal'."
        )
    columns = objective.n_features + objective.fit_intercept
    # With an L1 part and many features the model is formed on a working set:
    # no K (q, q) matrices.
    working_set = bool(l1) and objective.n_features > _WORKING_SET_FEATURES
    blocks = 0 if working_set else objective.n_outputs * columns**2
    if preconditioner == "hessian":
        sample = HessianMetric.sample_size(objective.n_samples, columns)
        entries = max(blocks, sample * columns)
        if entries > _HESSIAN_LIMIT_ENTRIES:
            raise ValueError(
                f"preconditioner='hessian' needs {objective.n_outputs} matrices of "
                f"{columns} x {columns} and a dense sample of {sample} x {columns} "
                f"(over {_HESSIAN_LIMIT_ENTRIES:,} float64 numbers) with "
                f"{objective.n_features} features. Use preconditioner='diagonal' "
                "(or 'auto', which picks it here)."
            )
    if preconditioner != "auto":
        return preconditioner
    # The row sample, in float64.
    sample_bytes = 8 * HessianMetric.sample_size(objective.n_samples, columns) * columns
    if (
        not line_search
        or (l1 and not host)
        or (columns > _HESSIAN_MAX_COLUMNS and not working_set)
        or blocks > _HESSIAN_MAX_ENTRIES
        or sample_bytes > max(_HESSIAN_FREE_BYTES, 0.1 * _nbytes(objective.X))
    ):
        return "diagonal"
    return "hessian"


def make(
    preconditioner, objective, *, l1, line_search, learning_rate, accelerated=True, kept=False
):
    """``(kind, step, metric)``: the preconditioner in use (``preconditioner``
    resolved, see :func:`resolve`), the initial step in its metric and the
    metric, ready for the solver (a :class:`DiagonalMetric`, a
    :class:`HessianMetric` or, with an L1 part, a
    :class:`~._prox_newton.ProximalNewtonMetric`).  ``kept``: a path keeps
    the metric over its alphas (see ``_PATH_SAMPLE_FACTOR``)."""
    kind = resolve(preconditioner, objective, l1=l1, line_search=line_search)
    auto_step = learning_rate == "auto"
    threshold = _DIAGONAL_CONDITION if objective.n_outputs == 1 else _DIAGONAL_CONDITION_UNITS
    if kind == "hessian" and not (
        preconditioner == "auto"
        and not l1
        and accelerated
        and (check := _affordable_check(objective))
        and _nearly_diagonal(objective, threshold, exact=check == "estimate")
    ):
        all_rows = preconditioner == "hessian"
        if l1:
            metric = ProximalNewtonMetric.create(objective, l1, all_rows=all_rows)
        else:
            factor = _PATH_SAMPLE_FACTOR if kept else 1
            metric = HessianMetric.create(objective, all_rows=all_rows, sample_factor=factor)
        if metric is not None:
            return "hessian", (1.0 if auto_step else float(learning_rate)), metric
    # "auto", and a Hessian that is nearly diagonal already or a sample
    # that misrepresents a column.
    kind = "diagonal" if kind == "hessian" else kind
    if kind == "diagonal":
        D_W, D_c = diagonal(objective)
        if not auto_step:
            step = float(learning_rate)
        elif line_search:
            step = 1.0
        else:
            step = 1.0 / metric_lipschitz(objective, D_W, D_c)
        inv_W, inv_c = 1 / D_W, 1 / D_c
    else:
        step = float(learning_rate) if not auto_step else 1.0 / lipschitz(objective)
        xp = objective.xp
        inv_W = ones(xp, objective.n_features, objective.dtype, objective.device)
        inv_c = ones(xp, objective.n_outputs, objective.dtype, objective.device)
    if not objective.fit_intercept:
        inv_c = objective.xp.zeros_like(inv_c)
    return kind, step, DiagonalMetric(inv_W, inv_c)


def _nearly_diagonal(objective, threshold, exact=True):
    with objective.setup_threads():
        return nearly_diagonal(objective, threshold, exact=exact)


def _affordable_check(objective):
    """Which test of the start is worth its cost, at most ``_CHECK_PRODUCTS``
    products with X (``n q`` flops each): "estimate", :func:`start_condition`
    (its Gram product on ``m`` rows and its eigenvalue problem, ``m q^2 + 10
    q^3`` flops, the latter as measured: 1.2 ms for q = 201, one thread);
    else "certificate", the Gram product and two Cholesky factorizations
    alone (at most ``(m + q) q^2``; a binary fit's on half the rows and in
    float32, see :func:`~._hessian.nearly_diagonal`; off NumPy from
    ``_CERTIFIED_COLUMNS`` columns), which can only prove the start nearly
    diagonal; else None.  With several outputs, only where a product has at
    least ``_CHECK_MIN_UNITS_PRODUCT`` entries."""
    q = objective.n_features + objective.fit_intercept
    n = objective.n_samples
    if objective.n_outputs > 1 and n * q * objective.n_outputs < _CHECK_MIN_UNITS_PRODUCT:
        return None
    m = condition_sample_size(n, q)
    if (m + 10 * q) * q <= _CHECK_PRODUCTS * n:
        return "estimate"
    certificate = _on_host(objective) or q >= _CERTIFIED_COLUMNS
    if certificate and (m + q) * q <= _CHECK_PRODUCTS * n:
        return "certificate"
    return None


def _on_host(objective):
    """Whether X is a NumPy array or a SciPy sparse matrix (not an Array API
    array on a device, nor a Dask array): where the proximal Newton model,
    solved by coordinate descent on the host, applies."""
    return isinstance(objective.X, np.ndarray) or is_sparse(objective.X)


def _nbytes(X):
    """Bytes of X's stored values (and indices, when sparse)."""
    if is_sparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    nbytes = getattr(X, "nbytes", None)
    if nbytes is None:  # an Array API array without it
        nbytes = math.prod(X.shape) * 8
    return int(nbytes)


class DiagonalMetric:
    """``M = diag(D_W, D_c)``; ``inv_W``, ``inv_c`` are its inverse, as arrays of
    the objective's namespace (``inv_c`` zero without an intercept)."""

    def __init__(self, inv_W, inv_c):
        self.inv_W, self.inv_c = inv_W, inv_c

    def direction(self, grad_W, grad_c):
        """``M^-1 g``: the preconditioned gradient, in the objective's namespace."""
        return grad_W * self.inv_W, grad_c * self.inv_c

    def measure(self, raw, keep=True):
        """Arrays that :meth:`refresh` at ``raw`` would read from the device,
        for the solver to read with its own (none here)."""
        return ()

    def refresh(self, raw, measured=None, stale=False):
        """Bring the metric to the point with raw predictions ``raw``: True when
        it changed (the solver then restarts from its initial step).
        ``stale``: the solver's steps say the metric is out of date."""
        return False


def quadratic(metric, grad_W, grad_c, xp):
    """``g' M^-1 g`` as a Python float."""
    dW, dc = metric.direction(grad_W, grad_c)
    qW, qc = to_host(xp, [vdot(xp, dW, grad_W), vdot(xp, dc, grad_c)])
    return float(qW + qc)


# -- curvature bounds: the diagonal metric and the steps without line search --
def diagonal(objective):
    r"""Per-coordinate curvature bounds ``(D_W, D_c)``: the Jacobi metric.

    ``D_W[j] = (sum_i s_i x_ij^2) / 4 + l2`` (centred columns when
    centering), ``D_c = 1/4``.  A column with no variance gets the bound of
    its uncentred second moment times ``1e-10`` so that no step divides by
    zero.
    """
    mean, second = objective.moments()
    var = second - mean**2 if objective.mean is not None else second.copy()
    floor = 1e-10 * second
    var = np.maximum(var, floor)
    D_W = 0.25 * var + objective.l2
    D_W[D_W <= 0] = 1.0  # all-zero column and l2 == 0: any metric will do
    D_c = np.full(objective.n_outputs, 0.25)
    xp, dtype, device = objective.xp, objective.dtype, objective.device
    return from_host(xp, D_W, dtype, device), from_host(xp, D_c, dtype, device)


def _bound_diagonal(objective):
    """Diagonal of ``X_c.T diag(s) X_c / 4 + l2`` over the columns, float64."""
    mean, second = objective.moments()
    var = second - mean**2 if objective.mean is not None else second
    return 0.25 * np.maximum(var, 0.0) + objective.l2


def lipschitz(objective):
    r"""Upper bound on the largest eigenvalue of the Hessian of ``f``.

    ``sigma' <= 1/4``, so the Hessian is bounded by
    :math:`\frac14 \tilde X^\top \mathrm{diag}(s) \tilde X + \lambda_2 I`
    with :math:`\tilde X = [X, 1]` (the ones column only when fitting an
    intercept), and the largest eigenvalue of a PSD matrix is at most its
    trace: :math:`L = \frac14 \sum_i s_i (\|x_i\|^2 + 1) + \lambda_2`.
    """
    diag = _bound_diagonal(objective) - objective.l2
    return float(np.sum(diag)) + 0.25 * objective.fit_intercept + objective.l2


def metric_lipschitz(objective, D_W, D_c, n_power=20, rtol=1e-3):
    """Estimate of the largest eigenvalue of ``D^-1/2 H_bound D^-1/2``.

    Power iteration on the curvature bound (``sigma' <= 1/4``) in the metric
    ``D``; the Rayleigh quotients increase towards the largest eigenvalue
    from below.  The returned value is the last quotient times 1.1 (rounded
    up), capped by the trace of the matrix, which is a hard upper bound.
    Each power step is one :meth:`BCEObjective.bound_product` (one ``matvec``
    and one ``rmatvec``).
    """
    xp, dtype, device = objective.xp, objective.dtype, objective.device
    rng = np.random.default_rng(0)
    # The bound is the same block for every output unit: iterate on one.
    u_W = from_host(xp, rng.standard_normal((1, objective.n_features)), dtype, device)
    u_c = np.zeros(1)
    if objective.fit_intercept:
        u_c[:] = rng.standard_normal(1)
    u_c = from_host(xp, u_c, dtype, device)
    sW, sc = 1 / xp.sqrt(D_W), 1 / xp.sqrt(D_c[:1])
    trace = float(np.sum(_bound_diagonal(objective) / to_numpy(xp, D_W)))
    trace += float(objective.fit_intercept)
    estimate = 0.0
    for _ in range(n_power):
        ww, cc = to_host(xp, [vdot(xp, u_W, u_W), vdot(xp, u_c, u_c)])
        # A Python float: a NumPy float64 would promote float32 iterates.
        norm = math.sqrt(float(ww + cc))
        u_W, u_c = u_W / norm, u_c / norm
        g_W, g_c = objective.bound_product(u_W * sW, u_c * sc)
        g_W = (g_W + objective.l2 * u_W * sW) * sW
        g_c = g_c * sc
        wg, cg = to_host(xp, [vdot(xp, u_W, g_W), vdot(xp, u_c, g_c)])
        new = float(wg + cg)
        u_W, u_c = g_W, g_c
        converged = abs(new - estimate) <= rtol * new
        estimate = new
        if converged:
            break
    return min(1.1 * estimate, trace)
