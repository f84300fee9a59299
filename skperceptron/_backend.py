# SPDX-License-Identifier: BSD-3-Clause
"""Array-library differences, in one place.

Everything that depends on what kind of array ``X`` is (dense NumPy, SciPy
sparse) lives here: the two products the solvers need, the one-pass column
statistics behind the preconditioner, and the numerically stable
``expit``/``log_expit``.  The objective and the solvers never branch on the
array type themselves.
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit

__all__ = [
    "expit",
    "log_expit",
    "is_sparse",
    "matmul",
    "rmatmul",
    "column_moments",
    "squared_norm_total",
]

# Rows processed at a time when a statistic needs an elementwise function of X
# (x**2): bounds the temporary to about this many bytes, never a copy of X.
_CHUNK_BYTES = 2**22


def is_sparse(X):
    return sp.issparse(X)


def matmul(X, V):
    """``X @ V`` for X of shape (n, p) and V of shape (p, k): shape (n, k)."""
    out = X @ V
    return np.asarray(out)


def rmatmul(X, R):
    """``R.T @ X`` for R of shape (n, k): shape (k, p), without forming X.T."""
    if is_sparse(X):
        # (X.T @ R).T uses the transposed *view* of the sparse matrix.
        return np.asarray(X.T @ R).T
    return R.T @ X


def _chunks(length, n_items, item_bytes):
    """Slices of ``range(length)`` holding about ``_CHUNK_BYTES`` of data each."""
    per_index = max(1.0, n_items * item_bytes / max(1, length))
    step = max(1, int(_CHUNK_BYTES // per_index))
    for start in range(0, length, step):
        yield slice(start, min(start + step, length))


def column_moments(X, sw):
    """Weighted first and second moments of the columns of X, in float64.

    Returns ``mean = X.T @ sw`` and ``second = (X**2).T @ sw`` (``sw`` sums to
    one).  Dense X is read by einsum without any temporary of its size; sparse
    X is squared one slice of rows (CSR) or columns (CSC) at a time, so the
    temporaries stay near ``_CHUNK_BYTES``.
    """
    sw = np.asarray(sw, dtype=np.float64)
    if not is_sparse(X):
        mean = np.einsum("i,ij->j", sw, X, dtype=np.float64)
        second = np.einsum("i,ij,ij->j", sw, X, X, dtype=np.float64)
        return mean, second
    n_samples, n_features = X.shape
    mean = np.zeros(n_features)
    second = np.zeros(n_features)
    item_bytes = X.data.itemsize + X.indices.itemsize
    if X.format == "csc":
        for cols in _chunks(n_features, X.nnz, item_bytes):
            block = X[:, cols].astype(np.float64)
            mean[cols] = block.T @ sw
            block.data *= block.data
            second[cols] = block.T @ sw
        return mean, second
    X = X.tocsr()
    for rows in _chunks(n_samples, X.nnz, item_bytes):
        block = X[rows].astype(np.float64)
        mean += block.T @ sw[rows]
        block.data *= block.data
        second += block.T @ sw[rows]
    return mean, second


def squared_norm_total(X, sw):
    """``sum_i sw_i ||x_i||^2``: the trace of ``X.T diag(sw) X``."""
    return float(column_moments(X, sw)[1].sum())
