"""Baselines with the detector's interface: the OC-FakeDect one-class VAE.

:class:`OCVAEComponents` is its network transformer (a sibling of
:class:`lipanomaly.components.LFHFComponents`) and :class:`OCVAEDetector` composes it, like
:class:`lipanomaly.LFHFVAEDetector`, with a :class:`lipanomaly.scorer.ComponentScorer`,
here in its one-sided linear configuration. The hand-crafted lip-motion features for
``OneClassSVM`` / ``IsolationForest`` are :class:`lipanomaly.LipMotionFeatures`.
"""

import numbers
from typing import ClassVar

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from . import scoring
from ._params import init_parameters, keyword_init
from .components import _NON_NEGATIVE, _POSITIVE_INT, _TRAINING, _NetworkComponents
from .detector import _ComposedDetector
from .scorer import ComponentScorer

__all__ = ["OCVAEComponents", "OCVAEDetector"]


class OCVAEComponents(_NetworkComponents):
    """The OC-FakeDect one-class VAE as a transformer: clips to per-window components.

    OC-FakeDect (Khalid & Woo, 2020) trains a VAE on real samples only and scores the
    reconstruction error; OC-FakeDect-2 scores the distance between ``mu(x)`` and the latent
    mean of the re-encoded reconstruction ``mu(x_hat)`` instead. Here the sample is a lip
    window (:class:`lipanomaly.nn.OCVAE`: a dilated TCN encoder, one latent per window, no
    band split); ``transform`` gives each window ``rmse`` (whole-window reconstruction
    error) and ``latent_rmse``, both from one pass. :class:`lipanomaly.OCVAEDetector`
    composes it with a one-sided :class:`lipanomaly.scorer.ComponentScorer`.

    Parameters
    ----------
    window : int, default=64
        Window length in frames; at least 8, the segments of the pooling.
    stride : int, default=16
        Hop between windows in frames.
    rec_weight, kl_weight, latent_weight : float, default=1.0, 1.0, 0.0
        Loss weights (reconstruction, KL, OC-FakeDect-2's latent term).
    channels, n_layers, kernel_size, latent, decoder_layers, dropout
        Size of :class:`lipanomaly.nn.OCVAE`; defaults 128, 4, 3, 64, 4, 0.1.
    max_epochs, max_steps, batch_size, lr, kl_anneal_epochs, patience, augment, \
validation_fraction, random_state, device, verbose, memory
        Training, as in :class:`LFHFComponents`; defaults 20, 3000, 16, 1e-3, 5, 6, True,
        0.2, None, "cpu", 0, None.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the :class:`lipanomaly.nn.OCVAE`.
    n_points_, seed_, n_epochs_, window_mean_, window_scale_, validation_index_, \
network_from_cache_, network_key_
        As in :class:`LFHFComponents`.

    See Also
    --------
    lipanomaly.OCVAEDetector : this transformer and a one-sided scorer, composed.

    References
    ----------
    H. Khalid and S. S. Woo, "OC-FakeDect: Classifying Deepfakes Using One-class Variational
    Autoencoder", CVPR Workshops, 2020.
    """

    component_names = ("rmse", "latent_rmse")
    _module_kind = "ocvae"
    _module_params = ("channels", "n_layers", "kernel_size", "latent", "decoder_layers")
    _module_params += ("dropout",)

    _parameter_constraints: ClassVar[dict] = {
        **_NetworkComponents._parameter_constraints,
        **dict.fromkeys(("rec_weight", "kl_weight", "latent_weight"), _NON_NEGATIVE),
        **dict.fromkeys(_module_params[:-1], _POSITIVE_INT),
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }
    __init__ = keyword_init(
        {
            "window": 64,
            "stride": 16,
            # loss weights: terms of lipanomaly.nn.OCVAE_LOSS_WEIGHTS_DEFAULT
            "rec_weight": 1.0,
            "kl_weight": 1.0,
            "latent_weight": 0.0,
            # the size of lipanomaly.nn.OCVAE
            "channels": 128,
            "n_layers": 4,
            "kernel_size": 3,
            "latent": 64,
            "decoder_layers": 4,
            "dropout": 0.1,
            **_TRAINING,
        }
    )

    def _window_components(self, w, starts, needed):  # both from one pass
        from .nn import reconstruct_ocvae

        rec = reconstruct_ocvae(self.net_.module_, w, device=self.device)
        return {
            "rmse": scoring.window_norm(np.asarray(w, dtype=np.float64) - rec["x_hat"]),
            "latent_rmse": scoring.latent_rmse((rec["mu"],), (rec["mu_rec"],)),
        }


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

    The detector is :class:`OCVAEComponents` followed by a
    :class:`~lipanomaly.scorer.ComponentScorer` with ``combination="linear"`` and the weight
    1 on the chosen error (``rmse_coef`` or ``latent_coef``), 0 on the other.

    Parameters
    ----------
    score : {"rmse", "latent"}, default="rmse"
        OC-FakeDect-1 (whole-window reconstruction RMSE) or OC-FakeDect-2 (RMSE between
        ``mu(x)`` and ``mu(x_hat)``). ``score_samples`` is minus it, robustly standardised
        with the live validation windows.
    window, stride, rec_weight, kl_weight, latent_weight, channels, n_layers, kernel_size, \
latent, decoder_layers, dropout, max_epochs, max_steps, batch_size, lr, kl_anneal_epochs, \
patience, augment, validation_fraction, random_state, device, verbose, memory
        The network and its training: see :class:`OCVAEComponents`
        (defaults 64, 16, 1.0, 1.0, 0.0, 128, 4, 3, 64, 4, 0.1, 20, 3000, 16, 1e-3, 5, 6,
        True, 0.2, None, "cpu", 0, None).
    aggregation, contamination, threshold, iqr_factor
        How window scores become one per clip and the threshold (0.2: T80): see
        :class:`~lipanomaly.scorer.ComponentScorer` (defaults "mean", 0.2, "quantile", 1.5).

    Attributes
    ----------
    network_ : OCVAEComponents
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
    __init__ = keyword_init(
        {
            **init_parameters(OCVAEComponents),
            **init_parameters(ComponentScorer, _THRESHOLD_PARAMS),
            "score": "rmse",
        }
    )

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
