# SPDX-License-Identifier: BSD-3-Clause
"""The environment header, the targets of the issue, and the Markdown report."""

import datetime
import os
import platform
import sys

GAP_TARGETS = (1e-3, 1e-6)
DENSE_LARGE = ("classification-f64", "classification-f32")


def gap_key(target):
    return f"{target:.0e}"


# -- environment ---------------------------------------------------------------
def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment():
    import numpy
    import scipy
    import sklearn
    import threadpoolctl

    import skperceptron

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu": _cpu_model(),
        "cores_available": cores,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "threadpools": [
            {k: v for k, v in info.items() if k != "filepath"}
            for info in threadpoolctl.threadpool_info()
        ],
        "versions": {
            "python": sys.version.split()[0],
            "numpy": numpy.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
            "skperceptron": skperceptron.__version__,
            "threadpoolctl": threadpoolctl.__version__,
        },
    }


# -- targets of the issue (item 5) ---------------------------------------------
def _ttg_seconds(dataset, method, target):
    entry = dataset.get("time_to_gap", {}).get(method, {}).get(gap_key(target))
    if not entry or "error" in entry:
        return None, entry
    return (entry["seconds"] if entry.get("reached") else None), entry


def _status(ok):
    return "met" if ok else "MISSED"


def evaluate_targets(results):
    """One row per target of item 5 and dataset: measured, threshold, status."""
    datasets = results["datasets"]
    rows = []

    def add(target, name, measured, threshold, status):
        rows.append(
            {"target": target, "dataset": name, "measured": measured, "threshold": threshold, "status": status}
        )

    for name in (*DENSE_LARGE, "sparse"):
        target = "time per iteration (long fit, diagonal metric) / two-product limit"
        d = datasets.get(name)
        per_iter = (d or {}).get("per_iteration", {})
        if not d or "marginal_seconds" not in per_iter or not d.get("limit_seconds"):
            add(target, name, "not run", "<= 1.25", "n/a")
            continue
        ratio = per_iter["marginal_seconds"] / d["limit_seconds"]
        add(target, name, f"{ratio:.2f}", "<= 1.25", _status(ratio <= 1.25))

    pairs = [(n, "lbfgs", 1.0) for n in (*DENSE_LARGE, "sparse")]
    pairs += [(n, "newton-cholesky", 1.0) for n in DENSE_LARGE]
    pairs += [("ill-scaled", "newton-cholesky", 1.5), ("breast-cancer-std", "lbfgs", 2.0)]
    for name, peer, limit in pairs:
        target = f"time to gap 1e-6, defaults / {peer}"
        d = datasets.get(name)
        if not d:
            add(target, name, "not run", f"<= {limit:g}", "n/a")
            continue
        ours, ours_entry = _ttg_seconds(d, "ours", 1e-6)
        theirs, their_entry = _ttg_seconds(d, peer, 1e-6)
        if ours_entry is None or their_entry is None:
            add(target, name, "not run", f"<= {limit:g}", "n/a")
        elif ours is None:
            add(target, name, f"ours did not reach 1e-6 (best {ours_entry.get('best_gap', float('nan')):.1e})",
                f"<= {limit:g}", "MISSED")
        elif theirs is None:
            add(target, name, f"ours {ours:.3g} s; {peer} never reaches 1e-6 "
                f"(best {their_entry.get('best_gap', float('nan')):.1e})", f"<= {limit:g}", "met")
        else:
            add(target, name, f"{ours / theirs:.2f} ({ours:.3g} s / {theirs:.3g} s)", f"<= {limit:g}",
                _status(ours <= limit * theirs))

    for name, d in datasets.items():
        target = "default fit: gap <= 1e-4, no ConvergenceWarning"
        rec = d.get("methods", {}).get("ours")
        if not rec or "gap" not in rec:
            add(target, name, "not run" if not rec or "error" not in rec else "error", "<= 1e-4, 0 warnings",
                "n/a" if not rec or "error" not in rec else "MISSED")
            continue
        ok = rec["gap"] <= 1e-4 and rec["convergence_warnings"] == 0
        add(target, name, f"gap {rec['gap']:.1e}, {rec['convergence_warnings']} warnings", "<= 1e-4, 0 warnings",
            _status(ok))

    for name in (*DENSE_LARGE, "sparse"):
        target = "peak extra memory during the default fit / X.nbytes"
        rec = datasets.get(name, {}).get("methods", {}).get("ours", {})
        if "memory_ratio" not in rec:
            add(target, name, "not run", "<= 0.1", "n/a")
            continue
        add(target, name, f"{rec['memory_ratio']:.3f}", "<= 0.1", _status(rec["memory_ratio"] <= 0.1))

    # Asked for beside the ill-scaled target: how far lbfgs gets there.
    entry = datasets.get("ill-scaled", {}).get("time_to_gap", {}).get("lbfgs", {}).get(gap_key(1e-3))
    if entry and "error" not in entry:
        text = (f"reaches 1e-3 in {entry['seconds']:.3g} s" if entry.get("reached") else
                f"best gap {entry['best_gap']:.1e} at max_iter={entry['max_iter']} "
                f"({entry.get('n_iter', '?')} iterations, {entry['seconds']:.3g} s)")
        add("lbfgs on the ill-scaled set (reported, no threshold)", "ill-scaled", text, "-", "info")
    # Only the datasets of this run: a subset shows its own targets.
    return [row for row in rows if row["dataset"] in datasets]


# -- Markdown ------------------------------------------------------------------
def fmt_seconds(s):
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def _fmt_gap(gap):
    return "-" if gap is None else f"{gap:.1e}"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _environment_lines(results):
    env, config = results["environment"], results["config"]
    v = env["versions"]
    lines = [
        f"- Date (UTC): {env['date']}; mode: **{config['mode']}**; command: `{config['command']}`",
        f"- CPU: {env['cpu']}, {env['cores_available']} cores available ({env['cpu_count']} online); "
        f"{env['platform']}",
        f"- Load average (1, 5, 15 min) at start: {env['load_average_start']}, at end: "
        f"{env.get('load_average_end')} (the machine may be shared: compare ratios measured in the same run)",
    ]
    for pool in env["threadpools"]:
        lines.append(
            f"- Thread pool: {pool.get('user_api')} {pool.get('internal_api')} {pool.get('version')}, "
            f"{pool.get('num_threads')} threads, {pool.get('threading_layer', '-')}, "
            f"{pool.get('architecture', '-')}"
        )
    if config.get("blas_threads"):
        lines.append(f"- BLAS thread pools limited to {config['blas_threads']} thread(s) for this run")
    lines.append(
        "- Versions: " + ", ".join(f"{name} {version}" for name, version in v.items())
    )
    lines.append(
        f"- alpha = {config['alpha']:g} for every method (LogisticRegression C = 1/(alpha n_train), "
        "MLPClassifier alpha = alpha n_train); repeats: median of up to "
        f"{config['repeats']} fits, fewer once they have taken {config['long_seconds']:g} s"
    )
    return lines


def _dataset_section(d):
    out = [f"## {d['name']}", "", f"{d['description']}.  ", f"{d['summary']}.", ""]
    if "error" in d:
        out += [f"**error**: {d['error']}", ""]
        return out
    ref = d.get("reference", {})
    if ref:
        out.append(
            f"J* = {ref['J_star']:.15g} (reference: {ref['lbfgs_iterations']} L-BFGS-B + "
            f"{ref['newton_iterations']} Newton iterations over {d['n_outputs']} unit(s), "
            f"{fmt_seconds(ref['seconds'])}{', cached' if ref.get('cached') else ''}; "
            f"max |dJ/d(W, b)| there {ref['max_grad']:.1e})."
        )
    if d.get("limit_seconds"):
        shape = "(p,)" if d["n_outputs"] == 1 else f"(p, {d['n_outputs']})"
        out.append(
            f"Two-product limit (one X @ v + one X.T @ u, v of shape {shape}): "
            f"{fmt_seconds(d['limit_seconds'])} (median of {d['limit_repeats']})."
        )
    for key, label in (
        ("per_iteration", "Ours (diagonal metric, tol=0)"),
        ("per_iteration_default", "Ours (defaults, tol=0)"),
    ):
        per_iter = d.get(key, {})
        if "marginal_seconds" in per_iter:
            ratio = per_iter["marginal_seconds"] / d["limit_seconds"] if d.get("limit_seconds") else None
            emphasis = "**" if key == "per_iteration" else ""
            out.append(
                f"{label} per iteration: {fmt_seconds(per_iter['marginal_seconds'])} "
                f"= ({fmt_seconds(per_iter['seconds'][1])} - {fmt_seconds(per_iter['seconds'][0])}) / "
                f"({per_iter['n_iter'][1]} - {per_iter['n_iter'][0]}) iterations"
                + (f", {emphasis}{ratio:.2f} x the limit{emphasis}" if ratio else "")
                + f"; whole fit / iterations: {fmt_seconds(per_iter['average_seconds'])}."
            )
        elif "error" in per_iter:
            out.append(f"{label} per-iteration time: error: {per_iter['error']}")
    out.append("")

    methods = d.get("methods", {})
    if methods:
        rows = []
        for name, rec in methods.items():
            if "skipped" in rec:
                rows.append([name, rec["settings"], "skipped: " + rec["skipped"], "", "", "", "", "", ""])
                continue
            if "error" in rec and "time" not in rec:
                rows.append([name, rec["settings"], "**error**: " + rec["error"], "", "", "", "", "", ""])
                continue
            mem = rec.get("memory_ratio")
            mem_text = "-" if mem is None else f"{mem:.3f}"
            if mem is not None and rec.get("memory_max_iter"):
                mem_text += f" ({rec['memory_max_iter']} it)"
            settings = rec["settings"] + (f", max_iter={rec['max_iter']}" if rec.get("max_iter") else "")
            if "error" in rec:
                settings += f" **error**: {rec['error']}"
            rows.append(
                [
                    name,
                    settings,
                    f"{fmt_seconds(rec['time'])} ({len(rec['times'])})",
                    rec["n_iter"],
                    _fmt_gap(rec["gap"]),
                    f"{rec['accuracy']:.4f}",
                    f"{rec['log_loss']:.4f}",
                    mem_text,
                    rec["convergence_warnings"],
                ]
            )
        out.append(
            _table(
                ["method", "settings", "time (runs)", "iters", "gap", "accuracy", "log-loss", "mem / X", "warn"],
                rows,
            )
        )
        out.append("")

    ttg = d.get("time_to_gap", {})
    if ttg:
        rows = []
        for name, entry in ttg.items():
            if "error" in entry:
                rows.append([name, f"**error**: {entry['error']}", ""])
                continue
            cells = []
            for target in GAP_TARGETS:
                e = entry.get(gap_key(target), {})
                if e.get("reached"):
                    cells.append(f"{fmt_seconds(e['seconds'])} ({e['max_iter']} it, gap {e['gap']:.1e})")
                elif e:
                    cells.append(
                        f"not reached: best {e['best_gap']:.1e} at max_iter={e['max_iter']} "
                        f"({e.get('n_iter', '?')} it, {fmt_seconds(e['seconds'])})"
                    )
                else:
                    cells.append("-")
            rows.append([name, *cells])
        out += ["Time to gap (median wall time of a fit with the max_iter that reaches the gap):", ""]
        out.append(_table(["method", "gap 1e-3", "gap 1e-6"], rows))
        out.append("")
    for note in d.get("notes", []):
        out.append(f"- {note}")
    if d.get("notes"):
        out.append("")
    return out


METHOD_NOTES = """\
How the numbers are measured:

- **gap** = (J - J*) / J* on our J (float64, on the training rows, evaluated by the harness on each
  method's coef/intercept, independent of the package).  J* is the harness's own reference optimum:
  per output unit, SciPy L-BFGS-B in scaled, centred coordinates (z_j = w_j sqrt(var_j + alpha),
  intercept at the column means), then Newton steps with the exact Hessian to float64 rounding when X
  is dense with <= 2,000 features.  Multiclass J* is the sum of the K independent units.
- **time**: wall time of `fit` only (validation included), median of the runs in parentheses.
  Iterations: epochs for saga, SGD and adam; summed over the K units for one-vs-rest peers.
- **mem / X**: peak of tracemalloc (NumPy and Python allocations) during one extra fit, divided by
  X.nbytes (data + indices + indptr for CSR).  Allocations inside BLAS or compiled code that bypass
  NumPy are not seen.  "(n it)": that fit was capped at n iterations (the peak is set in the setup
  and the first iterations), to bound the run time.
- **warn**: ConvergenceWarnings raised by the timed fit.
- Peers: multiclass LogisticRegression is `OneVsRestClassifier(LogisticRegression(...))` and
  MLPClassifier is fitted on the 0/1 indicator matrix (K logistic outputs), so that both solve our
  one-vs-rest problem rather than a softmax one.  Slow peers (saga, SGD, adam, MLP-lbfgs) and our
  non-default variants run with a capped `max_iter` on the large sets (shown in settings).
- **Time to gap**, ours: one untimed fit with tol=0 records `loss_curve_`; the first iteration k
  whose loss is within the gap gives `max_iter=k`; a fit with `max_iter=k, tol=0` is then timed
  (median of runs) and its gap recomputed by the harness (k is increased until that gap is met).
  Peers (lbfgs, newton-cholesky): the gap after `max_iter=k` (tol=1e-12) is probed for
  k = 1, 2, 4, ... and bisected to the smallest k that reaches the gap; the fit with that max_iter
  is timed (median of runs).  "not reached": the best gap over the probes (up to the cap), and the
  time of that fit.
- **Per iteration**: ours with tol=0 is timed at two max_iter values; the difference of the
  medians over the difference of iterations is the cost of one iteration without the setup.  The
  target uses the diagonal metric (`ours-nesterov-diagonal`): its fits run long enough for the
  difference to measure steady iterations.  The defaults (the Hessian metric on the dense sets) are
  shown too: they reach float64 precision within about a dozen iterations, so their tol=0 fits stop
  early ("flat"), and their later iterations, which only evaluate rounding, include the host solve
  with the Hessian's factors.  The **limit** is the median time of one `X @ v` plus one `X.T @ u`
  with NumPy/SciPy.
"""


def markdown(results):
    title = "Benchmark results" + (" (quick mode: tiny datasets, for CI only)" if results["config"]["mode"] == "quick" else "")
    out = [f"# {title}", "", "Generated by `python benchmarks/run.py`; see `benchmarks/README.md`.", ""]
    out += _environment_lines(results)
    out += ["", "## Targets (issue 7, item 5)", ""]
    out.append(
        _table(
            ["target", "dataset", "measured", "threshold", "status"],
            [[r["target"], r["dataset"], r["measured"], r["threshold"], r["status"]] for r in results["targets"]],
        )
    )
    out.append("")
    if results.get("errors"):
        out += ["## Errors", ""] + [f"- {e}" for e in results["errors"]] + [""]
    for d in results["datasets"].values():
        out += _dataset_section(d)
    out += ["## Method", "", METHOD_NOTES]
    return "\n".join(out)
