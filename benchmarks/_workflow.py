# SPDX-License-Identifier: BSD-3-Clause
"""``--workflow``: the tuning workflow of issue 13, ours beside LogisticRegression.

Each row is one search, as a user writes it::

    GridSearchCV(make_pipeline(StandardScaler(), est), {"<step>__alpha": logspace(-5, 0, 12)},
                 cv=StratifiedKFold(5, shuffle=True, random_state=0))

timed as a whole (60 fits, their scoring and the refit; on rows whose searches
take at most 30 s, the median of 3 such searches per method, run in rounds:
see :func:`timed_searches`), under a threadpoolctl
limit of 1 or 2 threads (BLAS and OpenMP), with every ConvergenceWarning
counted.  ``est`` is ``BCEPerceptronClassifier(alpha, l1_ratio)`` or
:class:`PeerLogisticRegression`, which searches over the same ``alpha``: its
fit sets ``C = 1 / (alpha * n)`` with ``n`` the rows it is fitted on (the
fold's training rows, then all rows for the refit), the one ``C`` at which
LogisticRegression's problem is ``n`` times ours.  Multiclass: ours is K
independent sigmoid units, a one-vs-rest loss, so the peer is
``OneVsRestClassifier(LogisticRegression)`` (LogisticRegression alone is
multinomial).  A search stops at the first scoring after ``budget`` seconds
(reported as "> budget").  Besides, single default fits (median of 7, on
standardized data) against lbfgs and newton-cholesky, the fixed cost of a
``max_iter=1`` fit, and each default fit's gap to the harness's own J*.

Each search row also times the *harness floor*: the same search over a
:class:`FloorClassifier`, which fits nothing.  It is what the pipeline, the
scaler, the folds, the scoring and GridSearchCV cost by themselves, a time
no estimator can go below; where the target (the ratio times the best
peer's time) is below it, the target cannot be met by any estimator.
"""

import math
import os
import statistics
import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import _measure
import _methods
import _reference
from _datasets import Dataset
from skperceptron import BCEPerceptronClassifier

DATASETS = {
    "breast-cancer": lambda: load_breast_cancer(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
    "iris": lambda: load_iris(return_X_y=True),
    "digits": lambda: load_digits(return_X_y=True),
    "binary-5000x50": lambda: make_classification(5000, 50, random_state=0),
    "5-classes-20000x100": lambda: make_classification(
        20000, 100, n_informative=20, n_classes=5, random_state=0
    ),
}
PENALTIES = {"L2": 0.0, "L1": 1.0, "elastic net": 0.5}  # name: l1_ratio
DEFAULT_FIT_SETS = ("iris", "breast-cancer", "digits")
FIXED_COST_SETS = ("iris", "digits")
DEFAULT_FIT_METHODS = ("ours", "lbfgs", "newton-cholesky")
GAP_TARGET = 1e-4
DEFAULT_WARMUP = 2  # untimed default fits before each timed series
FLOOR = "harness floor"  # the search's cost without a fit: see FloorClassifier


@dataclass
class WorkflowMode:
    name: str
    alphas: tuple
    folds: int
    datasets: tuple
    threads: tuple
    budget: float  # seconds per search
    repeats: int  # rounds of searches of a row whose first round was short
    short_search: float  # seconds: a row repeats only where each first search took at most this
    default_fit_sets: tuple
    fixed_cost_sets: tuple
    default_repeats: int


MODES = {
    "full": WorkflowMode("full", tuple(np.logspace(-5, 0, 12)), 5, tuple(DATASETS), (1, 2), 120.0, 3,
                         30.0, DEFAULT_FIT_SETS, FIXED_COST_SETS, 7),
    "quick": WorkflowMode("quick", (1e-4, 1e-2), 2, ("iris", "breast-cancer"), (1,), 10.0, 1,
                          2.0, ("iris",), ("iris",), 3),
}


class BudgetExceeded(Exception):
    """A search ran past its time budget."""


def peer_C(alpha, n_samples):
    """LogisticRegression's C whose problem is ``n_samples`` times ours at ``alpha``."""
    return 1.0 / (alpha * n_samples)


class PeerLogisticRegression(ClassifierMixin, BaseEstimator):
    """LogisticRegression parametrized like ours: ``alpha`` and ``l1_ratio``.

    ``fit`` sets ``C = 1 / (alpha * n_samples)`` from the rows it is given and
    wraps the model in ``OneVsRestClassifier`` for more than two classes.
    """

    def __init__(self, *, alpha=1e-4, l1_ratio=0.0, solver="lbfgs"):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.solver = solver

    def fit(self, X, y):
        extra = {"random_state": 0} if self.solver in ("saga", "liblinear") else {}
        model = LogisticRegression(C=peer_C(self.alpha, X.shape[0]), l1_ratio=self.l1_ratio,
                                   solver=self.solver, **extra)
        if len(np.unique(y)) > 2:
            model = OneVsRestClassifier(model)
        self.model_ = model.fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)


class FloorClassifier(ClassifierMixin, BaseEstimator):
    """A classifier that fits nothing (it predicts the most frequent class),
    searched over the same ``alpha`` grid: the harness's own cost."""

    def __init__(self, *, alpha=1e-4, l1_ratio=0.0):
        self.alpha = alpha
        self.l1_ratio = l1_ratio

    def fit(self, X, y):
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def predict(self, X):
        return np.full(X.shape[0], self.majority_)


def peers(penalty, n_classes):
    """The fastest applicable LogisticRegression solvers (issue 13)."""
    if penalty == "L2":
        return ("lbfgs", "newton-cholesky")
    if penalty == "L1" and n_classes == 2:
        return ("liblinear",)
    return ("saga",)


def threshold(penalty, n_classes):
    """The largest ratio of our time to the best peer's that meets the target."""
    if penalty == "L2":
        return 1.0
    if penalty == "L1":
        return 1.0 if n_classes == 2 else 0.25
    return 0.5


def make_estimator(method, l1_ratio):
    if method == "ours":
        return BCEPerceptronClassifier(l1_ratio=l1_ratio)
    if method == FLOOR:
        return FloorClassifier(l1_ratio=l1_ratio)
    return PeerLogisticRegression(l1_ratio=l1_ratio, solver=method)


class Deadline:
    """A scorer (the estimator's accuracy) that raises once ``seconds`` have
    passed since ``start``: a search overruns its budget by at most one fit."""

    def __init__(self, seconds, clock=time.perf_counter):
        self.seconds, self.clock = seconds, clock
        self.started = clock()

    def __call__(self, estimator, X, y):
        if self.clock() - self.started > self.seconds:
            raise BudgetExceeded(f"over {self.seconds:g} s")
        return estimator.score(X, y)


def search(estimator, X, y, alphas, folds, budget):
    """One timed GridSearchCV: seconds, warnings, best score and alpha, or
    ``exceeded`` when the budget cut it."""
    pipeline = make_pipeline(StandardScaler(), clone(estimator))
    step = pipeline.steps[-1][0]
    grid = GridSearchCV(pipeline, {f"{step}__alpha": list(alphas)},
                        cv=StratifiedKFold(folds, shuffle=True, random_state=0),
                        scoring=Deadline(budget), error_score="raise")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        try:
            grid.fit(X, y)
            exceeded = False
        except BudgetExceeded:
            exceeded = True
        seconds = time.perf_counter() - start
    convergence, others = _measure.summarize_warnings(caught)
    out = {"seconds": seconds, "exceeded": exceeded, "convergence_warnings": convergence,
           "other_warnings": others}
    if not exceeded:
        out["best_score"] = float(grid.best_score_)
        out["best_alpha"] = float(grid.best_params_[f"{step}__alpha"])
    return out


def timed_searches(methods, l1_ratio, X, y, mode):
    """Each method's search time, the median of up to ``mode.repeats`` searches.

    The searches run in rounds, each method once a round (ours, the peers, the
    floor, then again), so that a change of the shared machine's load falls
    on every method alike.  A row repeats only where every search of its
    first round took at most ``mode.short_search`` seconds (30 in a full
    run): a single search swings from one run to the next by 10-20% at a few
    hundred milliseconds (breast cancer, elastic net: 373 to 487 ms for the
    same code) and by up to 3x at seconds (the 5-class 20,000 x 100 set, L2,
    lbfgs on one thread: 4.86 s in a full run, 11.3 to 14.2 s in three
    searches right after it).  A search that the budget cut or that failed
    is not repeated."""
    runs = {method: [] for method in methods}
    for round_index in range(mode.repeats):
        for method in methods:
            done = runs[method]
            if done and ("error" in done[-1] or done[-1]["exceeded"]):
                continue
            try:
                done.append(search(make_estimator(method, l1_ratio), X, y, mode.alphas, mode.folds,
                                   mode.budget))
            except Exception as exc:  # noqa: BLE001 - recorded, the run goes on
                done.append({"error": f"{type(exc).__name__}: {exc}"[:300]})
        if round_index == 0 and not all(
            "error" not in r and r["seconds"] <= mode.short_search for r in (d[0] for d in runs.values())
        ):
            break
    return {method: _median_run(done) for method, done in runs.items()}


def _median_run(runs):
    """The last run's results with ``seconds`` the median of the runs' times
    (an error, the error)."""
    if "error" in runs[-1]:
        return runs[-1]
    out = dict(runs[-1])
    out["times"] = [r["seconds"] for r in runs]
    out["seconds"] = statistics.median(out["times"])
    return out


def evaluate(row):
    """Ratio of ours to the best peer, and the target's status, from a row's results."""
    results, limit = row["results"], row["threshold"]
    ours = results.get("ours", {})
    done = {m: r for m, r in results.items() if m != "ours" and "seconds" in r}
    out = {"best_peer": None, "ratio": None, "ratio_bound": None, "status": "n/a",
           "target_below_floor": False}
    done.pop(FLOOR, None)
    if "seconds" not in ours or not done:
        return out
    finished = {m: r for m, r in done.items() if not r["exceeded"]}
    best = min(finished or done, key=lambda m: done[m]["seconds"])
    out["best_peer"] = best
    ratio = ours["seconds"] / done[best]["seconds"]
    if ours["exceeded"]:
        # Both cut: no ratio, nor a verdict on time; ours cut, a peer finished:
        # the ratio is a lower bound.
        out["ratio_bound"] = ">" if finished else "?"
        fast = False if finished else None
    elif not finished:  # every peer cut: the ratio is an upper bound
        out["ratio_bound"] = "<"
        fast = ratio <= limit
    else:
        fast = ratio <= limit
    out["ratio"] = ratio if out["ratio_bound"] != "?" else None
    quiet = ours["convergence_warnings"] == 0
    floor = results.get(FLOOR, {}).get("seconds")
    below_floor = bool(floor and finished and limit * done[best]["seconds"] < floor)
    out["target_below_floor"] = below_floor
    problems = ([] if fast in (True, None) else ["time, target below the harness floor" if below_floor
                                                 else "time"]) + ([] if quiet else ["warnings"])
    if problems:
        out["status"] = "MISSED (" + ", ".join(problems) + ")"
    else:
        out["status"] = "met" if fast else "unknown (every search cut)"
    return out


def warm_up(log):
    """One small search per method, penalty and kind of target (iris, and its
    first two classes), untimed: the process's first calls (imports, first
    uses of GridSearchCV and of each solver) would otherwise fall on the first
    timed search, ours: 0.50 s where the next two took 0.41 and 0.37 s
    (breast cancer, L2, one thread)."""
    X, y = DATASETS["iris"]()
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for X_, y_ in ((X, y), (X[y < 2], y[y < 2])):
            for penalty, l1_ratio in PENALTIES.items():
                for method in ("ours", *peers(penalty, len(np.unique(y_))), FLOOR):
                    search(make_estimator(method, l1_ratio), X_, y_, (1e-3, 1e-1), 2, 60.0)
    log(f"warm-up: every method once on iris, {time.perf_counter() - started:.1f} s")


def run_row(name, X, y, penalty, threads, mode, log):
    from threadpoolctl import threadpool_limits

    n_classes = len(np.unique(y))
    row = {"dataset": name, "n_samples": X.shape[0], "n_features": X.shape[1], "n_classes": n_classes,
           "penalty": penalty, "l1_ratio": PENALTIES[penalty], "threads": threads,
           "peers": list(peers(penalty, n_classes)), "threshold": threshold(penalty, n_classes),
           "one_vs_rest": n_classes > 2, "results": {}}
    with threadpool_limits(limits=threads):
        row["results"] = timed_searches(("ours", *row["peers"], FLOOR), PENALTIES[penalty], X, y, mode)
    for method, r in row["results"].items():
        times = r.get("times", [])
        log(f"{name} {penalty} {threads} thread(s) {method}: "
            + (r.get("error") or f"{r['seconds']:.2f} s{' (budget)' if r['exceeded'] else ''}"
               + (f" (median of {', '.join(f'{t:.3f}' for t in times)})" if len(times) > 1 else "")
               + f", {r['convergence_warnings']} ConvergenceWarnings"))
    row["load_average"] = list(os.getloadavg())  # the machine may be shared: its load as the row ended
    row.update(evaluate(row))
    return row


def _standardized(name):
    X, y = DATASETS[name]()
    X = StandardScaler().fit_transform(X)
    return Dataset(name, f"{name}, standardized", X, y, X[:1], y[:1])


def penalized_objective(dataset, W, b, alpha, l1_ratio):
    """Our J with its L1 part: the harness's smooth J at ``alpha (1 - l1_ratio)``
    plus ``alpha l1_ratio ||W||_1``."""
    smooth = _reference.objective(dataset.X_eval, dataset.Y_train, W, b, alpha * (1 - l1_ratio))
    return smooth + alpha * l1_ratio * float(np.abs(W).sum())


def split_optimum(dataset, alpha, l1_ratio):
    """``(W, b)`` near the optimum with an L1 part, independently of the
    package: per unit, SciPy's L-BFGS-B on ``w = u - v`` with ``u, v >= 0``,
    where the L1 norm is the linear ``sum(u + v)`` and the problem smooth
    under bounds.  Exact to about 1e-12 on breast cancer, within 1e-3 above
    the optimum on digits (the split's flat directions slow it)."""
    X, Y = dataset.X_eval, dataset.Y_train
    n, p = X.shape
    W, b = np.zeros((Y.shape[1], p)), np.zeros(Y.shape[1])
    for k in range(Y.shape[1]):
        y = Y[:, k]

        def value_and_gradient(z, y=y):
            w, c = z[:p] - z[p:2 * p], z[-1]
            value = _reference.objective(X, y[:, None], w, c, alpha * (1 - l1_ratio))
            value += alpha * l1_ratio * z[:2 * p].sum()
            residual = expit(X @ w + c) - y
            grad_w = X.T @ residual / n + alpha * (1 - l1_ratio) * w
            return value, np.concatenate([grad_w + alpha * l1_ratio, alpha * l1_ratio - grad_w, [residual.mean()]])

        bounds = [(0, None)] * (2 * p) + [(None, None)]
        z = minimize(value_and_gradient, np.zeros(2 * p + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                     options={"maxiter": 20000, "maxfun": 40000, "ftol": 1e-16, "gtol": 1e-12}).x
        W[k], b[k] = z[:p] - z[p:2 * p], z[-1]
    return W, b


_OPTIMA = {}


def penalized_optimum(dataset, alpha, l1_ratio):
    """J* with an L1 part: the lower of :func:`split_optimum` and ours at
    ``tol=1e-10, max_iter=20000`` (the two agree to 5e-13 on breast cancer
    with L1; ours is lower elsewhere), computed once per data set."""
    key = (dataset.name, alpha, l1_ratio)
    if key not in _OPTIMA:
        tight = BCEPerceptronClassifier(alpha=alpha, l1_ratio=l1_ratio, tol=1e-10, max_iter=20000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tight.fit(dataset.X_train, dataset.y_train)
        _OPTIMA[key] = min(
            penalized_objective(dataset, *_methods.coefficients(tight, dataset), alpha, l1_ratio),
            penalized_objective(dataset, *split_optimum(dataset, alpha, l1_ratio), alpha, l1_ratio))
    return _OPTIMA[key]


def _timed_default(build, dataset, mode, l1_ratio, J_star):
    # Two untimed fits first: a series' first fits, after another method's,
    # ran up to twice as long as its last (ours at max_iter=1 on iris: 1.93,
    # 1.36, 1.10, 1.13, 1.23, 0.96, 0.94 ms; lbfgs 9.25, then 7.4-7.6 ms), a
    # cost of switching methods that a grid search's fits do not pay.
    estimator, times, caught = _measure.timed_fits(build, dataset, mode.default_repeats, math.inf,
                                                   max_repeats=mode.default_repeats, warmup=DEFAULT_WARMUP)
    model = getattr(estimator, "model_", estimator)
    return {"seconds": statistics.median(times), "times": times, "n_iter": _methods.n_iter(model),
            "gap": (penalized_objective(dataset, *_methods.coefficients(model, dataset), _methods.ALPHA, l1_ratio)
                    - J_star) / J_star,
            "convergence_warnings": _measure.summarize_warnings(caught)[0]}


def default_fits(name, threads, mode):
    """Median of ``mode.default_repeats`` default fits at alpha = 1e-4: ours
    and the two Newton-type peers (C = 1/(alpha n)); ours at ``max_iter=1``;
    ours and the workflow's peer with L1 and elastic net.  Each gap to J*."""
    from threadpoolctl import threadpool_limits

    dataset, alpha = _standardized(name), _methods.ALPHA
    J_star = _reference.reference_optimum(dataset.X_eval, dataset.Y_train, alpha)["J_star"]
    out = {"dataset": name, "threads": threads, "J_star": J_star, "methods": {}, "penalized": []}
    cases = [(m, {}) for m in DEFAULT_FIT_METHODS]
    if name in mode.fixed_cost_sets:
        cases.append(("ours", {"max_iter": 1}))
    with threadpool_limits(limits=threads):
        for method, overrides in cases:
            def build(make=_methods.METHODS[method].make, overrides=overrides):
                return make(dataset, **overrides)

            key = method + "".join(f" {k}={v}" for k, v in overrides.items())
            out["methods"][key] = _timed_default(build, dataset, mode, 0.0, J_star)
        for penalty, l1_ratio in list(PENALTIES.items())[1:]:
            J_l1 = penalized_optimum(dataset, alpha, l1_ratio)
            entry = {"penalty": penalty, "J_star": J_l1, "methods": {}}
            for method in ("ours", *peers(penalty, len(dataset.classes))):
                def build(method=method, l1_ratio=l1_ratio):
                    return make_estimator(method, l1_ratio).set_params(alpha=alpha)

                entry["methods"][method] = _timed_default(build, dataset, mode, l1_ratio, J_l1)
            out["penalized"].append(entry)
    return out
