# SPDX-License-Identifier: BSD-3-Clause
"""Full-batch proximal gradient descent, plain ("gd") or accelerated ("nesterov")."""

import math
from dataclasses import dataclass, field

import numpy as np

from ._backend import all_finite, eps, max_abs, norm, ones, outer, to_host, vdot
from ._metric import DiagonalMetric, quadratic
from ._passes import single_threaded_blas

# Armijo's sufficient-decrease constant and the number of halvings before the
# line search gives up (2**-60 of the trial step is below any float's reach).
_ARMIJO = 1e-4
_MAX_HALVINGS = 60
# Iterations in a row without a strict decrease, or whose computed and
# predicted decreases are both below _RESOLVED float epsilons of J while the
# gradient test sets no new low (the objective flat to its float precision
# while the coefficients still move), before giving up.
_MAX_FLAT = 10
_RESOLVED = 4
# The gap test that stopping adds to max |gradient mapping| <= tol (see
# ProximalGradientSolver._small_gap): the estimated remaining decrease must be
# at most _GAP_FRACTION * tol * |J|, estimated over the last k // _GAP_WINDOW
# iterations; before two iterations, 0.5 g' D^-1 g <= _FIRST_FRACTION tol |J|.
_GAP_FRACTION = 0.5
_GAP_WINDOW = 3
_FIRST_FRACTION = 0.01
_NEWTON_REFINEMENTS = 2
_PLANE_NEWTON = 1
_PLANE_RTOL = 1e-1


@dataclass
class SolverResult:
    """What a solver hands back: the iterate and how it got there."""

    W: np.ndarray
    c: np.ndarray
    raw: np.ndarray
    n_iter: int
    converged: bool
    stop_reason: str  # converged | max_iter | line_search | diverged | stopped
    step: float
    criterion: float
    loss_curve: list = field(default_factory=list)
    coef_norm_curve: list = field(default_factory=list)


class ProximalGradientSolver:
    r"""Minimize ``f(W, c) + g(W)``: ``f`` a :class:`BCEObjective`, ``g`` L1.

    Order of calls in :meth:`solve`:

    1. setup: initial raw predictions (one ``matvec``), initial step;
    2. each iteration:
       a. ("nesterov") extrapolate ``y = x + beta (x - x_prev)``; its raw
          predictions are the same combination of cached ones, no product;
       b. gradient of ``f`` at ``y``: one ``rmatvec``;
       c. check convergence: ``max |gradient mapping| <= tol`` (unit step,
          Euclidean metric, original coordinates, intercepts included);
       d. direction ``d = prox_t(y - t M^{-1} grad) - y`` in the metric ``M``
          (see ``_metric``: diagonal, or the Hessian of a row sample, then
          refactored first if its curvature weights have moved) and its raw
          predictions ``X d``: one ``matvec``;
       e. line search along ``raw_y + s X d``, no product: Armijo halving, then
          (no L1 part) up to two safeguarded Newton steps on the 1-D smooth
          function, which give the best step along ``d``;
       f. accept, or (nesterov) reject a point worse than ``x`` and restart the
          momentum (so the objective never increases); restart also when the
          momentum points against the step (O'Donoghue and Candes, 2015);
       g. record the objective, call ``monitor``;
    3. finalize: return a :class:`SolverResult`.

    So an iteration reads X exactly twice, whatever the solver.

    The iterates, their raw predictions and the gradients stay in the
    objective's array namespace and device (``objective.xp``); the loop itself
    runs on the host from the few scalars it reads back each iteration (the
    stopping criterion, values, slopes, small curvature matrices), which the
    objective batches into single transfers.  Step lengths are Python floats,
    so float32 iterates stay float32.
    """

    def __init__(
        self,
        objective,
        penalty,
        *,
        accelerated,
        metric,
        step,
        line_search,
        max_iter,
        tol,
        monitor=None,
        verbose=0,
    ):
        self.objective = objective
        self.penalty = penalty
        self.accelerated = accelerated
        self.metric = metric
        self.step = float(step)
        self.line_search = line_search
        self.max_iter = max_iter
        self.tol = tol
        self.monitor = monitor
        self.verbose = verbose

    # -- pieces ------------------------------------------------------------
    def _criterion(self, W, grad_W, grad_c):
        obj = self.objective
        xp = obj.xp
        if obj.mean is not None:
            # Back to the original coordinates: d/dW = d/dW_centred + grad_c mean^T.
            grad_W = grad_W + outer(xp, grad_c, obj.mean)
        mapping = self.penalty.gradient_mapping(W, grad_W)
        if obj.fit_intercept:
            return max_abs(xp, mapping, grad_c)
        return max_abs(xp, mapping)

    def _accept(self, value, F0, predicted, slope=None):
        """Armijo's test ``value <= F0 + c * predicted`` (``predicted < 0`` is the
        first-order change), made robust where J is flat to float precision.

        Without an L1 part the objective is convex along any ray, so
        ``phi(1) <= phi(0) + phi'(1)``: where the two values are equal up to
        rounding, a slope at the trial of at most ``c * predicted`` proves the
        Armijo decrease, and a slope of at most 0 (a trial at the minimum
        along the ray, as Newton's are) proves that J did not increase.
        ``slope`` is that slope, or a callable giving it, evaluated only when
        the values cannot decide.  Such a step may leave the computed value a
        rounding error above ``F0``; the solvers then record ``F0`` again
        (see :meth:`_record`), and count it towards ``_MAX_FLAT``.
        """
        if not math.isfinite(value):
            return False
        if value <= F0 + _ARMIJO * predicted:
            return True
        if self.penalty or slope is None:
            return False
        if abs(value - F0) > 64 * eps(self.objective.xp, self.objective.dtype) * abs(F0):
            return False
        slope = slope() if callable(slope) else slope
        return math.isfinite(slope) and slope <= 0

    def _converged(self, n_iter, F, step, crit, F0, loss_curve, flat, *gradient_and_metric):
        """The stopping rule, ``crit <= tol`` and :meth:`_small_gap`; with
        ``verbose``, the progress line of the iteration first."""
        if self.verbose and (n_iter % 10 == 0 or crit <= self.tol):
            print(
                f"iter {n_iter:5d}  objective {F:.10g}  max|grad| {crit:.3e}  step {step:.3e}",
                flush=True,
            )
        return crit <= self.tol and self._small_gap(F0, loss_curve, flat, *gradient_and_metric)

    def _small_gap(self, F0, loss_curve, flat, grad_W, grad_c, metric):
        """Whether the objective looks within ``tol`` (relative) of its minimum.

        ``max |gradient mapping| <= tol`` does not bound the gap: with sparse
        or small-scale features the gradient entries are small long before J
        is (a CSR fit stopped after 4 iterations 2e-4 above J*), and a weak
        penalty leaves directions of curvature ``alpha`` where a gradient of
        ``tol`` still hides ``tol**2 / alpha``.  So stopping also asks this,
        from values the solver already has:

        - no strict decrease in the last iteration (``flat``): nothing more to
          gain in this dtype;
        - before two iterations (a start or a warm start):
          ``0.5 g' M^-1 g <= 0.01 tol |J|`` (the metric's estimate of the
          decrease still available, 0.3 to 6 x |J| from a cold start);
        - otherwise Aitken's extrapolation of the objective values: with
          ``m = max(1, k // 3)`` and ``d1, d2`` the decreases over the two last
          windows of ``m`` iterations, the rate ``r = d2 / d1`` (``d1 > d2``)
          predicts the remaining decrease ``d2 r / (1 - r)``, which must be at
          most ``0.5 tol |J|``.

        On the benchmark sets this rule stops every default fit within a
        relative gap of 1e-4 (see ``benchmarks/RESULTS.md``).
        """
        if flat:
            return True
        history = [F0, *loss_curve]
        k = len(history) - 1
        F = history[-1]
        scale = self.tol * abs(F)
        m = max(1, k // _GAP_WINDOW)
        if k < 2 * m:
            q = 0.5 * quadratic(metric, grad_W, grad_c, self.objective.xp)
            return q <= _FIRST_FRACTION * scale
        d1 = history[k - 2 * m] - history[k - m]
        d2 = history[k - m] - F
        if d2 <= 0:
            return True
        if d1 <= d2:
            return False
        rate = d2 / d1
        return d2 * rate / (1 - rate) <= _GAP_FRACTION * scale

    def _record(self, loss_curve, F):
        """Append the objective after an iteration to ``loss_curve``.

        With the line search every accepted step decreases J (Armijo, or the
        slope test of :meth:`_accept` where the values are equal up to
        rounding), so a computed value above the last one recorded is
        rounding of the dtype: the last value is recorded again, and the
        curve never increases, in float32 as in float64.
        """
        if self.line_search and loss_curve and F > loss_curve[-1]:
            rounding = 64 * eps(self.objective.xp, self.objective.dtype) * abs(loss_curve[-1])
            if F - loss_curve[-1] <= rounding:
                F = loss_curve[-1]
        loss_curve.append(F)

    def _end_iteration(self, n_iter, W, c, raw, F, loss_curve, norm_curve, flat=0):
        """Record an iteration and call the monitor: the stop reason, or None."""
        self._record(loss_curve, F)
        norm_curve.append(norm(self.objective.xp, W))
        if self.monitor is not None and self.monitor(n_iter, W, c, raw, F):
            return "stopped"
        if flat >= _MAX_FLAT:
            return "line_search"
        return None

    def _result(self, W, c, raw, n_iter, reason, step, crit, loss_curve, norm_curve):
        return SolverResult(
            W=W,
            c=c,
            raw=raw,
            n_iter=n_iter,
            converged=reason == "converged",
            stop_reason=reason,
            step=step,
            criterion=crit,
            loss_curve=loss_curve,
            coef_norm_curve=[float(v) for v in to_host(self.objective.xp, norm_curve)],
        )

    def _total(self, W, raw):
        return self.objective.value(W, raw) + self.penalty.value(W)

    def _search(self, W, raw, F0, grad_W, grad_c, dW, dc, draw):
        """Step ``s`` along the direction, and the objective there."""
        phi = self.objective.line(W, raw, dW, draw)
        pen = self.penalty
        xp = self.objective.xp
        slope_W, slope_c = to_host(xp, [vdot(xp, grad_W, dW), vdot(xp, grad_c, dc)])
        decrease = float(slope_W + slope_c)
        decrease += pen.value(W + dW) - pen.value(W)

        def total(s, derivatives=False):
            with np.errstate(over="ignore", invalid="ignore"):
                value, slope, curv = phi(s, derivatives)
            value += pen.value(W + s * dW) if pen else 0.0
            return value, slope, curv

        if not self.line_search:
            with np.errstate(over="ignore", invalid="ignore"):
                return 1.0, total(1.0)[0], 0
        if not decrease < 0:
            return 0.0, F0, 0
        s = 1.0
        for n_halvings in range(_MAX_HALVINGS):
            value = total(s)[0]
            if self._accept(value, F0, s * decrease, lambda: s * total(s, True)[1]):
                break
            s *= 0.5
        else:
            return 0.0, F0, _MAX_HALVINGS
        if not pen:
            for _ in range(_NEWTON_REFINEMENTS):
                _, slope, curv = total(s, derivatives=True)
                if not (curv > 0 and math.isfinite(slope)):
                    break
                trial = s - slope / curv
                if not (trial > 0 and math.isfinite(trial)):
                    break
                trial_value = total(trial)[0]
                if not (
                    trial_value <= value
                    and self._accept(
                        trial_value, F0, trial * decrease, lambda: trial * total(trial, True)[1]
                    )
                ):
                    break
                converged = abs(trial - s) <= 1e-3 * s
                s, value = trial, trial_value
                if converged:
                    break
        return s, value, n_halvings

    def _plane_search(self, phi, F, slope0, hess0):
        """Minimize the smooth function ``phi`` of the plane (or line) from 0.

        The first Newton step uses the slope and curvature at 0, which come
        free with the gradient; each trial is then evaluated with its
        derivatives in one pass.  A trial is accepted only with Armijo's
        sufficient decrease; the search ends when the Newton decrement has
        fallen below 1% of its value at 0.  Returns ``(a, value)``, or
        ``(None, F)`` when Newton's steps make no progress.
        """
        a = np.zeros_like(slope0)
        value, grad, hess = F, slope0, hess0
        decrement0 = None
        for trial_index in range(_PLANE_NEWTON):
            delta = _newton_step(hess, grad)
            if delta is None:
                break
            decrement = -float(grad @ delta)
            if not (np.all(np.isfinite(delta)) and decrement > 0):
                break
            if decrement0 is None:
                decrement0 = decrement
            elif decrement <= _PLANE_RTOL * decrement0:
                break
            trial = a + delta
            # The last trial's derivatives would have no use: skip that pass.
            trial_value, trial_grad, trial_hess = phi(trial, trial_index + 1 < _PLANE_NEWTON)

            # The first trial is judged by Armijo alone: where J is flat to
            # float precision its value may exceed F by rounding and still be
            # proven a decrease by the slope (see _accept).
            if not (
                (trial_index == 0 or trial_value <= value)
                and self._accept(
                    trial_value, F, float(slope0 @ trial), lambda: _ray_slope(phi, trial)
                )
            ):
                break
            a, value, grad, hess = trial, trial_value, trial_grad, trial_hess
        if not a.any():
            return None, F
        return a, value

    def _solve_planar(self, W, c, metric):
        """Momentum with both weights optimized: the accelerated solver without L1.

        Each iteration minimizes over the plane ``x + a d + b (x - x_prev)``
        spanned by the preconditioned gradient step ``d`` and the previous
        step, on cached raw predictions (``raw + a X d + b (raw - raw_prev)``):
        Newton in the plane, its first step from the slope and curvature that
        come with the gradient, then Armijo halving along ``d`` if Newton makes
        no progress.  On a quadratic this is preconditioned conjugate
        gradients; the plane contains the gradient step, so it never does worse
        than gradient descent with a line search, and the objective never
        increases.
        """
        obj = self.objective
        xp = obj.xp
        raw = obj.matvec(W, c)
        metric.refresh(raw)
        F = F0 = obj.value(W, raw)
        resolved = _RESOLVED * eps(xp, obj.dtype)
        best_crit = math.inf
        step = self.step
        last = None  # the previous step (dW, dc, draw)
        flat = 0
        loss_curve, norm_curve = [], []
        n_iter, crit, reason = 0, math.inf, "max_iter"
        while True:
            grad_W, grad_c, H = obj.gradient(W, raw, curvature=True)
            crit = self._criterion(W, grad_W, grad_c)
            if self._converged(
                n_iter, F, step, crit, F0, loss_curve, flat, grad_W, grad_c, metric
            ):
                reason = "converged"
                break
            if n_iter >= self.max_iter:
                break
            if metric.refresh(raw):
                step = self.step  # a new metric: its own step again
            dW, dc = metric.direction(grad_W, grad_c)
            dW, dc = -step * dW, -step * dc
            draw = obj.matvec(dW, dc)
            dWs, dcs, draws = [dW], [dc], [draw]
            if last is not None:
                dWs.append(last[0])
                dcs.append(last[1])
                draws.append(last[2])
            slopes = to_host(
                xp,
                [s for u, v in zip(dWs, dcs) for s in (vdot(xp, grad_W, u), vdot(xp, grad_c, v))],
            )
            slope0 = np.array([float(slopes[2 * j] + slopes[2 * j + 1]) for j in range(len(dWs))])
            if not slope0[0] < 0:
                reason = "line_search"
                break
            hess0 = obj.curvature(H, dWs, draws)
            H = None  # free the Hessian diagonal before the trial point's pass
            phi = obj.subspace(W, raw, dWs, draws)
            a, value = self._plane_search(phi, F, slope0, hess0)
            if a is None and flat and crit >= best_crit:
                # Newton's step failed inside a flat streak while the gradient
                # test no longer improves: J is at its float precision, and
                # halving would only evaluate rounding noise.
                reason = "line_search"
                break
            if a is None:
                # Newton made no progress: Armijo halving along d alone.
                a = np.zeros(len(draws))
                a[0] = 1.0
                for _ in range(_MAX_HALVINGS):
                    value = phi(a, False)[0]
                    if self._accept(
                        value, F, a[0] * slope0[0], lambda: _ray_slope(phi, a)
                    ):
                        break
                    a[0] *= 0.5
                else:
                    reason = "line_search"
                    break
            # Python floats: a NumPy float64 weight would promote float32 iterates.
            a0, a1 = float(a[0]), float(a[1]) if len(a) > 1 else 0.0
            new_dW, new_dc = a0 * dW, a0 * dc
            if a1:
                new_dW += a1 * last[0]
                new_dc += a1 * last[1]
            # In place on NumPy: ``draw`` becomes the step, ``raw`` the new point's.
            raw, new_draw = obj.advance(raw, draws, a)
            phi = draws = draw = dWs = dcs = None
            # Progress that neither J nor the gradient shows: a computed change
            # within rounding, a predicted decrease (the Newton model in the
            # plane) below it, and no new low of the gradient test.  In float32
            # this regime starts near a relative gap of 1e-7, and its
            # iterations would run on until max_iter; in float64 the gradient
            # still falls there, towards a tight tol.
            resolution = resolved * abs(F)
            unresolved = (
                crit >= best_crit
                and abs(value - F) <= resolution
                and -float(slope0 @ a + 0.5 * a @ hess0 @ a) <= resolution
            )
            best_crit = min(best_crit, crit)
            flat = flat + 1 if value >= F or unresolved else 0
            W, c, F = W + new_dW, c + new_dc, value
            last = (new_dW, new_dc, new_draw)
            if a0 > 0:
                # The next gradient step starts from the length that worked.
                step *= a0
            n_iter += 1
            stop = self._end_iteration(n_iter, W, c, raw, F, loss_curve, norm_curve, flat)
            if stop:
                reason = stop
                break
        return self._result(W, c, raw, n_iter, reason, step, crit, loss_curve, norm_curve)

    # -- the loop ------------------------------------------------------------
    def solve(self, W, c):
        # Overflow is detected by the finiteness checks below (a diverging
        # fixed step), not reported as a warning from deep inside NumPy.
        # The row blocks' products run single-threaded BLAS on our own threads.
        with np.errstate(over="ignore", invalid="ignore"), single_threaded_blas(
            self.objective._blocks is not None
        ):
            return self._solve(W, c)

    def _solve(self, W, c):
        obj, pen = self.objective, self.penalty
        xp, dtype = obj.xp, obj.dtype
        metric, self.metric = self.metric, None
        if metric is None or isinstance(metric, tuple):
            # Only the inverse of a diagonal metric is used from here on.
            if metric is None:
                inv_W = ones(xp, obj.n_features, dtype, obj.device)
                inv_c = ones(xp, obj.n_outputs, dtype, obj.device)
            else:
                inv_W, inv_c = (1 / m for m in metric)
            if not obj.fit_intercept:
                inv_c = xp.zeros_like(inv_c)
            metric = DiagonalMetric(inv_W, inv_c)
        if pen and not isinstance(metric, DiagonalMetric):
            raise ValueError("the L1 part's proximal step needs a diagonal metric")
        if self.accelerated and self.line_search and not pen:
            return self._solve_planar(W, c, metric)

        raw = obj.matvec(W, c)
        metric.refresh(raw)
        F = F0 = self._total(W, raw)
        step = self.step
        loss_curve, norm_curve = [], []
        prev = None  # (W, c, raw) of the previous iterate, for momentum
        theta = 1.0
        flat = 0
        n_iter, crit, reason = 0, math.inf, "max_iter"

        while True:
            beta = 0.0
            if self.accelerated and prev is not None:
                theta_next = 0.5 * (1 + math.sqrt(1 + 4 * theta * theta))
                beta = (theta - 1) / theta_next
            if beta > 0:
                Wy = W + beta * (W - prev[0])
                cy = c + beta * (c - prev[1])
                rawy = obj.settle(raw + beta * (raw - prev[2]))
            else:
                Wy, cy, rawy = W, c, raw
            grad_W, grad_c, _ = obj.gradient(Wy, rawy)
            Fy = self._total(Wy, rawy) if beta > 0 else F
            crit = self._criterion(Wy, grad_W, grad_c)

            if self._converged(
                n_iter, F, step, crit, F0, loss_curve, flat, grad_W, grad_c, metric
            ):
                if beta == 0:
                    reason = "converged"
                    break
                if Fy <= F:
                    # The extrapolated point is optimal and no worse: take it.
                    W, c, raw, F = Wy, cy, rawy, Fy
                    n_iter += 1
                    self._end_iteration(n_iter, W, c, raw, F, loss_curve, norm_curve)
                    reason = "converged"
                    break
            if n_iter >= self.max_iter:
                break

            if metric.refresh(rawy):
                step = self.step
            dW, dc = metric.direction(grad_W, grad_c)
            dW, dc = -step * dW, -step * dc
            if pen:
                dW = pen.prox(Wy + dW, step * metric.inv_W) - Wy
            draw = obj.matvec(dW, dc)
            s, F_new, n_halvings = self._search(Wy, rawy, Fy, grad_W, grad_c, dW, dc, draw)
            if s == 0.0:
                if beta > 0:
                    prev, theta = None, 1.0  # restart from x itself
                    n_iter += 1
                    stop = self._end_iteration(n_iter, W, c, raw, F, loss_curve, norm_curve)
                    if stop:
                        reason = stop
                        break
                    continue
                reason = "line_search"
                break
            W_new = Wy + s * dW
            c_new = cy + s * dc
            raw_new = obj.settle(rawy + s * draw if s != 1.0 else rawy + draw)
            if not (math.isfinite(F_new) and all_finite(xp, W_new, c_new)):
                reason = "diverged"
                break

            n_iter += 1
            flat = flat + 1 if self.line_search and F_new >= F else 0
            if beta > 0 and F_new > F:
                # Monotone restart: the momentum overshot; stay at x.
                prev, theta = None, 1.0
            else:
                if beta > 0:
                    back_W, back_c = to_host(
                        xp, [vdot(xp, Wy - W_new, W_new - W), vdot(xp, cy - c_new, c_new - c)]
                    )
                    restart = float(back_W + back_c) > 0
                else:
                    restart = False
                prev = (W, c, raw)
                W, c, raw, F = W_new, c_new, raw_new, F_new
                if self.accelerated:
                    theta = 1.0 if restart else 0.5 * (1 + math.sqrt(1 + 4 * theta * theta))
                    if restart:
                        prev = None
            if self.line_search:
                # Start the next search from the step that worked (Newton may
                # have grown it); double it when the first trial was accepted.
                if not pen:
                    step *= s
                elif n_halvings == 0:
                    step *= 2.0
                else:
                    step *= s
            stop = self._end_iteration(n_iter, W, c, raw, F, loss_curve, norm_curve, flat)
            if stop:
                reason = stop
                break

        return self._result(W, c, raw, n_iter, reason, step, crit, loss_curve, norm_curve)


def _ray_slope(phi, a):
    """``d/ds phi(s a)`` at ``s = 1``: the slope along the ray through ``a``."""
    return float(phi.slope(a) @ a)


def _newton_step(hess, grad):
    """``-hess^-1 grad`` for the (m, m) curvature of a plane or a line, or None
    when it is singular.  In closed form for m <= 2: ``np.linalg.solve`` costs
    ten microseconds, a tenth of a whole iteration on small data."""
    m = len(grad)
    if m == 1:
        return -grad / hess[0, 0] if hess[0, 0] != 0 else None
    if m == 2:
        det = hess[0, 0] * hess[1, 1] - hess[0, 1] * hess[1, 0]
        if det == 0:
            return None
        return -np.array(
            [
                hess[1, 1] * grad[0] - hess[0, 1] * grad[1],
                hess[0, 0] * grad[1] - hess[1, 0] * grad[0],
            ]
        ) / det
    try:
        return -np.linalg.solve(hess, grad)
    except np.linalg.LinAlgError:
        return None
