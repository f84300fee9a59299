# SPDX-License-Identifier: BSD-3-Clause
"""The main comparison: every method on every dataset, against J* and the
two-product limit; writes RESULTS.md and results.json.  See README.md.

The exit status is 1 when anything raised or when ``clf.objective``
disagrees with the harness's own J (a broken harness or package), never
because of a time.
"""

import fnmatch
import hashlib
import json
import math
import os
import shlex
import statistics
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

import _datasets
import _measure
import _methods
import _reference
import _report

HERE = Path(__file__).resolve().parent
# Methods whose time to gap is measured, besides ours.
TTG_PEERS = ("lbfgs", "newton-cholesky")
PARTS = ("main", "memory", "ttg", "limit")


@dataclass
class Mode:
    name: str
    quick: bool
    repeats: int
    long_seconds: float  # stop repeating a fit once the runs took this long
    trajectory_seconds: float  # time budget of ours' tol=0 trajectory fit
    trajectory_max_iter: int
    probe_seconds: float  # stop doubling max_iter once a probe fit took this long
    probe_max_iter: dict
    per_iteration: tuple  # the two max_iter of the per-iteration timing
    per_iteration_seconds: float  # minimal total time of the fits at each of them
    blas_threads: int  # None: leave the BLAS thread pools as they are


MODES = {
    "full": Mode(
        "full",
        quick=False,
        repeats=3,
        long_seconds=20.0,
        trajectory_seconds=60.0,
        trajectory_max_iter=5000,
        probe_seconds=20.0,
        probe_max_iter={"lbfgs": 3000, "newton-cholesky": 100},
        per_iteration=(5, 55),
        per_iteration_seconds=2.0,
        blas_threads=None,
    ),
    "quick": Mode(
        "quick",
        quick=True,
        repeats=1,
        long_seconds=2.0,
        trajectory_seconds=2.0,
        trajectory_max_iter=2000,
        probe_seconds=1.0,
        probe_max_iter={"lbfgs": 1000, "newton-cholesky": 50},
        per_iteration=(2, 22),
        per_iteration_seconds=0.2,
        # A smoke test: one BLAS thread keeps tiny products from stalling on
        # an oversubscribed CI machine (two OpenBLAS threads were 5x slower).
        blas_threads=1,
    ),
}


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _error_text(exc):
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]


# -- the reference optimum, cached by the bytes of the problem -------------------
def _fingerprint(dataset):
    h = hashlib.blake2b(digest_size=16)
    X = dataset.X_eval
    parts = (X.data, X.indices, X.indptr) if sp.issparse(X) else (np.ascontiguousarray(X),)
    for part in (*parts, dataset.Y_train):
        h.update(str((part.dtype, part.shape)).encode())
        h.update(memoryview(np.ascontiguousarray(part)).cast("B"))
    h.update(repr(_methods.ALPHA).encode())
    h.update((HERE / "_reference.py").read_bytes())
    return h.hexdigest()


def reference(dataset, cache_dir):
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"reference-{dataset.name}-{_fingerprint(dataset)}.json"
        if path.exists():
            info = json.loads(path.read_text())
            info["cached"] = True
            return info
    info = _reference.reference_optimum(dataset.X_eval, dataset.Y_train, _methods.ALPHA)
    info = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in info.items()}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(info))
    return info


# -- one method with its default settings ---------------------------------------
def run_method(method, dataset, J_star, mode, parts):
    rec = {"settings": method.settings}
    reason = method.skip_reason(dataset)
    if reason:
        rec["skipped"] = reason
        return rec
    overrides = {}
    cap = method.cap(mode.name, dataset)
    if cap is not None:
        overrides["max_iter"] = cap
        rec["max_iter"] = cap

    def make():
        return method.make(dataset, **overrides)

    estimator, times, caught = _measure.timed_fits(make, dataset, mode.repeats, mode.long_seconds)
    rec["times"] = times
    rec["time"] = statistics.median(times)
    rec.update(_measure.score(estimator, dataset, J_star))
    rec["convergence_warnings"], rec["other_warnings"] = _measure.summarize_warnings(caught)
    if method.family == "ours":
        rec["n_matvec"], rec["n_rmatvec"] = estimator.n_matvec_, estimator.n_rmatvec_
        # The package's own J must be ours: a disagreement is a bug somewhere.
        own = float(estimator.objective(dataset.X_train, dataset.y_train))
        rec["objective_reported"] = own
        tolerance = 1e-9 if dataset.X_train.dtype == np.float64 else 1e-4
        if not abs(own - rec["J"]) <= tolerance * abs(J_star):
            rec["error"] = (
                f"clf.objective(X, y) = {own!r} but the harness's J = {rec['J']!r} "
                f"(relative difference {abs(own - rec['J']) / J_star:.1e} > {tolerance:g})"
            )
    if "memory" in parts:
        memory_overrides = dict(overrides)
        if method.memory_max_iter is not None:
            limit = min(method.memory_max_iter, overrides.get("max_iter", math.inf))
            memory_overrides["max_iter"] = int(limit)
            rec["memory_max_iter"] = int(limit)
        peak = _measure.peak_extra_memory(lambda: method.make(dataset, **memory_overrides), dataset)
        rec["memory_peak_bytes"] = peak
        rec["memory_ratio"] = peak / dataset.x_nbytes
    return rec


# -- one dataset -------------------------------------------------------------------
def run_dataset(name, methods, mode, parts, cache_dir, errors):
    d = {"name": name}
    log(f"{name}: building")
    try:
        start = time.perf_counter()
        dataset = _datasets.BUILDERS[name](mode.quick)
        d.update(
            description=dataset.description,
            summary=dataset.summary(),
            build_seconds=time.perf_counter() - start,
            n_train=dataset.n_train,
            n_test=dataset.X_test.shape[0],
            n_features=dataset.n_features,
            n_outputs=dataset.n_outputs,
            dtype=str(dataset.X_train.dtype),
            sparse=dataset.sparse,
            x_nbytes=dataset.x_nbytes,
            large=dataset.large,
            notes=[],
        )
        log(f"{name}: {d['summary']}; reference optimum")
        ref = reference(dataset, cache_dir)
        d["reference"] = {k: v for k, v in ref.items() if k not in ("W", "b")}
        J_star = ref["J_star"]
    except Exception as exc:  # noqa: BLE001 - reported, and the exit status says so
        d["error"] = _error_text(exc)
        errors.append(f"{name}: {d['error']}")
        traceback.print_exc()
        return d

    def guarded(label, function, *args):
        try:
            return function(*args)
        except Exception as exc:  # noqa: BLE001
            text = _error_text(exc)
            errors.append(f"{name} / {label}: {text}")
            traceback.print_exc()
            return {"error": text}

    if "limit" in parts:
        d["limit_seconds"], d["limit_repeats"] = _measure.two_products(dataset.X_train, dataset.n_outputs)
        log(f"{name}: two-product limit {_report.fmt_seconds(d['limit_seconds'])}")

    d["methods"] = {}
    if "main" in parts:
        for method in methods:
            log(f"{name}: {method.name}")
            rec = guarded(method.name, run_method, method, dataset, J_star, mode, parts)
            if "error" in rec and "time" in rec:
                errors.append(f"{name} / {method.name}: {rec['error']}")
            rec.setdefault("settings", method.settings)
            d["methods"][method.name] = rec
            if "time" in rec:
                log(f"{name}: {method.name}: {_report.fmt_seconds(rec['time'])}, {rec['n_iter']} it, "
                    f"gap {rec['gap']:.1e}" + (f", mem {rec['memory_ratio']:.3f} X" if "memory_ratio" in rec else ""))
            if rec.get("gap", 0.0) < -1e-9:
                d["notes"].append(f"{method.name} is below J* by {-rec['gap']:.1e} (relative): J* is not tight")

    selected = {m.name for m in methods}
    if "ttg" in parts:
        d["time_to_gap"] = {}
        if "ours" in selected:
            log(f"{name}: time to gap, ours")
            main = d["methods"].get("ours", {})
            if "time" in main:
                seconds_per_iter = main["time"] / max(main["n_iter"], 1)
            else:
                _, times, _ = _measure.timed_fits(
                    lambda: _methods.METHODS["ours"].make(dataset, tol=0.0, max_iter=10), dataset, 1, 0.0
                )
                seconds_per_iter = times[0] / 10
            d["time_to_gap"]["ours"] = guarded("time to gap, ours", _measure.ours_time_to_gap, dataset, J_star, mode,
                                               seconds_per_iter)
        for peer in TTG_PEERS:
            method = _methods.METHODS[peer]
            if peer not in selected or method.skip_reason(dataset):
                continue
            log(f"{name}: time to gap, {peer}")
            d["time_to_gap"][peer] = guarded(f"time to gap, {peer}", _measure.peer_time_to_gap, method, dataset,
                                             J_star, mode)

    if "limit" in parts and "ours" in selected:
        log(f"{name}: per-iteration time")
        d["per_iteration"] = guarded("per iteration", _measure.per_iteration, dataset, mode)
        d["per_iteration_default"] = guarded(
            "per iteration, defaults", _measure.per_iteration, dataset, mode, "ours"
        )
    d["seconds"] = time.perf_counter() - start
    log(f"{name}: done in {d['seconds']:.0f} s")
    return d


# -- options and output --------------------------------------------------------------------
def _select(spec, names, what):
    if not spec:
        return list(names)
    patterns = [p.strip() for p in spec.split(",") if p.strip()]
    for pattern in patterns:
        if not fnmatch.filter(names, pattern):
            raise SystemExit(f"unknown {what} {pattern!r}; choose from: {', '.join(names)}")
    return [n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)]


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _finite(value):
    """NaN and infinities as null, for strict JSON readers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def main(args, argv):
    """Run the comparison that ``args`` (run.py's options) select; ``argv`` is
    recorded as the command."""
    mode = MODES["quick" if args.quick else "full"]
    if args.repeats is not None:
        mode.repeats = max(1, args.repeats)
    dataset_names = _select(args.datasets, list(_datasets.BUILDERS), "dataset")
    method_names = _select(args.methods, list(_methods.METHODS), "method")
    parts = set(_select(args.parts, list(PARTS), "part"))
    methods = [_methods.METHODS[n] for n in method_names]
    everything = not (args.quick or args.datasets or args.methods or args.repeats
                      or parts != set(PARTS) or args.blas_threads is not None)
    output_dir = args.output_dir or (HERE if everything else Path(tempfile.gettempdir()) / "skperceptron-bench")
    cache_dir = None if args.no_cache else Path(
        os.environ.get("SKPERCEPTRON_BENCH_CACHE", Path.home() / ".cache" / "skperceptron-bench")
    )

    blas_threads = mode.blas_threads if args.blas_threads is None else (args.blas_threads or None)
    limiter = None
    if blas_threads:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(limits=blas_threads, user_api="blas")

    started = time.perf_counter()
    results = {
        "environment": _report.environment(),
        "config": {
            "mode": mode.name,
            "command": "python benchmarks/run.py " + " ".join(shlex.quote(a) for a in argv),
            "alpha": _methods.ALPHA,
            "repeats": mode.repeats,
            "long_seconds": mode.long_seconds,
            "datasets": dataset_names,
            "methods": method_names,
            "parts": sorted(parts),
            "blas_threads": blas_threads,
        },
        "datasets": {},
    }
    errors = []
    for name in dataset_names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results["datasets"][name] = run_dataset(name, methods, mode, parts, cache_dir, errors)
    results["errors"] = errors
    results["targets"] = _report.evaluate_targets(results)
    results["environment"]["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    results["seconds"] = time.perf_counter() - started
    if limiter is not None:
        limiter.restore_original_limits()

    output_dir.mkdir(parents=True, exist_ok=True)
    text = _report.markdown(results) + "\n"
    results_md = output_dir / "RESULTS.md"
    if results_md.exists():  # the --workflow blocks are not this run's to drop
        import _workflow_report

        section = _workflow_report.workflow_section(results_md.read_text())
        text += "\n" + section if section else ""
    results_md.write_text(text)
    (output_dir / "results.json").write_text(
        json.dumps(_finite(results), indent=1, default=_json_default) + "\n"
    )
    log(f"done in {results['seconds']:.0f} s; wrote {output_dir / 'RESULTS.md'} and results.json")
    for row in results["targets"]:
        log(f"target {row['status']:>6s}: {row['target']} [{row['dataset']}]: {row['measured']}")
    if errors:
        log(f"{len(errors)} error(s):")
        for e in errors:
            log(f"  {e}")
        return 1
    return 0


