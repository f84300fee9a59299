# SPDX-License-Identifier: BSD-3-Clause
"""``--workflow``: the run, its JSON and its labelled block of RESULTS.md.

Each ``--label NAME`` owns the block between ``<!-- workflow:NAME -->`` and
``<!-- /workflow:NAME -->`` under the heading ``WORKFLOW_HEADING`` (so that
"before" and "after" sit side by side) and ``workflow-NAME.json``.  A run
merges its rows into those of the same label already written there (a 1-thread
run, then a 2-thread run), replacing the rows it measured again.
"""

import json
import math
import os
import re
import shlex
import subprocess
import tempfile
import time
from pathlib import Path

import _compare
import _report
import _workflow
from _report import fmt_seconds

HERE = Path(__file__).resolve().parent
PARTS = ("searches", "default-fits")
WORKFLOW_HEADING = "## Workflow benchmark (issue 13)"
INTRO = """\
Written by `python benchmarks/run.py --workflow --label NAME`, one block per label (see
`benchmarks/_workflow.py`): `GridSearchCV(make_pipeline(StandardScaler(), est), 12 alphas
logspace(-5, 0), cv=StratifiedKFold(5, shuffle=True, random_state=0))`, the whole search timed (60 fits,
scoring, refit).  Peers: LogisticRegression with `C = 1 / (alpha * n)`, n the rows of each fit (the fold's
training rows; all rows for the refit), same `l1_ratio`; **multiclass peers are
`OneVsRestClassifier(LogisticRegression)`**, the one-vs-rest loss that ours minimizes.  Threads:
threadpoolctl limit (BLAS and OpenMP) in the process.  "> budget": the search was cut at its first
scoring past the budget.  Targets: L2 <= 1.0x the faster of lbfgs and newton-cholesky; L1 <= 1.0x
liblinear (binary; liblinear also penalizes the intercept), <= 0.25x saga (multiclass); elastic net
<= 0.5x saga; 0 ConvergenceWarnings for ours (counted over the 60 fits and the refit).  "Harness
floor": the same search over a classifier that fits nothing (the pipeline, scaler, folds, scoring and
GridSearchCV by themselves), beside the ratio of the times ours and the best peer spend above it; a
status "target below the harness floor" means the target time is less than the floor's, which no
estimator can meet.  Before the first row every method runs one untimed search on iris (and on its
first two classes), so that no timed search pays the process's first calls.
"""


def _key(entry, *fields):
    return tuple(entry[f] for f in fields)


def _commit():
    """The package's git commit (``+`` if its tree differs from it), or None."""
    def git(*args):
        return subprocess.run(["git", "-C", str(HERE.parent), *args], capture_output=True, text=True)

    head = git("rev-parse", "--short", "HEAD")
    if head.returncode:
        return None
    dirty = git("status", "--porcelain", "--", "skperceptron").stdout.strip()
    return head.stdout.strip() + ("+" if dirty else "")


def merge(old, new):
    """``new`` with the rows and default fits of ``old`` that it did not measure again."""
    if old is None:
        return new
    out = dict(new)
    for part, fields in (("rows", ("dataset", "penalty", "threads")), ("default_fits", ("dataset", "threads"))):
        fresh = {_key(e, *fields) for e in new[part]}
        out[part] = [e for e in old[part] if _key(e, *fields) not in fresh] + new[part]
    kept = len(out["rows"]) + len(out["default_fits"]) > len(new["rows"]) + len(new["default_fits"])
    out["runs"] = (old["runs"] if kept else []) + new["runs"]
    return out


# -- Markdown -------------------------------------------------------------------
def _time(result, budget):
    if "error" in result:
        return "**error**"
    if result["exceeded"]:
        return f"> {budget:g} s (budget)"
    return fmt_seconds(result["seconds"])


def _ratio(row):
    if row["ratio"] is None:
        return "-"
    return f"{row['ratio_bound'] or ''}{row['ratio']:.2f} ({row['best_peer']})"


def _floor(row, budget):
    """The harness floor's time and, where every search finished, the ratio
    of what ours and the best peer spend above it."""
    floor = row["results"].get(_workflow.FLOOR)
    if not floor:
        return "-"
    text = _time(floor, budget)
    results, best = row["results"], row.get("best_peer")
    if "seconds" in floor and row["ratio_bound"] is None and row["ratio"] is not None:
        above = results[best]["seconds"] - floor["seconds"]
        if above > 0:
            text += f"; above it {(results['ours']['seconds'] - floor['seconds']) / above:.2f}"
    return text


def _score(result):
    if "best_score" not in result:
        return "-"
    return f"{result['best_score']:.4f} ({result['best_alpha']:.1e})"


def _row_cells(row, budget):
    results = row["results"]
    data = row["dataset"] + (f" ({row['n_classes']} classes, OvR peers)" if row["one_vs_rest"] else "")
    peers = ", ".join(f"{p} {_time(results.get(p, {'error': '?'}), budget)}" for p in row["peers"])
    warned = " / ".join([str(results["ours"].get("convergence_warnings", "-")), ", ".join(
        str(results.get(p, {}).get("convergence_warnings", "-")) for p in row["peers"])])
    scores = " / ".join([_score(results["ours"]), ", ".join(_score(results.get(p, {})) for p in row["peers"])])
    return [data, row["penalty"], row["threads"], _time(results["ours"], budget), peers,
            _floor(row, budget), _ratio(row),
            f"<= {row['threshold']:g}", warned, scores, row["status"],
            f"{row['load_average'][0]:.1f}" if row.get("load_average") else "-"]


def _gap_and_warnings(fit):
    return ([f"gap {fit['gap']:.1e}"] if fit["gap"] > _workflow.GAP_TARGET else []) + (
        [f"{fit['convergence_warnings']} warnings"] if fit["convergence_warnings"] else [])


def _status(problems):
    return "met" if not problems else "MISSED (" + ", ".join(problems) + ")"


def default_fit_status(entry):
    """The targets of the single fits: gap and warnings; time <= lbfgs on
    iris and breast cancer; max_iter=1 on iris <= 1 ms."""
    methods = entry["methods"]
    ours = methods["ours"]
    problems = _gap_and_warnings(ours)
    if entry["dataset"] in ("iris", "breast-cancer") and ours["seconds"] > methods["lbfgs"]["seconds"]:
        problems.append("time > lbfgs")
    fixed = methods.get("ours max_iter=1")
    if entry["dataset"] == "iris" and fixed and fixed["seconds"] > 1e-3:
        problems.append("max_iter=1 > 1 ms")
    return _status(problems)


def _default_cells(entry):
    methods = entry["methods"]
    names = _workflow.DEFAULT_FIT_METHODS
    fixed = methods.get("ours max_iter=1")
    return [entry["dataset"], entry["threads"], *(fmt_seconds(methods[m]["seconds"]) for m in names),
            fmt_seconds(fixed["seconds"]) if fixed else "-",
            " / ".join(str(methods[m]["n_iter"]) for m in names),
            " / ".join(f"{methods[m]['gap']:.1e}" for m in names),
            methods["ours"]["convergence_warnings"], default_fit_status(entry)]


def _penalized_rows(entry):
    for fit in entry.get("penalized", []):
        ours, (peer, theirs) = fit["methods"]["ours"], next((m, r) for m, r in fit["methods"].items() if m != "ours")
        yield [entry["dataset"], entry["threads"], fit["penalty"], fmt_seconds(ours["seconds"]),
               f"{peer} {fmt_seconds(theirs['seconds'])}", f"{ours['n_iter']} / {theirs['n_iter']}",
               f"{ours['gap']:.1e} / {theirs['gap']:.1e}",
               f"{ours['convergence_warnings']} / {theirs['convergence_warnings']}",
               _status(_gap_and_warnings(ours))]


def _run_lines(run):
    env = run["environment"]
    v = env["versions"]
    return [f"- {env['date']}: `{run['command']}` at {run.get('commit') or '?'}, {run['seconds']:.0f} s; "
            f"load average (1, 5, 15 min) at start {[round(x, 2) for x in env['load_average_start']]}, at end "
            f"{[round(x, 2) for x in env['load_average_end']]} (shared machine: compare ratios of one run); "
            f"{env['cpu']}, {env['cores_available']} cores; numpy {v['numpy']}, scipy {v['scipy']}, "
            f"scikit-learn {v['scikit-learn']}, skperceptron {v['skperceptron']}"]


def _repeats(config):
    """How many searches a row's times are the median of."""
    repeats, short = config["repeats"], config.get("short_search")
    if repeats == 1:
        return "one search per method"
    if short is None or short == math.inf:
        return f"median of {repeats} searches per method, in rounds"
    return (f"median of {repeats} searches per method, in rounds (ours, the peers, the floor, again), "
            f"where each search of the row's first round took at most {short:g} s; else one")


def block(result):
    """The Markdown between the label's markers."""
    config = result["config"]
    out = [f"### {result['label']}", ""]
    for run in result["runs"]:
        out += _run_lines(run)
    out += [f"- Grid: {len(config['alphas'])} alphas from {min(config['alphas']):g} to {max(config['alphas']):g}, "
            f"{config['folds']} folds, budget {config['budget']:g} s per search, {_repeats(config)}; "
            "best CV accuracy with its alpha", ""]
    rows = sorted(result["rows"], key=lambda r: (r["threads"], list(_workflow.DATASETS).index(r["dataset"])
                                                 if r["dataset"] in _workflow.DATASETS else 99,
                                                 list(_workflow.PENALTIES).index(r["penalty"])))
    out.append(_report._table(
        ["data", "penalty", "threads", "ours", "peers", "harness floor; ours / best peer above it",
         "ours / best peer", "target", "ConvergenceWarnings "
         "ours / peers", "best CV accuracy ours / peers", "status", "load (1 min)"],
        [_row_cells(r, config["budget"]) for r in rows]))
    met = sum(r["status"] == "met" for r in rows)
    out += ["", f"Workflow targets met: {met} of {len(rows)} rows.", ""]
    if result["default_fits"]:
        out += [f"Single default fits (standardized, alpha = 1e-4, median of {config['default_repeats']}); gap = "
                "(J - J*) / J* on the harness's J* (target 1e-4):", ""]
        out.append(_report._table(
            ["data", "threads", "ours", "lbfgs", "newton-cholesky", "ours max_iter=1",
             "iterations ours / lbfgs / newton-cholesky", "gap ours / lbfgs / newton-cholesky", "warnings ours",
             "status"],
            [_default_cells(e) for e in sorted(result["default_fits"], key=lambda e: e["threads"])]))
        penalized = [row for e in sorted(result["default_fits"], key=lambda e: e["threads"])
                     for row in _penalized_rows(e)]
        if penalized:
            out += ["", "The same with an L1 part (ours and the workflow's peer at their defaults; J* the lower of "
                    "ours at tol=1e-10 and an L-BFGS-B fit of the split w = u - v; liblinear's gap includes "
                    "its penalized intercept):", ""]
            out.append(_report._table(["data", "threads", "penalty", "ours", "peer", "iterations ours / peer",
                                       "gap ours / peer", "warnings ours / peer", "status"], penalized))
        out.append("")
    return "\n".join(out)


def update_results(text, label, body):
    """RESULTS.md's text with the label's block replaced, else put after the
    last label's block, else appended under WORKFLOW_HEADING."""
    start, end = f"<!-- workflow:{label} -->", f"<!-- /workflow:{label} -->"
    new = f"{start}\n{body}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: new, text)
    ends = list(re.finditer(r"<!-- /workflow:[^>]*-->\n?", text))
    if ends:  # beside the other labels, before whatever sections follow them
        at = ends[-1].end()
        rest = text[at:].lstrip("\n")
        return text[:at].rstrip("\n") + "\n\n" + new + "\n" + ("\n" + rest if rest.strip() else "")
    if WORKFLOW_HEADING not in text:
        text = text.rstrip("\n") + ("\n\n" if text.strip() else "") + f"{WORKFLOW_HEADING}\n\n{INTRO}"
    return text.rstrip("\n") + "\n\n" + new + "\n"


def workflow_section(text):
    """The workflow part of RESULTS.md, kept when the comparison rewrites the rest."""
    index = text.find(WORKFLOW_HEADING)
    return "" if index < 0 else text[index:]


def json_path(output_dir, label):
    return output_dir / f"workflow-{label}.json"


def load(output_dir, label):
    """The label's result written there before, or None."""
    path = json_path(output_dir, label)
    return json.loads(path.read_text()) if path.exists() else None


def write(result, output_dir):
    """The label's JSON, and its block of RESULTS.md (the rest of the file kept);
    each row's status evaluated again, by the rules of this version."""
    for row in result["rows"]:
        row.update(_workflow.evaluate(row))
    output_dir.mkdir(parents=True, exist_ok=True)
    json_path(output_dir, result["label"]).write_text(
        json.dumps(_compare._finite(result), indent=1, default=_compare._json_default) + "\n")
    results_md = output_dir / "RESULTS.md"
    text = results_md.read_text() if results_md.exists() else ""
    results_md.write_text(update_results(text, result["label"], block(result)))


# -- the run ---------------------------------------------------------------------
def main(args, argv):
    mode = _workflow.MODES["quick" if args.quick else "full"]
    names = _compare._select(args.datasets, list(mode.datasets), "dataset")
    threads = tuple(args.threads) if args.threads else mode.threads
    mode.budget = args.budget if args.budget is not None else mode.budget
    if args.repeats is not None:  # that many rounds on every row
        mode.repeats, mode.short_search = max(1, args.repeats), math.inf
    everything = not (args.quick or args.datasets or args.threads or args.budget is not None or args.repeats
                      or args.parts)
    output_dir = args.output_dir or (HERE if everything else Path(tempfile.gettempdir()) / "skperceptron-bench")
    label = args.label or "latest"
    parts = set(_compare._select(args.parts, list(PARTS), "part"))
    started = time.perf_counter()
    environment = _report.environment()
    run = {"environment": environment, "command": "python benchmarks/run.py " + shlex.join(argv),
           "commit": _commit()}
    result = {"label": label, "mode": mode.name, "runs": [run], "rows": [], "default_fits": [],
              "config": {"alphas": list(mode.alphas), "folds": mode.folds, "budget": mode.budget,
                         "repeats": mode.repeats, "short_search": mode.short_search,
                         "default_repeats": mode.default_repeats}}
    before = load(output_dir, label)

    def checkpoint():  # after each row: an interrupted run keeps what it measured
        environment["load_average_end"] = list(os.getloadavg())
        run["seconds"] = time.perf_counter() - started
        write(merge(before, result), output_dir)

    errors = 0
    if "searches" in parts:
        _workflow.warm_up(_compare.log)
    for n_threads in threads:  # 1 thread for every set first: the first rows written are complete
        for name in names if "searches" in parts else ():
            X, y = _workflow.DATASETS[name]()
            for penalty in _workflow.PENALTIES:
                row = _workflow.run_row(name, X, y, penalty, n_threads, mode, _compare.log)
                errors += sum("error" in r for r in row["results"].values())
                result["rows"].append(row)
                checkpoint()
        for name in (n for n in names if n in mode.default_fit_sets and "default-fits" in parts):
            result["default_fits"].append(_workflow.default_fits(name, n_threads, mode))
            checkpoint()
    _compare.log(f"done in {time.perf_counter() - started:.0f} s; wrote "
                 f"{output_dir / 'RESULTS.md'} and workflow-{label}.json")
    return 1 if errors else 0
