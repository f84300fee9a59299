# SPDX-License-Identifier: BSD-3-Clause
"""The benchmark sets, built deterministically and without copies of X to spare.

Each builder takes ``quick`` (tiny versions for CI) and returns a
:class:`Dataset` with a train/held-out split.  Generation is seeded, so a
name always means the same matrix on the same NumPy and scikit-learn.
"""

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


@dataclass
class Dataset:
    """A train/held-out split and what every method is scored with."""

    name: str
    description: str
    X_train: object
    y_train: np.ndarray
    X_test: object
    y_test: np.ndarray
    large: bool = False
    classes: np.ndarray = field(init=False)
    Y_train: np.ndarray = field(init=False)
    X_eval: object = field(init=False)

    def __post_init__(self):
        self.classes = np.unique(self.y_train)
        if len(self.classes) == 2:
            self.Y_train = (self.y_train == self.classes[1]).astype(np.float64)[:, None]
        else:
            index = np.searchsorted(self.classes, self.y_train)
            self.Y_train = np.eye(len(self.classes))[index]
        # J is evaluated in float64 on the values the methods saw: float32
        # data are widened once, here, outside every timed or traced region.
        self.X_eval = self.X_train
        if self.X_train.dtype != np.float64:
            self.X_eval = self.X_train.astype(np.float64)

    @property
    def n_train(self):
        return self.X_train.shape[0]

    @property
    def n_features(self):
        return self.X_train.shape[1]

    @property
    def n_outputs(self):
        return self.Y_train.shape[1]

    @property
    def sparse(self):
        return sp.issparse(self.X_train)

    @property
    def x_nbytes(self):
        """Bytes of the training X (data + indices + indptr when sparse)."""
        X = self.X_train
        if sp.issparse(X):
            return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
        return X.nbytes

    def summary(self):
        X = self.X_train
        shape = f"{X.shape[0]:,} x {X.shape[1]:,} train, {self.X_test.shape[0]:,} held out"
        kind = "binary" if self.n_outputs == 1 else f"{len(self.classes)} classes (K={self.n_outputs})"
        storage = f"CSR, density {X.nnz / (X.shape[0] * X.shape[1]):.4f}" if self.sparse else "dense"
        return f"{shape}; {X.dtype}, {storage}; {kind}; X.nbytes {self.x_nbytes / 2**20:.1f} MiB"


def _split(X, y, seed=0):
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


def _standardize(X_train, X_test):
    """Scale with the training statistics, in place (no copy of X)."""
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std[std == 0] = 1.0
    for X in (X_train, X_test):
        X -= mean
        X /= std


def breast_cancer_std(quick):
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = _split(X, y)
    scaler = StandardScaler().fit(X_train)
    return Dataset(
        "breast-cancer-std",
        "load_breast_cancer, StandardScaler fit on the training rows",
        scaler.transform(X_train),
        y_train,
        scaler.transform(X_test),
        y_test,
    )


def breast_cancer_raw(quick):
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = _split(X, y)
    return Dataset(
        "breast-cancer-raw",
        "load_breast_cancer, raw features (means up to ~900, an intercept near -11 at the optimum)",
        X_train,
        y_train,
        X_test,
        y_test,
    )


def digits(quick):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = _split(X, y)
    return Dataset(
        "digits",
        "load_digits, raw pixel values 0..16, 10 classes (K=10 one-vs-rest units)",
        X_train,
        y_train,
        X_test,
        y_test,
    )


# The two dense synthetic sets share one draw: float32 is the float64 set
# rounded, so that their numbers compare.
_CLASSIFICATION = {}


def _classification_sizes(quick):
    return (6_000, 40, 4_500) if quick else (200_000, 200, 150_000)


def _make_classification(n_samples, n_features, seed):
    return make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_features // 4,
        n_redundant=n_features // 10,
        flip_y=0.02,
        class_sep=1.0,
        random_state=seed,
    )


def _classification(quick):
    if quick not in _CLASSIFICATION:
        n_samples, n_features, n_train = _classification_sizes(quick)
        X, y = _make_classification(n_samples, n_features, seed=0)
        # make_classification shuffles the rows: the first n_train are a random split.
        X_train, X_test = X[:n_train], X[n_train:]
        _standardize(X_train, X_test)
        _CLASSIFICATION[quick] = (X_train, y[:n_train], X_test, y[n_train:])
    return _CLASSIFICATION[quick]


def _classification_description(quick):
    n_samples, n_features, n_train = _classification_sizes(quick)
    return (
        f"make_classification({n_samples:,} x {n_features}, n_informative={n_features // 4}, "
        f"n_redundant={n_features // 10}, flip_y=0.02, random_state=0), first {n_train:,} rows "
        "train, standardized with their statistics"
    )


def classification_f64(quick):
    X_train, y_train, X_test, y_test = _classification(quick)
    return Dataset(
        "classification-f64",
        _classification_description(quick),
        X_train,
        y_train,
        X_test,
        y_test,
        large=not quick,
    )


def classification_f32(quick):
    X_train, y_train, X_test, y_test = _classification(quick)
    dataset = Dataset(
        "classification-f32",
        _classification_description(quick) + ", then cast to float32",
        X_train.astype(np.float32),
        y_train,
        X_test.astype(np.float32),
        y_test,
        large=not quick,
    )
    # The float64 draw is no longer needed once both sets exist (320 MB).
    _CLASSIFICATION.pop(quick, None)
    return dataset


def _random_csr(n_samples, n_features, density, rng):
    """CSR matrix with about ``density`` nonzeros per entry, sorted unique indices.

    Drawn as flat positions ``row * n_features + col`` (int64), sorted and
    deduplicated: memory of a few arrays of length nnz, never the dense matrix.
    """
    nnz = int(round(density * n_samples * n_features))
    keys = rng.integers(0, n_samples * n_features, size=nnz, dtype=np.int64)
    keys.sort()
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    rows = keys // n_features
    indices = (keys - rows * n_features).astype(np.int32)
    del keys
    indptr = np.zeros(n_samples + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_samples), out=indptr[1:])
    del rows
    # Positive, tf-idf-like values: columns are not centred.
    data = rng.exponential(1.0, size=indices.size)
    indptr = indptr.astype(np.int32) if indices.size < 2**31 else indptr
    return sp.csr_matrix((data, indices, indptr), shape=(n_samples, n_features))


def sparse(quick):
    n_samples, n_features, n_train, density = (
        (8_000, 2_000, 6_000, 0.01) if quick else (200_000, 20_000, 150_000, 0.002)
    )
    support_fraction = 0.1
    rng = np.random.default_rng(0)
    X = _random_csr(n_samples, n_features, density, rng)
    # Planted sparse model: 10% of the features carry weight; logits scaled to
    # standard deviation 3, centred (balanced classes), labels drawn from the
    # logistic model (the noise).
    w_true = np.zeros(n_features)
    support = rng.choice(n_features, size=int(support_fraction * n_features), replace=False)
    w_true[support] = rng.standard_normal(support.size)
    logit = X @ w_true
    logit = 3.0 * (logit - np.median(logit)) / logit.std()
    y = (rng.random(n_samples) < expit(logit)).astype(np.int64)
    X_train, X_test = X[:n_train], X[n_train:]
    del X
    return Dataset(
        "sparse",
        f"CSR {n_samples:,} x {n_features:,}, density {density}, exponential(1) values; planted "
        f"model: {support_fraction:.0%} of the features with N(0,1) weights, logits scaled to "
        "std 3 and centred, labels ~ Bernoulli(expit(logit)); first "
        f"{n_train:,} rows train",
        X_train,
        y[:n_train],
        X_test,
        y[n_train:],
        large=not quick,
    )


def ill_scaled(quick):
    n_samples, n_features, n_train = (4_000, 50, 3_000) if quick else (20_000, 200, 15_000)
    X, y = _make_classification(n_samples, n_features, seed=1)
    u = np.random.default_rng(1).uniform(-3, 3, size=n_features)
    X *= 10.0**u
    return Dataset(
        "ill-scaled",
        f"make_classification({n_samples:,} x {n_features}, as above, random_state=1), column j "
        f"multiplied by 10**u_j, u_j ~ U[-3, 3]; first {n_train:,} rows train",
        X[:n_train],
        y[:n_train],
        X[n_train:],
        y[n_train:],
    )


# In the order they run; the two float32/float64 sets next to each other.
BUILDERS = {
    "breast-cancer-std": breast_cancer_std,
    "breast-cancer-raw": breast_cancer_raw,
    "digits": digits,
    "classification-f64": classification_f64,
    "classification-f32": classification_f32,
    "sparse": sparse,
    "ill-scaled": ill_scaled,
}


# -- the GPU and Dask modes' data: whole arrays, not train/held-out splits ---------
@dataclass
class Problem:
    """The sizes that the method tables read, for data that are no
    :class:`Dataset` (on a device, or persisted on a cluster)."""

    n_train: int
    n_features: int
    n_outputs: int = 1
    sparse: bool = False
    large: bool = False


def gpu_parity(n_samples):
    """3 classes, 20 features: the same fit with NumPy and on the device."""
    return make_classification(
        n_samples, 20, n_informative=10, n_redundant=0, n_classes=3, random_state=1
    )


def gpu_classification(n_samples, n_features):
    """The GPU mode's binary problem, float64 (cast to float32 by the caller)."""
    return make_classification(
        n_samples,
        n_features,
        n_informative=min(50, n_features),
        n_redundant=0,
        shuffle=False,  # ten times faster to generate; full-batch fits ignore row order
        random_state=0,
    )


def dask_logistic(n_samples, n_chunks, n_features=20, seed=0):
    """A logistic model with correlated features, generated lazily on Dask
    (on the workers once persisted), in ``n_chunks`` blocks of rows."""
    import dask.array as da

    rs = da.random.RandomState(seed)
    chunks = (-(-n_samples // n_chunks), n_features)
    Z = rs.standard_normal((n_samples, n_features), chunks=chunks)
    mixing = np.random.default_rng(seed).normal(size=(n_features, n_features)) / 4
    X = Z + Z @ mixing
    w = np.random.default_rng(seed + 1).normal(size=n_features)
    u = rs.uniform(size=n_samples, chunks=chunks[0])
    y = (u < 1 / (1 + da.exp(-(X @ w - 0.5)))).astype(np.int64)
    return X, y
