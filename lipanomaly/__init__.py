"""lipanomaly: one-class detection of spoofed and generated talking faces from lip motion.

The estimators follow scikit-learn's conventions and compose in ``Pipeline`` s:

- :class:`LipLandmarkExtractor`: videos or FaceMesh track files to normalised lip sequences;
- :class:`BandSplit`: zero-phase low-pass / high-pass split of lip sequences;
- :class:`LFHFVAEDetector`: the dual low/high-frequency VAE outlier detector, the
  composition of :class:`LFHFComponents` (the network: clips to per-window score
  components) and :class:`ComponentScorer` (components to clip scores and a threshold);
- :class:`FaceMotionDetector`: liveness from the motion of the whole face (lips, jaw,
  cheeks, eyes, brows, head pose), one-class or with known fakes, from the features of
  :class:`FaceMotionFeatures`;
- :class:`OCVAEDetector` (with its network, :class:`OCVAEComponents`) and
  :class:`LipMotionFeatures`: the baselines;
- :func:`calibrate`: a fitted detector's scoring re-fitted on a user's own genuine clips;
- :func:`make_spoof_scorer`: model selection on real clips only, against pseudo-spoofs
  (:mod:`lipanomaly.evaluation.spoofs`).

Heavy dependencies (torch, MediaPipe, OpenCV, antropy) are imported only when used, so
``import lipanomaly`` stays fast.
"""

from ._lazy import attach
from ._version import __version__
from .exceptions import (
    InputError,
    LipAnomalyError,
    MissingDependencyError,
    ModelFileError,
    TrainingError,
)

# public name -> submodule that defines it; imported on first access (PEP 562)
_LAZY = {
    "LipLandmarkExtractor": "io.extraction",
    "BandSplit": "signal.bandsplit",
    "LFHFVAEDetector": "detectors.lfhf",
    "LFHFComponents": "scoring.components",
    "FaceMotionDetector": "detectors.face",
    "FaceMotionFeatures": "detectors.face",
    "ComponentScorer": "scoring.scorer",
    "OCVAEDetector": "detectors.ocvae",
    "OCVAEComponents": "detectors.ocvae",
    "LipMotionFeatures": "detectors.lip_features",
    "load_model": "persistence.serialization",
    "save_model": "persistence.serialization",
    "load_pretrained": "persistence.pretrained",
    "calibrate": "scoring.calibration",
    "make_spoof_scorer": "evaluation.spoofs",
    "NotFittedError": "exceptions",  # derives from scikit-learn's: made on first use
}
# the layers, one sub-package each (see DEVELOPERS.md), importable as attributes
_SUBMODULES = {
    "app",
    "detectors",
    "evaluation",
    "io",
    "limits",
    "nn",
    "persistence",
    "scoring",
    "signal",
}

__all__ = [
    "BandSplit",
    "ComponentScorer",
    "FaceMotionDetector",
    "FaceMotionFeatures",
    "InputError",
    "LFHFComponents",
    "LFHFVAEDetector",
    "LipAnomalyError",
    "LipLandmarkExtractor",
    "LipMotionFeatures",
    "MissingDependencyError",
    "ModelFileError",
    "NotFittedError",
    "OCVAEComponents",
    "OCVAEDetector",
    "TrainingError",
    "__version__",
    "calibrate",
    "load_model",
    "load_pretrained",
    "make_spoof_scorer",
    "save_model",
]


__getattr__, __dir__ = attach(__name__, _LAZY, _SUBMODULES)
