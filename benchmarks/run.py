# SPDX-License-Identifier: BSD-3-Clause
"""The benchmarks of skperceptron: one entry point, three modes.

Usage::

    python benchmarks/run.py                 # the comparison, full (< 25 min on 2 cores): RESULTS.md, results.json
    python benchmarks/run.py --quick         # tiny datasets, for CI (< 2 min); writes to a temp dir
    python benchmarks/run.py --datasets classification-f64 --methods ours,lbfgs,newton-cholesky
    python benchmarks/run.py --list          # the dataset and method names
    python benchmarks/run.py --gpu           # on a CUDA machine with PyTorch (< 5 min); elsewhere says so, exit 0
    python benchmarks/run.py --gpu --quick   # tiny, PyTorch on the CPU without CUDA (seconds)
    python benchmarks/run.py --dask          # docs/scaling.rst's table (a few minutes)
    python benchmarks/run.py --dask --quick  # small sizes, under a minute

The comparison (``_compare.py``) fits BCEPerceptronClassifier and its peers on
every dataset: the reference optimum J*, the two-product limit, time,
iterations, gap, held-out scores and memory, the time to gaps 1e-3 and 1e-6,
the time per iteration, and the targets of issue 7.  ``--gpu`` (``_gpu.py``)
times the fit on a CUDA device beside the CPU and scikit-learn; ``--dask``
(``_dask_scaling.py``) times it on a LocalCluster against workers and data
size, next to dask-ml.  The datasets are in ``_datasets.py``, the methods in
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

# Options of the comparison only, and of the GPU mode only (dest: flag).
COMPARISON_ONLY = {"datasets": "--datasets", "methods": "--methods", "parts": "--parts",
                   "blas_threads": "--blas-threads", "no_cache": "--no-cache"}
GPU_ONLY = {"device": "--device", "budget": "--budget", "n_samples": "--n-samples",
            "n_features": "--n-features"}


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog="Names of datasets and methods: --list.",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--gpu", action="store_true", help="PyTorch on a CUDA device (exit 0 without one)")
    which.add_argument("--dask", action="store_true", help="Dask LocalCluster scaling, next to dask-ml")
    which.add_argument("--list", action="store_true", help="list the datasets and methods and exit")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat: the CI smoke run")
    parser.add_argument("--repeats", type=int,
                        help="fits per timing, median reported (default 3, quick 1); --dask: best of "
                             "(default 2, quick 1)")
    parser.add_argument("--output-dir", type=Path,
                        help="where RESULTS.md and results.json go (default: benchmarks/ for a full run of "
                             "everything, else a temporary directory); --dask: dask_scaling.rst, only if given")
    comparison = parser.add_argument_group("the comparison (neither --gpu nor --dask)")
    comparison.add_argument("--datasets", help="comma-separated names or shell patterns (default: all)")
    comparison.add_argument("--methods", help="comma-separated names or shell patterns, e.g. 'ours*,lbfgs'")
    comparison.add_argument("--parts", default=None,
                            help="what to measure, among main (default fits), memory, ttg (time to gap), "
                                 "limit (two-product limit and ours' per-iteration time); default: all")
    comparison.add_argument("--blas-threads", type=int,
                            help="limit the BLAS thread pools (threadpoolctl) for the whole run; 0: no "
                                 "limit (default: no limit, 1 with --quick)")
    comparison.add_argument("--no-cache", action="store_true",
                            help="recompute the reference optima (default: cached under "
                                 "$SKPERCEPTRON_BENCH_CACHE or ~/.cache/skperceptron-bench)")
    gpu = parser.add_argument_group("--gpu")
    gpu.add_argument("--device", help="torch device (default: cuda; cpu with --quick when there is no CUDA)")
    gpu.add_argument("--budget", type=float, help="seconds after which no new fit starts (default 270)")
    gpu.add_argument("--n-samples", type=int, help="default 1,000,000 (quick 4,000)")
    gpu.add_argument("--n-features", type=int, help="default 500 (quick 40)")
    args = parser.parse_args(argv)
    misplaced = [flag for dest, flag in COMPARISON_ONLY.items()
                 if (args.gpu or args.dask) and getattr(args, dest) not in (None, False)]
    misplaced += [flag for dest, flag in GPU_ONLY.items() if not args.gpu and getattr(args, dest) is not None]
    if args.gpu:  # one fit per method; the table is printed
        misplaced += [flag for flag, value in (("--repeats", args.repeats), ("--output-dir", args.output_dir))
                      if value is not None]
    if misplaced:
        parser.error(f"{', '.join(misplaced)}: not an option of this mode")
    args.budget = 270.0 if args.budget is None else args.budget
    return args


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


if __name__ == "__main__":
    raise SystemExit(main())
