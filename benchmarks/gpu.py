# SPDX-License-Identifier: BSD-3-Clause
"""BCEPerceptronClassifier on a GPU (PyTorch CUDA) beside the CPU and scikit-learn.

Usage::

    python benchmarks/gpu.py            # on a machine with a CUDA GPU, < 5 minutes
    python benchmarks/gpu.py --smoke    # tiny, CPU-only (PyTorch on the CPU), seconds

First a parity check: the same small problem fitted with NumPy and with
PyTorch on the device must give the same coefficients (1e-6 in float64, 1e-4
in float32).  Then, on ``make_classification(1_000_000 x 500)`` in float32 and
float64, one fit each of

- ours, PyTorch on the device (the whole solver loop there),
- ours, NumPy on the CPU,
- ``LogisticRegression(solver="lbfgs")`` on the CPU,
- ``LogisticRegression(solver="lbfgs")`` under ``array_api_dispatch`` on the
  device (its objective and gradient on the device, L-BFGS on the host),

all on the same problem (``C = 1 / (alpha * n_samples)``) and the same
``tol``, printed as one table: fit time, iterations, the objective ``J`` at
each solution (computed the same way for all, in float64), and the largest
coefficient difference to ours on NumPy.  The device times include a
``synchronize`` and exclude the one transfer of X to the device, which is
timed apart.  A method that would start after ``--budget`` seconds is
skipped (and says so).

The exit status is 1 when the parity check fails or a fit raises.
"""

import os

# scikit-learn's Array API support needs SciPy's, read when SciPy is imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from scipy.special import log_expit  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from skperceptron import BCEPerceptronClassifier  # noqa: E402

ALPHA = 1e-4
TOL = 1e-4


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny problem, PyTorch on the CPU")
    parser.add_argument(
        "--device", default=None, help="torch device (default: cuda, cpu with --smoke)"
    )
    parser.add_argument("--n-samples", type=int, default=None)
    parser.add_argument("--n-features", type=int, default=None)
    parser.add_argument(
        "--budget", type=float, default=270.0, help="seconds after which no new fit starts"
    )
    args = parser.parse_args(argv)
    args.device = args.device or ("cpu" if args.smoke else "cuda")
    args.n_samples = args.n_samples or (4_000 if args.smoke else 1_000_000)
    args.n_features = args.n_features or (40 if args.smoke else 500)
    return args


def synchronize(torch, device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def to_numpy(a):
    return a.cpu().numpy() if hasattr(a, "cpu") else np.asarray(a)


def objective(X, y, coef, intercept, alpha=ALPHA):
    """``J`` of a binary problem in float64, the same for every method's solution."""
    coef = np.asarray(coef, dtype=np.float64).reshape(1, -1)
    raw = X @ coef[0].astype(X.dtype) + np.float64(np.asarray(intercept).reshape(-1)[0])
    raw = raw.astype(np.float64)
    loss = -np.mean(log_expit(-raw)) - np.mean(y * raw)
    return float(loss + 0.5 * alpha * np.dot(coef[0], coef[0]))


def timed_fit(make, X, y, torch=None, device=None, dispatch=False):
    """One fit: (estimator, seconds, warned)."""
    estimator = make()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        with sklearn.config_context(array_api_dispatch=dispatch):
            if torch is not None:
                synchronize(torch, device)
            start = time.perf_counter()
            estimator.fit(X, y)
            if torch is not None:
                synchronize(torch, device)
            seconds = time.perf_counter() - start
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return estimator, seconds, warned


def parity(torch, device, smoke):
    """Ours with NumPy and with torch on the device: same fit."""
    n_samples = 2_000 if smoke else 20_000
    X, y = make_classification(
        n_samples, 20, n_informative=10, n_redundant=0, n_classes=3, random_state=1
    )
    lines, ok = [], True
    for dtype, atol, params in (
        ("float64", 1e-6, dict(alpha=1e-2, tol=1e-8)),
        ("float32", 1e-4, dict(alpha=1e-1, tol=1e-5)),
    ):
        Xd = X.astype(dtype)
        ref, _, _ = timed_fit(lambda: BCEPerceptronClassifier(**params), Xd, y)
        X_t = torch.asarray(Xd, device=device)
        y_t = torch.asarray(y, device=device)
        got, _, _ = timed_fit(
            lambda: BCEPerceptronClassifier(**params), X_t, y_t, torch, device, dispatch=True
        )
        with sklearn.config_context(array_api_dispatch=True):
            proba = to_numpy(got.predict_proba(X_t))
        diff = max(
            np.abs(to_numpy(got.coef_) - ref.coef_).max(),
            np.abs(to_numpy(got.intercept_) - ref.intercept_).max(),
            np.abs(proba - ref.predict_proba(Xd)).max(),
        )
        placed = str(got.coef_.device) == str(X_t.device) and got.coef_.dtype == X_t.dtype
        passed = diff <= atol and placed
        ok &= passed
        lines.append(
            f"parity {dtype} (3 classes, {n_samples} x 20): max |diff| {diff:.1e} "
            f"(<= {atol:g}), coef_ on {got.coef_.device} in {got.coef_.dtype}: "
            f"{'PASS' if passed else 'FAIL'}"
        )
    return ok, lines


def main(argv=None):
    args = parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: pip install torch", file=sys.stderr)
        return 1
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("No CUDA device: run with --smoke (or --device cpu).", file=sys.stderr)
        return 1
    device = torch.device(args.device)
    start = time.perf_counter()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"torch {torch.__version__} on {device} ({name}), scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}"
    )

    ok, lines = parity(torch, device, args.smoke)
    print("\n".join(lines), flush=True)

    X64, y = make_classification(
        args.n_samples,
        args.n_features,
        n_informative=min(50, args.n_features),
        n_redundant=0,
        shuffle=False,  # ten times faster to generate; full-batch fits ignore row order
        random_state=0,
    )
    print(f"data: make_classification({args.n_samples} x {args.n_features}) in "
          f"{time.perf_counter() - start:.1f} s so far", flush=True)
    C = 1 / (ALPHA * args.n_samples)
    methods = [
        ("ours", "torch", lambda: BCEPerceptronClassifier(alpha=ALPHA, tol=TOL), True),
        ("ours", "numpy", lambda: BCEPerceptronClassifier(alpha=ALPHA, tol=TOL), False),
        ("LogisticRegression lbfgs", "numpy", lambda: LogisticRegression(C=C, tol=TOL), False),
        ("LogisticRegression lbfgs", "torch", lambda: LogisticRegression(C=C, tol=TOL), True),
    ]
    rows, failed = [], False
    for dtype in ("float32", "float64"):
        X = X64.astype(dtype, copy=False)
        X_t = y_t = None
        reference = None
        for method, backend, make, on_device in methods:
            where = f"{backend} {device if on_device else 'cpu'}"
            if time.perf_counter() - start > args.budget:
                rows.append((dtype, method, where, "skipped: --budget", "", "", "", ""))
                continue
            try:
                if on_device and X_t is None:
                    synchronize(torch, device)
                    t0 = time.perf_counter()
                    X_t = torch.asarray(X, device=device)
                    y_t = torch.asarray(y, device=device)
                    synchronize(torch, device)
                    print(f"{dtype}: X to {device} in {time.perf_counter() - t0:.2f} s", flush=True)
                    # Warm-up: kernels, cuBLAS handles; not timed.
                    step = max(1, X_t.shape[0] // 1000)  # rows of both classes
                    timed_fit(make, X_t[::step], y_t[::step], torch, device, dispatch=True)
                if on_device:
                    est, seconds, warned = timed_fit(make, X_t, y_t, torch, device, dispatch=True)
                else:
                    est, seconds, warned = timed_fit(make, X, y)
                coef, intercept = to_numpy(est.coef_), to_numpy(est.intercept_)
                n_iter = int(np.max(to_numpy(est.n_iter_)))
                J = objective(X, y, coef, intercept)
                if method == "ours" and backend == "numpy":
                    reference = coef
                iterations = f"{n_iter}{' (warned)' if warned else ''}"
                row = (dtype, method, where, f"{seconds:.2f}", iterations, f"{J:.8f}", coef, "")
                rows.append(row)
            except Exception:  # noqa: BLE001 - report and go on with the others
                failed = True
                traceback.print_exc()
                rows.append((dtype, method, where, "raised", "", "", "", ""))
            print(f"  {dtype} {method} on {where}: {rows[-1][3]} s", flush=True)
        # Coefficient differences to ours on NumPy, once it is known.
        for i, row in enumerate(rows):
            if row[0] == dtype and isinstance(row[6], np.ndarray):
                diff = "" if reference is None else f"{np.abs(row[6] - reference).max():.1e}"
                rows[i] = row[:6] + (diff, "")
        del X_t, y_t
        if device.type == "cuda":
            torch.cuda.empty_cache()

    header = ("dtype", "method", "arrays on", "fit (s)", "n_iter", "J", "max|coef - ours numpy|")
    table = [header] + [row[:7] for row in rows]
    widths = [max(len(str(r[k])) for r in table) for k in range(len(header))]
    print()
    print(f"make_classification({args.n_samples} x {args.n_features}), alpha={ALPHA:g} "
          f"(LogisticRegression C=1/(alpha n)), tol={TOL:g}")
    for k, row in enumerate(table):
        print("| " + " | ".join(str(v).ljust(w) for v, w in zip(row, widths)) + " |")
        if k == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    if not ok:
        print("PARITY FAILED", file=sys.stderr)
    return 1 if failed or not ok else 0


if __name__ == "__main__":
    sys.exit(main())
