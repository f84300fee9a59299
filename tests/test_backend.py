# SPDX-License-Identifier: BSD-3-Clause
"""_backend: the array-library differences, each against the NumPy formula.

Every function has a NumPy branch and an Array API branch; both are checked
here, the second on array-api-strict (skipped where it is not installed), so
that a function is right before any fit uses it.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from skperceptron import _backend


@pytest.fixture(params=["numpy", "array_api_strict"])
def xp(request):
    if request.param == "numpy":
        return np
    return pytest.importorskip("array_api_strict")


def to_xp(xp, a):
    return np.asarray(a) if xp is np else xp.asarray(np.asarray(a))


def host(xp, value):
    """A 0-d result of ``xp`` as a Python float (through to_host, as the solvers read it)."""
    return float(_backend.to_host(xp, [value])[0]) if xp is not np else float(value)


# -- host transfers -------------------------------------------------------------
def test_to_host_returns_numpy_values_as_they_are():
    values = [np.float64(1.5), np.float32(-2.0)]
    assert _backend.to_host(np, values) is values
    assert _backend.to_host(np, []) == []


def test_to_host_reads_a_batch_in_one_transfer(monkeypatch):
    """Scalars of another namespace come back together: one conversion to
    NumPy for the whole batch, a 1-D array in their dtype, in their order."""
    xp = pytest.importorskip("array_api_strict")
    conversions = []
    convert = _backend._convert_to_numpy

    def watched(array, namespace):
        conversions.append(tuple(array.shape))
        return convert(array, namespace)

    monkeypatch.setattr(_backend, "_convert_to_numpy", watched)
    a = xp.asarray([1.0, -3.0, 2.5])
    values = [xp.sum(a), xp.max(a), xp.min(a), xp.reshape(a[1], (1,))]
    read = _backend.to_host(xp, values)
    assert conversions == [(4,)]
    assert isinstance(read, np.ndarray) and read.dtype == np.float64
    assert_allclose(read, [0.5, 2.5, -3.0, -3.0], rtol=0)
    # Nothing to read: no transfer at all.
    assert _backend.to_host(xp, []) == []
    assert conversions == [(4,)]
    float32 = _backend.to_host(xp, [xp.sum(xp.asarray([0.5, 0.25], dtype=xp.float32))])
    assert float32.dtype == np.float32 and float32[0] == 0.75


# -- small reductions -----------------------------------------------------------
def test_vdot_inner_and_weighted_sum_are_their_formulas(xp, rng):
    a, b = rng.standard_normal((3, 7)), rng.standard_normal((3, 7))
    A, B = rng.standard_normal((50, 3)), rng.standard_normal((50, 3))
    w = rng.uniform(0, 1, 50)
    assert host(xp, _backend.vdot(xp, to_xp(xp, a), to_xp(xp, b))) == pytest.approx(
        np.sum(a * b), rel=1e-13
    )
    # Vectors too (the intercepts).
    assert host(xp, _backend.vdot(xp, to_xp(xp, a[0]), to_xp(xp, b[0]))) == pytest.approx(
        a[0] @ b[0], rel=1e-13
    )
    assert host(xp, _backend.inner(xp, to_xp(xp, A), to_xp(xp, B))) == pytest.approx(
        np.sum(A * B), rel=1e-13
    )
    assert host(xp, _backend.weighted_sum(xp, to_xp(xp, w), to_xp(xp, A))) == pytest.approx(
        np.sum(w[:, None] * A), rel=1e-13
    )


def test_max_abs_over_several_arrays(xp):
    arrays = [to_xp(xp, [[1.0, -7.5], [2.0, 0.0]]), to_xp(xp, [3.0, -4.0])]
    value = _backend.max_abs(xp, *arrays)
    assert type(value) is float and value == 7.5
    assert _backend.max_abs(xp, arrays[1]) == 4.0
    # Empty arrays are skipped; none left is 0.0 (no intercepts, say).
    empty = to_xp(xp, np.zeros((2, 0)))
    assert _backend.max_abs(xp, empty, arrays[1]) == 4.0
    assert _backend.max_abs(xp, empty) == 0.0
    assert _backend.max_abs(xp) == 0.0


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_eps_is_the_machine_epsilon(xp, dtype):
    value = _backend.eps(xp, getattr(xp, dtype))
    assert type(value) is float
    assert value == float(np.finfo(dtype).eps)


def test_norm_is_the_frobenius_norm(xp, rng):
    a = rng.standard_normal((3, 4))
    assert host(xp, _backend.norm(xp, to_xp(xp, a))) == pytest.approx(
        np.sqrt(np.sum(a * a)), rel=1e-13
    )


def test_all_finite(xp):
    finite, other = to_xp(xp, [1.0, -2.0]), to_xp(xp, [[0.0, 3.0]])
    assert _backend.all_finite(xp, finite, other)
    for bad in (np.nan, np.inf, -np.inf):
        assert not _backend.all_finite(xp, finite, to_xp(xp, [[0.0, bad]]))


# -- the data ------------------------------------------------------------------
@pytest.mark.parametrize(
    "length, n_items, item_bytes, chunk_bytes",
    [
        (0, 0, 8, 64),  # no rows: no chunks
        (1, 5, 8, 16),  # a row larger than a chunk: one row at a time
        (10, 50, 8, 64),  # 40 bytes a row: one row per chunk
        (100, 300, 8, 240),  # 24 bytes a row: 10 rows per chunk
        (103, 309, 8, 240),  # the last chunk shorter
        (1000, 4000, 8, 2**22),  # all of it fits in one chunk
    ],
)
def test_row_chunks_cover_every_row_once(length, n_items, item_bytes, chunk_bytes):
    chunks = list(_backend.row_chunks(length, n_items, item_bytes, chunk_bytes))
    covered = [i for rows in chunks for i in range(length)[rows]]
    assert covered == list(range(length))
    assert all(rows.step is None and rows.stop > rows.start for rows in chunks)
    if length:
        row_bytes = n_items * item_bytes / length
        rows_per_chunk = max(1, int(chunk_bytes // row_bytes))
        # Every chunk but the last is full, and none holds more than chunk_bytes
        # unless a single row does.
        assert [rows.stop - rows.start for rows in chunks[:-1]] == [rows_per_chunk] * (
            len(chunks) - 1
        )
        assert rows_per_chunk == 1 or rows_per_chunk * row_bytes <= chunk_bytes


def test_matmul_and_rmatmul_are_the_products(rng):
    X = rng.standard_normal((30, 4))
    V, R = rng.standard_normal((4, 3)), rng.standard_normal((30, 3))
    for data in (X, sp.csr_matrix(X), sp.csc_matrix(X)):
        for k in (1, 3):  # one output (a matrix-vector product) and several
            product = _backend.matmul(data, V[:, :k])
            assert isinstance(product, np.ndarray) and product.shape == (30, k)
            assert_allclose(product, X @ V[:, :k], rtol=1e-13)
            adjoint = _backend.rmatmul(data, R[:, :k])
            assert isinstance(adjoint, np.ndarray) and adjoint.shape == (k, 4)
            assert_allclose(adjoint, R[:, :k].T @ X, rtol=1e-12)


# -- column moments (moved from test_passes.py) -----------------------------------
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "dense"])
@pytest.mark.parametrize("weighted", [False, True])
def test_column_moments_match_the_dense_formulas(fmt, weighted):
    """Sparse (scikit-learn's weighted mean and variance, as a second moment)
    and dense moments: the formulas ``sw @ X`` and ``sw @ X**2``."""
    from skperceptron import _backend

    rng = np.random.default_rng(2)
    dense = rng.standard_normal((40, 9)) * (rng.random((40, 9)) < 0.3)
    dense[:, 4] = 0.0  # an empty column
    dense[7] = 0.0  # an empty row
    X = dense if fmt == "dense" else sp.csr_matrix(dense).asformat(fmt)
    sw = rng.uniform(0, 1, 40) if weighted else np.ones(40)
    sw /= sw.sum()
    if not weighted:
        sw = np.broadcast_to(np.asarray(1 / 40), (40,))
    mean, second = _backend.column_moments(X, sw)
    assert_allclose(mean, sw @ dense, rtol=1e-12, atol=1e-15)
    assert_allclose(second, sw @ dense**2, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("chunk_bytes", [2**18, 100, 8 * 9 * 7])
def test_column_moments_by_blocks_of_rows(dtype, chunk_bytes):
    """The blocked moments (an Array API X's, here run on NumPy) over one
    block, one row each, and 7 rows each with a shorter last block, in
    float64 whatever X's dtype."""
    from skperceptron import _backend

    rng = np.random.default_rng(5)
    X = (3 * rng.standard_normal((40, 9)) + 1).astype(dtype)
    sw = rng.uniform(0, 1, 40)
    sw /= sw.sum()
    mean, second = _backend._column_moments_chunked(np, X, sw, chunk_bytes)
    assert mean.dtype == second.dtype == np.float64
    X64 = X.astype(np.float64)
    assert_allclose(mean, sw @ X64, rtol=1e-13, atol=1e-15)
    assert_allclose(second, sw @ X64**2, rtol=1e-13)
