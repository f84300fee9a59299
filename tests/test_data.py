# SPDX-License-Identifier: BSD-3-Clause
"""Messages of the target and weight checks: the labels as the user wrote them."""

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import load_iris

from skperceptron import BCEPerceptronClassifier
from skperceptron._data import encode_targets, fold_weights

X = np.arange(12.0).reshape(6, 2)


@pytest.mark.parametrize(
    "y, shown",
    [
        (np.array(["setosa"] * 6), "setosa"),
        (np.array(["setosa"] * 6, dtype=object), "setosa"),
        (["setosa"] * 6, "setosa"),
        (np.full(6, 3), "3"),
        (np.ones(6, dtype=bool), "True"),
    ],
)
def test_one_class_names_the_label_without_repr(y, shown):
    message = f"y has only one class ({shown}): a classifier needs samples of at least 2 classes."
    with pytest.raises(ValueError, match=re.escape(message)):
        BCEPerceptronClassifier().fit(X, y)


def test_one_class_of_iris_names():
    """The message of the issue: iris' first 50 rows are all setosa."""
    iris = load_iris()
    y = iris.target_names[iris.target[:50]]
    with pytest.raises(ValueError) as caught:
        BCEPerceptronClassifier().fit(iris.data[:50], y)
    assert str(caught.value).startswith("y has only one class (setosa):")
    assert "np.str_" not in str(caught.value) and "'" not in str(caught.value)


def test_multioutput_targets_name_their_type_and_the_way_out():
    y = np.array([[0, 1], [1, 2], [2, 0], [0, 1], [1, 2], [2, 0]])
    with pytest.raises(ValueError) as caught:
        BCEPerceptronClassifier().fit(X, y)
    message = str(caught.value)
    assert message.startswith("y is multiclass-multioutput: BCEPerceptronClassifier fits")
    assert "MultiOutputClassifier" in message


# -- targets against the classes of a fit: objective() -------------------------
def _fitted_on_names():
    y = np.array(["a", "b", "c", "a", "b", "c"])
    return BCEPerceptronClassifier(alpha=1e-2).fit(X, y)


def test_encode_known_targets_matches_encode_targets():
    """One encoding: y against known classes gives the matrix of the fit."""
    from skperceptron._data import encode_known_targets, encode_targets

    for y in (np.array([2, 0, 1, 1, 0, 2]), np.array(["x", "y", "y", "x", "x", "y"])):
        classes, Y, kind = encode_targets(y)
        np.testing.assert_array_equal(encode_known_targets(y, classes, kind), Y)
        np.testing.assert_array_equal(encode_known_targets(list(y), classes, kind), Y)
    Y_multi = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]])
    classes, Y, kind = encode_targets(Y_multi)
    np.testing.assert_array_equal(encode_known_targets(Y_multi, classes, kind), Y)


def test_objective_names_unseen_labels_as_written():
    clf = _fitted_on_names()
    y = np.array(["a", "b", "zebra", "a", "b", "yak"])
    with pytest.raises(ValueError) as caught:
        clf.objective(X, y)
    assert str(caught.value) == "y contains labels not seen in fit: yak, zebra"


def test_objective_checks_the_indicator_width_and_the_length():
    Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]])
    clf = BCEPerceptronClassifier(alpha=1e-2).fit(X, Y)
    with pytest.raises(ValueError, match=re.escape("indicator matrix with 2 columns")):
        clf.objective(X, np.ones((6, 3)))
    with pytest.raises(ValueError, match=re.escape("X has 6 samples but y has 5.")):
        clf.objective(X, Y[:5])
    with pytest.raises(ValueError, match=re.escape("X has 6 samples but y has 4.")):
        _fitted_on_names().objective(X, ["a", "b", "c", "a"])


# -- target encoding and weights (moved from test_passes.py) -------------------------


@pytest.mark.parametrize(
    "y",
    [
        np.array([3, 1, 3, 2, 1, 1]),
        np.array([2.0, -1.0, 2.0, 2.0]),
        np.array(["b", "a", "c", "a", "b"], dtype=object),
        np.array(["no", "yes", "yes", "no"]),
    ],
)
def test_encode_targets_matches_unique_inverse(y):
    classes, Y, kind = encode_targets(y)
    expected_classes, index = np.unique(y, return_inverse=True)
    np.testing.assert_array_equal(classes, expected_classes)
    assert Y.dtype == np.int8
    if len(classes) == 2:
        np.testing.assert_array_equal(Y[:, 0], index == 1)
    else:
        np.testing.assert_array_equal(Y, np.eye(len(classes), dtype=np.int8)[index])


def test_equal_weights_cost_no_memory_and_are_never_written():
    y = np.array([0, 1, 1, 0, 1])
    Y = encode_targets(y)[1]
    sw, S = fold_weights(y, Y, "binary", None, None, 5, np.float32)
    assert S == 5 and sw.dtype == np.float32 and sw.strides == (0,)
    assert not sw.flags.writeable
    assert_allclose(sw.sum(), 1.0, rtol=1e-6)


@pytest.mark.parametrize(
    "y",
    [
        np.array([0, 1, 1, 0, 2, 2]),
        np.array([3, 7, 7, 3, 3, 7], dtype=np.uint8),
        np.array([True, False, True, True, False, False]),
        np.array([1.0, 0.0, 2.0, 2.0, 1.0, 0.0]),
        np.array(["b", "a", "c", "a", "b", "c"]),
        np.array(["yes", "no", "no", "yes", "no", "yes"]),
    ],
)
def test_plain_label_vectors_encode_as_type_of_target_says(y):
    """The shortcut for 1-D NumPy labels gives the general path's answer."""
    from sklearn.utils.multiclass import type_of_target

    classes, Y, kind = encode_targets(y)
    assert kind == type_of_target(y)
    # The general path, on the same labels as a column (no shortcut for 2-D).
    classes_ref, Y_ref, kind_ref = encode_targets(y[:, None])
    assert kind == kind_ref
    np.testing.assert_array_equal(classes, classes_ref)
    np.testing.assert_array_equal(Y, Y_ref)


def test_fractional_float_labels_are_continuous():
    with pytest.raises(ValueError, match="continuous"):
        BCEPerceptronClassifier().fit(X, np.array([0.5, 1.0, 0.5, 1.0, 0.0, 0.0]))


def test_many_classes_warn_as_check_classification_targets():
    with pytest.warns(UserWarning, match="greater than 50% of the number of samples"):
        encode_targets(np.arange(30) % 20)
