# SPDX-License-Identifier: BSD-3-Clause
"""Distributed fit on Dask: time against workers and data size, next to dask-ml.

Usage::

    python benchmarks/dask_scaling.py            # full run (a few minutes on 2 cores)
    python benchmarks/dask_scaling.py --quick    # small sizes, under a minute

For each configuration (number of worker processes of a ``LocalCluster``,
one thread each, and number of samples) the data is generated and persisted
on the workers, then each method fits it:

- ``ours``: ``BCEPerceptronClassifier(alpha=1/n)`` with its defaults;
- ``dask-ml gd``: ``dask_ml.linear_model.LogisticRegression(solver=
  "gradient_descent")`` (dask-glm: no penalty, intercept as a ones column);
- ``dask-ml lbfgs``: ``LogisticRegression(solver="lbfgs", C=1)``, the same
  problem as ours (``alpha = 1 / (C n)``) except that its intercept is
  penalized.

Columns: iterations (ours: ``n_iter_``; dask-ml does not expose them, so
its L-BFGS shows its function evaluations and gradient descent "-"),
``computes`` (blocking round trips to the cluster, each a ``dask.compute``),
the wall time of ``fit`` (data already persisted) and the gap
``J(coef, intercept) - J*`` on our objective, with ``J*`` from a tight NumPy
fit of the same data.  dask-ml is optional: without it, its rows are skipped
with a message.
"""

import argparse
import os
import time
import warnings

import numpy as np
from scipy.special import log_expit

import dask
import dask.array as da
from dask.distributed import Client, LocalCluster

from skperceptron import BCEPerceptronClassifier

N_FEATURES = 20


def make_data(n_samples, n_chunks, seed=0):
    """A logistic model with correlated features, generated on the workers."""
    rs = da.random.RandomState(seed)
    chunks = (-(-n_samples // n_chunks), N_FEATURES)
    Z = rs.standard_normal((n_samples, N_FEATURES), chunks=chunks)
    mixing = np.random.default_rng(seed).normal(size=(N_FEATURES, N_FEATURES)) / 4
    X = Z + Z @ mixing
    w = np.random.default_rng(seed + 1).normal(size=N_FEATURES)
    u = rs.uniform(size=n_samples, chunks=chunks[0])
    y = (u < 1 / (1 + da.exp(-(X @ w - 0.5)))).astype(np.int64)
    return X, y


def objective(X, y, coef, intercept, alpha):
    """Our J for a binary problem, on NumPy data."""
    raw = X @ np.ravel(coef) + float(np.ravel(intercept)[0])
    loss = -np.mean(y * log_expit(raw) + (1 - y) * log_expit(-raw))
    return float(loss + 0.5 * alpha * np.dot(np.ravel(coef), np.ravel(coef)))


class CountComputes:
    """Count the blocking computes, wherever the caller imported ``compute`` from."""

    def __init__(self):
        self.count = 0
        self._patched = []

    def __enter__(self):
        original = dask.base.compute

        def counting(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)

        targets = [dask.base, dask]
        try:
            import dask_glm.algorithms

            targets.append(dask_glm.algorithms)
        except ImportError:
            pass
        for module in targets:
            self._patched.append((module, module.compute))
            module.compute = counting
        return self

    def __exit__(self, *exc):
        for module, function in self._patched:
            module.compute = function


def methods(n_samples):
    alpha = 1.0 / n_samples
    out = {"ours": lambda: BCEPerceptronClassifier(alpha=alpha)}
    try:
        from dask_ml.linear_model import LogisticRegression
    except ImportError as exc:
        print(f"dask-ml is not installed ({exc}): its rows are skipped.")
        return out, alpha
    out["dask-ml gd"] = lambda: LogisticRegression(solver="gradient_descent")
    out["dask-ml lbfgs"] = lambda: LogisticRegression(solver="lbfgs", C=1.0)
    return out, alpha


def iterations(name, model, computes):
    if name == "ours":
        return str(model.n_iter_)
    if name == "dask-ml lbfgs":
        return f"{computes} evals"
    return "-"


def run(configurations, repeats, n_chunks):
    rows = []
    # dask-glm's sigmoid overflows on the workers; keep their logs readable.
    os.environ["PYTHONWARNINGS"] = "ignore::RuntimeWarning"
    for n_workers, sizes in configurations:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cluster = LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
            )
            client = Client(cluster)
        try:
            for n_samples in sizes:
                X, y = dask.persist(*make_data(n_samples, n_chunks))
                X_np, y_np = dask.compute(X, y)
                candidates, alpha = methods(n_samples)
                reference = BCEPerceptronClassifier(alpha=alpha, tol=1e-10, max_iter=10_000)
                J_star = objective(
                    X_np, y_np, *_coefficients(reference.fit(X_np, y_np)), alpha
                )
                for name, make in candidates.items():
                    times = []
                    for _ in range(repeats):
                        model = make()
                        with CountComputes() as counter, warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            start = time.perf_counter()
                            model.fit(X, y)
                            times.append(time.perf_counter() - start)
                    gap = objective(X_np, y_np, *_coefficients(model), alpha) - J_star
                    rows.append(
                        dict(
                            workers=n_workers,
                            n_samples=n_samples,
                            method=name,
                            iterations=iterations(name, model, counter.count),
                            computes=counter.count,
                            seconds=min(times),
                            gap=gap,
                        )
                    )
                    print(_format_row(rows[-1]), flush=True)
        finally:
            client.close()
            cluster.close()
    return rows


def _coefficients(model):
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64)
    return coef, intercept


HEADER = ("workers", "n_samples", "method", "iterations", "computes", "fit (s)", "J - J*")


def _format_row(row):
    cells = (
        str(row["workers"]),
        f"{row['n_samples']:,}",
        row["method"],
        row["iterations"],
        str(row["computes"]),
        f"{row['seconds']:.2f}",
        f"{max(row['gap'], 0.0):.1e}",
    )
    return "  ".join(f"{cell:>{len(head)}}" for cell, head in zip(cells, HEADER))


def rst_table(rows):
    """The rows as an RST simple table."""
    cells = [HEADER] + [
        (
            str(r["workers"]),
            f"{r['n_samples']:,}",
            r["method"],
            r["iterations"],
            str(r["computes"]),
            f"{r['seconds']:.2f}",
            f"{max(r['gap'], 0.0):.1e}",
        )
        for r in rows
    ]
    widths = [max(len(row[j]) for row in cells) for j in range(len(HEADER))]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(c.ljust(w) for c, w in zip(cells[0], widths)), rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells[1:]]
    lines.append(rule)
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--repeats", type=int, default=None, help="fits per method (best kept)")
    args = parser.parse_args()
    if args.quick:
        # Workers at one size, then sizes at two workers.
        configurations = [(1, [10_000]), (2, [10_000, 40_000])]
        repeats, n_chunks = args.repeats or 1, 2
    else:
        configurations = [(1, [50_000, 200_000]), (2, [50_000, 200_000, 800_000])]
        repeats, n_chunks = args.repeats or 2, 8
    print(f"{N_FEATURES} features, {n_chunks} chunks of rows, one thread per worker")
    print("  ".join(HEADER))
    rows = run(configurations, repeats, n_chunks)
    print()
    print(rst_table(rows))


if __name__ == "__main__":
    main()
