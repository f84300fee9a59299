# SPDX-License-Identifier: BSD-3-Clause
"""The non-smooth part of the objective: ``l1 * ||W||_1`` (never the intercept)."""

import numpy as np


def soft_threshold(Z, threshold):
    """``sign(Z) * max(|Z| - threshold, 0)``: exact zeros below the threshold."""
    return np.sign(Z) * np.maximum(np.abs(Z) - threshold, 0)


class L1Penalty:
    r"""``g(W) = l1 * sum |W_kj|`` with its proximal operator.

    ``prox(Z, step)`` solves :math:`\min_W g(W) + \frac{1}{2}\|W - Z\|^2_{D/step}`
    for a diagonal metric ``D`` given per coefficient through ``step`` (an array
    broadcastable to ``W``): coordinate-wise soft-thresholding at
    ``l1 * step``.
    """

    def __init__(self, l1):
        self.l1 = float(l1)

    def __bool__(self):
        return self.l1 > 0

    def value(self, W):
        if not self.l1:
            return 0.0
        return self.l1 * float(np.abs(W).sum())

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
