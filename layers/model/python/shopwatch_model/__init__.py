"""Shopwatch's model layer: Isolation Forest and autoencoder scoring with numpy only (no scikit-learn, no
scipy), equal to scikit-learn's results, and the artifact format that carries a trained model."""

from shopwatch_model.artifact import DEFAULT_ARTIFACT, ModelArtifact
from shopwatch_model.autoencoder import AutoencoderScorer
from shopwatch_model.autoencoder_fit import fit_autoencoder
from shopwatch_model.forest_fit import fit_isolation_forest
from shopwatch_model.isolation_forest import IsolationForestScorer, average_path_length

__all__ = [
    "DEFAULT_ARTIFACT",
    "AutoencoderScorer",
    "IsolationForestScorer",
    "ModelArtifact",
    "average_path_length",
    "fit_autoencoder",
    "fit_isolation_forest",
]
