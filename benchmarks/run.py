# SPDX-License-Identifier: BSD-3-Clause
"""The benchmarks of skperceptron: one entry point, five modes.

Usage::

    python benchmarks/run.py                 # the comparison, full (< 25 min on 2 cores): RESULTS.md, results.json
    python benchmarks/run.py --quick         # tiny datasets, for CI (< 2 min); writes to a temp dir
    python benchmarks/run.py --datasets classification-f64 --methods ours,lbfgs,newton-cholesky
    python benchmarks/run.py --list          # the dataset and method names
    python benchmarks/run.py --gpu           # on a CUDA machine with PyTorch (< 5 min); elsewhere says so, exit 0
    python benchmarks/run.py --gpu --quick   # tiny, PyTorch on the CPU without CUDA (seconds)
    python benchmarks/run.py --dask          # docs/scaling.rst's table (a few minutes)
    python benchmarks/run.py --dask --quick  # small sizes, under a minute
    python benchmarks/run.py --workflow --label before  # GridSearchCV next to LogisticRegression (~30 min)
    python benchmarks/run.py --workflow --quick         # 2 alphas, 2 folds, 2 small sets (seconds)
    python benchmarks/run.py --cv            # the cross-validated estimator (benchmarks/_cv.py)

The comparison (``_compare.py``) fits BCEPerceptronClassifier and its peers on
every dataset: the reference optimum J*, the two-product limit, time,
iterations, gap, held-out scores and memory, the time to gaps 1e-3 and 1e-6,
the time per iteration, and the targets of issue 7.  ``--gpu`` (``_gpu.py``)
times the fit on a CUDA device beside the CPU and scikit-learn; ``--dask``
(``_dask_scaling.py``) times it on a LocalCluster against workers and data
size, next to dask-ml; ``--workflow`` (``_workflow.py``, ``_workflow_report.py``)
times GridSearchCV over alpha next to LogisticRegression (issue 13); ``--cv``
runs ``_cv.run_cv``.  The datasets are in ``_datasets.py``, the methods in
``_methods.py``, J and J* in ``_reference.py``.  See benchmarks/README.md.

The exit status is 1 when a measurement raised, when ``clf.objective``
disagrees with the harness's own J, or when the GPU parity check fails; never
because of a time.
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The names of --workflow's datasets (_workflow.DATASETS, listed here for
# --help without importing scikit-learn).
WORKFLOW_SETS = ("breast-cancer", "wine", "iris", "digits", "binary-5000x50", "5-classes-20000x100")

# The modes of each option that not every mode takes (dest: flag, modes);
# --list counts as the comparison.
OPTION_MODES = {
    "datasets": ("--datasets", {"comparison", "workflow"}),
    "methods": ("--methods", {"comparison"}),
    "parts": ("--parts", {"comparison", "workflow"}),
    "blas_threads": ("--blas-threads", {"comparison"}),
    "no_cache": ("--no-cache", {"comparison"}),
    "device": ("--device", {"gpu"}),
    "budget": ("--budget", {"gpu", "workflow"}),
    "n_samples": ("--n-samples", {"gpu"}),
    "n_features": ("--n-features", {"gpu"}),
    "repeats": ("--repeats", {"comparison", "dask", "workflow"}),
    "output_dir": ("--output-dir", {"comparison", "dask", "workflow"}),
    "threads": ("--threads", {"workflow", "cv"}),
    "label": ("--label", {"workflow"}),
}
MODES = ("gpu", "dask", "workflow", "cv")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog="Names of datasets and methods: --list.",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--gpu", action="store_true", help="PyTorch on a CUDA device (exit 0 without one)")
    which.add_argument("--dask", action="store_true", help="Dask LocalCluster scaling, next to dask-ml")
    which.add_argument("--workflow", action="store_true",
                       help="GridSearchCV over alpha next to LogisticRegression (issue 13)")
    which.add_argument("--cv", action="store_true", help="the cross-validated estimator (benchmarks/_cv.py)")
    which.add_argument("--list", action="store_true", help="list the datasets and methods and exit")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat: the CI smoke run")
    parser.add_argument("--repeats", type=int,
                        help="fits per timing, median reported (default 3, quick 1); --dask: best of "
                             "(default 2, quick 1); --workflow: rounds of searches per row, on every row (default: 3 "
                             "where each first search took at most 30 s, else 1; quick 1)")
    parser.add_argument("--output-dir", type=Path,
                        help="where RESULTS.md and results.json go (default: benchmarks/ for a full run of "
                             "everything, else a temporary directory); --dask: dask_scaling.rst, only if given; "
                             "--workflow: RESULTS.md (its block) and workflow-LABEL.json")
    parser.add_argument("--datasets", help="comma-separated names or shell patterns (default: all); "
                                           "--workflow: among " + ", ".join(WORKFLOW_SETS))
    comparison = parser.add_argument_group("the comparison (no mode flag)")
    comparison.add_argument("--methods", help="comma-separated names or shell patterns, e.g. 'ours*,lbfgs'")
    comparison.add_argument("--parts", default=None,
                            help="what to measure, among main (default fits), memory, ttg (time to gap), "
                                 "limit (two-product limit and ours' per-iteration time); --workflow: searches, "
                                 "default-fits; default: all")
    comparison.add_argument("--blas-threads", type=int,
                            help="limit the BLAS thread pools (threadpoolctl) for the whole run; 0: no "
                                 "limit (default: no limit, 1 with --quick)")
    comparison.add_argument("--no-cache", action="store_true",
                            help="recompute the reference optima (default: cached under "
                                 "$SKPERCEPTRON_BENCH_CACHE or ~/.cache/skperceptron-bench)")
    gpu = parser.add_argument_group("--gpu")
    gpu.add_argument("--device", help="torch device (default: cuda; cpu with --quick when there is no CUDA)")
    parser.add_argument("--budget", type=float,
                        help="--gpu: seconds after which no new fit starts (default 270); --workflow: seconds per "
                             "search, cut at its next scoring (default 120, quick 10)")
    gpu.add_argument("--n-samples", type=int, help="default 1,000,000 (quick 4,000)")
    gpu.add_argument("--n-features", type=int, help="default 500 (quick 40)")
    workflow = parser.add_argument_group("--workflow and --cv")
    workflow.add_argument("--threads", type=_thread_counts,
                          help="comma-separated thread counts, each run in turn under a threadpoolctl limit "
                               "(default 1,2; quick 1)")
    workflow.add_argument("--label", help="--workflow: the block of RESULTS.md and workflow-LABEL.json "
                                          "(default: latest), e.g. before, after")
    args = parser.parse_args(argv)
    args.mode = next((mode for mode in MODES if getattr(args, mode)), "comparison")
    misplaced = [flag for dest, (flag, modes) in OPTION_MODES.items()
                 if args.mode not in modes and getattr(args, dest) not in (None, False)]
    if misplaced:
        parser.error(f"{', '.join(misplaced)}: not an option of this mode")
    if args.gpu:
        args.budget = 270.0 if args.budget is None else args.budget
    return args


def _thread_counts(text):
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: comma-separated positive integers, e.g. 1,2")
    return counts


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.gpu:
        # scikit-learn's Array API support needs SciPy's, read when SciPy is
        # first imported; set for this mode only (it slows some SciPy calls).
        os.environ.setdefault("SCIPY_ARRAY_API", "1")
        import _gpu

        return _gpu.main(args)
    if args.dask:
        import _dask_scaling

        return _dask_scaling.main(args)
    if args.workflow:
        import _workflow_report

        return _workflow_report.main(args, argv)
    if args.cv:
        return _run_cv(args)
    if args.list:
        import _datasets
        import _methods

        for name in _datasets.BUILDERS:
            print(f"dataset {name}")
        for name, method in _methods.METHODS.items():
            print(f"method  {name:<20s} {method.settings}")
        return 0
    import _compare

    return _compare.main(args, argv)


def _run_cv(args):
    """``--cv``: ``_cv.run_cv(quick, n_threads)`` per thread count, its Markdown printed."""
    try:
        import _cv
    except ImportError as exc:
        if exc.name != "_cv":
            raise
        print("run.py --cv: benchmarks/_cv.py is not there yet (it provides run_cv(quick, n_threads))",
              file=sys.stderr)
        return 1
    for n_threads in args.threads or ([1] if args.quick else [1, 2]):
        print(_cv.run_cv(args.quick, n_threads))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
