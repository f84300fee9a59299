# SPDX-License-Identifier: BSD-3-Clause
"""The solver: one loop of proximal gradient steps, with a pluggable direction.

The directions (gd, FISTA, momentum in a plane minimized by Newton, and
proximal Newton steps for the L1 part in the sampled Hessian) decide
where each iteration goes; the loop, the stopping rule (``_convergence``) and
the line searches (``_linesearch``) are shared by all of them.
"""

import math
from dataclasses import dataclass

import numpy as np

from ._backend import all_finite, all_finite_array, to_host, vdot
from ._convergence import Stopping
from ._linesearch import LineSearch
from ._preconditioner import DiagonalMetric
from ._prox_newton import ProximalNewtonMetric

# A Hessian metric is refreshed, whatever its curvature weights say, once the
# line searches have taken the step multiplier out of [_STALE_STEP,
# _STALE_GROW] times the initial step since its last refresh: its model of the
# curvature is off by that factor.  The weights' total can stay within the
# refresh rule while the few rows that carry the curvature of a nearly
# separable fit change by orders of magnitude: digits at alpha=1e-5 took steps
# of 3e-3 of the stale Newton step, 426 iterations to tol=1e-8 (now 20).
_STALE_STEP = 0.5
_STALE_GROW = 2.0


@dataclass
class Move:
    """Where an iteration went: the new point and its objective ``value``,
    the decrease its model predicted (None: not judged by the progress rule)
    and the factor for the next step.  ``moved=False``: the point did not
    change (a restart of the momentum)."""

    W: object
    c: object
    raw: object
    value: float
    predicted: float = None
    grow: float = 1.0
    moved: bool = True


class ProximalGradientSolver:
    r"""Minimize ``f(W, c) + g(W)``: ``f`` a :class:`BCEObjective`, ``g`` L1.

    Order of calls in :meth:`solve`:

    1. setup: initial raw predictions (one ``matvec``), initial step;
    2. each iteration:
       a. the direction's anchor: the point itself, or (FISTA) the
          extrapolation ``y = x + beta (x - x_prev)``, whose raw predictions
          are the same combination of cached ones, no product;
       b. gradient of ``f`` at the anchor: one ``rmatvec``;
       c. check convergence (:class:`~._convergence.Stopping`);
       d. the metric refreshed where it moved, the step
          ``d = prox_t(y - t M^{-1} grad) - y`` and its raw predictions
          ``X d``: one ``matvec``;
       e. the direction's search on cached raw predictions, no product
          (:class:`~._linesearch.LineSearch`), and its move;
       f. record the objective, call ``monitor``, apply the progress rule;
    3. finalize: return a :class:`~._convergence.SolverResult`.

    So an iteration reads X exactly twice, whatever the direction.

    The iterates, their raw predictions and the gradients stay in the
    objective's array namespace and device (``objective.xp``); the loop itself
    runs on the host from the few scalars it reads back each iteration (the
    stopping criterion, values, slopes, small curvature matrices), which the
    objective batches into single transfers.  Step lengths are Python floats,
    so float32 iterates stay float32.  On a device the planar momentum reads
    once an iteration: c. comes after e.'s first trial, read with it (the
    step is dropped when the test passes), and d.'s refresh test is made at
    that trial, the next point unless the search goes further.
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
        if penalty and not isinstance(metric, (DiagonalMetric, ProximalNewtonMetric)):
            raise ValueError(
                "the L1 part's proximal step needs a diagonal or a proximal Newton metric"
            )
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

    def solve(self, W, c, start=None):
        """Minimize from ``(W, c)``; ``start``, if given, is ``(raw, loss)``
        there, known already (a path's previous optimum)."""
        # Overflow is detected by the finiteness checks (a diverging fixed
        # step), not reported as a warning from deep inside NumPy.
        with np.errstate(over="ignore", invalid="ignore"), self.objective.product_threads():
            return self._solve(W, c, start)

    def _solve(self, W, c, start=None):
        obj, pen = self.objective, self.penalty
        metric, self.metric = self.metric, None
        stopping = Stopping(
            obj, pen, tol=self.tol, line_search=self.line_search,
            monitor=self.monitor, verbose=self.verbose,
        )  # fmt: skip
        search = LineSearch(obj, pen, verbose=self.verbose)
        if isinstance(metric, ProximalNewtonMetric):
            direction = ProximalNewtonDirection(obj, search, stopping, metric)
        elif self.accelerated and self.line_search and not pen:
            direction = PlanarMomentum(obj, search, stopping)
        else:
            direction = Fista(obj, search, stopping, self.accelerated, self.line_search)
        raw, loss = (obj.matvec(W, c), None) if start is None else start
        metric.refresh(raw)
        F = F0 = obj.value(W, raw, loss) + pen.value(W)
        step = self.step
        n_iter, crit, reason = 0, math.inf, "max_iter"
        # On a device an iteration reads once: the criterion and the metric's
        # refresh test come with the step's search (see the class's
        # docstring).  NumPy reads nothing and tests first.  (The proximal
        # Newton direction runs on the host.)
        deferred = obj.xp is not np and not isinstance(direction, ProximalNewtonDirection)
        measured, crits = None, [math.inf, math.inf]
        while True:
            Wy, cy, rawy, Fy = direction.anchor(W, c, raw, F)
            grad_W, grad_c = direction.gradient(Wy, rawy)
            # Not where the test would likely pass (a warm start, the last
            # iterations: the criterion extrapolated from the last two): the
            # step it was read with would be dropped, a pass over X wasted.
            expected = crits[-1] * min(1.0, crits[-1] / crits[-2])
            # A step multiplier far from the metric's own says its model is
            # stale where the curvature weights' total does not.
            stale = not _STALE_STEP * self.step <= step <= self.step * _STALE_GROW
            move = None
            if deferred and 0 < n_iter < self.max_iter and expected > self.tol:
                if metric.refresh(rawy, measured, stale=stale):
                    step = self.step
                crit_array = stopping.criterion_array(Wy, grad_W, grad_c)
                dW, dc = direction.propose(Wy, cy, grad_W, grad_c, metric, step, pen)
                move = direction.move(W, c, raw, F, Wy, cy, rawy, Fy, grad_W, grad_c, dW, dc,
                                      metric, step, extra=[crit_array],
                                      at_trial=lambda v: metric.measure(v, keep=False))  # fmt: skip
                del dW, dc
                if direction.read is None:  # the move ended before its read
                    crit = stopping.criterion_of(crit_array)
                else:
                    crit, measured = float(direction.read[0]), direction.read[1:] or None
            else:
                # What decides the metric's refresh is read with the criterion.
                pending = metric.measure(rawy) if n_iter > 0 else ()
                if pending:
                    crit, measured = stopping.criterion(Wy, grad_W, grad_c, pending)
                else:
                    crit, measured = stopping.criterion(Wy, grad_W, grad_c), None
            crits.append(crit)
            if stopping.converged(n_iter, F, step, crit, F0, Wy, grad_W, grad_c, metric):
                # A step read with the test is not taken.
                if Wy is W:
                    reason = "converged"
                    break
                if direction.anchor_value(Fy) <= F:
                    # The extrapolated point is optimal and no worse: take it.
                    W, c, raw, F = Wy, cy, rawy, direction.anchor_value(Fy)
                    n_iter += 1
                    stopping.end_iteration(n_iter, W, c, raw, F, progress=False)
                    reason = "converged"
                    break
            if move is None:
                if n_iter >= self.max_iter:
                    break
                # At iteration 0 the metric is the start's, refreshed above.
                if n_iter > 0 and metric.refresh(rawy, measured, stale=stale):
                    step = self.step  # a new metric: its own step again
                dW, dc = direction.propose(Wy, cy, grad_W, grad_c, metric, step, pen)
                # For a one-read iteration next: its refresh test, at the trial.
                trial = {"at_trial": lambda v: metric.measure(v, keep=False)} if deferred else {}
                move = direction.move(W, c, raw, F, Wy, cy, rawy, Fy, grad_W, grad_c, dW, dc,
                                      metric, step, **trial)  # fmt: skip
                if deferred:
                    measured = direction.read or None
                del dW, dc
            del Wy, cy, rawy
            if isinstance(move, str):
                reason = move
                break
            n_iter += 1
            if move.predicted is not None:
                stopping.progress.update(F, move.value, move.predicted, crit)
            W, c, raw = move.W, move.c, move.raw
            # A step accepted on its slope may compute J a rounding error
            # higher; later tests start from the lower value, so no series of
            # such steps lets J creep up.
            F = min(F, move.value) if self.line_search else move.value
            step *= move.grow
            stop = stopping.end_iteration(n_iter, W, c, raw, F, progress=move.moved)
            if stop:
                reason = stop
                break
        result = stopping.result(W, c, raw, n_iter, reason, step, crit, value=F)
        result.newton = not isinstance(metric, DiagonalMetric)
        return result


class GradientStep:
    """The proximal gradient step of gd, FISTA and the planar momentum."""

    def anchor_value(self, Fy):
        """J at the anchor, a float, from ``Fy`` as :meth:`anchor` gave it."""
        return Fy

    def propose(self, W, c, grad_W, grad_c, metric, step, pen):
        """``d = prox_t(W - t M^-1 grad) - W`` for the coefficients, ``-t M^-1
        grad`` for the intercepts, ``t = step``."""
        dW, dc = metric.direction(grad_W, grad_c)
        dW, dc = -step * dW, -step * dc
        if pen:
            dW = pen.prox(W + dW, step * metric.inv_W) - W
        return dW, dc


class PlanarMomentum(GradientStep):
    """Momentum with both weights optimized: the accelerated solver without L1.

    Each iteration minimizes over the plane ``x + a d + b (x - x_prev)``
    spanned by the preconditioned gradient step ``d`` and the previous step,
    on cached raw predictions (``raw + a X d + b (raw - raw_prev)``): Newton in
    the plane, its first step from the slope and curvature that come with the
    gradient, then Armijo halving along ``d`` if Newton makes no progress.  On
    a quadratic this is preconditioned conjugate gradients; the plane contains
    the gradient step, so it never does worse than gradient descent with a
    line search, and the objective never increases.
    """

    def __init__(self, objective, search, stopping):
        self.objective, self.search, self.stopping = objective, search, stopping
        self.last = None  # the previous step (dW, dc, draw)
        self.H = None  # the raw-space Hessian diagonal at the point
        self.read = None  # the host copies of the last move's ``extra`` and ``at_trial``

    def anchor(self, W, c, raw, F):
        return W, c, raw, F

    def gradient(self, W, raw):
        grad_W, grad_c, self.H = self.objective.gradient(W, raw, curvature=True)
        return grad_W, grad_c

    def move(self, W, c, raw, F, Wy, cy, rawy, Fy, grad_W, grad_c, dW, dc, metric, step,
             extra=(), at_trial=None):  # fmt: skip
        """The step; on a device, ``extra`` and ``at_trial`` go to
        :meth:`BCEObjective.plane_model`, whose read brings them to
        ``self.read`` (None where the move ends before it)."""
        obj, last = self.objective, self.last
        self.read = None
        draw = obj.matvec(dW, dc)
        dWs, dcs, draws = [dW], [dc], [draw]
        if last is not None:
            dWs.append(last[0])
            dcs.append(last[1])
            draws.append(last[2])
        # Slopes, curvature and the coefficients' Gram matrix: one read.
        slope0, hess0, gram, trial, self.read = obj.plane_model(
            grad_W, grad_c, self.H, W, raw, dWs, dcs, draws, extra, at_trial
        )
        if not extra and at_trial is None:
            self.read = None
        self.H = None  # free the Hessian diagonal before the trial point's pass
        if not slope0[0] < 0:
            return self.stopping.no_step(F, -slope0[0])
        phi = obj.subspace(W, raw, dWs, draws, speculate=True, gram=gram)
        a, value = self.search.plane(phi, F, slope0, hess0, first=trial)
        if a is None:
            return self.stopping.no_step(F, -slope0[0])
        # Python floats: a NumPy float64 weight would promote float32 iterates.
        a0, a1 = float(a[0]), float(a[1]) if len(a) > 1 else 0.0
        new_dW, new_dc = a0 * dW, a0 * dc
        if a1:
            new_dW += a1 * last[0]
            new_dc += a1 * last[1]
        # In place on NumPy: ``draw`` becomes the step, ``raw`` the new point's.
        raw, new_draw = obj.advance(raw, draws, a)
        phi = draws = draw = dWs = dcs = None
        self.last = (new_dW, new_dc, new_draw)
        # The decrease the Newton model of the plane predicted for the step;
        # the next gradient step starts from the length that worked.
        predicted = -float(slope0 @ a + 0.5 * a @ hess0 @ a)
        return Move(W + new_dW, c + new_dc, raw, value, predicted, a0 if a0 > 0 else 1.0)


class Fista(GradientStep):
    """Gradient descent (``accelerated=False``) or FISTA on the composite
    objective, with a line search along each proximal step.

    FISTA restarts its momentum when a step would raise the objective (the
    point stays; so the objective never increases) and when the momentum
    points against the step (O'Donoghue and Candes, 2015).
    """

    def __init__(self, objective, search, stopping, accelerated, line_search):
        self.objective, self.search, self.stopping = objective, search, stopping
        self.accelerated, self.line_search = accelerated, line_search
        self.prev = None  # (W, c, raw) of the previous iterate, for momentum
        self.theta = 1.0
        self.beta = 0.0
        self.read = None  # the host copies of the last move's ``extra`` and ``at_trial``
        self.anchor_read = None  # J at the last anchor, read with its step

    def anchor(self, W, c, raw, F):
        self.beta = 0.0
        if self.accelerated and self.prev is not None:
            theta_next = 0.5 * (1 + math.sqrt(1 + 4 * self.theta * self.theta))
            self.beta = (self.theta - 1) / theta_next
        if not self.beta > 0:
            return W, c, raw, F
        beta, (W_prev, c_prev, raw_prev) = self.beta, self.prev
        Wy = W + beta * (W - W_prev)
        cy = c + beta * (c - c_prev)
        rawy = self.objective.settle(raw + beta * (raw - raw_prev))
        obj, pen = self.objective, self.search.penalty
        self.anchor_read = None
        if obj.xp is np:
            return Wy, cy, rawy, obj.value(Wy, rawy) + pen.value(Wy)
        # On a device J there is read with the step's search (see move).
        return Wy, cy, rawy, obj.value_array(Wy, rawy, pen)

    def anchor_value(self, Fy):
        if isinstance(Fy, float):
            return Fy
        if self.anchor_read is None:
            self.anchor_read = float(to_host(self.objective.xp, [Fy])[0])
        return self.anchor_read

    def gradient(self, W, raw):
        return self.objective.gradient(W, raw)[:2]

    def move(self, W, c, raw, F, Wy, cy, rawy, Fy, grad_W, grad_c, dW, dc, metric, step,
             extra=(), at_trial=None):  # fmt: skip
        """The step; ``extra`` and ``at_trial`` as for :meth:`LineSearch.ray`,
        their host copies in ``self.read``."""
        obj, xp, pen = self.objective, self.objective.xp, self.search.penalty
        draw = obj.matvec(dW, dc)
        metric_W = 1 / (step * metric.inv_W) if pen else None
        # The restart test's inner products, with W_new = Wy + s dW:
        # (Wy - W_new) . (W_new - W) = -s (dW . (Wy - W) + s dW . dW); on a
        # device, read with the search, as is whether the step is finite.
        own = []
        if self.beta > 0:
            own += [vdot(xp, dW, Wy - W) + vdot(xp, dc, cy - c), vdot(xp, dW, dW) + vdot(xp, dc, dc)]
        if xp is not np:
            own.append(xp.astype(all_finite_array(xp, Wy, cy, dW, dc), dW.dtype))
        k = len(extra)
        s, F_new, grow, predicted = self.search.ray(
            Wy, rawy, Fy, grad_W, grad_c, dW, dc, draw, metric_W, search=self.line_search,
            extra=[*extra, *own], at_trial=at_trial,
        )  # fmt: skip
        read = self.search.read
        self.read = read[:k] + read[k + len(own) :]
        own = [float(v) for v in read[k : k + len(own)]]
        if not isinstance(Fy, float):
            self.anchor_read = self.search.start
        if s == 0.0:
            if self.beta > 0:
                self.prev, self.theta = None, 1.0  # restart from x itself
                return Move(W, c, raw, F, moved=False)
            return self.stopping.no_step(F, predicted)
        W_new = Wy + s * dW
        c_new = cy + s * dc
        raw_new = obj.settle(rawy + s * draw if s != 1.0 else rawy + draw)
        finite = own[-1] > 0 if xp is not np else all_finite(xp, W_new, c_new)
        if not (math.isfinite(F_new) and finite):
            return "diverged"
        move = Move(W_new, c_new, raw_new, F_new, predicted if self.line_search else None,
                    grow if self.line_search else 1.0)  # fmt: skip
        if self.beta > 0 and F_new > F:
            # Monotone restart: the momentum overshot; stay at x.
            self.prev, self.theta = None, 1.0
            move.W, move.c, move.raw, move.value = W, c, raw, F
            return move
        restart = False
        if self.beta > 0:
            toward, length = own[:2]
            restart = -s * (toward + s * length) > 0
        self.prev = (W, c, raw)
        if self.accelerated:
            self.theta = 1.0 if restart else 0.5 * (1 + math.sqrt(1 + 4 * self.theta * self.theta))
            if restart:
                self.prev = None
        return move


class ProximalNewtonDirection:
    """Proximal Newton steps (:mod:`._prox_newton`): the model's minimizer,
    searched along on the exact objective from the unit step; no momentum,
    which Newton's steps do not need."""

    def __init__(self, objective, search, stopping, metric):
        self.objective, self.search, self.stopping = objective, search, stopping
        self.metric = metric

    def anchor(self, W, c, raw, F):
        return W, c, raw, F

    def gradient(self, W, raw):
        # The model at this point before the stopping test, which solves it
        # (the loop's refresh that follows is then a no-op): one subproblem
        # per iteration, not two.
        self.metric.refresh(raw)
        return self.objective.gradient(W, raw)[:2]

    def propose(self, W, c, grad_W, grad_c, metric, step, pen):
        return metric.step(W, grad_W, grad_c)

    def move(self, W, c, raw, F, Wy, cy, rawy, Fy, grad_W, grad_c, dW, dc, metric, step):
        obj, xp = self.objective, self.objective.xp
        draw = obj.matvec(dW, dc)
        s, F_new, _, predicted = self.search.ray(
            W, raw, F, grad_W, grad_c, dW, dc, draw, None
        )
        if s == 0.0:
            return self.stopping.no_step(F, predicted)
        W_new, c_new = W + s * dW, c + s * dc
        raw_new = obj.settle(raw + s * draw if s != 1.0 else raw + draw)
        if not (math.isfinite(F_new) and all_finite(xp, W_new, c_new)):
            return "diverged"
        return Move(W_new, c_new, raw_new, F_new, predicted)
