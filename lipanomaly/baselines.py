"""Baselines with the detector's interface: the OC-FakeDect one-class VAE, :class:`OCVAEDetector`.

It shares everything but the network and the score with :class:`lipanomaly.LFHFVAEDetector`
(windowing, standardisation, the validation split by clip, the network cache, batched
scoring, the T80 / IQR threshold) through their private base class. The hand-crafted
lip-motion features for ``OneClassSVM`` / ``IsolationForest`` are
:class:`lipanomaly.LipMotionFeatures`.
"""

import numbers
from typing import ClassVar

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from . import scoring
from .detector import _WindowVAEDetector

__all__ = ["OCVAEDetector"]


class OCVAEDetector(_WindowVAEDetector):
    """One-class VAE outlier detector in the manner of OC-FakeDect, on lip windows.

    OC-FakeDect (Khalid & Woo, 2020) trains a VAE on real samples only and calls a sample
    fake when its reconstruction error exceeds T80, the 80th percentile of the errors of
    real validation samples; OC-FakeDect-2 scores the distance between ``mu(x)`` and the
    latent mean of the re-encoded reconstruction ``mu(x_hat)`` instead. Here the sample is
    a lip window (:class:`lipanomaly.nn.OCVAE`: a dilated TCN encoder, one latent per
    window, no band split) and a clip's score aggregates its windows. The error is one-sided
    by construction: a larger error is more fake.

    Parameters
    ----------
    window : int, default=64
        Window length in frames.
    stride : int, default=16
        Hop between windows in frames.
    score : {"rmse", "latent"}, default="rmse"
        OC-FakeDect-1 (whole-window reconstruction RMSE) or OC-FakeDect-2 (RMSE between
        ``mu(x)`` and ``mu(x_hat)``). ``score_samples`` is minus it, robustly standardised
        with the live validation windows.
    aggregation : {"mean", "median", "max", "min"}, default="mean"
        How window scores become one value per clip.
    contamination : float in (0, 0.5], default=0.2
        Fraction of live validation clips below the threshold: 0.2 is T80.
    threshold : {"quantile", "iqr"}, default="quantile"
        ``"iqr"``: ``offset_ = Q1 - iqr_factor * IQR`` of the live validation scores.
    iqr_factor : float, default=1.5
    rec_weight, kl_weight, latent_weight : float, default=1.0, 1.0, 0.0
        Loss weights (reconstruction, KL, OC-FakeDect-2's latent term).
    channels, n_layers, kernel_size, latent, decoder_layers, dropout
        Size of :class:`lipanomaly.nn.OCVAE`; defaults 128, 4, 3, 64, 4, 0.1.
    max_epochs : int, default=60
    batch_size : int, default=16
    lr : float, default=1e-3
    kl_anneal_epochs : int, default=15
    patience : int, default=10
    augment : bool, default=True
    validation_fraction : float in (0, 1), default=0.2
        Fraction of the live clips (whole clips) held out for early stopping and T80.
    random_state : int, RandomState instance or None, default=None
        With an int, a trained network is reused by another fit on the same data with the
        same network parameters (only scoring parameters differ).
    device : str, default="cpu"
    verbose : int, default=0
    memory : str, path, joblib.Memory or None, default=None
        Folder where trained networks are also kept (see :class:`LFHFVAEDetector`).

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the :class:`lipanomaly.nn.OCVAE`.
    n_points_, seed_, window_mean_, window_scale_, validation_index_
        As in :class:`lipanomaly.LFHFVAEDetector`.
    component_center_, component_scale_ : ndarray of shape (2,)
        Median and IQR / 1.349 of ``rmse`` and ``latent_rmse`` over the validation windows.
    validation_scores_ : ndarray of shape (n_validation_clips,)
    offset_ : float
    network_from_cache_ : bool

    See Also
    --------
    lipanomaly.LFHFVAEDetector : the dual LF/HF detector.

    References
    ----------
    H. Khalid and S. S. Woo, "OC-FakeDect: Classifying Deepfakes Using One-class Variational
    Autoencoder", CVPR Workshops, 2020.
    """

    _component_names = ("rmse", "latent_rmse")
    _module_kind = "ocvae"
    _network_param_names = (
        "window",
        "stride",
        "rec_weight",
        "kl_weight",
        "latent_weight",
        "channels",
        "n_layers",
        "kernel_size",
        "latent",
        "decoder_layers",
        "dropout",
        "max_epochs",
        "batch_size",
        "lr",
        "kl_anneal_epochs",
        "patience",
        "augment",
        "validation_fraction",
        "device",
    )

    _parameter_constraints: ClassVar[dict] = {
        **_WindowVAEDetector._parameter_constraints,
        "score": [StrOptions({"rmse", "latent"})],
        **{
            name: [Interval(numbers.Real, 0, None, closed="left")]
            for name in ("rec_weight", "kl_weight", "latent_weight")
        },
        **{
            name: [Interval(numbers.Integral, 1, None, closed="left")]
            for name in ("channels", "n_layers", "kernel_size", "latent", "decoder_layers")
        },
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        *,
        window=64,
        stride=16,
        score="rmse",
        aggregation="mean",
        contamination=0.2,
        threshold="quantile",
        iqr_factor=1.5,
        rec_weight=1.0,
        kl_weight=1.0,
        latent_weight=0.0,
        channels=128,
        n_layers=4,
        kernel_size=3,
        latent=64,
        decoder_layers=4,
        dropout=0.1,
        max_epochs=60,
        batch_size=16,
        lr=1e-3,
        kl_anneal_epochs=15,
        patience=10,
        augment=True,
        validation_fraction=0.2,
        random_state=None,
        device="cpu",
        verbose=0,
        memory=None,
    ):
        self.window = window
        self.stride = stride
        self.score = score
        self.aggregation = aggregation
        self.contamination = contamination
        self.threshold = threshold
        self.iqr_factor = iqr_factor
        self.rec_weight = rec_weight
        self.kl_weight = kl_weight
        self.latent_weight = latent_weight
        self.channels = channels
        self.n_layers = n_layers
        self.kernel_size = kernel_size
        self.latent = latent
        self.decoder_layers = decoder_layers
        self.dropout = dropout
        self.max_epochs = max_epochs
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

    def _module_kwargs(self):
        return {
            "channels": self.channels,
            "n_layers": self.n_layers,
            "kernel_size": self.kernel_size,
            "latent": self.latent,
            "decoder_layers": self.decoder_layers,
            "dropout": self.dropout,
        }

    def _train_network(self, train_w, valid_w, seed):
        from .nn import train_ocvae

        return train_ocvae(
            train_w,
            valid_w,
            loss_weights={
                "rec": self.rec_weight,
                "kl": self.kl_weight,
                "latent": self.latent_weight,
            },
            module_kwargs=self._module_kwargs(),
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            kl_anneal_epochs=self.kl_anneal_epochs,
            patience=self.patience,
            augment=self.augment,
            random_state=seed,
            device=self.device,
            verbose=self.verbose,
        )

    def _window_components(self, w, starts, needed=None):  # both from one pass
        from .nn import reconstruct_ocvae

        rec = reconstruct_ocvae(self.net_.module_, w, device=self.device)
        return {
            "rmse": scoring.window_norm(np.asarray(w, dtype=np.float64) - rec["x_hat"]),
            "latent_rmse": scoring.latent_rmse((rec["mu"],), (rec["mu_rec"],)),
        }

    def _combine(self, z):
        # one-sided, as in OC-FakeDect: a larger error is more fake
        return -z[:, 0 if self.score == "rmse" else 1]
