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


def _row_chunks(X):
    n_samples, n_features = X.shape
    step = max(1, _CHUNK_BYTES // max(1, 8 * n_features))
    if is_sparse(X) and X.format != "csr":
        # Row slicing a CSC matrix would copy it; columns are handled below.
        raise TypeError("row chunks need a dense or CSR matrix")
    for start in range(0, n_samples, step):
        yield start, min(start + step, n_samples)


def column_moments(X, sw):
    """Weighted first and second moments of the columns of X, in float64.

    Returns ``mean = X.T @ sw`` and ``second = (X**2).T @ sw`` (``sw`` sums to
    one), computed in one pass with temporaries bounded by ``_CHUNK_BYTES``.
    """
    sw = np.asarray(sw, dtype=np.float64)
    n_features = X.shape[1]
    mean = np.zeros(n_features)
    second = np.zeros(n_features)
    if is_sparse(X) and X.format == "csc":
        indptr, indices, data = X.indptr, X.indices, X.data
        step = max(1, _CHUNK_BYTES // 8)
        for start in range(0, X.nnz, step):
            stop = min(start + step, X.nnz)
            vals = data[start:stop].astype(np.float64)
            weights = sw[indices[start:stop]]
            cols = np.searchsorted(indptr, np.arange(start, stop), side="right") - 1
            mean += np.bincount(cols, weights=vals * weights, minlength=n_features)
            second += np.bincount(
                cols, weights=vals * vals * weights, minlength=n_features
            )
        return mean, second
    if is_sparse(X):
        X = X.tocsr() if X.format != "csr" else X
        for start, stop in _row_chunks(X):
            block = X[start:stop]
            w = sw[start:stop]
            vals = block.data.astype(np.float64)
            rows = np.repeat(np.arange(stop - start), np.diff(block.indptr))
            weighted = vals * w[rows]
            mean += np.bincount(block.indices, weights=weighted, minlength=n_features)
            second += np.bincount(
                block.indices, weights=weighted * vals, minlength=n_features
            )
        return mean, second
    for start, stop in _row_chunks(X):
        block = np.asarray(X[start:stop], dtype=np.float64)
        w = sw[start:stop]
        mean += w @ block
        second += w @ (block * block)
    return mean, second


def squared_norm_total(X, sw):
    """``sum_i sw_i ||x_i||^2``: the trace of ``X.T diag(sw) X``."""
    return float(column_moments(X, sw)[1].sum())
