# SPDX-License-Identifier: BSD-3-Clause
"""skperceptron: the single-layer BCE perceptron as a scikit-learn classifier."""

from ._classifier import BCEPerceptronClassifier
from ._cv import BCEPerceptronClassifierCV
from ._plotting import LossCurveDisplay

__version__ = "0.2.0.dev0"

__all__ = ["BCEPerceptronClassifier", "BCEPerceptronClassifierCV", "LossCurveDisplay", "__version__"]
