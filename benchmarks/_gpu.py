# SPDX-License-Identifier: BSD-3-Clause
"""``run.py --gpu``: BCEPerceptronClassifier on a GPU (PyTorch CUDA) beside the
CPU and scikit-learn.

First a parity check: the same small problem fitted with NumPy and with
PyTorch on the device must give the same coefficients (1e-6 in float64, 1e-4
in float32).  Then, on ``make_classification(1_000_000 x 500)`` in float32 and
float64 (``_datasets.gpu_classification``), one fit each of

- ours, PyTorch on the device (the whole solver loop there),
- ours, NumPy on the CPU,
- ``LogisticRegression(solver="lbfgs")`` on the CPU,
- ``LogisticRegression(solver="lbfgs")`` under ``array_api_dispatch`` on the
  device (its objective and gradient on the device, L-BFGS on the host),

all built by the method table (``_methods.METHODS``: the same problem, ``C =
1 / (alpha * n_samples)``) with the same ``tol``, printed as one table: fit
time, iterations, the objective ``J`` at each solution (``_reference.objective``,
in float64, the same for all), and the largest coefficient difference to ours on
NumPy.  The device times include a ``synchronize`` and exclude the one transfer
of X to the device, which is timed apart.  A method that would start after
``--budget`` seconds is skipped (and says so).

Without a CUDA device (or without PyTorch) nothing is measured and the exit
status is 0; ``--quick`` then fits a tiny problem with PyTorch on the CPU, a
test of this harness, not of a GPU.  Otherwise the exit status is 1 when the
parity check fails or a fit raises.

scikit-learn's Array API support needs ``SCIPY_ARRAY_API=1`` before SciPy is
first imported: run.py sets it before importing this module.
"""

import sys
import time
import traceback
import warnings

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning

import _datasets
from _methods import ALPHA, METHODS
from _reference import objective

TOL = 1e-4


def _synchronize(torch, device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def _to_numpy(a):
    return a.cpu().numpy() if hasattr(a, "cpu") else np.asarray(a)


def _J(X, y, coef, intercept):
    """Our J at a binary solution, in float64 on the values the method saw."""
    Y = np.asarray(y, dtype=np.float64)[:, None]
    return objective(X, Y, coef, intercept, ALPHA)


def timed_fit(make, X, y, torch=None, device=None, dispatch=False):
    """One fit: (estimator, seconds, warned)."""
    estimator = make()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        with sklearn.config_context(array_api_dispatch=dispatch):
            if torch is not None:
                _synchronize(torch, device)
            start = time.perf_counter()
            estimator.fit(X, y)
            if torch is not None:
                _synchronize(torch, device)
            seconds = time.perf_counter() - start
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return estimator, seconds, warned


def parity(torch, device, quick):
    """Ours with NumPy and with torch on the device: same fit."""
    n_samples = 2_000 if quick else 20_000
    X, y = _datasets.gpu_parity(n_samples)
    problem = _datasets.Problem(n_samples, X.shape[1], n_outputs=3)
    lines, ok = [], True
    for dtype, atol, params in (
        ("float64", 1e-6, {"alpha": 1e-2, "tol": 1e-8}),
        ("float32", 1e-4, {"alpha": 1e-1, "tol": 1e-5}),
    ):
        def make(params=params):
            return METHODS["ours"].make(problem, **params)

        Xd = X.astype(dtype)
        ref, _, _ = timed_fit(make, Xd, y)
        X_t = torch.asarray(Xd, device=device)
        y_t = torch.asarray(y, device=device)
        got, _, _ = timed_fit(make, X_t, y_t, torch, device, dispatch=True)
        with sklearn.config_context(array_api_dispatch=True):
            proba = _to_numpy(got.predict_proba(X_t))
        diff = max(
            np.abs(_to_numpy(got.coef_) - ref.coef_).max(),
            np.abs(_to_numpy(got.intercept_) - ref.intercept_).max(),
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


def _device(args):
    """``(torch, device)``, or ``(None, None)`` after saying why nothing runs."""
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed (pip install torch): no CUDA device to measure; "
              "nothing measured.")
        return None, None
    has_cuda = torch.cuda.is_available()
    device = args.device or ("cuda" if has_cuda else "cpu" if args.quick else None)
    if device is None or (device.startswith("cuda") and not has_cuda):
        print("No CUDA device (torch.cuda.is_available() is False): nothing measured. "
              "`run.py --gpu --quick` fits a tiny problem with PyTorch on the CPU.")
        return None, None
    return torch, torch.device(device)


def _print_table(rows, n_samples, n_features):
    header = ("dtype", "method", "arrays on", "fit (s)", "n_iter", "J", "max|coef - ours numpy|")
    table = [header] + [row[:7] for row in rows]
    widths = [max(len(str(r[k])) for r in table) for k in range(len(header))]
    print()
    print(f"make_classification({n_samples} x {n_features}), alpha={ALPHA:g} "
          f"(LogisticRegression C=1/(alpha n)), tol={TOL:g}")
    for k, row in enumerate(table):
        print("| " + " | ".join(str(v).ljust(w) for v, w in zip(row, widths)) + " |")
        if k == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def main(args):
    """The GPU mode with run.py's options; returns the exit status."""
    torch, device = _device(args)
    if torch is None:
        return 0
    n_samples = args.n_samples or (4_000 if args.quick else 1_000_000)
    n_features = args.n_features or (40 if args.quick else 500)
    start = time.perf_counter()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"torch {torch.__version__} on {device} ({name}), scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}"
    )

    ok, lines = parity(torch, device, args.quick)
    print("\n".join(lines), flush=True)

    X64, y = _datasets.gpu_classification(n_samples, n_features)
    print(f"data: make_classification({n_samples} x {n_features}) in "
          f"{time.perf_counter() - start:.1f} s so far", flush=True)
    problem = _datasets.Problem(n_samples, n_features)

    def ours():
        return METHODS["ours"].make(problem, tol=TOL)

    def lbfgs():
        return METHODS["lbfgs"].make(problem, tol=TOL)

    methods = [
        ("ours", "torch", ours, True),
        ("ours", "numpy", ours, False),
        ("LogisticRegression lbfgs", "numpy", lbfgs, False),
        ("LogisticRegression lbfgs", "torch", lbfgs, True),
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
                    _synchronize(torch, device)
                    t0 = time.perf_counter()
                    X_t = torch.asarray(X, device=device)
                    y_t = torch.asarray(y, device=device)
                    _synchronize(torch, device)
                    print(f"{dtype}: X to {device} in {time.perf_counter() - t0:.2f} s", flush=True)
                    # Warm-up: kernels, cuBLAS handles; not timed.
                    step = max(1, X_t.shape[0] // 1000)  # rows of both classes
                    timed_fit(make, X_t[::step], y_t[::step], torch, device, dispatch=True)
                if on_device:
                    est, seconds, warned = timed_fit(make, X_t, y_t, torch, device, dispatch=True)
                else:
                    est, seconds, warned = timed_fit(make, X, y)
                coef, intercept = _to_numpy(est.coef_), _to_numpy(est.intercept_)
                n_iter = int(np.max(_to_numpy(est.n_iter_)))
                J = _J(X, y, coef, intercept)
                if method == "ours" and backend == "numpy":
                    reference = coef
                iterations = f"{n_iter}{' (warned)' if warned else ''}"
                rows.append((dtype, method, where, f"{seconds:.2f}", iterations, f"{J:.8f}", coef, ""))
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

    _print_table(rows, n_samples, n_features)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    if not ok:
        print("PARITY FAILED", file=sys.stderr)
    return 1 if failed or not ok else 0
