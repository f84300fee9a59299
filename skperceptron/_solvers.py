# SPDX-License-Identifier: BSD-3-Clause
"""Full-batch proximal gradient descent, plain ("gd") or accelerated ("nesterov")."""

import math

import numpy as np

from ._backend import all_finite, eps, max_abs, norm, outer, to_host, vdot
from ._convergence import _MAX_STALLED, _RESOLVED, Progress, SolverResult
from ._preconditioner import DiagonalMetric, quadratic
from ._passes import single_threaded_blas

# Armijo's sufficient-decrease constant and the number of halvings before the
# line search gives up (2**-60 of the trial step is below any float's reach).
_ARMIJO = 1e-4
_MAX_HALVINGS = 60
# Where a trial's value is within _ROUNDING float epsilons of J, values cannot
# decide; the slope at the trial then does, by Hager and Zhang's approximate
# Armijo test with this constant (see ProximalGradientSolver._accept).
_ROUNDING = 64
_APPROXIMATE_ARMIJO = 0.1
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
        first-order change along the ray to the trial), made robust where J is
        flat to float precision.

        Where ``|value - F0| <= 64 eps |F0|`` the values cannot decide: the
        rounding of J is larger than the decrease to be measured.  The slope
        can, since the gradient is computed to far better relative accuracy
        near a minimum.  With ``psi(t)`` the objective at ``t`` times the trial
        step, ``slope = psi'(1)`` (the left derivative with an L1 part) and
        ``predicted = psi'(0)``, the trial is accepted when
        ``psi'(1) <= (2 delta - 1) psi'(0)``, ``delta = 0.1``: Hager and Zhang's
        approximate Armijo test, exact for a quadratic ``psi``, where it means
        ``psi(1) - psi(0) = (psi'(0) + psi'(1)) / 2 <= delta psi'(0)``.  A
        trial at the minimum along the ray (``psi'(1) ~ 0``, as Newton's are)
        passes; a trial that overshoots it by twice (``psi(1) ~ psi(0)``)
        fails.  ``slope`` is that slope, or a callable giving it, evaluated only
        when the values cannot decide.  Such a step may leave the computed value
        a rounding error above ``F0``; the solvers then record ``F0`` again
        (see :meth:`_record`).
        """
        if not math.isfinite(value):
            return False
        if value <= F0 + _ARMIJO * predicted:
            return True
        if slope is None:
            return False
        rounding = _ROUNDING * eps(self.objective.xp, self.objective.dtype) * abs(F0)
        if abs(value - F0) > rounding:
            return False
        slope = slope() if callable(slope) else slope
        return math.isfinite(slope) and slope <= (2 * _APPROXIMATE_ARMIJO - 1) * predicted

    def _converged(self, n_iter, F, step, crit, F0, loss_curve, progress, *point_and_metric):
        """The stopping rule, ``crit <= tol`` and :meth:`_small_gap`; with
        ``verbose``, the progress line of the iteration first."""
        if self.verbose >= 2 or (self.verbose and (n_iter % 10 == 0 or crit <= self.tol)):
            print(
                f"iter {n_iter:5d}  objective {F:.10g}  max|grad map| {crit:.3e}  step {step:.3e}",
                flush=True,
            )
        return crit <= self.tol and self._small_gap(F0, loss_curve, progress, *point_and_metric)

    def _trace(self, step, value, accepted):
        """With ``verbose >= 2``, a line per line-search trial."""
        if self.verbose >= 2:
            decision = "accepted" if accepted else "rejected"
            print(f"  trial step {step:.3e}  objective {value:.10g}  {decision}", flush=True)
        return accepted

    def _model_decrease(self, W, grad_W, grad_c, metric):
        """The decrease of the quadratic model of ``J`` in the metric by one unit
        proximal step: ``0.5 g' M^-1 g`` without an L1 part; with one, it is
        ``-(g' d + 0.5 d' M d + g(W + d) - g(W))``, ``d`` the proximal step
        (diagonal metric), which is 0 at an optimum where the plain gradient
        is not."""
        xp = self.objective.xp
        if not self.penalty:
            return 0.5 * quadratic(metric, grad_W, grad_c, xp)
        dW, dc = metric.direction(grad_W, grad_c)
        W_next = self.penalty.prox(W - dW, metric.inv_W)
        dW = W_next - W
        linear_W, square_W, linear_c = to_host(
            xp, [vdot(xp, grad_W, dW), vdot(xp, dW / metric.inv_W, dW), vdot(xp, grad_c, dc)]
        )
        change = self.penalty.value(W_next) - self.penalty.value(W)
        return -float(linear_W + 0.5 * square_W + change) + 0.5 * float(linear_c)

    def _small_gap(self, F0, loss_curve, progress, W, grad_W, grad_c, metric):
        """Whether the objective looks within ``tol`` (relative) of its minimum.

        ``max |gradient mapping| <= tol`` does not bound the gap: with sparse
        or small-scale features the gradient entries are small long before J
        is (a CSR fit stopped after 4 iterations 2e-4 above J*), and a weak
        penalty leaves directions of curvature ``alpha`` where a gradient of
        ``tol`` still hides ``tol**2 / alpha``.  So stopping also asks this,
        from values the solver already has:

        - the last iteration's computed change and predicted decrease were
          both within rounding (``progress.at_resolution``): nothing more to
          gain in this dtype;
        - before two iterations (a start or a warm start): the metric's model
          of the decrease still available (:meth:`_model_decrease`,
          ``0.5 g' M^-1 g`` without an L1 part; 0.3 to 6 x |J| from a cold
          start) is at most ``0.01 tol |J|``;
        - otherwise Aitken's extrapolation of the objective values: with
          ``m = max(1, k // 3)`` and ``d1, d2`` the decreases over the two last
          windows of ``m`` iterations, the rate ``r = d2 / d1`` (``d1 > d2``)
          predicts the remaining decrease ``d2 r / (1 - r)``, which must be at
          most ``0.5 tol |J|``.

        On the benchmark sets this rule stops every default fit within a
        relative gap of 1e-4 (see ``benchmarks/RESULTS.md``).
        """
        if progress.at_resolution:
            return True
        history = [F0, *loss_curve]
        k = len(history) - 1
        F = history[-1]
        scale = self.tol * abs(F)
        m = max(1, k // _GAP_WINDOW)
        if k < 2 * m:
            return self._model_decrease(W, grad_W, grad_c, metric) <= _FIRST_FRACTION * scale
        d1 = history[k - 2 * m] - history[k - m]
        d2 = history[k - m] - F
        if d2 <= 0:
            return True
        if d1 <= d2:
            return False
        rate = d2 / d1
        return d2 * rate / (1 - rate) <= _GAP_FRACTION * scale

    def _no_step(self, F, predicted):
        """The stop reason when the line search finds no step: ``flat`` when
        the first-order decrease of the whole step was within rounding of
        ``J`` (``_RESOLVED`` epsilons), ``line_search`` otherwise."""
        resolution = _RESOLVED * eps(self.objective.xp, self.objective.dtype) * abs(F)
        return "flat" if predicted <= resolution else "line_search"

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

    def _end_iteration(self, n_iter, W, c, raw, F, loss_curve, norm_curve, progress=None):
        """Record an iteration and call the monitor: the stop reason, or None."""
        self._record(loss_curve, F)
        norm_curve.append(norm(self.objective.xp, W))
        if self.monitor is not None and self.monitor(n_iter, W, c, raw, F):
            return "stopped"
        if progress is not None and progress.stalled >= _MAX_STALLED:
            return progress.reason()
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

    def _search(self, W, raw, F0, grad_W, grad_c, dW, dc, draw, metric_W):
        """Step ``s`` along the direction, the objective there, the factor for
        the next gradient step and the first-order decrease predicted for ``s``.

        ``metric_W`` is the model's curvature of the coefficients (the metric
        over the step).  With an L1 part, where the first trial holds the next
        step grows by up to 2, but never past the curvature of the smooth part
        measured along the direction (``kappa``): ``d' M d / step >= kappa`` is
        the upper bound that proximal gradient steps need, which Armijo's test
        alone does not check (it passes steps up to twice too long).
        """
        phi = self.objective.line(W, raw, dW, draw)
        pen = self.penalty
        xp = self.objective.xp
        products = [vdot(xp, grad_W, dW), vdot(xp, grad_c, dc)]
        if pen:
            products.append(vdot(xp, dW * metric_W, dW))
        slope_W, slope_c, *model_W = to_host(xp, products)
        decrease = float(slope_W + slope_c)
        decrease += pen.value(W + dW) - pen.value(W)

        def total(s, derivatives=False):
            with np.errstate(over="ignore", invalid="ignore"):
                value, slope, curv = phi(s, derivatives)
            if pen:
                value += pen.value(W + s * dW)
                if derivatives:
                    slope += pen.left_slope(W + s * dW, dW)
            return value, slope, curv

        def ray_slope(s):
            return lambda: s * total(s, True)[1]

        if not self.line_search:
            with np.errstate(over="ignore", invalid="ignore"):
                return 1.0, total(1.0)[0], 1.0, -decrease
        if not decrease < 0:
            return 0.0, F0, 1.0, -decrease
        # With an L1 part the first trial's pass also gives its slope and kappa.
        value, slope, kappa = total(1.0, derivatives=bool(pen))
        s = 1.0
        for n_halvings in range(_MAX_HALVINGS):
            if n_halvings:
                value, slope = total(s)[0], None
            slope_s = (lambda: s * slope) if slope is not None else ray_slope(s)
            if self._trace(s, value, self._accept(value, F0, s * decrease, slope_s)):
                break
            s *= 0.5
        else:
            return 0.0, F0, 1.0, -decrease
        if pen:
            grow = s
            if n_halvings == 0:
                # d' M d / step; the intercepts' part is -g_c' d_c (d_c = -step M^-1 g_c).
                model = float(model_W[0] - slope_c)
                grow = min(2.0, model / kappa) if kappa > 0 else 2.0
            return s, value, grow, -s * decrease
        if not pen:
            for _ in range(_NEWTON_REFINEMENTS):
                _, slope, curv = total(s, derivatives=True)
                if not (curv > 0 and math.isfinite(slope)):
                    break
                trial = s - slope / curv
                if not (trial > 0 and math.isfinite(trial)):
                    break
                trial_value = total(trial)[0]
                accepted = trial_value <= value and self._accept(
                    trial_value, F0, trial * decrease, ray_slope(trial)
                )
                if not self._trace(trial, trial_value, accepted):
                    break
                converged = abs(trial - s) <= 1e-3 * s
                s, value = trial, trial_value
                if converged:
                    break
        return s, value, s, -s * decrease

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
            accepted = (trial_index == 0 or trial_value <= value) and self._accept(
                trial_value, F, float(slope0 @ trial), lambda: _ray_slope(phi, trial)
            )
            if not self._trace(float(trial[0]), trial_value, accepted):
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
        progress = Progress(xp, obj.dtype)
        step = self.step
        last = None  # the previous step (dW, dc, draw)
        loss_curve, norm_curve = [], []
        n_iter, crit, reason = 0, math.inf, "max_iter"
        while True:
            grad_W, grad_c, H = obj.gradient(W, raw, curvature=True)
            crit = self._criterion(W, grad_W, grad_c)
            if self._converged(
                n_iter, F, step, crit, F0, loss_curve, progress, W, grad_W, grad_c, metric
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
                reason = self._no_step(F, -slope0[0])
                break
            hess0 = obj.curvature(H, dWs, draws)
            H = None  # free the Hessian diagonal before the trial point's pass
            phi = obj.subspace(W, raw, dWs, draws)
            a, value = self._plane_search(phi, F, slope0, hess0)
            if a is None:
                # Newton made no progress: Armijo halving along d alone.
                a = np.zeros(len(draws))
                a[0] = 1.0
                for _ in range(_MAX_HALVINGS):
                    value = phi(a, False)[0]
                    accepted = self._accept(
                        value, F, a[0] * slope0[0], lambda: _ray_slope(phi, a)
                    )
                    if self._trace(a[0], value, accepted):
                        break
                    a[0] *= 0.5
                else:
                    reason = self._no_step(F, -slope0[0])
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
            # The decrease the Newton model of the plane predicted for the step.
            progress.update(F, value, -float(slope0 @ a + 0.5 * a @ hess0 @ a), crit)
            # A step accepted on its slope may compute J a rounding error
            # higher; later tests start from the lower value, so no series of
            # such steps lets J creep up.
            W, c, F = W + new_dW, c + new_dc, min(F, value)
            last = (new_dW, new_dc, new_draw)
            if a0 > 0:
                # The next gradient step starts from the length that worked.
                step *= a0
            n_iter += 1
            stop = self._end_iteration(n_iter, W, c, raw, F, loss_curve, norm_curve, progress)
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
        progress = Progress(xp, dtype)
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
                n_iter, F, step, crit, F0, loss_curve, progress, Wy, grad_W, grad_c, metric
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
            s, F_new, grow, predicted = self._search(
                Wy, rawy, Fy, grad_W, grad_c, dW, dc, draw,
                1 / (step * metric.inv_W) if pen else None,
            )
            if s == 0.0:
                if beta > 0:
                    prev, theta = None, 1.0  # restart from x itself
                    n_iter += 1
                    stop = self._end_iteration(n_iter, W, c, raw, F, loss_curve, norm_curve)
                    if stop:
                        reason = stop
                        break
                    continue
                reason = self._no_step(F, predicted)
                break
            W_new = Wy + s * dW
            c_new = cy + s * dc
            raw_new = obj.settle(rawy + s * draw if s != 1.0 else rawy + draw)
            if not (math.isfinite(F_new) and all_finite(xp, W_new, c_new)):
                reason = "diverged"
                break

            n_iter += 1
            if self.line_search:
                progress.update(F, F_new, predicted, crit)
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
                # See _solve_planar: no creep of J by rounding.
                F_new = min(F, F_new) if self.line_search else F_new
                W, c, raw, F = W_new, c_new, raw_new, F_new
                if self.accelerated:
                    theta = 1.0 if restart else 0.5 * (1 + math.sqrt(1 + 4 * theta * theta))
                    if restart:
                        prev = None
            if self.line_search:
                # Start the next search from the step that worked: Newton may
                # have grown it, and with an L1 part see _search.
                step *= grow
            stop = self._end_iteration(n_iter, W, c, raw, F, loss_curve, norm_curve, progress)
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
