# SPDX-License-Identifier: BSD-3-Clause
"""Distributed fit and prediction on Dask, against the NumPy fit.

One ``LocalCluster`` of two single-threaded worker processes serves the
module.  Every fit on dask data is compared with the NumPy fit of the same
data: the solver is the same, so coefficients, iteration counts and curves
agree up to the order of floating-point summation.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from skperceptron import BCEPerceptronClassifier
from skperceptron._hessian import HessianMetric
from skperceptron._preconditioner import DiagonalMetric, diagonal

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

N_SAMPLES, N_FEATURES, CHUNK = 300, 5, 75  # four chunks of rows: two per worker


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        # Worker start-up on a busy machine may warn about the event loop.
        warnings.simplefilter("ignore", RuntimeWarning)
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
        client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _data(kind, n_samples=N_SAMPLES):
    if kind == "multilabel":
        X, y = make_multilabel_classification(
            n_samples, N_FEATURES, n_classes=3, random_state=0
        )
    else:
        X, y = make_classification(
            n_samples,
            N_FEATURES,
            n_informative=3,
            n_redundant=0,
            n_classes=3,
            n_clusters_per_class=1,
            random_state=0,
        )
        if kind == "binary":
            y = np.where(y == 1, "yes", "no").astype(object)
    return StandardScaler().fit_transform(X), y


def _weights(n_samples=N_SAMPLES):
    return np.random.default_rng(0).uniform(0.2, 2.0, n_samples)


def _fit_both(kind, params, weights=None, dask_weights=False):
    X, y = _data(kind)
    sample_weight = None if weights is None else weights
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # compare converged fits
        expected = BCEPerceptronClassifier(**params).fit(X, y, sample_weight=sample_weight)
    Xd = da.from_array(X, chunks=(CHUNK, N_FEATURES))
    if dask_weights and weights is not None:
        sample_weight = da.from_array(weights, chunks=CHUNK)
    got = BCEPerceptronClassifier(**params).fit(Xd, y, sample_weight=sample_weight)
    return X, Xd, expected, got


def _assert_same_fit(got, expected, extra_reads=0):
    for name in ("coef_", "intercept_", "classes_"):
        assert type(getattr(got, name)) is np.ndarray, name
    assert got.coef_.dtype == expected.coef_.dtype
    assert_array_equal(got.classes_, expected.classes_)
    assert_allclose(got.coef_, expected.coef_, rtol=0, atol=1e-6)
    assert_allclose(got.intercept_, expected.intercept_, rtol=0, atol=1e-6)
    assert got.n_iter_ == expected.n_iter_
    assert (got.n_matvec_, got.n_rmatvec_) == (expected.n_matvec_, expected.n_rmatvec_ + extra_reads)
    assert_allclose(got.loss_curve_, expected.loss_curve_, rtol=1e-10)
    assert got.n_features_in_ == expected.n_features_in_


def _assert_lazy_predictions(got, expected, X, Xd):
    for method in ("decision_function", "predict", "predict_proba", "predict_log_proba"):
        lazy = getattr(got, method)(Xd)
        assert isinstance(lazy, da.Array), method
        want = getattr(expected, method)(X)
        assert lazy.shape == want.shape and lazy.dtype == want.dtype, method
        if want.dtype.kind == "f":
            assert_allclose(lazy.compute(), want, rtol=1e-6, atol=1e-6)
        else:
            assert_array_equal(lazy.compute(), want)


# Strongly convex, converged well above float64 noise: the two fits take the
# same steps, so even the iteration counts agree.
STRONG = dict(alpha=0.1, tol=1e-7, max_iter=300)

CASES = {
    # Nesterov with Newton in the plane; string labels, dask weights, dict class_weight.
    "binary-planar-weights": (
        "binary",
        dict(class_weight={"no": 2.0, "yes": 0.5}),
        True,
    ),
    # Plain gradient descent, Euclidean metric, balanced classes.
    "multiclass-gd-balanced": (
        "multiclass",
        dict(solver="gd", preconditioner=None, class_weight="balanced"),
        False,
    ),
    # Elastic net: the proximal step, the Armijo search; NumPy weights.  The
    # diagonal metric pinned: on NumPy "auto" takes proximal Newton steps.
    "multilabel-elastic-net": (
        "multilabel",
        dict(solver="gd", l1_ratio=0.5, preconditioner="diagonal"),
        True,
    ),
    # FISTA with a fixed step from the power iteration (metric_lipschitz).
    "multiclass-fixed-step-no-intercept": (
        "multiclass",
        dict(line_search=False, fit_intercept=False),
        False,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fit_equals_numpy_fit_and_predictions_are_lazy(client, case):
    kind, params, weighted = CASES[case]
    weights = _weights() if weighted else None
    X, Xd, expected, got = _fit_both(
        kind, {**STRONG, **params}, weights, dask_weights=case.startswith("binary")
    )
    assert expected.n_iter_ < STRONG["max_iter"]  # converged: a tight comparison
    _assert_same_fit(got, expected)
    _assert_lazy_predictions(got, expected, X, Xd)


@pytest.mark.parametrize("kind", ["multiclass", "multilabel"])
def test_early_stopping_split_is_drawn_on_the_workers(client, kind):
    params = dict(
        alpha=1e-4,
        tol=1e-4,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=3,
        random_state=3,
        max_iter=200,
        preconditioner="diagonal",  # long enough for the validation loss to turn
    )
    X, Xd, expected, got = _fit_both(kind, params)
    # It did stop early, on the same validation rows as the NumPy fit.
    assert got.best_iteration_ < got.n_iter_ < params["max_iter"]
    assert got.best_iteration_ == expected.best_iteration_
    assert_allclose(got.validation_loss_curve_, expected.validation_loss_curve_, rtol=1e-10)
    # The last trial also brought the gradient there, for an iteration that
    # early stopping did not run: one read of X more than NumPy's fit.
    _assert_same_fit(got, expected, extra_reads=1)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_prepared_data_equals_the_numpy_preparation(kind):
    """The dask preparation maps _data's functions over the chunks: the same
    targets, class and sample weights, held-out rows and priors as NumPy's."""
    from skperceptron import _dask
    from skperceptron._data import prepare_fit

    X, y = _data(kind)
    weights = _weights()
    estimator = BCEPerceptronClassifier(
        early_stopping=True,
        validation_fraction=0.2,
        random_state=1,
        class_weight=None if kind == "multilabel" else "balanced",
    )
    # Uneven chunks: each class's rows are ranked across chunk boundaries.
    Xd = da.from_array(X, chunks=((40, 110, 70, 80), N_FEATURES))
    got = _dask.prepare_fit(estimator, Xd, y, da.from_array(weights, chunks=100))
    want = prepare_fit(estimator, X, y, weights)
    assert_array_equal(got.classes, want.classes)
    assert got.kind == want.kind
    assert_array_equal(got.Y.compute(), want.Y)
    assert_array_equal(got.val.compute(), want.val)
    assert_allclose(got.sw.compute(), want.sw, rtol=1e-12, atol=0)
    assert_allclose(got.val_weights.compute(), want.val_weights, rtol=1e-12, atol=0)
    assert_allclose(got.prior, want.sw @ want.Y, rtol=1e-12)


def test_warm_start_continues_from_the_previous_fit(client):
    X, y = _data("multiclass")
    Xd = da.from_array(X, chunks=(CHUNK, N_FEATURES))
    fits = []
    for data in (X, Xd):
        clf = BCEPerceptronClassifier(warm_start=True, **{**STRONG, "max_iter": 3})
        with pytest.warns(ConvergenceWarning):
            clf.fit(data, y)
        clf.set_params(max_iter=300).fit(data, y)
        fits.append(clf)
    _assert_same_fit(fits[1], fits[0])
    cold = BCEPerceptronClassifier(**STRONG).fit(X, y)
    assert fits[1].n_iter_ < cold.n_iter_


def test_float32_stays_float32(client):
    X, y = _data("multiclass")
    X = X.astype(np.float32)
    params = {**STRONG, "tol": 1e-5}
    expected = BCEPerceptronClassifier(**params).fit(X, y)
    got = BCEPerceptronClassifier(**params).fit(da.from_array(X, chunks=(CHUNK, N_FEATURES)), y)
    assert got.coef_.dtype == got.intercept_.dtype == np.float32
    # Both converged in float32; the objective is alpha-strongly convex, so
    # each is within tol / alpha of the optimum.
    assert got.n_iter_ < params["max_iter"] and expected.n_iter_ < params["max_iter"]
    assert_allclose(got.coef_, expected.coef_, rtol=0, atol=2 * params["tol"] / params["alpha"])


def test_dask_dataframe_with_unknown_chunk_sizes(client):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = _data("multiclass")
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(N_FEATURES)])
    frame["target"] = y
    ddf = dd.from_pandas(frame, npartitions=3)
    features = ddf.drop(columns="target")
    assert np.isnan(features.to_dask_array().chunks[0][0])  # what users pass

    expected = BCEPerceptronClassifier(**STRONG).fit(frame.drop(columns="target"), y)
    got = BCEPerceptronClassifier(**STRONG).fit(features, ddf["target"])
    _assert_same_fit(got, expected)
    assert_array_equal(got.feature_names_in_, expected.feature_names_in_)
    proba = got.predict_proba(features)
    assert isinstance(proba, da.Array)
    want = expected.predict_proba(frame.drop(columns="target"))
    assert_allclose(proba.compute(), want, rtol=1e-6, atol=1e-12)

    # A dask array with unknown chunk sizes and NumPy targets: same fit.
    again = BCEPerceptronClassifier(**STRONG).fit(features.to_dask_array(), y)
    assert_allclose(again.coef_, expected.coef_, atol=1e-6)
    assert not hasattr(again, "feature_names_in_")


@pytest.mark.parametrize("preconditioner", ["diagonal", "auto"])
def test_x_is_read_once_and_only_small_results_come_back(
    client, tmp_path, monkeypatch, preconditioner
):
    """The data is persisted once; each iteration reads the persisted chunks,
    never recomputes them, and brings back only results whose size does not
    grow with n_samples."""
    n_samples, n_chunks = 8000, 8
    X, y = make_classification(n_samples, N_FEATURES, n_classes=3, n_informative=3,
                               n_redundant=0, random_state=0)
    X = StandardScaler().fit_transform(X)
    reads = tmp_path / "reads"

    def count_reads(block):
        with open(reads, "a") as log:
            log.write("read\n")
        return block

    source = da.from_array(X, chunks=(n_samples // n_chunks, N_FEATURES))
    sizes, calls = [], []
    compute = dask.base.compute

    def recording_compute(*args, **kwargs):
        results = compute(*args, **kwargs)
        sizes.extend(np.size(result) for result in results)
        calls.append(len(results))
        return results

    monkeypatch.setattr(dask.base, "compute", recording_compute)
    monkeypatch.setattr(dask, "compute", recording_compute)
    tasks, round_trips = {}, {}
    # The Hessian metric reaches float64 precision in about 8 iterations here.
    iterations = (4, 8) if preconditioner == "diagonal" else (2, 4)
    for max_iter in iterations:
        # A graph of its own per fit: the scheduler releases the previous
        # fit's persisted chunks asynchronously, and a second fit on the same
        # keys may find them still in memory and rightly read nothing.
        Xd = source.map_blocks(
            count_reads, dtype=X.dtype, meta=np.empty((0, 0)), name=f"reads-{max_iter}"
        )
        reads.write_text("")
        calls.clear()
        with distributed.get_task_stream(client) as stream:
            with pytest.warns(ConvergenceWarning):
                clf = BCEPerceptronClassifier(
                    alpha=1e-4, tol=0, max_iter=max_iter, preconditioner=preconditioner
                ).fit(Xd, y)
        assert clf.n_iter_ == max_iter
        tasks[max_iter] = len(stream.data)
        round_trips[max_iter] = len(calls)
        # Persisted once per fit: each chunk computed once, however many passes.
        assert reads.read_text().count("read") == n_chunks

    assert clf.n_matvec_ + clf.n_rmatvec_ <= 2 * clf.n_iter_ + 3
    if preconditioner == "diagonal":
        # The largest result is the loss and the (K, p + 1) gradient at a
        # search's trial point, whatever n_samples.
        assert max(sizes) == 1 + 3 * (N_FEATURES + 1)
    else:
        # The Hessian metric's row sample comes to the client once, and its
        # raw predictions once per iteration: at most max(2048, 8 (p + 1))
        # rows, whatever n_samples (2,048 of 8,000 here).
        m = HessianMetric.sample_size(n_samples, N_FEATURES + 1)
        assert clf.preconditioner_ == "hessian" and m < n_samples
        assert sorted(set(sizes))[-2:] == [m * 3, m * N_FEATURES]
    # Tasks per iteration: one per chunk for each reduction or persisted
    # combination (about 7.5 per chunk here), the same in every iteration.
    first, last = iterations
    per_iteration = (tasks[last] - tasks[first]) / (last - first)
    assert 0 < per_iteration <= 10 * n_chunks + 10
    # Round trips to the workers: the values, gradient, curvature and the
    # metric's refresh test of an iteration batched into at most two computes.
    assert 0 < (round_trips[last] - round_trips[first]) / (last - first) <= 2


def test_raw_predictions_stay_persisted(client):
    """The graphs of the raw predictions the solver keeps do not grow."""
    from skperceptron._objective import BCEObjective
    from skperceptron._penalty import L1Penalty
    from skperceptron._solvers import ProximalGradientSolver

    X, y = _data("multiclass")
    Y = (y[:, None] == np.arange(3)).astype(float)
    Xd = da.from_array(X, chunks=(CHUNK, N_FEATURES)).persist()
    Yd = da.from_array(Y, chunks=(CHUNK, 3)).persist()
    sw = da.full(N_SAMPLES, 1 / N_SAMPLES, chunks=CHUNK).persist()
    objective = BCEObjective(Xd, Yd, sw, l2=1e-2, fit_intercept=True, center=True)
    graph_sizes = []

    def monitor(n_iter, W, c, raw, F):
        graph_sizes.append(len(raw.__dask_graph__()))
        return False

    solver = ProximalGradientSolver(
        objective,
        L1Penalty(0.0),
        accelerated=True,
        metric=DiagonalMetric(*(1 / m for m in diagonal(objective))),
        step=1.0,
        line_search=True,
        max_iter=6,
        tol=0.0,
        monitor=monitor,
    )
    result = solver.solve(np.zeros((3, N_FEATURES)), np.zeros(3))
    assert graph_sizes == [Xd.numblocks[0]] * 6
    assert isinstance(result.W, np.ndarray) and isinstance(result.raw, da.Array)


def test_fits_on_workers_with_less_memory_than_the_data(tmp_path):
    """Each worker may hold less than X: its chunks spill to disk and the fit
    reads them back, with the same result."""
    n_samples, n_features = 60_000, 40  # 19 MB of float64, workers limited to 16 MiB
    rng = da.random.RandomState(0)
    X = rng.standard_normal((n_samples, n_features), chunks=(5_000, n_features))
    y = (X[:, :3].sum(axis=1) + rng.standard_normal(n_samples, chunks=5_000) > 0).astype(int)
    memory = {
        "distributed.worker.memory.target": 0.4,  # spill managed data past 40%
        "distributed.worker.memory.spill": False,
        "distributed.worker.memory.pause": False,
        "distributed.worker.memory.terminate": False,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with dask.config.set(memory), distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="16MiB",
            local_directory=str(tmp_path),
            dashboard_address=":0",
        ) as cluster, distributed.Client(cluster, set_as_default=False) as small:
            with small.as_current():
                assert X.nbytes > 16 * 2**20
                X, y = dask.persist(X, y)
                got = BCEPerceptronClassifier(alpha=1e-3, tol=1e-6).fit(X, y)
                spilled = small.run(lambda dask_worker: dask_worker.data.spilled_total.disk)
                X_np, y_np = dask.compute(X, y)
    assert sum(spilled.values()) > 0
    expected = BCEPerceptronClassifier(alpha=1e-3, tol=1e-6).fit(X_np, y_np)
    assert_allclose(got.coef_, expected.coef_, atol=1e-6)
    assert got.n_iter_ == expected.n_iter_


def test_grid_search_under_the_joblib_dask_backend(client):
    joblib = pytest.importorskip("joblib")
    X, y = _data("multiclass")
    grid = {"alpha": [1e-3, 1e-1], "solver": ["nesterov", "gd"]}
    expected = GridSearchCV(BCEPerceptronClassifier(), grid, cv=3).fit(X, y)
    with distributed.get_task_stream(client) as stream:
        with joblib.parallel_backend("dask"):
            search = GridSearchCV(BCEPerceptronClassifier(), grid, cv=3).fit(X, y)
    assert any("batch" in str(task["key"]) for task in stream.data)  # joblib's batches of fits
    assert search.best_params_ == expected.best_params_
    assert_allclose(
        search.cv_results_["mean_test_score"], expected.cv_results_["mean_test_score"]
    )
    assert_allclose(search.best_estimator_.coef_, expected.best_estimator_.coef_)


def test_invalid_dask_inputs_raise_clear_errors(client):
    X, y = _data("multiclass")
    Xd = da.from_array(X, chunks=(CHUNK, N_FEATURES))
    clf = BCEPerceptronClassifier()
    bad = X.copy()
    bad[7, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(da.from_array(bad, chunks=(CHUNK, N_FEATURES)), y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.fit(Xd, y[:-1])
    with pytest.raises(ValueError, match="non-negative"):
        clf.fit(Xd, y, sample_weight=-np.ones(N_SAMPLES))
    with pytest.raises(ValueError, match="multilabel indicator"):
        clf.fit(Xd, np.column_stack([y, y]))
    with pytest.raises(ValueError, match="class_weight is not supported"):
        BCEPerceptronClassifier(class_weight="balanced").fit(Xd, _data("multilabel")[1])
    fitted = BCEPerceptronClassifier(tol=10.0).fit(Xd, y)  # converged at the start
    with pytest.raises(ValueError, match="features"):
        fitted.predict(Xd[:, :3])


def test_convergence_warning_gives_the_same_cause(client):
    """The separability diagnosis reads the distributed raw predictions."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    params = dict(alpha=0.0, max_iter=8, tol=0.0, preconditioner=None)
    messages = []
    for data in (X, da.from_array(X, chunks=(50, 3))):
        with pytest.warns(ConvergenceWarning, match="linearly separable") as record:
            BCEPerceptronClassifier(**params).fit(data, y)
        messages.append(str(record[0].message))
    assert messages[0] == messages[1]
