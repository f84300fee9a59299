# SPDX-License-Identifier: BSD-3-Clause
"""Timing, memory and scoring of one fit; the two-product floor; the time to
reach a gap and the cost of one iteration.

Timed fits run with the garbage collector collected beforehand and disabled
during the fit (as ``timeit`` does), and every warning recorded, not shown.
"""

import gc
import math
import statistics
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss

from _methods import ALPHA, METHODS, coefficients, fit, n_iter, predict_proba
from _reference import objective
from _report import GAP_TARGETS, gap_key

# The tol of the peers' time-to-gap probes: tight, so that max_iter is what stops them.
PEER_TTG_TOL = 1e-12


def fit_once(make, dataset, collect=True):
    """One timed fit: ``(estimator, seconds, warnings)``."""
    estimator = make()
    if collect:
        gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.disable()
        try:
            start = time.perf_counter()
            fit(estimator, dataset)
            elapsed = time.perf_counter() - start
        finally:
            gc.enable()
    return estimator, elapsed, list(caught)


def timed_fits(make, dataset, repeats, long_s, min_seconds=0.0, max_repeats=50, warmup=0):
    """``repeats`` fits, fewer once they have taken ``long_s`` seconds, more
    (up to ``max_repeats``) until they have taken ``min_seconds``; before
    them, ``warmup`` fits untimed.

    Returns the last estimator, the list of times and its warnings.
    """
    if warmup:
        # Collected before the warm-up, not between it and the timed fits: a
        # full collection walks every object, and the fit after it ran up to
        # twice as long as the next ones.
        gc.collect()
    for _ in range(warmup):
        fit_once(make, dataset, collect=False)
    times = []
    while True:
        # A full collection costs tens of milliseconds: once per series, and
        # again only after a fit long enough to have left garbage behind.
        collect = (not times and not warmup) or (times and times[-1] > 0.1)
        estimator, elapsed, caught = fit_once(make, dataset, collect)
        times.append(elapsed)
        total = sum(times)
        if len(times) >= max_repeats or total >= long_s:
            break
        if len(times) >= repeats and total >= min_seconds:
            break
    return estimator, times, caught


def summarize_warnings(caught):
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    others = sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in caught} - {
        f"{w.category.__name__}: {str(w.message)[:160]}" for w in convergence
    })
    return len(convergence), others


def peak_extra_memory(make, dataset):
    """Peak bytes allocated (NumPy and Python, via tracemalloc) during one fit."""
    estimator = make()
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            fit(estimator, dataset)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    return peak - base


def gap_of(estimator, dataset, J_star):
    """``(J, (J - J*) / J*)`` of a fitted estimator, on our J in float64."""
    W, b = coefficients(estimator, dataset)
    J = objective(dataset.X_eval, dataset.Y_train, W, b, ALPHA)
    return J, (J - J_star) / J_star


def score(estimator, dataset, J_star):
    """Objective, gap, iterations and held-out accuracy and log-loss."""
    J, gap = gap_of(estimator, dataset, J_star)
    proba = predict_proba(estimator, dataset, dataset.X_test)
    predicted = dataset.classes[np.argmax(proba, axis=1)]
    return {
        "J": J,
        "gap": gap,
        "n_iter": n_iter(estimator),
        "accuracy": float(np.mean(predicted == dataset.y_test)),
        "log_loss": float(log_loss(dataset.y_test, proba, labels=dataset.classes)),
    }


def two_products(X, n_outputs, min_repeats=7, min_seconds=0.5, max_repeats=500):
    """Median time of one ``X @ v`` plus one ``X.T @ u`` (NumPy / SciPy).

    ``v`` has shape (p,) for one output unit and (p, K) otherwise, in X's
    dtype, like the model's products.
    """
    rng = np.random.default_rng(0)
    n, p = X.shape
    tail = () if n_outputs == 1 else (n_outputs,)
    v = rng.standard_normal((p, *tail)).astype(X.dtype)
    u = rng.standard_normal((n, *tail)).astype(X.dtype)
    times = []
    while len(times) < max_repeats and (len(times) < min_repeats or sum(times) < min_seconds):
        start = time.perf_counter()
        X @ v
        X.T @ u
        times.append(time.perf_counter() - start)
    return statistics.median(times), len(times)


# -- time to gap -----------------------------------------------------------------
def _timed_at(make, dataset, J_star, mode):
    estimator, times, _ = timed_fits(make, dataset, mode.repeats, mode.long_seconds)
    _, gap = gap_of(estimator, dataset, J_star)
    return estimator, times, gap


def ours_time_to_gap(dataset, J_star, mode, seconds_per_iter):
    make = METHODS["ours"].make
    # One untimed tol=0 fit whose loss_curve_ says where each gap is crossed;
    # its length is bounded by a time budget.
    max_iter = int(min(mode.trajectory_max_iter, max(50, mode.trajectory_seconds / seconds_per_iter)))
    trajectory, trajectory_times, _ = timed_fits(
        lambda: make(dataset, tol=0.0, max_iter=max_iter), dataset, 1, 0.0
    )
    curve = (np.asarray(trajectory.loss_curve_, dtype=np.float64) - J_star) / J_star
    _, trajectory_gap = gap_of(trajectory, dataset, J_star)
    out = {"trajectory_max_iter": max_iter, "trajectory_iterations": int(trajectory.n_iter_)}
    for target in GAP_TARGETS:
        key = gap_key(target)
        hits = np.flatnonzero(curve <= target)
        entry = None
        k = int(hits[0]) + 1 if hits.size else None
        while k is not None and k <= len(curve):
            estimator, times, gap = _timed_at(
                lambda: make(dataset, tol=0.0, max_iter=k), dataset, J_star, mode
            )
            if gap <= target:
                entry = {"reached": True, "max_iter": k, "n_iter": int(estimator.n_iter_),
                         "seconds": statistics.median(times), "times": times, "gap": gap}
                break
            # loss_curve_ is computed in X's dtype: confirm on float64 J.
            k += max(1, k // 10)
        if entry is None:
            entry = {"reached": False, "max_iter": max_iter, "n_iter": int(trajectory.n_iter_),
                     "best_gap": trajectory_gap,
                     "seconds": trajectory_times[0], "times": trajectory_times}
        out[key] = entry
    return out


def peer_time_to_gap(method, dataset, J_star, mode):
    cap = mode.probe_max_iter[method.name]
    probes = {}

    def probe(k):
        if k not in probes:
            estimator, times, _ = timed_fits(
                lambda: method.make(dataset, tol=PEER_TTG_TOL, max_iter=k), dataset, 1, 0.0
            )
            probes[k] = (gap_of(estimator, dataset, J_star)[1], times[0], n_iter(estimator))
        return probes[k][0]

    def smallest_reaching(target):
        failing, k = 0, 1
        while probe(k) > target:
            failing = k
            if k >= cap or probes[k][1] >= mode.probe_seconds:
                return None
            k = min(2 * k, cap)
        while k - failing > 1:
            middle = (k + failing) // 2
            if probe(middle) <= target:
                k = middle
            else:
                failing = middle
        return k

    out = {}
    for target in GAP_TARGETS:
        key = gap_key(target)
        k = smallest_reaching(target)
        if k is None:
            best_k = min(probes, key=lambda j: probes[j][0])
            out[key] = {"reached": False, "max_iter": best_k, "n_iter": probes[best_k][2],
                        "best_gap": probes[best_k][0], "seconds": probes[best_k][1],
                        "times": [probes[best_k][1]]}
            continue
        estimator, times, gap = _timed_at(
            lambda: method.make(dataset, tol=PEER_TTG_TOL, max_iter=k), dataset, J_star, mode
        )
        out[key] = {"reached": gap <= target, "max_iter": k, "n_iter": n_iter(estimator),
                    "seconds": statistics.median(times), "times": times, "gap": gap,
                    "best_gap": gap}
    out["probes"] = {str(k): {"gap": g, "seconds": s, "n_iter": n} for k, (g, s, n) in sorted(probes.items())}
    return out


# -- per iteration -----------------------------------------------------------------
def per_iteration(dataset, mode, method="ours-nesterov-diagonal"):
    """The cost of one iteration in a long fit: by default with the diagonal
    metric, whose fits run long; the default ("auto": the Hessian metric on
    the dense sets) reaches float64 precision within a dozen iterations, and
    its later iterations only evaluate rounding."""
    make = METHODS[method].make
    seconds, iterations = [], []
    for k in mode.per_iteration:
        # A difference of two times: repeated until each side is well above
        # the timer's and the machine's noise.
        estimator, times, _ = timed_fits(
            lambda: make(dataset, tol=0.0, max_iter=k), dataset, max(mode.repeats, 3), math.inf,
            min_seconds=mode.per_iteration_seconds,
        )
        seconds.append(statistics.median(times))
        iterations.append(int(estimator.n_iter_))
    out = {"seconds": seconds, "n_iter": iterations, "average_seconds": seconds[1] / iterations[1]}
    if iterations[1] > iterations[0]:
        out["marginal_seconds"] = (seconds[1] - seconds[0]) / (iterations[1] - iterations[0])
    else:  # converged to float64 before the first count: no setup-free difference
        out["marginal_seconds"] = out["average_seconds"]
    return out
