# SPDX-License-Identifier: BSD-3-Clause
"""The chunked, threaded passes and the row-block products against plain NumPy.

The thresholds that switch chunking and threads on are lowered so that small
arrays take the many-chunk, two-thread code paths; the oracle is the
whole-array NumPy/SciPy formula.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.special import expit, log_expit
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from skperceptron import BCEPerceptronClassifier
from skperceptron import _loss, _passes
from skperceptron._passes import DenseRowBlocks, RawPasses, SparseRowBlocks


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 7 rows (K=1) on two threads, from 20 entries on."""
    monkeypatch.setattr(_passes, "_CHUNK_ENTRIES", 7)
    monkeypatch.setattr(_passes, "_MIN_THREADED_ENTRIES", 20)
    monkeypatch.setattr(_passes, "_MIN_THREADED_NNZ", 20)


def rtol_of(dtype):
    return 1e-5 if dtype == np.float32 else 1e-12


def raw_problem(n, K, dtype, weighted, seed=0):
    rng = np.random.default_rng(seed)
    raw = (4 * rng.standard_normal((n, K))).astype(dtype)
    Y = (rng.random((n, K)) < 0.5).astype(np.int8)
    if weighted:
        sw = rng.uniform(0, 2, n)
        sw[::5] = 0.0  # zero weights, as for early-stopping rows
        sw = (sw / sw.sum()).astype(dtype)
    else:
        sw = np.broadcast_to(np.asarray(1 / n, dtype=dtype), (n,))
    draws = [(rng.standard_normal((n, K))).astype(dtype) for _ in range(2)]
    return raw, Y, sw, draws


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_raw_passes_match_whole_array_formulas(small_chunks, dtype, K, weighted):
    n = 61
    raw, Y, sw, draws = raw_problem(n, K, dtype, weighted)
    passes = RawPasses(n, K, n_threads=2)
    assert passes.n_threads == 2 and sum(len(part) for part in passes.parts) > 2
    rtol = rtol_of(dtype)
    w = sw[:, None].astype(np.float64)
    p = expit(raw.astype(np.float64))
    R_ref, H_ref = w * (p - Y), w * p * (1 - p)

    R, H = np.empty_like(raw), np.empty_like(raw)
    sums = passes.residual(raw, Y, sw, R, H)
    assert R.dtype == dtype and H.dtype == dtype
    assert_allclose(R, R_ref, rtol=rtol, atol=1e-7 * np.abs(R_ref).max())
    # p - p**2 cancels where p is near 1: absolute float32 rounding of p.
    atol_H = (1e-6 if dtype == np.float32 else 1e-14) * np.abs(H_ref).max()
    assert_allclose(H, H_ref, rtol=rtol, atol=atol_H)
    assert_allclose(sums, R_ref.sum(axis=0), rtol=1e-5, atol=1e-7)

    d = [x.astype(np.float64) for x in draws]
    curvature = passes.curvature(H, draws)
    assert_allclose(curvature, [[np.sum(H_ref * a * b) for b in d] for a in d], rtol=1e-5)

    coefs = [0.7, -0.3]
    v = raw.astype(np.float64) + coefs[0] * d[0] + coefs[1] * d[1]
    loss_ref = -np.sum(w * log_expit((2 * Y - 1) * v))
    rtol_loss = 1e-5 if dtype == np.float32 else 1e-12
    assert_allclose(passes.loss(raw, Y, sw, draws, coefs), loss_ref, rtol=rtol_loss)
    loss_at_raw = -np.sum(w * log_expit((2 * Y - 1) * raw.astype(np.float64)))
    assert_allclose(passes.loss(raw, Y, sw), loss_at_raw, rtol=rtol_loss)
    # With the int8 signs that small data keep (the pass then works in its
    # scratch point, never in raw or the draws).
    unchanged = [raw.copy()] + [d.copy() for d in draws]
    passes.sign = _loss.signs(Y, np.int8, np)
    assert_allclose(passes.loss(raw, Y, sw, draws, coefs), loss_ref, rtol=rtol_loss)
    assert_allclose(passes.loss(raw, Y, sw), loss_at_raw, rtol=rtol_loss)
    passes.sign = None
    for before, after in zip(unchanged, [raw] + draws):
        np.testing.assert_array_equal(after, before)
    pv = expit(v)
    assert_allclose(
        passes.slopes(raw, Y, sw, draws, coefs),
        [np.sum(w * (pv - Y) * dj) for dj in d],
        rtol=1e-4 if dtype == np.float32 else 1e-10,
        atol=1e-7,
    )
    assert_allclose(passes.inner(R, draws), [np.sum(R_ref * dj) for dj in d], rtol=1e-4, atol=1e-7)

    raw_before, first = raw.copy(), draws[0]
    new_raw, step = raw, passes.advance(raw, draws, coefs)
    assert step is first and step.dtype == dtype
    assert_allclose(step, coefs[0] * d[0] + coefs[1] * d[1], rtol=rtol, atol=1e-6)
    assert_allclose(new_raw, raw_before + step, rtol=rtol)


def test_results_do_not_depend_on_thread_timing(small_chunks):
    raw, Y, sw, draws = raw_problem(200, 2, np.float64, True)
    one, two = RawPasses(200, 2, 1), RawPasses(200, 2, 2)
    # The chunks' partial sums are added in chunk order whichever thread
    # finishes first: repeated threaded passes agree to the last bit.
    threaded = {two.loss(raw, Y, sw, draws, [0.5, 0.5]) for _ in range(50)}
    sums = {tuple(two.slopes(raw, Y, sw, draws, [0.5, 0.5])) for _ in range(50)}
    assert len(threaded) == 1 and len(sums) == 1
    # One thread walks other chunk boundaries: the same sum up to rounding.
    assert threaded.pop() == pytest.approx(one.loss(raw, Y, sw, draws, [0.5, 0.5]), rel=1e-14)


def random_csr(n, p, density, dtype, seed=0, index_dtype=np.int32):
    X = sp.random(n, p, density=density, format="csr", dtype=dtype, random_state=seed)
    X.data += 0.5
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    return X


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("K", [1, 3])
@pytest.mark.parametrize("kind", ["csr", "csr-int64", "csr-unsorted", "dense"])
def test_row_blocks_match_numpy_products(small_chunks, dtype, K, kind):
    rng = np.random.default_rng(1)
    n, p = 83, 17
    if kind == "dense":
        X = rng.standard_normal((n, p)).astype(dtype)
        blocks = DenseRowBlocks(X, 2)
        Xd = X.astype(np.float64)
    else:
        X = random_csr(n, p, 0.3, dtype, index_dtype=np.int64 if kind == "csr-int64" else np.int32)
        X.data[X.indptr[5] : X.indptr[6]] = 0  # an empty row
        X.eliminate_zeros()
        if kind == "csr-unsorted":
            for i in range(n):
                lo, hi = X.indptr[i], X.indptr[i + 1]
                X.indices[lo:hi] = X.indices[lo:hi][::-1]
                X.data[lo:hi] = X.data[lo:hi][::-1]
            X.has_sorted_indices = False
        assert SparseRowBlocks.usable(X, 2)
        blocks = SparseRowBlocks(X, 2)
        Xd = X.toarray().astype(np.float64)
    assert len(blocks.blocks) == 2
    rtol = rtol_of(dtype) * 10
    V = rng.standard_normal((p, K)).astype(dtype)
    assert_allclose(blocks.matmul(V), Xd @ V, rtol=rtol, atol=1e-5)
    R = rng.standard_normal((n, K)).astype(dtype)
    assert_allclose(blocks.rmatmul(R), R.T @ Xd, rtol=rtol, atol=1e-5)

    raw, Y, sw, _ = raw_problem(n, K, dtype, weighted=True)
    H = np.empty_like(raw)
    grad, sums = blocks.residual_rmatmul(raw, Y, sw, H)
    w = sw[:, None].astype(np.float64)
    P = expit(raw.astype(np.float64))
    R_ref = w * (P - Y)
    assert_allclose(grad, R_ref.T @ Xd, rtol=1e-4, atol=1e-6)
    assert_allclose(sums, R_ref.sum(axis=0), rtol=1e-5, atol=1e-7)
    assert_allclose(H, w * P * (1 - P), rtol=rtol, atol=1e-7)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_threaded_fit_equals_single_threaded_fit(small_chunks, sparse, n_classes):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 12)) * rng.uniform(0.1, 10, 12) + rng.uniform(-3, 3, 12)
    if sparse:
        X[rng.random(X.shape) < 0.7] = 0.0
        X = sp.csr_matrix(X)
    y = rng.integers(0, n_classes, 300)
    sw = rng.uniform(0.2, 2.0, 300)
    fits = []
    for limit in (None, 1):
        # threadpool_limits(1) makes the BLAS report one thread: no threads at all.
        with threadpool_limits(limit):
            clf = BCEPerceptronClassifier(tol=1e-10, max_iter=2000)
            clf.fit(X, y, sample_weight=sw)
            fits.append(clf)
    threaded, single = fits
    assert_allclose(threaded.coef_, single.coef_, rtol=1e-7, atol=1e-9)
    assert_allclose(threaded.intercept_, single.intercept_, rtol=1e-7, atol=1e-9)
    assert_allclose(threaded.loss_curve_[-1], single.loss_curve_[-1], rtol=1e-12)


def _peak_of_a_second_fit(clf, X, y):
    """Peak bytes traced during ``clf.fit(X, y)``, after a first fit has paid
    the process's one-off allocations."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        tracemalloc.start()
        try:
            clf.fit(X, y)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_sparse_fit_allocates_a_few_vectors_only():
    """The CSR fit keeps about four n-vectors (raw predictions, the two search
    directions, the Hessian diagonal) and no copy of X: a regression test for
    the 13 n-vectors it used to allocate (float Y, sw * Y, 2Y - 1, whole-array
    temporaries, and a 4 MiB copy of X's rows for the column moments)."""
    n, p = 40_000, 2_000
    X = random_csr(n, p, 0.01, np.float64, seed=3)
    rng = np.random.default_rng(3)
    w = np.zeros(p)
    w[: p // 10] = rng.standard_normal(p // 10)
    y = (rng.random(n) < expit(X @ w - np.median(X @ w))).astype(np.int64)
    clf = BCEPerceptronClassifier(max_iter=30)
    peak = _peak_of_a_second_fit(clf, X, y)
    # 5.2 float64 n-vectors here, with or without threads (13 before).
    assert peak <= 7 * (8 * n), peak / (8 * n)


@pytest.mark.parametrize("preconditioner, arrays", [("diagonal", 5.0), ("auto", 6.5)])
def test_multiclass_fit_allocates_a_few_raw_prediction_arrays(preconditioner, arrays):
    """A dense 5-class fit keeps a few (n, K) arrays besides X (the raw
    predictions, the step's and the previous step's, the residual; the docs
    count them): 4.3 with the diagonal metric, 5.1 with the Hessian's sample
    and blocks, and no copy of X (which alone would be 10 such arrays).  The
    columns share a factor, so that "auto" takes the Hessian (independent
    columns with several outputs take the diagonal)."""
    n, p, K = 40_000, 50, 5
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p))
    X[:, 1:] += 0.5 * X[:, :1]
    y = np.argmax(X[:, :K] + rng.gumbel(size=(n, K)), axis=1)
    clf = BCEPerceptronClassifier(preconditioner=preconditioner, max_iter=20)
    peak = _peak_of_a_second_fit(clf, X, y)
    assert clf.preconditioner_ == ("diagonal" if preconditioner == "diagonal" else "hessian")
    assert peak <= arrays * (8 * n * K), peak / (8 * n * K)


def _fit_in_child(X, y):
    return BCEPerceptronClassifier(tol=1e-8, max_iter=500).fit(X, y).coef_


def _our_threads():
    import threading

    return [t for t in threading.enumerate() if t.name.startswith("skperceptron")]


def test_threads_live_for_one_fit(small_chunks, monkeypatch):
    """The passes run on a pool of their own fit: it exists during the fit
    and no thread of it is left after (no module-level pool)."""
    seen = []
    run = _passes.Threads.run

    def spy(self, tasks):
        results = run(self, tasks)
        seen.append(len(_our_threads()))
        return results

    monkeypatch.setattr(_passes.Threads, "run", spy)
    monkeypatch.setattr(
        _passes.Threads, "of_blas", classmethod(lambda cls: cls(2))
    )
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    y = (X[:, 0] + rng.standard_normal(300) > 0).astype(int)
    BCEPerceptronClassifier(tol=1e-8, max_iter=500).fit(X, y)
    assert seen and max(seen) >= 1  # the threaded path ran, on our threads
    assert _our_threads() == []


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_fit_in_a_forked_child_after_a_threaded_fit(small_chunks, monkeypatch):
    """A child forked after a threaded fit fits too: no pool of the parent's
    (whose threads do not exist in the child) is left to wait on."""
    import multiprocessing

    monkeypatch.setattr(
        _passes.Threads, "of_blas", classmethod(lambda cls: cls(2))
    )
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    y = (X[:, 0] + rng.standard_normal(300) > 0).astype(int)
    parent = BCEPerceptronClassifier(tol=1e-8, max_iter=500).fit(X, y)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        child = pool.apply_async(_fit_in_child, (X, y)).get(timeout=120)
    assert_allclose(child, parent.coef_, rtol=1e-10)


@pytest.mark.parametrize("sample_weight", [False, True])
def test_small_dense_fit_allocates_about_ten_vectors(sample_weight):
    """A small fit (one chunk of raw predictions) keeps the raw predictions,
    the step's and the previous step's, the weights, the trial point and the
    gradient pass's residual and curvature, and forms the start condition's
    row sample by blocks: 10.5 n-vectors at its peak here (16.2 when the
    residual pass, the loss at a trial and the sample used whole-size
    temporaries and the targets a float copy).  Not a matter of bytes only: a transient peak beyond the
    heap's free space makes glibc trim the heap afterwards, and the caller's
    next arrays (a grid search's next fold of X) fault their pages in again
    (see ``_hessian._streamed_gram``)."""
    n, p = 4_000, 50
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p))
    y = (X[:, 0] + X[:, 1] + rng.logistic(size=n) > 0).astype(np.int64)
    sw = rng.uniform(0.5, 2.0, n) if sample_weight else None
    clf = BCEPerceptronClassifier()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y, sample_weight=sw)
        tracemalloc.start()
        try:
            clf.fit(X, y, sample_weight=sw)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert clf.preconditioner_ == "diagonal"
    assert peak <= 12 * (8 * n), peak / (8 * n)
