# SPDX-License-Identifier: BSD-3-Clause
"""Line searches on cached raw predictions: along a ray, and in a plane.

Every trial is evaluated from the raw predictions of the start and of the
directions (``raw + s X d``): no product with X.  A trial is accepted by
Armijo's test on the values, or, where the values are equal up to rounding, by
the slope at the trial (see :meth:`LineSearch.accept`).
"""

import math

import numpy as np

from ._backend import eps, to_host, vdot

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

    def ray(self, W, raw, F0, grad_W, grad_c, dW, dc, draw, metric_W, search=True):
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
        """
        phi = along(self.objective, W, raw, dW, draw)
        pen = self.penalty
        xp = self.objective.xp
        products = [vdot(xp, grad_W, dW), vdot(xp, grad_c, dc)]
        if pen and metric_W is not None:
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

        if not search:
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
            if self.trace(s, value, self.accept(value, F0, s * decrease, slope_s)):
                break
            s *= 0.5
        else:
            return 0.0, F0, 1.0, -decrease
        if pen:
            grow = s
            if n_halvings == 0 and metric_W is not None:
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


def along(objective, W, raw, dW, draw):
    """The objective's :meth:`~BCEObjective.subspace` along one direction:
    ``phi(s, derivatives=True) -> (value, slope, curvature)``."""
    phi2 = objective.subspace(W, raw, [dW], [draw])

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
