"""Baselines with the detector's interface: the OC-FakeDect one-class VAE, :class:`OCVAEDetector`.

Like :class:`lipanomaly.LFHFVAEDetector`, it is a network transformer
(:class:`lipanomaly.components.OCVAEComponents`) followed by a
:class:`lipanomaly.scorer.ComponentScorer`, here in its one-sided linear configuration. The
hand-crafted lip-motion features for ``OneClassSVM`` / ``IsolationForest`` are
:class:`lipanomaly.LipMotionFeatures`.
"""

from typing import ClassVar

from sklearn.utils._param_validation import StrOptions

from .components import OCVAEComponents
from .detector import _composed_init, _ComposedDetector
from .scorer import ComponentScorer

__all__ = ["OCVAEDetector"]

#: the scorer's parameters that are the baseline's (the combination is fixed)
_THRESHOLD_PARAMS = ("aggregation", "contamination", "threshold", "iqr_factor")


class OCVAEDetector(_ComposedDetector):
    """One-class VAE outlier detector in the manner of OC-FakeDect, on lip windows.

    OC-FakeDect (Khalid & Woo, 2020) trains a VAE on real samples only and calls a sample
    fake when its reconstruction error exceeds T80, the 80th percentile of the errors of
    real validation samples; OC-FakeDect-2 scores the distance between ``mu(x)`` and the
    latent mean of the re-encoded reconstruction ``mu(x_hat)`` instead. Here the sample is
    a lip window (:class:`lipanomaly.nn.OCVAE`: a dilated TCN encoder, one latent per
    window, no band split) and a clip's score aggregates its windows. The error is one-sided
    by construction: a larger error is more fake.

    The detector is :class:`~lipanomaly.components.OCVAEComponents` followed by a
    :class:`~lipanomaly.scorer.ComponentScorer` with ``combination="linear"`` and the weight
    1 on the chosen error (``rmse_coef`` or ``latent_coef``), 0 on the other.

    Parameters
    ----------
    score : {"rmse", "latent"}, default="rmse"
        OC-FakeDect-1 (whole-window reconstruction RMSE) or OC-FakeDect-2 (RMSE between
        ``mu(x)`` and ``mu(x_hat)``). ``score_samples`` is minus it, robustly standardised
        with the live validation windows.
    window, stride, rec_weight, kl_weight, latent_weight, channels, n_layers, kernel_size, \
latent, decoder_layers, dropout, max_epochs, batch_size, lr, kl_anneal_epochs, patience, \
augment, validation_fraction, random_state, device, verbose, memory
        The network and its training: see :class:`~lipanomaly.components.OCVAEComponents`
        (defaults 64, 16, 1.0, 1.0, 0.0, 128, 4, 3, 64, 4, 0.1, 60, 16, 1e-3, 15, 10, True,
        0.2, None, "cpu", 0, None).
    aggregation, contamination, threshold, iqr_factor
        How window scores become one per clip and the threshold (0.2: T80): see
        :class:`~lipanomaly.scorer.ComponentScorer` (defaults "mean", 0.2, "quantile", 1.5).

    Attributes
    ----------
    network_ : lipanomaly.components.OCVAEComponents
        The fitted network transformer (``network_.net_`` is the trained skorch net).
    scorer_ : lipanomaly.scorer.ComponentScorer
        Fitted on the validation clips: ``component_center_``, ``component_scale_`` of
        ``rmse`` and ``latent_rmse``.
    validation_scores_ : ndarray of shape (n_validation_clips,)
    offset_ : float

    See Also
    --------
    lipanomaly.LFHFVAEDetector : the dual LF/HF detector.

    References
    ----------
    H. Khalid and S. S. Woo, "OC-FakeDect: Classifying Deepfakes Using One-class Variational
    Autoencoder", CVPR Workshops, 2020.
    """

    _network_class = OCVAEComponents
    _parameter_constraints: ClassVar[dict] = {
        **OCVAEComponents._parameter_constraints,
        **{k: ComponentScorer._parameter_constraints[k] for k in _THRESHOLD_PARAMS},
        "score": [StrOptions({"rmse", "latent"})],
    }
    __init__ = _composed_init(OCVAEComponents, _THRESHOLD_PARAMS, {"score": "rmse"})

    def _scorer(self):
        # one-sided, as in OC-FakeDect: a larger error is more fake
        rmse = self.score == "rmse"
        return ComponentScorer(
            combination="linear",
            components=None,
            alpha=0.0,
            beta=0.0,
            gamma=0.0,
            rmse_coef=1.0 if rmse else 0.0,
            latent_coef=0.0 if rmse else 1.0,
            **{name: getattr(self, name) for name in _THRESHOLD_PARAMS},
        )
