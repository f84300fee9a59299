# SPDX-License-Identifier: BSD-3-Clause
"""The non-smooth part of the objective: ``l1 * ||W||_1`` (never the intercept)."""

import numpy as np

from ._backend import namespace, to_host


def soft_threshold(Z, threshold):
    """``sign(Z) * max(|Z| - threshold, 0)``: exact zeros below the threshold.

    In the namespace of ``Z`` (``threshold`` a scalar or an array of it).
    """
    xp = namespace(Z)
    if xp is np:
        return np.sign(Z) * np.maximum(np.abs(Z) - threshold, 0)
    return xp.sign(Z) * xp.clip(xp.abs(Z) - threshold, min=0)


class L1Penalty:
    r"""``g(W) = l1 * sum |W_kj|`` with its proximal operator.

    ``prox(Z, step)`` solves :math:`\min_W g(W) + \frac{1}{2}\|W - Z\|^2_{D/step}`
    for a diagonal metric ``D`` given per coefficient through ``step`` (an array
    broadcastable to ``W``): coordinate-wise soft-thresholding at
    ``l1 * step``.  Arrays stay in their namespace and on their device; only
    :meth:`value` reads one scalar back.
    """

    def __init__(self, l1):
        self.l1 = float(l1)

    def __bool__(self):
        return self.l1 > 0

    def value(self, W):
        if not self.l1:
            return 0.0
        if isinstance(W, np.ndarray):  # no namespace lookup: every trial asks
            return self.l1 * float(np.abs(W).sum())
        return self.l1 * float(to_host(namespace(W), [self.norm_array(W)])[0])

    def norm_array(self, W):
        """``sum |W_kj|``, not read: a 0-d array of W's namespace (``value`` is
        ``l1`` times it)."""
        xp = namespace(W)
        return xp.sum(xp.abs(W))

    def left_slope(self, W, dW):
        """``lim_{t -> 0-} (g(W + t dW) - g(W)) / t``: the slope of ``g`` at ``W``
        along ``dW`` from behind, ``-l1 |dW_kj|`` where ``W_kj = 0``.

        The objective ``f + g`` is convex along a ray, so its value at a trial
        exceeds the start's by at most the trial's step times this slope plus
        the smooth part's (the line search's test where values are within
        rounding).
        """
        if not self.l1:
            return 0.0
        return self.l1 * float(to_host(namespace(W), [self.toward_array(W, dW)])[0])

    def toward_array(self, W, dW):
        """``left_slope / l1``, not read: a 0-d array of W's namespace."""
        xp = namespace(W)
        return xp.sum(xp.where(W > 0, dW, xp.where(W < 0, -dW, -xp.abs(dW))))

    def prox(self, Z, step):
        if not self.l1:
            return Z
        return soft_threshold(Z, self.l1 * step)

    def gradient_mapping(self, W, grad_W):
        """``W - prox(W - grad_W, 1)``: the gradient when ``l1 == 0``.

        It is zero exactly at the minimizers of ``f + g`` (``grad_W`` the
        gradient of the smooth part) and does not depend on any solver's step
        or metric, so it gives every solver the same stopping rule.
        """
        if not self.l1:
            return grad_W
        return W - soft_threshold(W - grad_W, self.l1)
