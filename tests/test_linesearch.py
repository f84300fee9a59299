# SPDX-License-Identifier: BSD-3-Clause
"""The line searches: the acceptance test where values are within rounding, and
searches along a ray and in a plane against a brute-force minimum."""

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from skperceptron._linesearch import LineSearch
from skperceptron._objective import BCEObjective
from skperceptron._penalty import L1Penalty


def problem(n=200, p=5, K=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    Y = (rng.random((n, K)) < 0.5).astype(float)
    sw = np.full(n, 1 / n)
    return BCEObjective(X, Y, sw, l2=1e-2, fit_intercept=True), rng


def search(penalty=0.0):
    objective, rng = problem()
    return LineSearch(objective, L1Penalty(penalty)), objective, rng


def test_values_decide_beyond_rounding():
    ls, _, _ = search()
    F0 = 0.5
    assert ls.accept(F0 - 1e-3, F0, predicted=-1.0)  # Armijo holds
    assert not ls.accept(F0 + 1e-3, F0, predicted=-1.0, slope=-1.0)  # a real increase
    assert not ls.accept(np.nan, F0, predicted=-1.0, slope=-1.0)


@pytest.mark.parametrize("rounding", [-1, 1])
def test_within_rounding_the_slope_decides_whichever_way_rounding_falls(rounding):
    """Hager and Zhang's approximate Armijo test: for a quadratic psi with
    psi'(0) = -1e-20 along the ray (a decrease far below J's rounding),
    psi(1) - psi(0) = (psi'(0) + psi'(1)) / 2; a trial at the minimum
    (psi'(1) = 0) or short of it passes wherever a rounding error puts the
    computed value; one that overshoots to psi(1) = psi(0) (psi'(1) = 1e-20)
    fails when its computed value is a rounding error above (one below is a
    computed decrease, which Armijo's test on the values accepts)."""
    ls, _, _ = search()
    F0 = 0.5
    value = F0 + rounding * np.spacing(F0)
    assert ls.accept(value, F0, predicted=-1e-20, slope=0.0)
    assert ls.accept(value, F0, predicted=-1e-20, slope=-0.5e-20)
    assert ls.accept(value, F0, predicted=-1e-20, slope=0.7e-20)
    assert ls.accept(value, F0, predicted=-1e-20, slope=1e-20) == (rounding < 0)
    # The slope is asked for only when the values cannot decide.
    calls = []
    assert ls.accept(F0 - 1e-3, F0, predicted=-1.0, slope=lambda: calls.append(1) or 0.0)
    assert calls == []


def ray(objective, rng, penalty=0.0):
    W = rng.standard_normal((1, 5)) * 0.1
    c = np.zeros(1)
    raw = objective.matvec(W, c)
    grad_W, grad_c, _ = objective.gradient(W, raw)
    dW, dc = -2.0 * grad_W, -2.0 * grad_c  # a step that overshoots the minimum
    F0 = objective.value(W, raw) + L1Penalty(penalty).value(W)
    return W, c, raw, F0, grad_W, grad_c, dW, dc, objective.matvec(dW, dc)


def test_ray_search_reaches_the_minimum_along_the_ray_without_l1():
    ls, objective, rng = search()
    W, c, raw, F0, grad_W, grad_c, dW, dc, draw = ray(objective, rng)
    s, value, grow, predicted = ls.ray(W, raw, F0, grad_W, grad_c, dW, dc, draw, None)

    def along(t):
        return objective.value(W + t * dW, objective.matvec(W + t * dW, c + t * dc))

    best = minimize_scalar(along, bounds=(0, 4), method="bounded", options={"xatol": 1e-10})
    assert s == pytest.approx(best.x, rel=1e-3)  # Newton refined it
    assert value == pytest.approx(along(s), rel=1e-12) and value < F0
    assert grow == s and predicted > 0


def test_ray_search_with_l1_decreases_the_composite_objective():
    ls, objective, rng = search(penalty=0.05)
    W, c, raw, F0, grad_W, grad_c, dW, dc, draw = ray(objective, rng, penalty=0.05)
    s, value, grow, predicted = ls.ray(W, raw, F0, grad_W, grad_c, dW, dc, draw, np.ones((1, 5)))
    exact = objective.value(W + s * dW, objective.matvec(W + s * dW, c + s * dc))
    assert 0 < s <= 1 and value == pytest.approx(exact + 0.05 * np.abs(W + s * dW).sum())
    assert value < F0 and 0 < grow <= 2


def test_plane_search_finds_the_minimum_of_a_quadratic_plane():
    """On a quadratic phi of the plane, one Newton step from 0 is the minimum."""
    H = np.array([[2.0, 0.5], [0.5, 1.0]])
    g0 = np.array([-1.0, 0.3])

    def phi(a, derivatives=True):
        value = 1.0 + g0 @ a + 0.5 * a @ H @ a
        return (value, g0 + H @ a, H) if derivatives else (value, None, None)

    phi.slope = lambda a: g0 + H @ a
    ls, _, _ = search()
    a, value = ls.plane(phi, 1.0, g0, H)
    assert np.allclose(a, np.linalg.solve(H, -g0))
    assert value == pytest.approx(1.0 - 0.5 * g0 @ np.linalg.solve(H, g0))
