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
NumPy.  Beside each fit on the device (issue 14): milliseconds per iteration
against the two-product limit (``X @ w`` and ``X.T @ r``, timed on the same
device in the same run), our reads from the device to the host per iteration
(``_backend.host_reads``; the setup's included, so an upper bound) and the
fit's peak device memory beyond what was allocated before it (X, y), as a
fraction of X's bytes (CUDA only).  Then the multiclass case: ``--n-samples //
3 x --n-features * 3 // 5``, 10 classes, float32, ours beside
LogisticRegression(lbfgs) under dispatch (multinomial: the same data, not the
same objective).  Last, issue 14's rule on well-conditioned data: the default
``preconditioner="auto"`` against ``"diagonal"``, binary at the run's size and
10 classes at the multiclass case's (:func:`_auto_against_diagonal`).  The
device times include a ``synchronize`` and exclude the one transfer
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
BLANK = ("", "", "", "")  # the device columns of a row without them


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


def two_product_ms(torch, device, X):
    """Milliseconds of ``X @ w`` and ``X.T @ r`` on the device (median of 7)."""
    w = torch.ones(X.shape[1], dtype=X.dtype, device=device)
    r = torch.ones(X.shape[0], dtype=X.dtype, device=device)
    times = []
    for _ in range(8):
        _synchronize(torch, device)
        start = time.perf_counter()
        (X @ w).sum()
        (X.T @ r).sum()
        _synchronize(torch, device)
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times[1:]))


def device_begin(torch, device):
    """The counters before a fit on the device (see :func:`device_end`)."""
    import skperceptron._backend as backend

    base = None
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    return backend.host_reads(), base


def device_end(torch, device, begun, X, seconds, n_iter, limit_ms):
    """``(ms / iteration, limit ms, reads / iteration, peak beyond / X)`` of the
    fit since :func:`device_begin` returned ``begun``."""
    import skperceptron._backend as backend

    reads, base = begun
    reads = backend.host_reads() - reads
    peak = "n/a (CPU)"
    if base is not None:
        torch.cuda.synchronize(device)
        extra = torch.cuda.max_memory_allocated(device) - base
        peak = f"{extra / (X.element_size() * X.numel()):.2f}"
    n_iter = max(n_iter, 1)
    return (f"{1e3 * seconds / n_iter:.2f}", f"{limit_ms:.2f}", f"{reads / n_iter:.1f}", peak)


def _print_table(rows, n_samples, n_features):
    header = ("dtype", "method", "arrays on", "fit (s)", "n_iter", "J", "max|coef - ours numpy|",
              "ms/it", "2-product ms", "reads/it", "peak mem / X")
    table = [header] + [tuple(row[:7]) + tuple(row[8:12]) for row in rows]
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
                rows.append((dtype, method, where, "skipped: --budget", "", "", "", "") + BLANK)
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
                    limit_ms = two_product_ms(torch, device, X_t)
                if on_device:
                    begun = device_begin(torch, device)
                    est, seconds, warned = timed_fit(make, X_t, y_t, torch, device, dispatch=True)
                else:
                    est, seconds, warned = timed_fit(make, X, y)
                coef, intercept = _to_numpy(est.coef_), _to_numpy(est.intercept_)
                n_iter = int(np.max(_to_numpy(est.n_iter_)))
                extra = BLANK
                if on_device:
                    extra = device_end(torch, device, begun, X_t, seconds, n_iter, limit_ms)
                    if method != "ours":
                        extra = extra[:2] + ("-",) + extra[3:]  # its reads are not ours to count
                J = _J(X, y, coef, intercept)
                if method == "ours" and backend == "numpy":
                    reference = coef
                iterations = f"{n_iter}{' (warned)' if warned else ''}"
                rows.append(
                    (dtype, method, where, f"{seconds:.2f}", iterations, f"{J:.8f}", coef, "") + extra
                )
            except Exception:  # noqa: BLE001 - report and go on with the others
                failed = True
                traceback.print_exc()
                rows.append((dtype, method, where, "raised", "", "", "", "") + BLANK)
            print(f"  {dtype} {method} on {where}: {rows[-1][3]} s", flush=True)
        # Coefficient differences to ours on NumPy, once it is known.
        for i, row in enumerate(rows):
            if row[0] == dtype and isinstance(row[6], np.ndarray):
                diff = "" if reference is None else f"{np.abs(row[6] - reference).max():.1e}"
                rows[i] = row[:6] + (diff, "") + tuple(row[8:])
        del X_t, y_t
        if device.type == "cuda":
            torch.cuda.empty_cache()

    _print_table(rows, n_samples, n_features)
    failed |= _multiclass(torch, device, args, n_samples, n_features, start)
    failed |= _auto_against_diagonal(torch, device, args, n_samples, n_features, start)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    if not ok:
        print("PARITY FAILED", file=sys.stderr)
    return 1 if failed or not ok else 0


def _multiclass(torch, device, args, n_samples, n_features, start):
    """The 10-class case in float32: ours and LogisticRegression (lbfgs,
    multinomial) under dispatch, with the device columns; True if a fit raised."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from skperceptron import BCEPerceptronClassifier

    n, p = max(1000, n_samples // 3), max(10, n_features * 3 // 5)
    if time.perf_counter() - start > args.budget:
        print(f"\nmulticlass {n} x {p}: skipped (--budget)")
        return False
    X, y = make_classification(n, p, n_informative=min(50, p), n_redundant=0, n_classes=10,
                               shuffle=False, random_state=0)
    X_t = torch.asarray(X.astype(np.float32), device=device)
    y_t = torch.asarray(y, device=device)
    limit_ms = two_product_ms(torch, device, X_t)
    rows, failed = [], False
    for name, make in (
        ("ours", lambda: BCEPerceptronClassifier(alpha=ALPHA, tol=TOL)),
        ("LogisticRegression lbfgs", lambda: LogisticRegression(C=1 / (ALPHA * n), tol=TOL)),
    ):
        try:
            timed_fit(make, X_t[:: max(1, n // 2000)], y_t[:: max(1, n // 2000)], torch, device, True)
            begun = device_begin(torch, device)
            est, seconds, warned = timed_fit(make, X_t, y_t, torch, device, dispatch=True)
            n_iter = int(np.max(_to_numpy(est.n_iter_)))
            ms, limit, reads, peak = device_end(torch, device, begun, X_t, seconds, n_iter, limit_ms)
            reads = reads if name == "ours" else "-"
            rows.append(f"| {name} | {seconds:.3f} | {n_iter}{' (warned)' if warned else ''} | "
                        f"{ms} | {limit} | {reads} | {peak} |")
        except Exception:  # noqa: BLE001 - report and go on
            failed = True
            traceback.print_exc()
            rows.append(f"| {name} | raised | | | | | |")
    print(f"\nmulticlass: make_classification({n} x {p}, 10 classes), float32 on {device}, "
          f"alpha={ALPHA:g}, tol={TOL:g}")
    print("| method | fit (s) | n_iter | ms/it | 2-product ms | reads/it | peak mem / X |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return failed


def _auto_against_diagonal(torch, device, args, n_samples, n_features, start):
    """Issue 14's rule: on well-conditioned data (independent standard normal
    columns, labels from a planted model) the default ``preconditioner="auto"``
    never more than 10% slower than ``"diagonal"``.  float32 on the device,
    binary at the run's size and 10 classes at the multiclass case's; each
    fit timed 5 times after a warm-up, alternating, the fastest kept.  True if
    a fit raised."""
    from skperceptron import BCEPerceptronClassifier

    multiclass = (max(1000, n_samples // 3), max(10, n_features * 3 // 5), 10)
    cases = [(n_samples, n_features, 2), multiclass]
    lines, failed = [], False
    for n, p, n_classes in cases:
        if time.perf_counter() - start > args.budget:
            lines.append(f"| {n} x {p}, {n_classes} classes | skipped (--budget) | | | |")
            continue
        rng = np.random.default_rng(0)
        X = rng.standard_normal((n, p), dtype=np.float32)
        logits = X @ rng.standard_normal((p, n_classes), dtype=np.float32) / np.sqrt(p)
        y = (logits + rng.gumbel(size=logits.shape)).argmax(axis=1)
        X_t, y_t = torch.asarray(X, device=device), torch.asarray(y, device=device)
        del X
        try:
            best, chosen = {}, {}
            for kind in ("auto", "diagonal") * 6:
                make = lambda kind=kind: BCEPerceptronClassifier(  # noqa: E731
                    alpha=ALPHA, tol=TOL, preconditioner=kind
                )
                est, seconds, _ = timed_fit(make, X_t, y_t, torch, device, dispatch=True)
                if kind in chosen:  # the first fit of each warms up
                    best[kind] = min(best.get(kind, np.inf), seconds)
                chosen[kind] = (est.preconditioner_, int(np.max(_to_numpy(est.n_iter_))))
            ratio = best["auto"] / best["diagonal"]
            lines.append(
                f"| {n} x {p}, {n_classes} classes | {1e3 * best['auto']:.1f} "
                f"({chosen['auto'][0]}, {chosen['auto'][1]} it) | {1e3 * best['diagonal']:.1f} "
                f"({chosen['diagonal'][1]} it) | {ratio:.2f} | "
                f"{'met' if ratio <= 1.1 else 'MISSED'} |"
            )
        except Exception:  # noqa: BLE001 - report and go on
            failed = True
            traceback.print_exc()
            lines.append(f"| {n} x {p}, {n_classes} classes | raised | | | |")
        del X_t, y_t
    print(f"\nauto against diagonal on well-conditioned data (independent columns), float32 on "
          f"{device}, alpha={ALPHA:g}, tol={TOL:g}; best of 5 after a warm-up")
    print("| data | auto ms (its choice) | diagonal ms | auto / diagonal | target <= 1.10 |")
    print("|---|---|---|---|---|")
    print("\n".join(lines))
    return failed
