"""Baselines with the detector's interface: the OC-FakeDect one-class VAE.

:class:`OCVAEComponents` is its network transformer (a sibling of
:class:`lipanomaly.scoring.components.LFHFComponents`) and :class:`OCVAEDetector` composes it, like
:class:`lipanomaly.LFHFVAEDetector`, with a :class:`lipanomaly.scoring.scorer.ComponentScorer`,
here in its one-sided linear configuration. The hand-crafted lip-motion features for
``OneClassSVM`` / ``IsolationForest`` are :class:`lipanomaly.LipMotionFeatures`.
"""

import numbers
from typing import ClassVar

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..nn.specs import OCVAE
from ..scoring import formulas
from ..scoring.components import POSITIVE_INT, NetworkComponents
from ..scoring.scorer import ComponentScorer
from .lfhf import ComposedDetector

__all__ = ["OCVAEComponents", "OCVAEDetector"]


class OCVAEComponents(NetworkComponents):
    """The OC-FakeDect one-class VAE as a transformer: clips to per-window components.

    OC-FakeDect (Khalid & Woo, 2020) trains a VAE on real samples only and scores the
    reconstruction error; OC-FakeDect-2 scores the distance between ``mu(x)`` and the latent
    mean of the re-encoded reconstruction ``mu(x_hat)`` instead. Here the sample is a lip
    window (:class:`lipanomaly.nn.OCVAE`: a dilated TCN encoder, one latent per window, no
    band split); ``transform`` gives each window ``rmse`` (whole-window reconstruction
    error) and ``latent_rmse``, both from one pass. :class:`lipanomaly.OCVAEDetector`
    composes it with a one-sided :class:`lipanomaly.scoring.scorer.ComponentScorer`.

    Parameters
    ----------
    window : int, default=64
        Window length in frames; at least 8, the segments of the pooling.
    stride : int, default=16
        Hop between windows in frames.
    loss_weights : dict of str to float or None, default=None
        Weights of the loss terms that differ from the defaults, by term: ``rec``
        (reconstruction), ``kl`` and ``latent`` (OC-FakeDect-2's latent term); the defaults
        are ``lipanomaly.nn.specs.OCVAE.loss_weights`` (1.0, 1.0, 0.0). None is the
        defaults.
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
    network_spec = OCVAE
    module_params = ("channels", "n_layers", "kernel_size", "latent", "decoder_layers")
    module_params += ("dropout",)

    _parameter_constraints: ClassVar[dict] = {
        **NetworkComponents._parameter_constraints,
        **dict.fromkeys(("channels", "n_layers", "kernel_size", "latent"), POSITIVE_INT),
        "decoder_layers": POSITIVE_INT,
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        *,
        window=64,
        stride=16,
        loss_weights=None,
        channels=128,
        n_layers=4,
        kernel_size=3,
        latent=64,
        decoder_layers=4,
        dropout=0.1,
        max_epochs=20,
        max_steps=3000,
        batch_size=16,
        lr=1e-3,
        kl_anneal_epochs=5,
        patience=6,
        augment=True,
        validation_fraction=0.2,
        random_state=None,
        device="cpu",
        verbose=0,
        memory=None,
    ):
        self.window = window
        self.stride = stride
        self.loss_weights = loss_weights
        self.channels = channels
        self.n_layers = n_layers
        self.kernel_size = kernel_size
        self.latent = latent
        self.decoder_layers = decoder_layers
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.lr = lr
        self.kl_anneal_epochs = kl_anneal_epochs
        self.patience = patience
        self.augment = augment
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.memory = memory

    def _window_components(self, w, starts, needed):  # both from one pass
        from ..nn import reconstruct_ocvae

        rec = reconstruct_ocvae(self.net_.module_, w, device=self.device)
        return {
            "rmse": formulas.window_norm(np.asarray(w, dtype=np.float64) - rec["x_hat"]),
            "latent_rmse": formulas.latent_rmse((rec["mu"],), (rec["mu_rec"],)),
        }


#: the scorer's parameters that are the baseline's (the combination is fixed)
_THRESHOLD_PARAMS = ("aggregation", "contamination", "threshold", "iqr_factor")


class OCVAEDetector(ComposedDetector):
    """One-class VAE outlier detector in the manner of OC-FakeDect, on lip windows.

    OC-FakeDect (Khalid & Woo, 2020) trains a VAE on real samples only and calls a sample
    fake when its reconstruction error exceeds T80, the 80th percentile of the errors of
    real validation samples; OC-FakeDect-2 scores the distance between ``mu(x)`` and the
    latent mean of the re-encoded reconstruction ``mu(x_hat)`` instead. Here the sample is
    a lip window (:class:`lipanomaly.nn.OCVAE`: a dilated TCN encoder, one latent per
    window, no band split) and a clip's score aggregates its windows. The error is one-sided
    by construction: a larger error is more fake.

    The detector is :class:`OCVAEComponents` followed by a
    :class:`~lipanomaly.scoring.scorer.ComponentScorer` with ``combination="linear"`` and the weight
    1 on the chosen error (``rmse_coef`` or ``latent_coef``), 0 on the other.

    Parameters
    ----------
    score : {"rmse", "latent"}, default="rmse"
        OC-FakeDect-1 (whole-window reconstruction RMSE) or OC-FakeDect-2 (RMSE between
        ``mu(x)`` and ``mu(x_hat)``). ``score_samples`` is minus it, robustly standardised
        with the live validation windows.
    window, stride, loss_weights, channels, n_layers, kernel_size, latent, decoder_layers, \
dropout, max_epochs, max_steps, batch_size, lr, kl_anneal_epochs, patience, augment, \
validation_fraction, random_state, device, verbose, memory
        The network and its training: see :class:`OCVAEComponents`
        (defaults 64, 16, None, 128, 4, 3, 64, 4, 0.1, 20, 3000, 16, 1e-3, 5, 6, True, 0.2,
        None, "cpu", 0, None).
    aggregation, contamination, threshold, iqr_factor
        How window scores become one per clip and the threshold (0.2: T80): see
        :class:`~lipanomaly.scoring.scorer.ComponentScorer` (defaults "mean", 0.2, "quantile", 1.5).

    Attributes
    ----------
    network_ : OCVAEComponents
        The fitted network transformer (``network_.net_`` is the trained skorch net).
    scorer_ : lipanomaly.scoring.scorer.ComponentScorer
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

    network_class = OCVAEComponents
    _parameter_constraints: ClassVar[dict] = {
        **OCVAEComponents._parameter_constraints,
        **{k: ComponentScorer._parameter_constraints[k] for k in _THRESHOLD_PARAMS},
        "score": [StrOptions({"rmse", "latent"})],
    }

    def __init__(
        self,
        *,
        window=64,
        stride=16,
        loss_weights=None,
        channels=128,
        n_layers=4,
        kernel_size=3,
        latent=64,
        decoder_layers=4,
        dropout=0.1,
        max_epochs=20,
        max_steps=3000,
        batch_size=16,
        lr=1e-3,
        kl_anneal_epochs=5,
        patience=6,
        augment=True,
        validation_fraction=0.2,
        random_state=None,
        device="cpu",
        verbose=0,
        memory=None,
        aggregation="mean",
        contamination=0.2,
        threshold="quantile",
        iqr_factor=1.5,
        score="rmse",
    ):
        self.window = window
        self.stride = stride
        self.loss_weights = loss_weights
        self.channels = channels
        self.n_layers = n_layers
        self.kernel_size = kernel_size
        self.latent = latent
        self.decoder_layers = decoder_layers
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.lr = lr
        self.kl_anneal_epochs = kl_anneal_epochs
        self.patience = patience
        self.augment = augment
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.memory = memory
        self.aggregation = aggregation
        self.contamination = contamination
        self.threshold = threshold
        self.iqr_factor = iqr_factor
        self.score = score

    def build_scorer(self):
        # one-sided, as in OC-FakeDect: a larger error is more fake
        rmse = self.score == "rmse"
        params = self.get_params(deep=False)
        return ComponentScorer(
            combination="linear",
            components=None,
            alpha=0.0,
            beta=0.0,
            gamma=0.0,
            rmse_coef=1.0 if rmse else 0.0,
            latent_coef=0.0 if rmse else 1.0,
            **{name: params[name] for name in _THRESHOLD_PARAMS},
        )
