# SPDX-License-Identifier: BSD-3-Clause
"""How a fit ended: the solver's result, the progress rule that stops a fit
making none, and the diagnosis a ConvergenceWarning gives."""

import math
from dataclasses import dataclass, field

import numpy as np

from ._backend import (
    eps,
    max_abs_array,
    namespace,
    norm,
    outer,
    to_host,
    to_host_arrays,
    vdot,
)
from ._preconditioner import quadratic

# A change of J counts as measured beyond _RESOLVED float epsilons of J; the fit
# stops after _MAX_STALLED iterations in a row that neither measure a decrease
# of J nor set a new low of the gradient test (see Progress).
_RESOLVED = 4
_MAX_STALLED = 10
# A value within _ROUNDING float epsilons above the last one recorded is
# rounding (see Stopping.record).
_ROUNDING = 64
# The gap test that stopping adds to max |gradient mapping| <= tol (see
# Stopping.small_gap): the estimated remaining decrease must be at most
# _GAP_FRACTION * tol * |J|, estimated over the last k // _GAP_WINDOW
# iterations; before two iterations, the model's decrease at most
# _FIRST_FRACTION tol |J|.
_GAP_FRACTION = 0.5
# Without a preconditioner (the only case where the scales of the features
# matter), column variances differing by more than _SCALES_DIFFER are named as
# the cause of a fit that did not converge, and by more than _SCALES_MATTER
# standardizing is suggested beside more iterations.
_SCALES_DIFFER = 1e4
_SCALES_MATTER = 10.0
_GAP_WINDOW = 3
_FIRST_FRACTION = 0.01
# With a Hessian metric the remaining decrease is estimated by the Newton
# decrement 0.5 g' M^-1 g, which must be at most _DECREMENT_FRACTION tol |J|
# (the metric is within a factor 2 of the curvature, see _solvers._STALE_STEP).
_DECREMENT_FRACTION = 0.1


@dataclass
class SolverResult:
    """What a solver hands back: the iterate and how it got there."""

    W: np.ndarray
    c: np.ndarray
    raw: np.ndarray
    n_iter: int
    converged: bool
    stop_reason: str  # converged | max_iter | flat | stalled | line_search | diverged | stopped
    step: float
    criterion: float
    loss_curve: list = field(default_factory=list)
    coef_norm_curve: list = field(default_factory=list)
    newton: bool = False  # steps in a sampled Hessian (with or without L1)
    value: float = None  # J at W, as the solver computed it


class Progress:
    """What the iterations so far have resolved, in the dtype of ``J``.

    After each iteration, :meth:`update` compares the computed change of ``J``
    and the decrease the step's model predicted with ``J``'s rounding,
    ``_RESOLVED * eps * |J|``:

    - ``at_resolution``: the computed change *and* the predicted decrease of the
      last iteration were both within rounding.  No decrease this dtype can
      show is left along the step, so the gap test holds (the gradient test
      still has to);
    - ``stalled``: iterations in a row that neither measured a decrease of
      ``J`` nor set a new low of the gradient test.  The gradient is computed
      far more accurately than ``J`` near a minimum, so a well-posed fit keeps
      setting new lows (linear convergence) while ``J`` is flat; after
      ``_MAX_STALLED`` such iterations the fit stops.

    Neither depends on which way a rounding error of ``J`` falls, so the verdict
    does not change with the BLAS kernel.
    """

    def __init__(self, xp, dtype):
        self.resolution = _RESOLVED * eps(xp, dtype)
        self.best = math.inf
        self.stalled = 0
        self.at_resolution = False

    def update(self, F, value, predicted, crit):
        """An iteration from ``J = F`` to ``value``; its model predicted a
        decrease ``predicted``; ``crit`` is the gradient test at its start."""
        resolution = self.resolution * abs(F)
        measured = F - value > resolution
        self.at_resolution = not measured and predicted <= resolution
        new_low = crit < self.best
        self.best = min(self.best, crit)
        self.stalled = 0 if measured or new_low else self.stalled + 1

    def reason(self):
        """The stop reason once stalled: ``flat`` when the last step's predicted
        decrease was within rounding, ``stalled`` otherwise."""
        return "flat" if self.at_resolution else "stalled"


class Stopping:
    """The stopping rule of every solver, and the record it keeps.

    The fit has converged when ``max |gradient mapping| <= tol`` (unit step,
    Euclidean metric, original coordinates, intercepts included: the same
    test whatever the solver, step or metric) and :meth:`small_gap` holds.
    ``record`` keeps the loss curve and the coefficients' norms;
    ``end_iteration`` records an iteration, calls the monitor and applies the
    progress rule (:class:`Progress`).
    """

    def __init__(self, objective, penalty, *, tol, line_search, monitor, verbose):
        self.objective = objective
        self.penalty = penalty
        self.tol = tol
        self.line_search = line_search
        self.monitor = monitor
        self.verbose = verbose
        self.progress = Progress(objective.xp, objective.dtype)
        self.loss_curve, self.norm_curve = [], []

    def criterion(self, W, grad_W, grad_c, pending=()):
        """``max |gradient mapping|`` in the original coordinates, a float; with
        ``pending`` (arrays of the objective's namespace), ``(criterion,
        [those arrays on the host])`` from the same read of the device."""
        crit = self.criterion_array(W, grad_W, grad_c)
        if not pending:
            return self.criterion_of(crit)
        crit, *read = to_host_arrays(self.objective.xp, [crit, *pending])
        return float(crit), read

    def criterion_array(self, W, grad_W, grad_c):
        """:meth:`criterion`, not read: a 0-d array of the objective's
        namespace (a float on NumPy), for the solver to read with other values."""
        obj = self.objective
        xp = obj.xp
        if obj.mean is not None:
            # Back to the original coordinates: d/dW = d/dW_centred + grad_c mean^T.
            grad_W = grad_W + outer(xp, grad_c, obj.mean)
        mapping = self.penalty.gradient_mapping(W, grad_W)
        arrays = (mapping, grad_c) if obj.fit_intercept else (mapping,)
        return max_abs_array(xp, *arrays)

    def criterion_of(self, crit_array):
        """The float of a :meth:`criterion_array` (one read on a device)."""
        if isinstance(crit_array, float):
            return crit_array
        (crit,) = to_host_arrays(self.objective.xp, [crit_array])
        return float(crit)

    def converged(self, n_iter, F, step, crit, F0, W, grad_W, grad_c, metric):
        """``crit <= tol`` and :meth:`small_gap`; with ``verbose``, the progress
        line of the iteration first."""
        if self.verbose >= 2 or (self.verbose and (n_iter % 10 == 0 or crit <= self.tol)):
            print(
                f"iter {n_iter:5d}  objective {F:.10g}  max|grad map| {crit:.3e}  step {step:.3e}",
                flush=True,
            )
        return crit <= self.tol and self.small_gap(F0, W, grad_W, grad_c, metric)

    def model_decrease(self, W, grad_W, grad_c, metric):
        """The decrease of the quadratic model of ``J`` in the metric by one unit
        proximal step: ``0.5 g' M^-1 g`` without an L1 part; with one, it is
        ``-(g' d + 0.5 d' M d + g(W + d) - g(W))``, ``d`` the proximal step
        (diagonal metric), which is 0 at an optimum where the plain gradient
        is not."""
        xp = self.objective.xp
        if hasattr(metric, "model_decrease"):
            # The proximal Newton model, minimized (and kept for the step).
            return metric.model_decrease(W, grad_W, grad_c)
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

    def small_gap(self, F0, W, grad_W, grad_c, metric):
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
          of the decrease still available (:meth:`model_decrease`,
          ``0.5 g' M^-1 g`` without an L1 part; 0.3 to 6 x |J| from a cold
          start) is at most ``0.01 tol |J|``;
        - with a proximal Newton metric: the decrease its model predicts for
          the next step, at most ``_DECREMENT_FRACTION tol |J|`` (or within
          rounding of ``J``);
        - with a Hessian metric: the Newton decrement ``0.5 g' M^-1 g`` at
          most ``_DECREMENT_FRACTION tol |J|``;
        - otherwise Aitken's extrapolation of the objective values: with
          ``m = max(1, k // 3)`` and ``d1, d2`` the decreases over the two last
          windows of ``m`` iterations, the rate ``r = d2 / d1`` (``d1 > d2``)
          predicts the remaining decrease ``d2 r / (1 - r)``, which must be at
          most ``0.5 tol |J|``.
        """
        if self.progress.at_resolution:
            return True
        history = [F0, *self.loss_curve]
        k = len(history) - 1
        F = history[-1]
        scale = self.tol * abs(F)
        if hasattr(metric, "model_decrease"):
            # A proximal Newton model estimates the remaining decrease itself
            # (to second order), better than an extrapolation of the values,
            # and asks what the Hessian metric's decrement does.  Its steps
            # converge quadratically only where the row sample holds the
            # curvature: on the 5-class 20,000 x 100 set (a unit's curvature
            # on its rare class's rows, 2,048 of 16,000 sampled) each step
            # took 0.65 of the gradient mapping, and asking for tol**2 |J| (as
            # before) took an L1 path's warm-started fits 7 to 9 iterations
            # instead of 3 to 4 (CV paths 8.1 -> 4.7 s).  The model's decrease
            # at rate r is (1 - r) of the gap: the gap stays under the
            # diagonal metric's 0.5 tol |J|.  A tol below sqrt(eps) would ask
            # for less than rounding can show: J's own resolution is the floor.
            floor = max(_DECREMENT_FRACTION * scale, self.progress.resolution * abs(F))
            return self.model_decrease(W, grad_W, grad_c, metric) <= floor
        if getattr(metric, "second_order", False):
            # Aitken's windows mix the fast early phase with a slow tail:
            # digits at alpha=1e-4 stopped 2e-4 above J* on them, while
            # breast cancer at 1e-5 went 4 iterations past 2e-5.
            return self.model_decrease(W, grad_W, grad_c, metric) <= _DECREMENT_FRACTION * scale
        m = max(1, k // _GAP_WINDOW)
        if k < 2 * m:
            return self.model_decrease(W, grad_W, grad_c, metric) <= _FIRST_FRACTION * scale
        d1 = history[k - 2 * m] - history[k - m]
        d2 = history[k - m] - F
        if d2 <= self.progress.resolution * abs(F):
            # The last window's decrease is within rounding of J: its ratio
            # to the one before measures noise, not a rate.
            return True
        if d1 <= d2:
            return False
        rate = d2 / d1
        return d2 * rate / (1 - rate) <= _GAP_FRACTION * scale

    def no_step(self, F, predicted):
        """The stop reason when the line search finds no step: ``flat`` when
        the first-order decrease of the whole step was within rounding of
        ``J`` (``_RESOLVED`` epsilons), ``line_search`` otherwise."""
        resolution = _RESOLVED * eps(self.objective.xp, self.objective.dtype) * abs(F)
        return "flat" if predicted <= resolution else "line_search"

    def record(self, F):
        """Append the objective after an iteration to the loss curve.

        With the line search every accepted step decreases J (Armijo, or the
        slope test where the values are equal up to rounding), so a computed
        value above the last one recorded is rounding of the dtype: the last
        value is recorded again, and the curve never increases, in float32 as
        in float64.
        """
        curve = self.loss_curve
        if self.line_search and curve and F > curve[-1]:
            rounding = _ROUNDING * eps(self.objective.xp, self.objective.dtype) * abs(curve[-1])
            if F - curve[-1] <= rounding:
                F = curve[-1]
        curve.append(F)

    def end_iteration(self, n_iter, W, c, raw, F, progress=True):
        """Record an iteration and call the monitor: the stop reason, or None.
        ``progress=False`` for an iteration the progress rule does not judge
        (a restart of the momentum, a fit without line search)."""
        self.record(F)
        self.norm_curve.append(norm(self.objective.xp, W))
        if self.monitor is not None and self.monitor(n_iter, W, c, raw, F):
            return "stopped"
        if progress and self.progress.stalled >= _MAX_STALLED:
            return self.progress.reason()
        return None

    def result(self, W, c, raw, n_iter, reason, step, crit, value=None):
        if reason == "flat" and crit <= self.tol:
            # The gradient test held where no step can lower J by more than
            # rounding: nothing is left that the gap test could ask for.
            reason = "converged"
        return SolverResult(
            W=W,
            c=c,
            raw=raw,
            n_iter=n_iter,
            converged=reason == "converged",
            stop_reason=reason,
            step=step,
            criterion=crit,
            loss_curve=self.loss_curve,
            coef_norm_curve=[float(v) for v in to_host(self.objective.xp, self.norm_curve)],
            value=value,
        )


# The estimator's parameters that diagnose reads.
DIAGNOSED = ("tol", "max_iter", "alpha", "l1_ratio", "line_search")


def diagnose(result, dtype, scale_ratio, Y, sw, *, tol, max_iter, alpha, l1_ratio, line_search):
    """The ConvergenceWarning's message for a fit that stopped unconverged: the
    numbers, then the one cause that applies, in the order checked here."""
    name = "gradient mapping" if alpha * l1_ratio > 0 else "gradient"
    if result.criterion <= tol:
        # The gradient test held; the objective was still falling too fast
        # for the gap test (see the tol parameter).
        criterion = (
            f"final max |{name}| {result.criterion:.3e} <= tol={tol:g} but the "
            "objective still decreasing by more than tol (relative)"
        )
    else:
        criterion = f"final max |{name}| {result.criterion:.3e} > tol={tol:g}"
    head = (
        f"BCEPerceptronClassifier did not converge: {max(result.n_iter, 1)} iterations, "
        f"{criterion}, step {result.step:.3e}."
    )
    curve = result.loss_curve
    rising = not line_search and len(curve) > 1 and curve[-1] > curve[0]
    if result.stop_reason == "diverged" or rising:
        cause = (
            " The iterates diverge with this fixed learning_rate (the objective "
            "rises, or overflowed and the fit stopped at the last finite iterate): use "
            "a smaller learning_rate, learning_rate='auto' or line_search=True."
        )
    elif alpha == 0 and _looks_separable(result, Y, sw):
        cause = (
            " The training data appear linearly separable; the unregularized "
            "optimum is at infinity (||coef_|| keeps growing while the loss goes "
            "to 0); set alpha > 0."
        )
    elif result.stop_reason == "flat":
        cause = (
            f" The objective is flat to {dtype} precision here: for {_MAX_STALLED} "
            "iterations neither J nor the gradient test improved, and the last step's "
            f"predicted decrease was within rounding of J; tol={tol:g} is below what "
            "this dtype can resolve on this problem."
        )
    elif result.stop_reason == "stalled":
        advice = "a larger tol" if result.newton else "preconditioner='hessian' or a larger tol"
        metric = "sampled Hessian" if result.newton else "preconditioner"
        cause = (
            f" For {_MAX_STALLED} iterations neither J nor the gradient test improved, "
            "although each step's model predicted a decrease beyond rounding: the "
            f"{metric} misjudges the curvature here; try {advice}."
        )
    elif result.stop_reason == "line_search":
        cause = (
            " The line search found no step that decreases the objective along "
            "the preconditioned gradient (60 halvings)."
        )
    elif scale_ratio is not None and scale_ratio > _SCALES_DIFFER:
        cause = (
            f" The features have very different scales (ratio {scale_ratio:.1e} "
            "between the largest and smallest column variance): standardize them "
            "(StandardScaler) or use the default preconditioner='auto'."
        )
    elif scale_ratio is not None and scale_ratio > _SCALES_MATTER:
        # Only without a preconditioner do the scales of the features slow a
        # fit; on standardized features (ratio 1) the advice would be false.
        cause = (
            f" Increase max_iter (now {max_iter}) or tol, or standardize the "
            f"features (their variances differ by a factor {scale_ratio:.1e})."
        )
    else:
        cause = f" Increase max_iter (now {max_iter}) or tol."
    return head + cause


def _looks_separable(result, Y, sw):
    """Every weighted sample on its side with a margin, and ||W|| still growing."""
    xp = namespace(Y)
    margins = (2 * Y - 1) * result.raw
    separated = bool(xp.all((margins > 0) | (sw[:, None] <= 0)))
    norms = result.coef_norm_curve
    growing = len(norms) >= 4 and norms[-1] > 1.01 * norms[len(norms) // 2]
    return separated and growing
