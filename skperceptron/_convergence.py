# SPDX-License-Identifier: BSD-3-Clause
"""How a fit ended: the solver's result, the progress rule that stops a fit
making none, and the diagnosis a ConvergenceWarning gives."""

import math
from dataclasses import dataclass, field

import numpy as np

from ._backend import eps, namespace

# A change of J counts as measured beyond _RESOLVED float epsilons of J; the fit
# stops after _MAX_STALLED iterations in a row that neither measure a decrease
# of J nor set a new low of the gradient test (see Progress).
_RESOLVED = 4
_MAX_STALLED = 10


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


def diagnose(result, *, tol, max_iter, alpha, l1_ratio, line_search, dtype, scale_ratio, Y, sw):
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
        cause = (
            f" For {_MAX_STALLED} iterations neither J nor the gradient test improved, "
            "although each step's model predicted a decrease beyond rounding: the "
            "preconditioner misjudges the curvature here; try "
            "preconditioner='hessian' (without an L1 part) or a larger tol."
        )
    elif result.stop_reason == "line_search":
        cause = (
            " The line search found no step that decreases the objective along "
            "the preconditioned gradient (60 halvings)."
        )
    elif scale_ratio is not None and scale_ratio > 1e4:
        cause = (
            f" The features have very different scales (ratio {scale_ratio:.1e} "
            "between the largest and smallest column variance): standardize them "
            "(StandardScaler) or use the default preconditioner='auto'."
        )
    else:
        cause = (
            f" Increase max_iter (now {max_iter}) or tol, or standardize "
            "the features."
        )
    return head + cause


def _looks_separable(result, Y, sw):
    """Every weighted sample on its side with a margin, and ||W|| still growing."""
    xp = namespace(Y)
    margins = (2 * Y - 1) * result.raw
    separated = bool(xp.all((margins > 0) | (sw[:, None] <= 0)))
    norms = result.coef_norm_curve
    growing = len(norms) >= 4 and norms[-1] > 1.01 * norms[len(norms) // 2]
    return separated and growing
