# SPDX-License-Identifier: BSD-3-Clause
"""Timing, memory and scoring of one fit; the two-product floor.

Timed fits run with the garbage collector collected beforehand and disabled
during the fit (as ``timeit`` does), and every warning recorded, not shown.
"""

import gc
import statistics
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss

from _methods import ALPHA, coefficients, fit, n_iter, predict_proba
from _reference import objective


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


def timed_fits(make, dataset, repeats, long_s, min_seconds=0.0, max_repeats=50):
    """``repeats`` fits, fewer once they have taken ``long_s`` seconds, more
    (up to ``max_repeats``) until they have taken ``min_seconds``.

    Returns the last estimator, the list of times and its warnings.
    """
    times = []
    while True:
        # A full collection costs tens of milliseconds: once per series, and
        # again only after a fit long enough to have left garbage behind.
        collect = not times or times[-1] > 0.1
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
