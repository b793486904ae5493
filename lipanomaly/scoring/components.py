"""Network transformers: lip clips to per-window raw score components.

:class:`LFHFComponents` (the dual LF/HF VAE) and :class:`lipanomaly.detectors.ocvae.OCVAEComponents`
(the OC-FakeDect VAE) are the network half of the detectors. Their private base class here
holds everything around the network: validation, windowing, the window standardisation and
its inverse, the validation split by clip (or group), training, the on-disk ``memory`` of
trained networks, and batched components. ``transform`` returns, per clip, a structured
array with one record per window (its first frame ``start`` and one float field per
component): the input of :class:`lipanomaly.scoring.scorer.ComponentScorer`. torch stays in
:mod:`lipanomaly.nn`, imported by the methods that train or run a network.
"""

import hashlib
import json
import numbers
import os
import warnings
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from .._validation import check_clip_rate, check_clips, check_fitted, live_index
from .._version import __version__
from ..exceptions import InputError, ModelFileError
from ..limits import DEFAULT_FPS
from ..nn.specs import DUAL
from ..signal.windows import make_windows, window_batches
from . import formulas

__all__ = ["LFHFComponents", "NetworkComponents", "check_component_names"]

_START = ("start", np.int64)


def check_component_names(names, available):
    """``names`` as a tuple, checked to be a non-empty subset of ``available`` (no repeats)."""
    names = tuple(names)
    if not names or not set(names) <= set(available) or len(set(names)) != len(names):
        raise InputError(
            f"components must be a non-empty subset of {list(available)}, got {list(names)}"
        )
    return names


def _memory_location(memory):
    """The folder of a ``memory`` parameter: None, a path, or a ``joblib.Memory``."""
    if memory is None:
        return None
    location = getattr(memory, "location", memory)
    return None if location is None else os.fspath(location)


#: The constraint of a positive int, and of a number >= 0 (for the subclasses' sizes).
POSITIVE_INT = [Interval(numbers.Integral, 1, None, closed="left")]
NON_NEGATIVE = [Interval(numbers.Real, 0, None, closed="left")]


class NetworkComponents(TransformerMixin, BaseEstimator):
    """Base class of the network transformers: what is shared around the network.

    Not an estimator by itself. A subclass writes out its ``__init__`` (its parameters
    include ``window``, ``stride``, ``loss_weights`` and the training parameters of
    :class:`LFHFComponents`), sets ``component_names``, ``network_spec`` (its network's
    kind and loss weights, :mod:`lipanomaly.nn.specs`) and ``module_params`` (the
    parameters that size the module, passed to it by name), and implements
    ``_window_components``.
    """

    #: the per-window components this transformer computes, in the order of its fields
    component_names: ClassVar[tuple] = ()
    #: parameters that provably do not change the trained network (tests/test_components.py)
    _not_training: ClassVar[frozenset] = frozenset({"verbose", "memory"})
    #: the network: its kind and its loss weights' defaults (lipanomaly.nn.specs)
    network_spec: ClassVar = None
    #: the parameters that size the module, passed to it under their own names
    module_params: ClassVar[tuple] = ()

    _parameter_constraints: ClassVar[dict] = {
        "window": [Interval(numbers.Integral, 8, None, closed="left")],
        "stride": [Interval(numbers.Integral, 1, None, closed="left")],
        "loss_weights": [None, dict],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_steps": [None, Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "lr": [Interval(numbers.Real, 0, None, closed="neither")],
        "kl_anneal_epochs": [Interval(numbers.Integral, 0, None, closed="left")],
        "patience": [Interval(numbers.Integral, 1, None, closed="left")],
        "augment": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "device": [str],
        "verbose": ["verbose"],
        "memory": [None, str, os.PathLike, HasMethods(["cache"])],
    }

    # -- windows ----------------------------------------------------------------------

    def _check_X(self, X, *, fitted=True):
        """Validate X; at transform time also the ``K`` seen at fit.

        Float32 input stays float32 (no float64 copy of a large collection: the windows
        are converted one batch at a time); anything else becomes float64.
        """
        check_clip_rate(X, self.get_params(deep=False).get("fs"))  # OCVAE has no fs
        if isinstance(X, (list, tuple)):
            dtypes = {getattr(c, "dtype", None) for c in X}
        else:
            dtypes = {getattr(X, "dtype", None)}
        dtype = np.float32 if dtypes == {np.dtype(np.float32)} else np.float64
        return check_clips(
            X,
            n_points=self.n_points_ if fitted else None,
            min_length=self.window // 2,
            dtype=dtype,
        )

    def _windows(self, clips):
        """Windows of ``clips`` as ``(n_windows, window, 2 K)``, their clip and first frame."""
        w, clip_index, starts = make_windows(clips, length=self.window, stride=self.stride)
        return w.reshape(w.shape[0], w.shape[1], -1), clip_index, starts

    def standardize(self, windows):
        """What the network sees: ``(windows - window_mean_) / window_scale_``, float32.

        Parameters
        ----------
        windows : ndarray of shape (n_windows, L, 2 K)
            Windows in the clips' units.

        Returns
        -------
        standardized : ndarray of shape (n_windows, L, 2 K), float32
        """
        return ((windows - self.window_mean_) / self.window_scale_).astype(np.float32)

    def inverse_standardize(self, windows, *, offset=True):
        """Back to the clips' units: ``windows * window_scale_ + window_mean_``.

        Parameters
        ----------
        windows : ndarray of shape (n_windows, L, 2 K)
            Standardised windows (or a network's reconstruction of them).
        offset : bool, default=True
            Add ``window_mean_`` back. False for a difference of windows, such as a high
            band or a residual, which has no offset.

        Returns
        -------
        windows : ndarray of shape (n_windows, L, 2 K), float64
        """
        out = np.asarray(windows, dtype=np.float64) * self.window_scale_
        return out + self.window_mean_ if offset else out

    # -- fit ----------------------------------------------------------------------------

    def _seed(self):
        """An int seed from ``random_state`` (None draws fresh entropy, not the global RNG)."""
        if self.random_state is None:
            return int(np.random.SeedSequence().generate_state(1)[0] >> 1)
        if isinstance(self.random_state, numbers.Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _split(self, n_clips, seed, groups=None):
        """Training and validation clips: whole clips, or whole groups when there are some."""
        if n_clips < 2:
            raise InputError(
                f"X: {type(self).__name__} needs at least 2 live clips (one to train on, one "
                f"to validate and calibrate the threshold on), got {n_clips}"
            )
        rng = np.random.default_rng(seed)
        names = None if groups is None else np.unique(groups)
        if names is not None and len(names) >= 2:
            n_valid = min(max(1, round(self.validation_fraction * len(names))), len(names) - 1)
            held = np.isin(groups, names[rng.permutation(len(names))[:n_valid]])
            return np.flatnonzero(~held), np.flatnonzero(held)
        n_valid = min(max(1, round(self.validation_fraction * n_clips)), n_clips - 1)
        perm = rng.permutation(n_clips)
        return np.sort(perm[n_valid:]), np.sort(perm[:n_valid])

    def _training_params(self):
        """The parameters training reads: all but those in ``_not_training``."""
        params = self.get_params(deep=False)
        return {k: v for k, v in params.items() if k not in self._not_training}

    def _network_key(self, live, groups, seed):
        """Key of the trained network: what training reads, the data, the groups, the seed."""
        h = hashlib.sha256()
        for c in live:
            c = np.ascontiguousarray(c, dtype=np.float64)
            h.update(np.asarray(c.shape, dtype=np.int64).tobytes())
            h.update(c.tobytes())
        blob = {
            "class": type(self).__name__,
            "version": __version__,
            "params": self._training_params(),
            "data": h.hexdigest(),
            "groups": None if groups is None else [str(g) for g in groups],
            "seed": seed,
        }
        text = json.dumps(blob, sort_keys=True, default=lambda v: v.item())  # numpy scalars
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def _check_params(self):
        """Checks of parameters that ``_parameter_constraints`` cannot express."""
        self.network_spec.resolve_loss_weights(self.loss_weights)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, groups=None):
        """Train the network on live clips.

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)
            Lip sequences. Clips of at least ``window // 2`` frames are accepted; those
            shorter than ``window`` are mirror-padded to one window.
        y : array-like of shape (n_clips,) or None, default=None
            Optional labels, +1 live and -1 spoof: only the ``y == +1`` clips are used (so
            that ``GridSearchCV`` on a labelled development set trains one-class).
        groups : array-like of shape (n_clips,) or None, default=None
            A label per clip (recording, person, source). When given, the validation clips
            are whole groups: a seeded ``validation_fraction`` of the groups of the live
            clips (at least one group, and at least one left for training); with a single
            group, whole clips as without groups.

        Returns
        -------
        self : object
        """
        self._fit(X, y, groups)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_validation_components(self, X, y=None, *, groups=None, components=None):
        """Fit, and return the components of the live clips that fit held out for validation.

        What a detector calibrates its scorer on: the clips the weights never saw
        (``validation_index_``), without the caller splitting ``X`` again.

        Parameters
        ----------
        X, y, groups
            As for :meth:`fit`.
        components : sequence of str or None, default=None
            As for :meth:`transform`.

        Returns
        -------
        C : list of length n_validation_clips of structured ndarray
            :meth:`transform` of the validation clips, in the order of
            ``validation_index_``.
        """
        live = self._fit(X, y, groups)
        return self.transform([live[i] for i in self.validation_index_], components=components)

    def _fit(self, X, y, groups):
        """:meth:`fit`; returns the live clips (float64), in the order of ``X``."""
        self._check_params()
        clips = [c.astype(np.float64, copy=False) for c in self._check_X(X, fitted=False)]
        index = live_index(y, len(clips))
        live = [clips[i] for i in index]
        if groups is not None:
            groups = np.asarray(groups)
            if groups.shape != (len(clips),):
                raise InputError(
                    f"groups: expected one label per clip, shape ({len(clips)},), got shape "
                    f"{groups.shape}"
                )
            groups = groups[index]
        seed = self._seed()
        self.n_points_ = clips[0].shape[1]
        self.seed_ = seed
        key = None
        if _memory_location(self.memory) is not None and isinstance(
            self.random_state, numbers.Integral
        ):
            key = self._network_key(live, groups, seed)
        self.network_key_ = key
        self.network_from_cache_ = key is not None and self._load_cached(key)
        if not self.network_from_cache_:
            self._train(live, groups, seed)
            if key is not None:
                self._save_cached(key)
        return live

    def _train(self, live, groups, seed):
        from ..nn import train_network

        train_idx, valid_idx = self._split(len(live), seed, groups)
        train_w = self._windows([live[i] for i in train_idx])[0]
        valid_w = self._windows([live[i] for i in valid_idx])[0]
        mean = train_w.mean(axis=(0, 1))
        self.window_mean_ = mean.astype(np.float64)
        # one scale for every coordinate keeps the lip shape's proportions
        self.window_scale_ = float(np.std(train_w - mean)) or 1.0
        self.validation_index_ = valid_idx
        self.n_epochs_ = self._epochs(len(train_w))
        self.net_ = train_network(
            self.network_spec.kind,
            self.standardize(train_w),
            self.standardize(valid_w),
            loss_weights=self._loss_weights(),
            module_kwargs=self.module_kwargs(),
            **self._band(),
            max_epochs=self.n_epochs_,
            batch_size=self.batch_size,
            lr=self.lr,
            kl_anneal_epochs=self.kl_anneal_epochs,
            patience=self.patience,
            augment=self.augment,
            random_state=seed,
            device=self.device,
            verbose=self.verbose,
        )

    def _epochs(self, n_windows):
        """``max_epochs``, fewer if ``max_steps`` optimiser steps come first (a large corpus)."""
        if self.max_steps is None:
            return self.max_epochs
        steps_per_epoch = -(-n_windows // self.batch_size)
        return max(1, min(self.max_epochs, -(-self.max_steps // steps_per_epoch)))

    def _band(self):
        """``fs`` and ``cutoff`` of the low-pass target (the defaults without a band split)."""
        return {}

    def _loss_weights(self):
        """Loss term -> weight: ``loss_weights`` over the network's defaults."""
        return self.network_spec.resolve_loss_weights(self.loss_weights)

    def module_kwargs(self):
        """The keyword arguments of the module: the parameters named in ``module_params``.

        Returns
        -------
        kwargs : dict of str to object
        """
        params = self.get_params(deep=False)
        return {name: params[name] for name in self.module_params}

    # -- the optional on-disk cache: the fitted state as safetensors + JSON, no pickle --

    def _cache_folder(self, key):
        location = _memory_location(self.memory)
        return os.path.join(location, "lipanomaly_networks", f"{type(self).__name__}-{key}")

    def _save_cached(self, key):
        from ..io.state_files import write_state

        write_state(self._cache_folder(key), *self.get_fitted_state())

    def _load_cached(self, key):
        """Restore the network of ``key`` from the memory folder; False if there is none."""
        from ..io.state_files import read_state

        folder = self._cache_folder(key)
        if not os.path.isdir(folder):
            return False
        try:
            self.set_fitted_state(*read_state(folder))
        except (ModelFileError, KeyError, ValueError, RuntimeError) as exc:
            # an entry written by another code version, or damaged: a miss, not an error
            warnings.warn(
                f"memory={self.memory!r}: cached network {folder} cannot be loaded ({exc}); "
                "training a new one",
                UserWarning,
                stacklevel=4,
            )
            return False
        return True

    # -- transform ----------------------------------------------------------------------

    def _check_fitted(self):
        check_fitted(self, "net_", "live clips")

    def transform(self, X, *, components=None):
        """Raw (unstandardised) components of every window of every clip.

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)
        components : sequence of str or None, default=None
            The components to compute, a subset of ``component_names``; None computes all.
            Fewer components can mean fewer passes through the network.

        Returns
        -------
        C : list of length n_clips of structured ndarray of shape (n_windows_i,)
            Per clip, one record per window (in time order): ``start`` (int64, the window's
            first frame in the clip; 0 for a mirror-padded short clip) and one float64 field
            per component, in the order of ``component_names``.
        """
        self._check_fitted()
        names = self.component_names
        if components is not None:
            wanted = check_component_names(components, names)
            names = tuple(n for n in names if n in wanted)
        dtype = [_START] + [(n, np.float64) for n in names]
        clips = self._check_X(X)
        out = []
        for chunk in window_batches(clips, length=self.window, stride=self.stride):
            w, clip_index, starts = self._windows([clips[i] for i in chunk])
            comps = self._window_components(self.standardize(w), starts, set(names))
            bounds = np.cumsum(np.bincount(clip_index, minlength=len(chunk)))[:-1]
            for rows in np.split(np.arange(len(w)), bounds):
                a = np.empty(len(rows), dtype=dtype)
                a["start"] = starts[rows]
                for n in names:
                    a[n] = comps[n][rows]
                out.append(a)
        return out

    def training_summary(self):
        """How training went, read from the trained net's history.

        Returns
        -------
        summary : dict
            ``epochs_run`` (int; 0 for a network loaded from a model file or from
            ``memory``, which keep no history), ``best_epoch`` (the epoch whose weights
            were kept: the lowest validation loss; None without history) and
            ``best_valid_loss`` (float, or None).
        """
        self._check_fitted()
        history = self.net_.history
        if not len(history):
            return {"epochs_run": 0, "best_epoch": None, "best_valid_loss": None}
        best = min(history, key=lambda h: h.get("valid_loss", h["train_loss"]))
        loss = best.get("valid_loss")
        return {
            "epochs_run": len(history),
            "best_epoch": int(best["epoch"]),
            "best_valid_loss": None if loss is None else float(loss),
        }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []  # records of float64 components
        return tags

    # -- persistence (lipanomaly.save_model) ----------------------------------------------

    def get_fitted_state(self):
        """The fitted state as (JSON-able dict, dict of arrays), for ``save_model``."""
        from ..nn import module_state

        self._check_fitted()
        fitted = {
            "n_points_": int(self.n_points_),
            "seed_": int(self.seed_),
            "n_epochs_": int(self.n_epochs_),
            "window_scale_": float(self.window_scale_),
            "n_features": int(self.window_mean_.size),
        }
        arrays = {
            "window_mean_": np.asarray(self.window_mean_),
            "validation_index_": np.asarray(self.validation_index_, dtype=np.int64),
        }
        arrays.update({f"module.{k}": v for k, v in module_state(self.net_).items()})
        return fitted, arrays

    def set_fitted_state(self, fitted, arrays):
        """Restore what :meth:`get_fitted_state` returned (the network on CPU)."""
        from ..nn import net_from_state

        self.n_points_ = int(fitted["n_points_"])
        self.seed_ = int(fitted["seed_"])
        self.n_epochs_ = int(fitted["n_epochs_"])
        self.window_scale_ = float(fitted["window_scale_"])
        self.window_mean_ = np.asarray(arrays["window_mean_"])
        self.validation_index_ = np.asarray(arrays["validation_index_"]).astype(np.intp)
        module_state = {k[len("module.") :]: v for k, v in arrays.items() if k[:7] == "module."}
        self.net_ = net_from_state(
            module_state,
            n_features=int(fitted["n_features"]),
            module_kwargs=self.module_kwargs(),
            kind=self.network_spec.kind,
        )
        return self


class LFHFComponents(NetworkComponents):
    """The dual low/high-frequency VAE as a transformer: clips to per-window components.

    A TCN encoder with two VAE heads (:class:`lipanomaly.nn.DualVAE`) learns, from live clips
    only, the slow lip trajectory (LF head, strong KL) and the fast detail around it (HF
    head, weak KL). ``transform`` gives each window ten raw components (see
    :mod:`lipanomaly.scoring.formulas`): the LF and HF reconstruction errors ``e_smooth`` and
    ``e_detail``, their ratio ``drs``, ``delta_e`` (growth of ``e_detail`` under a seeded
    micro time-jitter), the ``complexity`` of the principal lip motion, the
    OC-FakeDect-style ``rmse`` and ``latent_rmse``, and ``e_smooth_rel``, ``e_detail_rel``
    and ``rmse_rel``, the errors per unit of the window's lip motion.
    :class:`lipanomaly.LFHFVAEDetector` composes it with a
    :class:`lipanomaly.scoring.scorer.ComponentScorer`.

    Parameters
    ----------
    window : int, default=64
        Window length in frames (SPEC: 48 to 64); at least 16, the STFT loss's frame.
    stride : int, default=16
        Hop between windows in frames.
    fs : float, default=25.0
        Analysis frame rate of the clips in Hz (:data:`lipanomaly.limits.DEFAULT_FPS`). In a
        pipeline behind a :class:`~lipanomaly.LipLandmarkExtractor`, ``fit`` checks that it
        is the extractor's ``fps``.
    cutoff : float or None, default=None
        Low-pass cut-off of the band split in Hz, below ``fs / 2``; None is
        :data:`lipanomaly.signal.filters.DEFAULT_CUTOFF_HZ`.
    complexity : {"sampen", "flatness"}, default="sampen"
        Sample entropy (antropy) or spectral flatness of each window's principal motion.
    n_jitter_draws : int, default=3
        Seeded jitter draws of ``delta_e``, taken in turn by consecutive windows (window
        ``k`` of a clip gets draw ``k mod n_jitter_draws``): a clip's ΔE averages them all
        for the cost of one extra pass, and each window's ΔE is a single draw.
    jitter_max_shift : float, default=1.0
        Time warp of the ΔE jitter in frames (:func:`lipanomaly.signal.augment.time_jitter`).
    jitter_drop_rate : tuple of float, default=(0.05, 0.10)
        Range ``(low, high)``, ``0 <= low <= high < 1``, of the fraction of frames dropped
        by the ΔE jitter.
    loss_weights : dict of str to float or None, default=None
        Weights of the loss terms (SPEC section 3) that differ from the defaults, by term:
        ``{"kl_lf": 4.0}``. The terms and their defaults are
        ``lipanomaly.nn.specs.DUAL.loss_weights`` (``rec_lf``, ``kl_lf``, ``rec_hf``,
        ``stft``, ``deriv``, ``kl_hf``, ``full``, ``decor``, ``jitter``, ``mask``); None is
        the defaults.
    channels, n_layers, kernel_size, latent_lf, latent_hf, decoder_layers, lf_stride, \
dropout
        Size of :class:`lipanomaly.nn.DualVAE`; defaults 128, 4, 3, 32, 64, 4, 2, 0.1.
    max_epochs : int, default=20
    max_steps : int or None, default=3000
        Budget of optimiser steps (batches): training stops after the epoch in which it is
        reached, so that training on a large corpus costs about as much as on a small one
        (``benchmarks/bench_train.py``). None trains ``max_epochs``.
    batch_size : int, default=16
    lr : float, default=1e-3
        AdamW learning rate; ``fit`` raises :class:`~lipanomaly.TrainingError` if training
        diverges.
    kl_anneal_epochs : int, default=5
    patience : int, default=6
        Early stopping on the validation loss; the best weights are restored.
    augment : bool, default=True
        Training augmentation of SPEC section 4.
    validation_fraction : float in (0, 1), default=0.2
        Fraction of the live clips (whole clips, never windows; or of the groups, see
        ``fit``) held out for early stopping, and for the detector to calibrate on.
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the training and the ΔE jitter.
    device : str, default="cpu"
        Torch device for training and transform.
    verbose : int, default=0
    memory : str, path, joblib.Memory or None, default=None
        Folder where trained networks are kept (safetensors + JSON, no pickle), keyed by
        every parameter that training reads, the live clips, the groups and the seed: a fit
        that would train the same network loads it instead (a grid search over scoring
        parameters, parallel workers included). Only with an int ``random_state``.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network; ``net_.module_`` is the :class:`lipanomaly.nn.DualVAE`.
    n_points_ : int
        Lip points ``K`` per frame seen at fit.
    seed_ : int
        The seed used (drawn from ``random_state``).
    window_mean_ : ndarray of shape (2 K,)
        Mean of each coordinate over the training windows.
    window_scale_ : float
        One standard deviation for all coordinates of the training windows.
    n_epochs_ : int
        Epochs trained at most: ``max_epochs``, or fewer under ``max_steps``.
    validation_index_ : ndarray of int
        Which live clips (in the order given to fit) were held out for validation.
    network_from_cache_ : bool
        Whether fit loaded the network from ``memory`` instead of training it.
    network_key_ : str or None
        Key of the network in ``memory`` (None without ``memory`` or an int
        ``random_state``).

    See Also
    --------
    lipanomaly.LFHFVAEDetector : this transformer and a scorer, composed.
    lipanomaly.scoring.scorer.ComponentScorer : components to clip scores and a threshold.

    Notes
    -----
    Clips must have at least ``window // 2`` frames; clips shorter than ``window`` are
    mirror-padded to one window (:func:`lipanomaly.signal.windows.make_windows`).
    """

    component_names = formulas.COMPONENTS
    network_spec = DUAL
    module_params = ("channels", "n_layers", "kernel_size", "latent_lf", "latent_hf")
    module_params += ("decoder_layers", "lf_stride", "dropout")
    # how the trained network's outputs become components, and how work is run
    _not_training = frozenset(("complexity", "n_jitter_draws", "jitter_max_shift"))
    _not_training |= {"jitter_drop_rate", "verbose", "memory"}

    _parameter_constraints: ClassVar[dict] = {
        **NetworkComponents._parameter_constraints,
        "window": [Interval(numbers.Integral, 16, None, closed="left")],
        "fs": [Interval(numbers.Real, 0, None, closed="neither")],
        "cutoff": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "complexity": [StrOptions({"sampen", "flatness"})],
        "n_jitter_draws": POSITIVE_INT,
        "jitter_max_shift": NON_NEGATIVE,
        "jitter_drop_rate": [tuple, list],
        **dict.fromkeys(("channels", "n_layers", "kernel_size", "latent_lf"), POSITIVE_INT),
        **dict.fromkeys(("latent_hf", "decoder_layers", "lf_stride"), POSITIVE_INT),
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        *,
        window=64,
        stride=16,
        fs=DEFAULT_FPS,
        cutoff=None,
        complexity="sampen",
        n_jitter_draws=3,
        jitter_max_shift=1.0,
        jitter_drop_rate=(0.05, 0.10),
        loss_weights=None,
        channels=128,
        n_layers=4,
        kernel_size=3,
        latent_lf=32,
        latent_hf=64,
        decoder_layers=4,
        lf_stride=2,
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
        self.fs = fs
        self.cutoff = cutoff
        self.complexity = complexity
        self.n_jitter_draws = n_jitter_draws
        self.jitter_max_shift = jitter_max_shift
        self.jitter_drop_rate = jitter_drop_rate
        self.loss_weights = loss_weights
        self.channels = channels
        self.n_layers = n_layers
        self.kernel_size = kernel_size
        self.latent_lf = latent_lf
        self.latent_hf = latent_hf
        self.decoder_layers = decoder_layers
        self.lf_stride = lf_stride
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

    def _cutoff(self):
        from ..signal.filters import DEFAULT_CUTOFF_HZ

        return DEFAULT_CUTOFF_HZ if self.cutoff is None else float(self.cutoff)

    def _check_params(self):
        super()._check_params()
        rate = self.jitter_drop_rate
        if not (len(rate) == 2 and 0 <= rate[0] <= rate[1] < 1):
            raise InputError(
                f"jitter_drop_rate must be (low, high) with 0 <= low <= high < 1, got {rate!r}"
            )
        from ..signal.filters import check_cutoff

        check_cutoff(self._cutoff(), self.fs)

    def _band(self):
        return {"fs": self.fs, "cutoff": self._cutoff()}

    def _reconstruct(self, w, *, hf_only=False):
        from ..nn import reconstruct

        return reconstruct(
            self.net_.module_, w, **self._band(), hf_only=hf_only, device=self.device
        )

    def _window_components(self, w, starts, needed):
        rec = self._reconstruct(w)
        comps = formulas.reconstruction_errors(w, rec["x_lf"], rec["r_hf_target"], rec["r_hf"])
        if "delta_e" in needed:
            comps["delta_e"] = self._delta_e(w, starts, comps["e_detail"])
        if "latent_rmse" in needed:
            from ..nn import encode

            # OC-FakeDect-2: re-encode the reconstruction (encoder only) and compare means
            x_hat = (rec["x_lf"] + rec["r_hf"]).astype(np.float32)
            mu_hat = encode(self.net_.module_, x_hat, device=self.device)
            comps["latent_rmse"] = formulas.latent_rmse(
                (rec["mu_lf"], rec["mu_hf"]), (mu_hat["mu_lf"], mu_hat["mu_hf"])
            )
        if "complexity" in needed:
            comps["complexity"] = formulas.complexity(w, method=self.complexity)
        return comps

    def _delta_e(self, w, starts, e_detail):
        """ΔE of each window: its own jitter draw, one HF pass, the formula of scoring."""
        from ..signal.augment import jitter_probe

        draw = (np.asarray(starts) // self.stride) % self.n_jitter_draws
        jittered = jitter_probe(
            w,
            draw,
            self.seed_,
            max_shift=self.jitter_max_shift,
            drop_rate=self.jitter_drop_rate,
        )
        rj = self._reconstruct(jittered, hf_only=True)  # only r_hf is needed
        e_jittered = formulas.detail_error(rj["r_hf_target"], rj["r_hf"])
        return formulas.delta_detail(e_detail, e_jittered[None])

    def decompose(self, clip):
        """The network's low/high-frequency view of one clip, frame by frame.

        The clip is cut into windows, standardised and passed through the network (eval
        mode, ``z = mu``); the outputs of overlapping windows are averaged per frame and
        brought back to the clip's units (:meth:`inverse_standardize`).

        Parameters
        ----------
        clip : array-like of shape (T, K, 2)
            A lip sequence with ``K = n_points_``.

        Returns
        -------
        parts : dict of str to ndarray of shape (T, K, 2), float64
            ``x`` (the clip), ``low`` and ``high`` (its band split, the network's targets),
            ``x_lf`` (the LF head's slow trajectory) and ``r_hf`` (the HF head's fast
            detail).
        """
        self._check_fitted()
        (clip,) = [c.astype(np.float64, copy=False) for c in self._check_X([clip])]
        n_frames, k = clip.shape[:2]
        w, _, starts = self._windows([clip])
        rec = self._reconstruct(self.standardize(w))
        parts = {
            "x_lf": self.inverse_standardize(rec["x_lf"]),
            "r_hf": self.inverse_standardize(rec["r_hf"], offset=False),
            "low": self.inverse_standardize(rec["x_lp"]),
            "high": self.inverse_standardize(rec["r_hf_target"], offset=False),
        }
        out = {"x": clip}
        count = np.zeros(n_frames)
        sums = {name: np.zeros((n_frames, 2 * k)) for name in parts}
        for i, s in enumerate(starts):
            span = min(self.window, n_frames - s)  # a mirror-padded short clip: its frames
            count[s : s + span] += 1
            for name, values in parts.items():
                sums[name][s : s + span] += values[i, :span]
        for name, total in sums.items():
            out[name] = (total / count[:, None]).reshape(n_frames, k, 2)
        return out
