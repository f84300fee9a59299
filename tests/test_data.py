# SPDX-License-Identifier: BSD-3-Clause
"""Messages of the target and weight checks: the labels as the user wrote them."""

import re

import numpy as np
import pytest
from sklearn.datasets import load_iris

from skperceptron import BCEPerceptronClassifier

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
