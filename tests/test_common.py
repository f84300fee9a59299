# SPDX-License-Identifier: BSD-3-Clause
"""scikit-learn's estimator checks and the declared tags."""

from sklearn.base import is_classifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from skperceptron import BCEPerceptronClassifier, BCEPerceptronClassifierCV


@parametrize_with_checks([BCEPerceptronClassifier(), BCEPerceptronClassifierCV()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_is_classifier_and_tags():
    clf = BCEPerceptronClassifier()
    assert is_classifier(clf)
    tags = clf.__sklearn_tags__()
    assert tags.estimator_type == "classifier"
    assert tags.input_tags.sparse is True
    assert tags.classifier_tags.multi_label is True
    assert tags.target_tags.multi_output is False
