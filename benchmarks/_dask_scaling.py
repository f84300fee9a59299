# SPDX-License-Identifier: BSD-3-Clause
"""``run.py --dask``: the distributed fit, timed against workers and data size,
next to dask-ml (docs/scaling.rst's table).

For each configuration (number of worker processes of a ``LocalCluster``,
one thread each, and number of samples) the data
(``_datasets.dask_logistic``: 20 correlated features) are generated and
persisted on the workers, then each method fits them:

- ``ours``: ``BCEPerceptronClassifier(alpha=1/n)`` with its defaults;
- ``dask-ml gd``: ``dask_ml.linear_model.LogisticRegression(solver=
  "gradient_descent")`` (dask-glm: no penalty, intercept as a ones column);
- ``dask-ml lbfgs``: ``LogisticRegression(solver="lbfgs", C=1)``, the same
  problem as ours (``alpha = 1 / (C n)``) except that its intercept is
  penalized (``_methods.DASK_PEERS``).

Columns: iterations (ours: ``n_iter_``; dask-ml does not expose them, so
its L-BFGS shows its function evaluations and gradient descent "n/a"),
``computes`` (blocking round trips to the cluster, each a ``dask.compute``),
the wall time of ``fit`` (data already persisted) and the gap
``J(coef, intercept) - J*`` on our objective (``_reference.objective``), with
``J*`` from a tight NumPy fit of the same data.  dask-ml is optional: without
it, its rows are skipped with a message.
"""

import os
import time
import warnings

import numpy as np

import _datasets
from _methods import DASK_PEERS, METHODS
from _reference import objective

N_CHUNKS = {"quick": 2, "full": 8}
# (workers, sizes): workers at one size, then sizes at two workers; quick: a
# smoke test of the harness (one cluster, under a minute on 2 cores).
CONFIGURATIONS = {
    "quick": [(2, [10_000])],
    "full": [(1, [50_000, 200_000]), (2, [50_000, 200_000, 800_000])],
}
HEADER = ("workers", "n_samples", "method", "iterations", "computes", "fit (s)", "J - J*")


class CountComputes:
    """Count the blocking computes, wherever the caller imported ``compute`` from."""

    def __init__(self):
        self.count = 0
        self._patched = []

    def __enter__(self):
        import dask

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


def _candidates():
    """Ours and, where dask-ml is installed, its two solvers."""
    out = {"ours": METHODS["ours"]}
    try:
        import dask_ml  # noqa: F401
    except ImportError as exc:
        print(f"dask-ml is not installed ({exc}): its rows are skipped.")
        return out
    return {**out, **DASK_PEERS}


def _J(X, y, model, alpha):
    Y = np.asarray(y, dtype=np.float64)[:, None]
    return objective(X, Y, np.asarray(model.coef_), np.asarray(model.intercept_), alpha)


def _iterations(name, model, computes):
    if name == "ours":
        return str(model.n_iter_)
    if name == "dask-ml lbfgs":
        return f"{computes} evals"
    return "n/a"


def run(configurations, repeats, n_chunks):
    import dask
    from dask.distributed import Client, LocalCluster

    rows = []
    candidates = _candidates()
    # dask-glm's sigmoid overflows on the workers; keep their logs readable.
    os.environ["PYTHONWARNINGS"] = "ignore::RuntimeWarning"
    for n_workers, sizes in configurations:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cluster = LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            client = Client(cluster)
        try:
            for n_samples in sizes:
                X, y = dask.persist(*_datasets.dask_logistic(n_samples, n_chunks))
                X_np, y_np = dask.compute(X, y)
                alpha = 1.0 / n_samples
                problem = _datasets.Problem(n_samples, X.shape[1])
                reference = METHODS["ours"].make(problem, alpha=alpha, tol=1e-10, max_iter=10_000)
                J_star = _J(X_np, y_np, reference.fit(X_np, y_np), alpha)
                for name, method in candidates.items():
                    times = []
                    for _ in range(repeats):
                        model = method.make(problem, alpha=alpha)
                        with CountComputes() as counter, warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            start = time.perf_counter()
                            model.fit(X, y)
                            times.append(time.perf_counter() - start)
                    rows.append(
                        {
                            "workers": n_workers,
                            "n_samples": n_samples,
                            "method": name,
                            "iterations": _iterations(name, model, counter.count),
                            "computes": counter.count,
                            "seconds": min(times),
                            "gap": _J(X_np, y_np, model, alpha) - J_star,
                        }
                    )
                    print(_format_row(rows[-1]), flush=True)
        finally:
            client.close()
            cluster.close()
    return rows


def _cells(row):
    return (
        str(row["workers"]),
        f"{row['n_samples']:,}",
        row["method"],
        row["iterations"],
        str(row["computes"]),
        f"{row['seconds']:.2f}",
        f"{max(row['gap'], 0.0):.1e}",
    )


def _format_row(row):
    return "  ".join(f"{cell:>{len(head)}}" for cell, head in zip(_cells(row), HEADER))


def rst_table(rows):
    """The rows as an RST simple table."""
    cells = [HEADER] + [_cells(r) for r in rows]
    widths = [max(len(row[j]) for row in cells) for j in range(len(HEADER))]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(c.ljust(w) for c, w in zip(cells[0], widths)), rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells[1:]]
    lines.append(rule)
    return "\n".join(lines)


def main(args):
    """The Dask mode with run.py's options; returns the exit status."""
    mode = "quick" if args.quick else "full"
    repeats = args.repeats or (1 if args.quick else 2)
    n_chunks = N_CHUNKS[mode]
    print(f"20 features, {n_chunks} chunks of rows, one thread per worker")
    print("  ".join(HEADER))
    rows = run(CONFIGURATIONS[mode], repeats, n_chunks)
    table = rst_table(rows)
    print()
    print(table)
    if args.output_dir is not None:
        args.output_dir.mkdir(parents=True, exist_ok=True)
        (args.output_dir / "dask_scaling.rst").write_text(table + "\n")
    return 0
