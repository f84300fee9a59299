# SPDX-License-Identifier: BSD-3-Clause
"""Line searches on cached raw predictions: along a ray, and in a plane.

Every trial is evaluated from the raw predictions of the start and of the
directions (``raw + s X d``): no product with X.  A trial is accepted by
Armijo's test on the values, or, where the values are equal up to rounding, by
the slope at the trial (see :meth:`LineSearch.accept`).
"""

import math

import numpy as np

from . import _loss
from ._backend import accumulation_dtype, eps, inner, to_host, to_host_with, vdot

# Armijo's sufficient-decrease constant and the number of halvings before the
# line search gives up (2**-60 of the trial step is below any float's reach).
_ARMIJO = 1e-4
_MAX_HALVINGS = 60
# Where a trial's value is within _ROUNDING float epsilons of J, values cannot
# decide; the slope at the trial then does, by Hager and Zhang's approximate
# Armijo test with this constant (see LineSearch.accept).
_ROUNDING = 64
_APPROXIMATE_ARMIJO = 0.1
# Newton steps that refine an accepted step along a ray (no L1 part), and in a
# plane: at most _PLANE_NEWTON, until the decrement falls below _PLANE_RTOL of
# the first.
_NEWTON_REFINEMENTS = 2
_PLANE_NEWTON = 1
_PLANE_RTOL = 1e-1


class LineSearch:
    """The line searches of one fit: ``objective`` the smooth part, ``penalty``
    the L1 part; with ``verbose >= 2`` a line per trial."""

    def __init__(self, objective, penalty, *, verbose=0):
        self.objective = objective
        self.penalty = penalty
        self.verbose = verbose
        self.rounding = _ROUNDING * eps(objective.xp, objective.dtype)

    def accept(self, value, F0, predicted, slope=None):
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
        a rounding error above ``F0``; the solvers then keep ``F0``.
        """
        if not math.isfinite(value):
            return False
        if value <= F0 + _ARMIJO * predicted:
            return True
        if slope is None:
            return False
        if abs(value - F0) > self.rounding * abs(F0):
            return False
        slope = slope() if callable(slope) else slope
        return math.isfinite(slope) and slope <= (2 * _APPROXIMATE_ARMIJO - 1) * predicted

    def trace(self, step, value, accepted):
        """With ``verbose >= 2``, a line per line-search trial."""
        if self.verbose >= 2:
            decision = "accepted" if accepted else "rejected"
            print(f"  trial step {step:.3e}  objective {value:.10g}  {decision}", flush=True)
        return accepted

    def ray(self, W, raw, F0, grad_W, grad_c, dW, dc, draw, metric_W, search=True,
            extra=(), at_trial=None):  # fmt: skip
        """Step ``s`` along the direction, the objective there, the factor for
        the next gradient step and the first-order decrease predicted for ``s``
        (``s = 0``: no step found).  ``search=False``: the whole step, as given.

        ``metric_W`` is the model's curvature of the coefficients (the metric
        over the step).  With an L1 part, where the first trial holds the next
        step grows by up to 2, but never past the curvature of the smooth part
        measured along the direction (``kappa``): ``d' M d / step >= kappa`` is
        the upper bound that proximal gradient steps need, which Armijo's test
        alone does not check (it passes steps up to twice too long); ``None``
        for a proximal Newton step, whose unit length needs no growth.  Without
        an L1 part, up to two Newton steps on the ray refine the accepted step.

        On a device the search reads once (see :class:`_Prefetched`): ``F0``
        may then be an unread 0-d array, and the arrays ``extra`` and those
        that ``at_trial`` makes of the first trial's raw predictions come back
        with that read, in ``self.read`` (``extra`` as given on NumPy).
        """
        pen = self.penalty
        xp = self.objective.xp
        known = None
        if xp is np:
            products = [vdot(xp, grad_W, dW), vdot(xp, grad_c, dc)]
            if pen and metric_W is not None:
                products.append(vdot(xp, dW * metric_W, dW))
            slope_W, slope_c, *model_W = to_host(xp, products)
            self.read = list(extra)
        else:
            known, F0, self.read = _Prefetched.read(
                self, W, raw, F0, grad_W, grad_c, dW, dc, draw, metric_W, search, extra, at_trial
            )
            slope_W, slope_c, model_W = known.slope_W, known.slope_c, known.model_W
        self.start = F0  # J at the start of the search, on the host
        phi = None

        def total(s, derivatives=False):
            nonlocal phi
            if known is not None:
                found = known.at(s, derivatives)
                if found is not None:
                    return found
            if phi is None:
                phi = along(self.objective, W, raw, dW, draw, None if known is None else known.gram)
            with np.errstate(over="ignore", invalid="ignore"):
                value, slope, curv = phi(s, derivatives)
            if pen:
                value += pen.value(W + s * dW)
                if derivatives:
                    slope += pen.left_slope(W + s * dW, dW)
            return value, slope, curv

        def ray_slope(s):
            return lambda: s * total(s, True)[1]

        decrease = float(slope_W + slope_c)
        if pen:
            if known is not None:
                decrease += known.penalty_change
            else:
                decrease += pen.value(W + dW) - pen.value(W)
        if not search:
            return 1.0, total(1.0)[0], 1.0, -decrease
        if not decrease < 0:
            return 0.0, F0, 1.0, -decrease
        # With an L1 part the first trial's pass also gives its slope and kappa
        # (on a device they were evaluated where the halvings likely stop);
        # not for a proximal Newton step, which uses neither kappa nor, unless
        # the values tie within rounding, the slope.
        derivatives = bool(pen) and known is None and metric_W is not None
        value, slope, kappa = total(1.0, derivatives=derivatives)
        s = 1.0
        for n_halvings in range(_MAX_HALVINGS):
            if n_halvings:
                value, slope = total(s)[0], None
            slope_s = (lambda: s * slope) if slope is not None else ray_slope(s)
            if self.trace(s, value, self.accept(value, F0, s * decrease, slope_s)):
                break
            s *= 0.5
        else:
            return 0.0, F0, 1.0, -decrease
        if pen:
            grow = s
            if n_halvings == 0 and metric_W is not None:
                if kappa is None:
                    kappa = total(1.0, derivatives=True)[2]
                # d' M d / step; the intercepts' part is -g_c' d_c (d_c = -step M^-1 g_c).
                model = float(model_W[0] - slope_c)
                grow = min(2.0, model / kappa) if kappa > 0 else 2.0
            return s, value, grow, -s * decrease
        for _ in range(_NEWTON_REFINEMENTS):
            _, slope, curv = total(s, derivatives=True)
            if not (curv > 0 and math.isfinite(slope)):
                break
            trial = s - slope / curv
            if not (trial > 0 and math.isfinite(trial)):
                break
            if known is not None:
                trial = known.snap(trial)
            trial_value = total(trial)[0]
            accepted = trial_value <= value and self.accept(
                trial_value, F0, trial * decrease, ray_slope(trial)
            )
            if not self.trace(trial, trial_value, accepted):
                break
            converged = abs(trial - s) <= 1e-3 * s
            s, value = trial, trial_value
            if converged:
                break
        return s, value, s, -s * decrease

    def plane(self, phi, F, slope0, hess0, first=None):
        """Minimize the smooth function ``phi`` of the plane (or line) from 0.

        The first Newton step uses the slope and curvature at 0, which come
        free with the gradient; each trial is then evaluated with its
        derivatives in one pass.  A trial is accepted only with Armijo's
        sufficient decrease; the search ends when the Newton decrement has
        fallen below 10% of its value at 0.  If Newton makes no progress,
        Armijo halving along the first direction alone.  Returns
        ``(a, value)``, or ``(None, F)`` when no step is found.  ``first``:
        the first Newton trial and its value, already formed and evaluated
        (on a device, read with the slopes: see ``BCEObjective.plane_model``).
        """
        a = np.zeros_like(slope0)
        value, grad, hess = F, slope0, hess0
        decrement0 = None
        for trial_index in range(_PLANE_NEWTON):
            known = first if trial_index == 0 and first is not None else None
            delta = _newton_step(hess, grad) if known is None else known[0]
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
            derivatives = trial_index + 1 < _PLANE_NEWTON
            if known is not None and not derivatives:
                trial_value, trial_grad, trial_hess = known[1], None, None
            else:
                trial_value, trial_grad, trial_hess = phi(trial, derivatives)

            # The first trial is judged by Armijo alone: where J is flat to
            # float precision its value may exceed F by rounding and still be
            # proven a decrease by the slope (see accept).
            accepted = (trial_index == 0 or trial_value <= value) and self.accept(
                trial_value, F, float(slope0 @ trial), lambda: _ray_slope(phi, trial)
            )
            if not self.trace(float(trial[0]), trial_value, accepted):
                break
            a, value, grad, hess = trial, trial_value, trial_grad, trial_hess
        if a.any():
            return a, value
        a[0] = 1.0
        for _ in range(_MAX_HALVINGS):
            value = phi(a, False)[0]
            accepted = self.accept(value, F, a[0] * slope0[0], lambda: _ray_slope(phi, a))
            if self.trace(a[0], value, accepted):
                return a, value
            a[0] *= 0.5
        return None, F


def along(objective, W, raw, dW, draw, gram=None):
    """The objective's :meth:`~BCEObjective.subspace` along one direction:
    ``phi(s, derivatives=True) -> (value, slope, curvature)``; ``gram``: the
    Gram matrix of ``(dW, W)``, if known."""
    phi2 = objective.subspace(W, raw, [dW], [draw], gram=gram)

    def phi(s, derivatives=True):
        value, grad, hess = phi2(np.array([s]), derivatives)
        if not derivatives:
            return value, None, None
        return value, float(grad[0]), float(hess[0, 0])

    return phi


def _ray_slope(phi, a):
    """``d/ds phi(s a)`` at ``s = 1``: the slope along the ray through ``a``."""
    return float(phi.slope(a) @ a)


def newton_in_plane(hess, grad):
    """``-hess^-1 grad`` for an (m, m) curvature with m <= 2, in closed form,
    as a list: the entries may be floats or 0-d arrays of any namespace (a
    device forms the first trial there), and a singular ``hess`` gives
    non-finite entries."""
    if len(grad) == 1:
        return [-grad[0] / hess[0][0]]
    det = hess[0][0] * hess[1][1] - hess[0][1] * hess[1][0]
    return [
        -(hess[1][1] * grad[0] - hess[0][1] * grad[1]) / det,
        -(hess[0][0] * grad[1] - hess[1][0] * grad[0]) / det,
    ]


def _newton_step(hess, grad):
    """``-hess^-1 grad`` for the (m, m) curvature of a plane or a line, or None
    when it is singular.  In closed form for m <= 2: ``np.linalg.solve`` costs
    ten microseconds, a tenth of a whole iteration on small data."""
    m = len(grad)
    if m == 1:
        singular = hess[0, 0] == 0
    elif m == 2:
        singular = hess[0, 0] * hess[1, 1] - hess[0, 1] * hess[1, 0] == 0
    else:
        try:
            return -np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return None
    return None if singular else np.array(newton_in_plane(hess, grad))


# On a device a ray search reads once.  Before that read, the objective is
# evaluated at these multiples of the step, and the derivatives where the
# search will likely stop halving (the first of them that passes Armijo's
# test, decided on the device), with, without an L1 part, the two Newton
# refinements from there: eight passes over the (n, K) raw predictions (four
# with an L1 part) and none over X, where a read waits for the device's whole queue.  A trial the
# search asks for beyond them (a fourth halving, a step that passes only by
# the slope test of LineSearch.accept) costs a read of its own.
_SPECULATED_STEPS = (1.0, 0.5, 0.25)
# A Newton trial the host forms within this relative distance of the one the
# device formed is the same trial, up to rounding (float32 on a device without
# float64): the device's is taken, with its values.
_SAME_TRIAL = 1e-6


class _Prefetched:
    """What a ray search may ask for, evaluated on the device and read at once.

    ``trials`` maps a step ``s`` to the raw parts of ``f + g`` there: the loss
    at ``raw + s draw`` (``"loss"``), ``sum R draw`` and ``sum H draw^2``
    (``"slope"``, ``"curv"``) where its derivatives were evaluated, and
    ``sum |W + s dW|`` and the L1 norm's left slope over ``l1`` (``"norm"``,
    ``"toward"``); :meth:`at` completes them as the search's ``phi`` does
    (the L2 part from the Gram entries of ``dW`` and ``W``).
    """

    def __init__(self, search, values):
        self.l1, self.l2 = search.penalty.l1, search.objective.l2
        self.slope_W, self.slope_c = values.pop("slope_W"), values.pop("slope_c")
        model_W = values.pop("model_W", None)
        self.model_W = [] if model_W is None else [model_W]
        self.dd, self.wd, self.ww = values.pop("dd"), values.pop("wd"), values.pop("ww")
        self.gram = np.array([[self.dd, self.wd], [self.wd, self.ww]])
        norm0 = values.pop("norm", None)
        self.trials = {}
        for (part, (kind, where)), value in values.items():
            if part == "t":
                continue
            # A step of the halvings, or the device's Newton trial number ``where``.
            s = where if kind == "step" else values[("t", (kind, where))]
            self.trials.setdefault(s, {})[part] = value
        self.penalty_change = 0.0
        if norm0 is not None:
            self.penalty_change = self.l1 * self.trials[1.0]["norm"] - self.l1 * norm0

    @classmethod
    def read(cls, search, W, raw, F0, grad_W, grad_c, dW, dc, draw, metric_W, searching,
             extra, at_trial):  # fmt: skip
        """``(prefetched, F0, extra)``, the last two on the host, from one read."""
        obj, pen = search.objective, search.penalty
        xp, rows, sw, l2 = obj.xp, obj.rows, obj.sw, obj.l2
        dtype = accumulation_dtype(xp, obj.device)
        names, arrays = [], []

        def add(name, array):
            names.append(name)
            arrays.append(xp.astype(xp.reshape(array, ()), dtype))
            return arrays[-1]

        slope_W = add("slope_W", vdot(xp, grad_W, dW))
        slope_c = add("slope_c", vdot(xp, grad_c, dc))
        if pen and metric_W is not None:
            add("model_W", vdot(xp, dW * metric_W, dW))
        dd = add("dd", vdot(xp, dW, dW))
        wd = add("wd", vdot(xp, W, dW))
        ww = add("ww", vdot(xp, W, W))
        unread_F0 = not isinstance(F0, float)
        if unread_F0:
            F0 = add("F0", F0)
        else:
            F0 = float(F0)  # not a NumPy float, which some namespaces refuse
        if pen:
            norm0 = add("norm", pen.norm_array(W))
        extra = list(extra)
        steps = _SPECULATED_STEPS if searching else (1.0,)
        trial_values = []
        for s in steps:
            where = ("step", s)
            v = _loss.combine(raw, [draw], [s], xp)
            value = add(("loss", where), rows.loss_array(v, sw))
            value = value + _l2_along(l2, ww, wd, dd, s)[0]
            if pen:
                value = value + pen.l1 * add(("norm", where), pen.norm_array(W + s * dW))
            trial_values.append(value)
            if s == 1.0 and at_trial is not None:
                extra.extend(at_trial(v))
            del v
        if searching:
            # The derivatives where the search will likely stop halving: the
            # first step with Armijo's sufficient decrease (decided here on
            # its plain test), then the Newton refinements from there.
            decrease = slope_W + slope_c
            if pen:
                decrease = decrease + pen.l1 * (arrays[names.index(("norm", ("step", 1.0)))] - norm0)
            t = steps[-1]
            for s, value in zip(steps[-2::-1], trial_values[-2::-1]):
                # Where the values cannot decide, LineSearch.accept asks the
                # slope, which near the minimum passes.
                holds = (value <= F0 + _ARMIJO * s * decrease) | (
                    xp.abs(value - F0) <= search.rounding * abs(F0)
                )  # fmt: skip
                holds = xp.astype(holds, dtype)
                t = holds * s + (1 - holds) * t
            for i in range(-1, 0 if pen else _NEWTON_REFINEMENTS):
                if i >= 0:
                    _, l2_slope, l2_curv = _l2_along(l2, ww, wd, dd, t)
                    t = t - (slope + l2_slope) / (curv + l2_curv)
                where = ("newton", i)
                add(("t", where), t)
                v = raw + xp.astype(t, raw.dtype) * draw
                if i >= 0:
                    add(("loss", where), rows.loss_array(v, sw))
                R, H = rows.residual(v, curvature=True)
                slope = add(("slope", where), inner(xp, R, draw))
                curv = add(("curv", where), _loss.curvature(H, [draw], xp)[0])
                if pen:
                    toward = pen.toward_array(W + xp.astype(t, W.dtype) * dW, dW)
                    add(("toward", where), toward)
                del v, R, H
        values, extra = to_host_with(xp, arrays, extra)
        values = dict(zip(names, (float(v) for v in values)))
        if unread_F0:
            F0 = values.pop("F0")
        return cls(search, values), F0, extra

    def at(self, s, derivatives):
        """``(value, slope, curvature)`` of ``f + g`` at step ``s`` as the
        search's ``total`` gives them, or None where they were not evaluated."""
        trial = self.trials.get(s)
        if trial is None or "loss" not in trial or (derivatives and "slope" not in trial):
            return None
        l1 = self.l1
        l2_value, l2_slope, l2_curv = _l2_along(self.l2, self.ww, self.wd, self.dd, s)
        value = trial["loss"] + l2_value
        if l1:
            value += l1 * trial["norm"]
        if not derivatives:
            return value, None, None
        slope = trial["slope"] + l2_slope
        if l1:
            slope += l1 * trial["toward"]
        return value, slope, trial["curv"] + l2_curv

    def snap(self, s):
        """The step the device evaluated at ``s`` up to rounding, else ``s``."""
        nearest = min(self.trials, key=lambda known: abs(known - s))
        return nearest if abs(nearest - s) <= _SAME_TRIAL * abs(s) else s


def _l2_along(l2, ww, wd, dd, s):
    """The L2 part ``0.5 l2 |W + s dW|^2`` at step ``s`` along a ray, its slope
    and curvature, from the inner products ``W.W``, ``W.dW``, ``dW.dW``
    (floats, or 0-d arrays on a device: both sides of a read form the same
    Newton trials with it)."""
    return 0.5 * l2 * (ww + 2 * wd * s + dd * s * s), l2 * (dd * s + wd), l2 * dd
