# SPDX-License-Identifier: BSD-3-Clause
"""Array-library differences, in one place.

Everything that depends on what kind of array ``X`` is (dense NumPy, SciPy
sparse, or an Array API array such as a PyTorch tensor on a GPU) lives here:
the two products the solvers need, the column statistics behind the
preconditioner, the numerically stable ``expit``/``log_expit``, the few
reductions over the (n, K) raw predictions, and the reading of scalars back to
the host.  The objective and the solvers never branch on the array type
themselves: they pass ``xp`` (NumPy itself for NumPy and sparse data) to these
functions.

Every function has a NumPy branch first, which is the code that the NumPy path
has always run (einsum reductions rather than BLAS dot for n-long vectors,
in-place ``out=`` updates); the other branch is written against the Array API
standard and runs in the namespace and on the device of its inputs.  Scalars
that the solvers need on the host (values, slopes, curvatures) are computed
there as 0-d arrays and read back together by :func:`to_host`: one transfer
for a batch, never a conversion of ``X``, ``Y`` or the weights.
"""

import math

import numpy as np
import scipy.sparse as sp
from scipy.linalg.lapack import dpotrf as _potrf
from scipy.linalg.lapack import spotrf as _spotrf
from scipy.special import expit as _scipy_expit
from scipy.special import log_expit as _scipy_log_expit
from sklearn.utils.sparsefuncs import mean_variance_axis

from ._compat import (
    _convert_to_numpy,
    _is_numpy_namespace,
    array_api_compat,
    get_namespace_and_device,
)

# Rows processed at a time when a statistic needs an elementwise function of X
# (x**2): bounds the temporary to about this many bytes, never a copy of X.
_CHUNK_BYTES = 2**22
# The same on an accelerator, where each chunk is one kernel launch.
_DEVICE_CHUNK_BYTES = 2**26


# -- which namespace ---------------------------------------------------------
def namespace(*arrays):
    """The array namespace of already validated arrays.

    NumPy itself for NumPy arrays and SciPy sparse matrices (whatever the
    scikit-learn configuration: the caller has validated its data already),
    else the Array API namespace of the others (``array_api_compat``'s wrapper
    for PyTorch, the library itself for array-api-strict).
    """
    others = [
        a
        for a in arrays
        if a is not None
        and not isinstance(a, np.ndarray)
        and not sp.issparse(a)
        # dask arrays follow NumPy's API (through __array_function__).
        and not type(a).__module__.startswith("dask.")
    ]
    if not others:
        return np
    if array_api_compat is None:  # pragma: no cover - no Array API support installed
        raise TypeError(f"Not a NumPy array: {type(others[0]).__name__}")
    xp = array_api_compat.array_namespace(*others)
    return np if _is_numpy_namespace(xp) else xp


def input_namespace(*arrays):
    """``(xp, device)`` of estimator inputs, before validation.

    NumPy itself (device None) unless scikit-learn's ``array_api_dispatch`` is
    on and the inputs are arrays of another Array API library: without
    dispatch, inputs are converted to NumPy as they always were.
    """
    xp, is_array_api, device = get_namespace_and_device(*arrays)
    if not is_array_api or _is_numpy_namespace(xp):
        return np, None
    return xp, device


def device_of(a):
    """The device of ``a``; None for NumPy (its arrays have none, and
    scikit-learn before 1.4 vendors no array_api_compat to ask)."""
    if isinstance(a, np.ndarray):
        return None
    return array_api_compat.device(a)


# -- host <-> namespace ------------------------------------------------------
# The reads from a non-NumPy namespace back to the host, counted: on a GPU each
# one waits for the device's queue to drain, so the solver's loop batches them
# (see tests/test_transfers.py).  Every such read goes through this module.
_HOST_READS = [0]


def host_reads():
    """How many reads from non-NumPy namespaces to the host this process made."""
    return _HOST_READS[0]


def to_host(xp, values):
    """Read scalars (0-d arrays) computed in ``xp`` back to the host at once.

    For NumPy the values are returned as they are (NumPy scalars); otherwise a
    1-D NumPy array of them, in their dtype, after a single transfer.
    """
    if xp is np or not values:
        return values
    stacked = xp.stack([xp.reshape(v, ()) for v in values])
    _HOST_READS[0] += 1
    return _convert_to_numpy(stacked, xp)


def to_host_arrays(xp, arrays):
    """Read arrays of any shape computed in ``xp`` back at once: a list of NumPy
    arrays in their shapes (the arrays themselves for NumPy)."""
    if xp is np or not arrays:
        return list(arrays)
    flat = xp.concat([xp.reshape(a, (-1,)) for a in arrays])
    _HOST_READS[0] += 1
    flat = _convert_to_numpy(flat, xp)
    out, start = [], 0
    for a in arrays:
        size = math.prod(a.shape)
        out.append(flat[start : start + size].reshape(a.shape))
        start += size
    return out


def to_host_with(xp, values, arrays):
    """:func:`to_host` of the scalars ``values`` and :func:`to_host_arrays` of
    ``arrays`` in one read: ``(values, arrays)`` on the host."""
    if xp is np or not arrays:
        return to_host(xp, values), list(arrays)
    if not values:
        return [], to_host_arrays(xp, arrays)
    stacked = xp.stack([xp.reshape(v, ()) for v in values])
    host = to_host_arrays(xp, [stacked, *arrays])
    return host[0], host[1:]


def to_numpy(xp, a):
    """A (small) array on the host, as NumPy: K priors, p moments, n labels."""
    if xp is np:
        return a
    _HOST_READS[0] += 1
    return _convert_to_numpy(a, xp)


def from_host(xp, a, dtype, device):
    """A host NumPy array in ``xp``, on ``device``, in ``dtype``."""
    if xp is np:
        return np.asarray(a).astype(dtype)
    return xp.asarray(np.ascontiguousarray(a), dtype=dtype, device=device)


def _on(device):
    # NumPy before 2.0 takes no ``device`` argument; NumPy arrays have none.
    return {} if device is None else {"device": device}


def asarray(xp, a, dtype, device):
    """``a`` (an array of ``xp``, or NumPy's for NumPy) in ``dtype``, no copy if it is."""
    return xp.asarray(a, dtype=dtype, **_on(device))


def zeros(xp, shape, dtype, device):
    return xp.zeros(shape, dtype=dtype, **_on(device))


def ones(xp, shape, dtype, device):
    return xp.ones(shape, dtype=dtype, **_on(device))


def eye(xp, n, dtype, device):
    return xp.eye(n, dtype=dtype, **_on(device))


def batch_diagonal(xp, M):
    """The diagonals of the stacked matrices ``M`` (K, q, q): (K, q)."""
    if xp is np:
        return np.diagonal(M, axis1=1, axis2=2)
    return xp.linalg.diagonal(M)


def batch_transpose(xp, M):
    """The stacked matrices ``M`` (K, q, q), each transposed."""
    if xp is np:
        return np.swapaxes(M, 1, 2)
    return xp.matrix_transpose(M)


def copy(xp, a):
    if xp is np:
        return a.copy()
    return xp.asarray(a, copy=True)


def astype(xp, a, dtype, copy=True):
    if xp is np:
        return a.astype(dtype, copy=copy)
    return xp.astype(a, dtype, copy=copy)


def column_stack(xp, arrays):
    return xp.stack(arrays, axis=1)


# -- small reductions --------------------------------------------------------
# They return 0-d arrays (NumPy scalars for NumPy): read them with to_host.
def outer(xp, a, b):
    return a[:, None] * b[None, :]


def vdot(xp, a, b):
    """``sum(a * b)`` over all entries of two small arrays (coefficients)."""
    if xp is np:
        return np.vdot(a, b)
    return xp.sum(a * b)


def inner(xp, A, B):
    """``sum_ij A_ij B_ij`` for two (n, K) arrays."""
    if xp is np:
        # einsum, not BLAS dot: level-1 BLAS threads are slower than a plain
        # loop for these sizes.
        return np.einsum("ij,ij->", A, B)
    return xp.sum(A * B)


def weighted_sum(xp, w, M):
    """``sum_ij w_i M_ij`` for w of shape (n,) and M of shape (n, K)."""
    if xp is np:
        return np.einsum("i,ij->", w, M)
    return xp.sum(w @ M)


def norm(xp, a):
    """Frobenius norm: a float for NumPy, a 0-d array otherwise (read it later)."""
    if xp is np:
        return float(np.linalg.norm(a))
    return xp.sqrt(xp.sum(a * a))


def max_abs(xp, *arrays):
    """``max |a|`` over all entries of all arrays (0.0 if all are empty), a float."""
    if xp is np:
        # Methods, not np.max/np.abs: a few microseconds an iteration on small data.
        return max((float(abs(a).max()) for a in arrays if a.size), default=0.0)
    if not any(math.prod(a.shape) for a in arrays):
        return 0.0
    (largest,) = to_host_arrays(xp, [max_abs_array(xp, *arrays)])
    return float(largest)


def max_abs_array(xp, *arrays):
    """:func:`max_abs` as a 0-d array of ``xp``, not read (a float for NumPy)."""
    if xp is np:
        return max_abs(xp, *arrays)
    largest = [xp.max(xp.abs(a)) for a in arrays if math.prod(a.shape)]
    if not largest:
        if not arrays:
            return xp.asarray(0.0)
        return xp.zeros((), dtype=arrays[0].dtype, device=device_of(arrays[0]))
    return xp.max(xp.stack(largest))


def all_finite(xp, *arrays):
    """Whether every entry of ``arrays`` is finite, a bool on the host."""
    if xp is np:
        # No stacked array of flags: a step's test, every iteration.
        return all(bool(np.isfinite(a).all()) for a in arrays)
    return bool(to_numpy(xp, all_finite_array(xp, *arrays)))


def all_finite_array(xp, *arrays):
    """:func:`all_finite`, not read: a 0-d boolean array of ``xp``."""
    return xp.all(xp.stack([xp.all(xp.isfinite(a)) for a in arrays]))


def eps(xp, dtype):
    """Machine epsilon of a floating dtype of ``xp``."""
    return float(xp.finfo(dtype).eps)


def positive_definite(xp, M, overwrite=False):
    """Whether each of the stacked symmetric ``M`` (K, q, q) is positive
    definite: a (K,) boolean array of ``xp``, on M's device and with no read
    to the host (``overwrite``: M may be overwritten, on NumPy it is).
    NumPy by LAPACK's ``potrf`` on each; elsewhere :func:`_cholesky`."""
    if xp is np:
        # Each m is symmetric: its transpose is the Fortran-ordered view
        # LAPACK factors in place.
        M = M if overwrite else M.copy()
        potrf = _spotrf if M.dtype == np.float32 else _potrf
        return np.array([not potrf(m.T, lower=1, clean=0, overwrite_a=1)[1] for m in M])
    return _cholesky(xp, M)[1]


def inverse_cholesky_factors(xp, C):
    """``(L^-1, ok)``: the inverses of the Cholesky factors ``L`` of the
    stacked symmetric ``C`` (K, q, q) and, per matrix, whether ``C`` is
    positive definite (a (K,) boolean array; where it is not, ``L^-1`` is
    undefined), on C's device and with no read to the host: PyTorch by
    ``solve_triangular`` (its ``linalg.inv`` synchronizes a CUDA device with
    the host to check for errors), others by ``linalg.inv``."""
    K, q = C.shape[0], C.shape[1]
    L, ok = _cholesky(xp, C)
    identity = xp.eye(q, dtype=C.dtype, **_on(device_of(C)))
    if array_api_compat.is_torch_namespace(xp):
        import torch

        L_inv = torch.linalg.solve_triangular(L, identity.expand(K, q, q), upper=False)
    else:
        L_inv = xp.linalg.inv(L)
    return L_inv, ok & xp.all(xp.reshape(xp.isfinite(L_inv), (K, q * q)), axis=1)


def _cholesky(xp, M):
    """``(L, ok)``: the Cholesky factors of the stacked symmetric ``M`` (K,
    q, q) of a namespace other than NumPy and, per matrix, whether it is
    positive definite (a (K,) boolean array; where not, ``L`` is undefined
    but finite-checked), with no read to the host.  PyTorch by
    ``cholesky_ex`` (its ``linalg.cholesky`` synchronizes a CUDA device with
    the host to check for errors); others by ``linalg.cholesky``, a batch
    that raises counting as not positive definite (identity factors), as
    does a non-finite factor."""
    K, q = M.shape[0], M.shape[1]
    if array_api_compat.is_torch_namespace(xp):
        import torch

        L, info = torch.linalg.cholesky_ex(M)
        return L, info == 0
    try:
        L = xp.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        identity = xp.eye(q, dtype=M.dtype, **_on(device_of(M)))
        return xp.zeros_like(M) + identity, xp.zeros(K, dtype=xp.bool, **_on(device_of(M)))
    return L, xp.all(xp.reshape(xp.isfinite(L), (K, q * q)), axis=1)


def _native_special(xp):
    """Whether ``scipy.special`` hands this namespace to its own kernels.

    For other namespaces SciPy falls back to converting to NumPy, which is
    exactly what must not happen on a device.
    """
    return (
        array_api_compat.is_torch_namespace(xp)
        or array_api_compat.is_cupy_namespace(xp)
        or array_api_compat.is_jax_namespace(xp)
    )


def expit(x, out=None, *, xp=np):
    """``1 / (1 + exp(-x))`` without overflow, in the namespace of ``x``.

    NumPy: SciPy's ufunc (``out`` honoured).  PyTorch, CuPy, JAX:
    ``scipy.special.expit``, which dispatches to their own kernels under
    ``SCIPY_ARRAY_API=1``.  Any other namespace: ``e / (1 + e)`` or
    ``1 / (1 + e)`` with ``e = exp(-|x|) <= 1`` (``out`` ignored).
    """
    if xp is np:
        return _scipy_expit(x) if out is None else _scipy_expit(x, out=out)
    if _native_special(xp):
        return _scipy_expit(x)
    e = xp.exp(-xp.abs(x))
    p = 1 / (1 + e)
    return xp.where(x >= 0, p, e * p)


def log_expit(x, out=None, *, xp=np):
    """``log(expit(x))``, finite for any finite ``x``.

    NumPy: SciPy's ufunc (``out`` honoured).  Elsewhere (SciPy does not
    dispatch it) ``-logaddexp(0, -x)``, equally stable (``out`` ignored).
    """
    if xp is np:
        return _scipy_log_expit(x) if out is None else _scipy_log_expit(x, out=out)
    zero = xp.zeros((), dtype=x.dtype, device=device_of(x))
    return -xp.logaddexp(zero, -x)


# -- the data ----------------------------------------------------------------
def is_sparse(X):
    return sp.issparse(X)


def matmul(X, V):
    """``X @ V`` for X of shape (n, p) and V of shape (p, k): shape (n, k)."""
    if isinstance(X, np.ndarray) or is_sparse(X):
        if V.shape[1] == 1:
            # Matrix times vector: BLAS gemv, not gemm with one column.
            return np.asarray(X @ V[:, 0])[:, None]
        return np.asarray(X @ V)
    # The namespace's matmul promotes mixed dtypes where ``@`` may refuse.
    return namespace(X, V).matmul(X, V)


def rmatmul(X, R):
    """``R.T @ X`` for R of shape (n, k): shape (k, p), without forming X.T."""
    if R.shape[1] == 1 and (isinstance(X, np.ndarray) or is_sparse(X)):
        # One output: X.T @ r with a vector (gemv, about 20% faster than the
        # (1, n) @ (n, p) gemm on dense float64).
        return np.asarray(X.T @ R[:, 0])[None, :]
    if is_sparse(X):
        # (X.T @ R).T uses the transposed *view* of the sparse matrix.
        return np.asarray(X.T @ R).T
    return R.T @ X


def row_chunks(length, n_items, item_bytes, chunk_bytes=_CHUNK_BYTES):
    """Slices of ``range(length)`` holding about ``chunk_bytes`` of data each."""
    per_index = max(1.0, n_items * item_bytes / max(1, length))
    step = max(1, int(chunk_bytes // per_index))
    for start in range(0, length, step):
        yield slice(start, min(start + step, length))


def accumulation_dtype(xp, device):
    """float64 where the device has it (not on some GPUs), else float32."""
    kinds = xp.__array_namespace_info__().dtypes(kind="real floating", device=device)
    return xp.float64 if "float64" in kinds else xp.float32


def _column_moments_chunked(xp, X, sw, chunk_bytes):
    """:func:`column_moments` of a dense X in the namespace ``xp``, by blocks of
    rows of about ``chunk_bytes`` (two products with the weights each, in the
    accumulation dtype), read back as float64."""
    device = device_of(X)
    dtype = np.float64 if xp is np else accumulation_dtype(xp, device)
    sw = astype(xp, sw, dtype, copy=False)
    n_samples, n_features = X.shape
    mean = zeros(xp, n_features, dtype, device)
    second = zeros(xp, n_features, dtype, device)
    item_bytes = 8  # per entry of the float64 block
    for rows in row_chunks(n_samples, n_samples * n_features, item_bytes, chunk_bytes):
        block = astype(xp, X[rows, :], dtype, copy=False)
        w = sw[rows]
        mean += w @ block
        second += w @ (block * block)
    if xp is np:
        return mean, second
    mean, second = to_numpy(xp, xp.stack([mean, second]))
    return mean.astype(np.float64), second.astype(np.float64)


def column_moments(X, sw):
    """Weighted first and second moments of the columns of X, in float64.

    Returns ``mean = X.T @ sw`` and ``second = (X**2).T @ sw`` (``sw`` sums to
    one) as NumPy arrays.  Dense X is read by einsum without any temporary of
    its size; sparse X by
    ``sklearn.utils.sparsefuncs.mean_variance_axis`` (compiled, no copy of
    X).  An Array API X is read in slices of rows on its device (float64
    accumulation where the device has it) and only the two p-vectors come
    back.
    """
    if not (isinstance(X, np.ndarray) or is_sparse(X)):
        return _column_moments_chunked(namespace(X), X, sw, _DEVICE_CHUNK_BYTES)
    sw = np.asarray(sw, dtype=np.float64)
    if not is_sparse(X):
        # einsum's loops, no temporary.  (BLAS products on blocks halve the
        # time on small X, 4,000 x 50: 0.21 -> 0.10 ms, but their other
        # rounding moved the centring, and with it fits at tight tol: a gd
        # test fit under NumPy 1.23 stopped "flat" instead of converging; on
        # large X, hundreds of small products wake the BLAS's threads.)
        mean = np.einsum("i,ij->j", sw, X, dtype=np.float64)
        second = np.einsum("i,ij,ij->j", sw, X, X, dtype=np.float64)
        return mean, second
    if X.format not in ("csr", "csc"):
        X = X.tocsr()
    # scikit-learn's weighted moments (centred, so the second moment is the
    # variance plus the squared mean), with float64 weights summing to one.
    mean, var = mean_variance_axis(X, axis=0, weights=sw.astype(X.dtype, copy=False))
    mean = np.asarray(mean, dtype=np.float64)
    return mean, np.asarray(var, dtype=np.float64) + mean**2
