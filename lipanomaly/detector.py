"""The dual low/high-frequency VAE outlier detector, :class:`LFHFVAEDetector`.

This module also holds :class:`_WindowVAEDetector`, the private base class that
:class:`LFHFVAEDetector` and the OC-FakeDect baseline (:class:`lipanomaly.OCVAEDetector`)
share: input validation, windowing, window standardisation, the validation split by clip,
the trained-network cache, batched scoring, robust standardisation of the components,
their combination and the threshold. A subclass only says how to train its network and
which per-window components it computes.

torch (and skorch) are imported inside methods: ``import lipanomaly.detector`` stays light.
"""

import copy
import hashlib
import json
import numbers
import os
import threading
import warnings
from collections import OrderedDict
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from . import scoring
from ._validation import check_clips
from ._version import __version__
from .exceptions import InputError, NotFittedError
from .windows import aggregate, make_windows

__all__ = ["LFHFVAEDetector"]

# Windows scored per batch: bounds the memory of scoring whatever the number of clips.
_CHUNK_WINDOWS = 256
# Trained networks kept in memory for reuse (GridSearchCV over scoring parameters).
_CACHE_SIZE = 8
_NET_CACHE = OrderedDict()
# Raw per-window components of collections scored by a cached network (7 floats per window):
# a grid search scores the same validation and test clips once per candidate.
_COMPONENT_CACHE_SIZE = 64
_COMPONENT_CACHE = OrderedDict()
_CACHE_LOCK = threading.Lock()


def clear_network_cache():
    """Forget the trained networks (and their scored components) kept in memory for reuse."""
    with _CACHE_LOCK:
        _NET_CACHE.clear()
        _COMPONENT_CACHE.clear()


def _hash_clips(clips):
    """SHA-256 of a list of float64 clips (shapes and values)."""
    h = hashlib.sha256()
    for c in clips:
        c = np.ascontiguousarray(c, dtype=np.float64)
        h.update(np.asarray(c.shape, dtype=np.int64).tobytes())
        h.update(c.tobytes())
    return h.hexdigest()


def _to_jsonable(value):
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (tuple, list)):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    return value


def _memory_location(memory):
    """The folder of a ``memory`` parameter: None, a path, or a ``joblib.Memory``."""
    if memory is None:
        return None
    location = getattr(memory, "location", memory)
    return None if location is None else os.fspath(location)


class _WindowVAEDetector(OutlierMixin, BaseEstimator):
    """Shared machinery of the window-based VAE outlier detectors (private).

    Subclasses set ``_component_names``, ``_network_param_names`` and ``_module_kind`` and
    implement ``_module_kwargs``, ``_train_network``, ``_window_components`` and
    ``_combine``.
    """

    #: per-window components this detector computes (a subset of scoring.COMPONENTS)
    _component_names = ()
    #: parameters that change the trained network (the cache key); the others only score
    _network_param_names = ()
    #: parameters that change the raw components computed with a given network
    _component_param_names = ()

    _parameter_constraints: ClassVar[dict] = {
        "window": [Interval(numbers.Integral, 8, None, closed="left")],
        "stride": [Interval(numbers.Integral, 1, None, closed="left")],
        "aggregation": [StrOptions({"mean", "median", "max", "min"})],
        "contamination": [Interval(numbers.Real, 0, 0.5, closed="right")],
        "threshold": [StrOptions({"quantile", "iqr"})],
        "iqr_factor": [Interval(numbers.Real, 0, None, closed="left")],
        "max_epochs": [Interval(numbers.Integral, 1, None, closed="left")],
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

    # ------------------------------------------------------------------ fit

    def _check_X(self, X, *, fitted=True):
        """Validate X; at scoring time also the ``K`` seen at fit.

        Float32 input stays float32 (no float64 copy of a large collection: scoring converts
        one batch at a time); anything else becomes float64.
        """
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

    def _live_clips(self, clips, y):
        """The clips the network learns from: all, or those with ``y == +1``."""
        if y is None:
            return clips
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(clips):
            raise InputError(
                f"y: expected one label per clip, shape ({len(clips)},), got shape {y.shape}"
            )
        values = set(np.unique(y).tolist())
        if not values <= {1, -1}:
            raise InputError(
                f"y: expected labels +1 (live) and -1 (spoof), got values {sorted(values)}"
            )
        return [c for c, label in zip(clips, y) if label == 1]

    def _seed(self):
        """An int seed from ``random_state`` (None draws fresh entropy, not the global RNG)."""
        if self.random_state is None:
            return int(np.random.SeedSequence().generate_state(1)[0] >> 1)
        if isinstance(self.random_state, numbers.Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _split(self, n_clips, seed):
        """Validation clips (never windows): a seeded ``validation_fraction`` of them."""
        if n_clips < 2:
            raise InputError(
                f"X: {type(self).__name__} needs at least 2 live clips (one to train on, one "
                f"to validate and calibrate the threshold on), got {n_clips}"
            )
        n_valid = min(max(1, round(self.validation_fraction * n_clips)), n_clips - 1)
        perm = np.random.default_rng(seed).permutation(n_clips)
        return np.sort(perm[n_valid:]), np.sort(perm[:n_valid])

    def _windows(self, clips):
        w, clip_index, starts = make_windows(clips, length=self.window, stride=self.stride)
        return w.reshape(w.shape[0], w.shape[1], -1), clip_index, starts

    def _standardize(self, w):
        return ((w - self.window_mean_) / self.window_scale_).astype(np.float32)

    def _cache_key(self, live_hash, seed):
        params = self.get_params(deep=False)
        net_params = {k: _to_jsonable(params[k]) for k in self._network_param_names}
        blob = json.dumps(
            {
                "class": type(self).__name__,
                "version": __version__,
                "params": net_params,
                "data": live_hash,
                "seed": seed,
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:32]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the network on live clips and calibrate the score and the threshold.

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)
            Lip sequences. Clips of at least ``window // 2`` frames are accepted; those
            shorter than ``window`` are mirror-padded to one window.
        y : array-like of shape (n_clips,) or None, default=None
            Optional labels, +1 live and -1 spoof: only the ``y == +1`` clips are used (so
            that ``GridSearchCV`` on a labelled development set trains one-class).

        Returns
        -------
        self : object
            The fitted detector.
        """
        self._check_extra_params()
        clips = [c.astype(np.float64, copy=False) for c in self._check_X(X, fitted=False)]
        live = self._live_clips(clips, y)
        seed = self._seed()
        self.n_points_ = clips[0].shape[1]
        self.seed_ = seed

        state = self._fit_network(live, seed)
        self.window_mean_ = state["window_mean"]
        self.window_scale_ = float(state["window_scale"])
        self.validation_index_ = state["validation_index"]
        self.net_ = state["net"]

        valid_clips = [live[i] for i in self.validation_index_]
        self._calibrate(valid_clips)
        return self

    def _fit_network(self, live, seed):
        """Train (or reuse) the network; returns the training state as a dict."""
        cacheable = isinstance(self.random_state, numbers.Integral)
        key = self._cache_key(_hash_clips(live), seed) if cacheable else None
        self.network_key_ = key
        if key is not None:
            with _CACHE_LOCK:
                hit = _NET_CACHE.get(key)
                if hit is not None:
                    _NET_CACHE.move_to_end(key)
            if hit is None:
                hit = self._load_from_memory(key)
                if hit is not None:
                    self._remember(key, hit)
            if hit is not None:
                self.network_from_cache_ = True
                return {**hit, "net": copy.deepcopy(hit["net"])}
        self.network_from_cache_ = False

        train_idx, valid_idx = self._split(len(live), seed)
        train_w = self._windows([live[i] for i in train_idx])[0]
        valid_w = self._windows([live[i] for i in valid_idx])[0]
        mean = train_w.mean(axis=(0, 1))
        # one scale for every coordinate keeps the lip shape's proportions
        scale = float(np.std(train_w - mean)) or 1.0
        net = self._train_network(
            ((train_w - mean) / scale).astype(np.float32),
            ((valid_w - mean) / scale).astype(np.float32),
            seed,
        )
        state = {
            "window_mean": mean.astype(np.float64),
            "window_scale": scale,
            "validation_index": valid_idx,
            "net": net,
        }
        if key is not None:
            self._remember(key, {**state, "net": copy.deepcopy(net)})
            self._save_to_memory(key, state)
        return state

    @staticmethod
    def _remember(key, state):
        with _CACHE_LOCK:
            _NET_CACHE[key] = state
            while len(_NET_CACHE) > _CACHE_SIZE:
                _NET_CACHE.popitem(last=False)

    # -- the optional on-disk cache (for n_jobs > 1): safetensors + JSON, no pickle --

    def _memory_folder(self, key):
        location = _memory_location(self.memory)
        if location is None:
            return None
        return os.path.join(location, "lipanomaly_networks", f"{type(self).__name__}-{key}")

    def _save_to_memory(self, key, state):
        folder = self._memory_folder(key)
        if folder is None or os.path.isdir(folder):
            return
        from safetensors.numpy import save_file

        arrays = {f"module.{k}": v for k, v in self._module_state(state["net"]).items()}
        arrays["window_mean"] = np.asarray(state["window_mean"])
        arrays["validation_index"] = np.asarray(state["validation_index"], dtype=np.int64)
        tmp = f"{folder}.partial-{os.getpid()}-{threading.get_ident()}"
        os.makedirs(tmp, exist_ok=True)
        save_file(arrays, os.path.join(tmp, "weights.safetensors"))
        with open(os.path.join(tmp, "config.json"), "w") as fh:
            json.dump(
                {
                    "window_scale": state["window_scale"],
                    "n_features": int(np.asarray(state["window_mean"]).size),
                },
                fh,
            )
        try:
            os.replace(tmp, folder)  # atomic: another worker never reads half a folder
        except OSError:  # another worker wrote it first
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)

    def _load_from_memory(self, key):
        folder = self._memory_folder(key)
        if folder is None or not os.path.isfile(os.path.join(folder, "config.json")):
            return None
        from safetensors.numpy import load_file

        try:
            with open(os.path.join(folder, "config.json")) as fh:
                config = json.load(fh)
            arrays = load_file(os.path.join(folder, "weights.safetensors"))
            module_state = {k[7:]: v for k, v in arrays.items() if k.startswith("module.")}
            return {
                "window_mean": arrays["window_mean"],
                "window_scale": config["window_scale"],
                "validation_index": arrays["validation_index"],
                "net": self._net_from_state(config["n_features"], module_state),
            }
        except (OSError, KeyError, ValueError, RuntimeError) as exc:
            # an entry written by another code version, or damaged: a miss, not an error
            warnings.warn(
                f"memory={self.memory!r}: cached network {folder} cannot be loaded ({exc}); "
                "training a new one",
                UserWarning,
                stacklevel=3,
            )
            return None

    @staticmethod
    def _module_state(net):
        from .nn import module_state

        return module_state(net)

    def _net_from_state(self, n_features, module_state):
        """Rebuild a skorch net around a module with the given weights (CPU, eval mode)."""
        import skorch
        import torch

        from .nn import module_from_state

        module = module_from_state(
            module_state,
            n_features=n_features,
            module_kwargs=self._module_kwargs(),
            kind=self._module_kind,
        )
        # an instantiated module is used as it is: initialize() keeps its weights
        net = skorch.NeuralNet(module=module, criterion=torch.nn.MSELoss, device="cpu")
        net.initialize()
        module.eval()
        return net

    # ------------------------------------------------------------ calibration

    def _calibrate(self, valid_clips):
        """Robust statistics, combination and threshold from live validation clips."""
        comps, clip_index, _ = self._components_all(valid_clips)
        self.component_center_, self.component_scale_ = scoring.fit_robust_scale(comps)
        z = scoring.apply_robust_scale(comps, self.component_center_, self.component_scale_)
        self._fit_combination(z)
        window_scores = self._combine(z)
        self.validation_scores_ = aggregate(
            window_scores, clip_index, len(valid_clips), how=self.aggregation
        )
        self.offset_ = scoring.fit_offset(
            self.validation_scores_,
            contamination=self.contamination,
            method=self.threshold,
            iqr_factor=self.iqr_factor,
        )

    def _check_extra_params(self):
        """Checks of parameters that ``_parameter_constraints`` cannot express (optional)."""

    def _fit_combination(self, z):
        """Learn what the combination needs from standardised live components (optional)."""

    # ---------------------------------------------------------------- scoring

    def _check_fitted(self):
        if not hasattr(self, "offset_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet; call 'fit' with "
                "live clips before using this method"
            )

    def _chunks(self, clips):
        """Groups of consecutive clip indices holding about ``_CHUNK_WINDOWS`` windows."""
        start, count = 0, 0
        for i, c in enumerate(clips):
            n = c.shape[0]
            count += 1 if n <= self.window else -(-(n - self.window) // self.stride) + 1
            if count >= _CHUNK_WINDOWS:
                yield range(start, i + 1)
                start, count = i + 1, 0
        if start < len(clips):
            yield range(start, len(clips))

    def _components_chunk(self, clips, needed=None):
        """Raw per-window components of a few clips: (n_windows, p), clip index, starts.

        Components not in ``needed`` (None: all) are not computed and hold 0: the score
        never reads them (see :meth:`_needed_components`).
        """
        w, clip_index, starts = self._windows(clips)
        comps = self._window_components(self._standardize(w), starts, needed)
        unused = np.zeros(len(w))
        matrix = np.column_stack([comps.get(name, unused) for name in self._component_names])
        return matrix.astype(np.float64), clip_index, starts

    def _needed_components(self):
        """Names of the components that the score reads; None means all of them."""
        return None

    def _components_all(self, clips, needed=None):
        """Raw components of every window of ``clips``, computed batch by batch.

        Only the small component matrix (a few floats per window) is kept, never the
        windows or reconstructions of more than one batch. With a network trained under an
        int ``random_state``, the result is remembered (keyed by the network, the clips and
        the component parameters), so that grid-search candidates that differ only in how
        components are combined do not recompute them.
        """
        key = None
        if getattr(self, "network_key_", None) is not None:
            params = {k: _to_jsonable(getattr(self, k)) for k in self._component_param_names}
            params["needed"] = sorted(needed) if needed is not None else None
            key = (self.network_key_, _hash_clips(clips), json.dumps(params, sort_keys=True))
            with _CACHE_LOCK:
                hit = _COMPONENT_CACHE.get(key)
                if hit is not None:
                    _COMPONENT_CACHE.move_to_end(key)
                    return hit
        parts, offset = [], 0
        for r in self._chunks(clips):
            comps, clip_index, starts = self._components_chunk([clips[i] for i in r], needed)
            parts.append((comps, clip_index + offset, starts))
            offset += len(r)
        result = tuple(np.concatenate([p[j] for p in parts]) for j in range(3))
        if key is not None:
            for a in result:
                a.setflags(write=False)  # shared between estimators: never modified
            with _CACHE_LOCK:
                _COMPONENT_CACHE[key] = result
                while len(_COMPONENT_CACHE) > _COMPONENT_CACHE_SIZE:
                    _COMPONENT_CACHE.popitem(last=False)
        return result

    def _window_scores(self, comps):
        z = scoring.apply_robust_scale(comps, self.component_center_, self.component_scale_)
        return self._combine(z)

    def score_samples(self, X):
        """Liveness score of each clip: higher is more live.

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)

        Returns
        -------
        scores : ndarray of shape (n_clips,), float64
            The window scores (see :meth:`score_windows`) aggregated per clip.
        """
        self._check_fitted()
        clips = self._check_X(X)
        # only what the score reads: one forward pass for the default DRS instead of five
        comps, clip_index, _ = self._components_all(clips, self._needed_components())
        return aggregate(self._window_scores(comps), clip_index, len(clips), how=self.aggregation)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for clips called spoofs.

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)

        Returns
        -------
        decision : ndarray of shape (n_clips,), float64
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 (live) or -1 (spoof) for each clip.

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)

        Returns
        -------
        labels : ndarray of shape (n_clips,), int
        """
        return np.where(self.decision_function(X) < 0, -1, 1).astype(int)

    def score_components(self, X):
        """Every raw (unstandardised) score component, aggregated per clip.

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)

        Returns
        -------
        components : dict of str to ndarray of shape (n_clips,), float64
            One entry per component (see :mod:`lipanomaly.scoring`) and ``"score"``, the
            value of :meth:`score_samples`.
        """
        self._check_fitted()
        clips = self._check_X(X)
        names = (*self._component_names, "score")
        comps, clip_index, _ = self._components_all(clips)
        both = np.column_stack([comps, self._window_scores(comps)])
        out = aggregate(both, clip_index, len(clips), how=self.aggregation)
        return {name: out[:, j].copy() for j, name in enumerate(names)}

    def score_windows(self, X):
        """Time-resolved scores: one record per window.

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)

        Returns
        -------
        windows : numpy record array of shape (n_windows,)
            Fields ``clip_index`` (index in X), ``start`` (first frame of the window; 0 for a
            padded short clip), ``score`` (the window's liveness score, higher = more live;
            aggregated per clip it gives :meth:`score_samples`) and one float64 field per
            raw component.
        """
        self._check_fitted()
        clips = self._check_X(X)
        comps, clip_index, starts = self._components_all(clips)
        dtype = [("clip_index", np.int64), ("start", np.int64), ("score", np.float64)]
        dtype += [(name, np.float64) for name in self._component_names]
        out = np.recarray(len(comps), dtype=dtype)
        out["clip_index"], out["start"] = clip_index, starts
        out["score"] = self._window_scores(comps)
        for j, name in enumerate(self._component_names):
            out[name] = comps[:, j]
        return out

    # ----------------------------------------------------------- persistence

    _fitted_arrays = (
        "window_mean_",
        "validation_index_",
        "component_center_",
        "component_scale_",
        "validation_scores_",
    )

    def _get_fitted_state(self):
        """The fitted state as (JSON-able dict, dict of arrays), for ``save_model``."""
        self._check_fitted()
        fitted = {
            "n_points_": int(self.n_points_),
            "seed_": int(self.seed_),
            "window_scale_": float(self.window_scale_),
            "offset_": float(self.offset_),
            "n_features": int(self.window_mean_.size),
        }
        arrays = {name: np.asarray(getattr(self, name)) for name in self._fitted_arrays}
        arrays.update({f"module.{k}": v for k, v in self._module_state(self.net_).items()})
        return fitted, arrays

    def _set_fitted_state(self, fitted, arrays):
        """Restore what :meth:`_get_fitted_state` returned (the network on CPU)."""
        for name in ("n_points_", "seed_"):
            setattr(self, name, int(fitted[name]))
        self.window_scale_ = float(fitted["window_scale_"])
        self.offset_ = float(fitted["offset_"])
        for name in self._fitted_arrays:
            setattr(self, name, np.asarray(arrays[name]))
        self.validation_index_ = self.validation_index_.astype(np.intp)
        module_state = {k[len("module.") :]: v for k, v in arrays.items() if k[:7] == "module."}
        self.net_ = self._net_from_state(int(fitted["n_features"]), module_state)
        return self


class LFHFVAEDetector(_WindowVAEDetector):
    """Outlier detector of spoofed lip motion with a dual low/high-frequency VAE.

    A TCN encoder with two VAE heads (:class:`lipanomaly.nn.DualVAE`) learns, from live clips
    only, the slow lip trajectory (LF head, strong KL) and the fast detail around it (HF
    head, weak KL). Each window of a clip gets seven score components (see
    :mod:`lipanomaly.scoring`): the LF and HF reconstruction errors ``e_smooth`` and
    ``e_detail``, their ratio ``drs``, ``delta_e`` (growth of ``e_detail`` under a seeded
    micro time-jitter), the complexity ``C`` of the principal lip motion, and the
    OC-FakeDect-style ``rmse`` and ``latent_rmse``. Each is standardised with the median and
    IQR of live validation clips (never used for training the weights). By default they are
    combined two-sidedly: ``score = -(Mahalanobis distance from the live distribution)``,
    since a generator may make lips smoother (lower errors) or rougher (higher errors) than
    live speech. ``combination="linear"`` gives the seed's
    ``S = alpha DRS - beta dE + gamma C - rmse_coef RMSE - latent_coef latent_RMSE``.
    Window scores are aggregated per clip; ``offset_`` is the ``contamination`` quantile of
    the live validation clips' scores (0.2: OC-FakeDect's T80) or Tukey's IQR rule.

    Parameters
    ----------
    window : int, default=64
        Window length in frames (SPEC: 48 to 64).
    stride : int, default=16
        Hop between windows in frames.
    fs : float, default=25.0
        Analysis frame rate of the clips in Hz.
    cutoff : float or None, default=None
        Low-pass cut-off of the band split in Hz; None is
        :data:`lipanomaly.signal.DEFAULT_CUTOFF_HZ`.
    combination : {"mahalanobis", "linear"}, default="mahalanobis"
        Two-sided distance, or the signed linear score.
    components : tuple of str or None, default=("drs",)
        Components entering the Mahalanobis distance; None is all seven. The default, DRS
        alone, gave clip-level AUC 0.69 over all fakes against 0.43 for all seven, better on
        every generator family and with fewer false alarms on unseen real sources
        (``benchmarks/bench_quality.py``, ``docs/quality.md``): the other components follow
        the recording and the lip shape more than the generator.
    alpha, beta, gamma : float, default=1.0
        Weights of ``drs``, ``-delta_e`` and ``complexity`` in the linear score.
    rmse_coef, latent_coef : float, default=0.0
        Weights of ``-rmse`` and ``-latent_rmse`` in the linear score (OC-FakeDect extras).
    relative_errors : bool, default=False
        Divide ``e_smooth`` and ``rmse`` by the window's motion energy, ``e_detail`` by the
        energy of its high band, and give ``delta_e`` as a relative growth: errors that do
        not grow with how much the lips move.
    aggregation : {"mean", "median", "max", "min"}, default="mean"
        How window scores (and components) become one value per clip.
    contamination : float in (0, 0.5], default=0.2
        Fraction of live validation clips below the threshold (``threshold="quantile"``).
    threshold : {"quantile", "iqr"}, default="quantile"
        ``"iqr"``: ``offset_ = Q1 - iqr_factor * IQR`` of the live validation scores.
    iqr_factor : float, default=1.5
    complexity : {"sampen", "flatness"}, default="sampen"
        Sample entropy (antropy) or spectral flatness of each window's principal motion.
    n_jitter_draws : int, default=3
        Seeded jitter draws of ``delta_e``, taken in turn by consecutive windows (window
        ``k`` of a clip gets draw ``k mod n_jitter_draws``): a clip's ΔE averages them all
        for the cost of one extra pass, and each window's ΔE is a single draw.
    jitter_max_shift : float, default=1.0
        Time warp of the ΔE jitter in frames (:func:`lipanomaly.augment.time_jitter`).
    jitter_drop_rate : tuple of float, default=(0.05, 0.10)
        Range of the fraction of frames dropped by the ΔE jitter.
    rec_weight_lf, kl_weight_lf, rec_weight_hf, stft_weight, deriv_weight, kl_weight_hf, \
full_weight, decor_weight, jitter_weight, mask_weight : float
        Loss weights (SPEC section 3); defaults 1.0, 6.0, 0.5, 0.5, 0.3, 0.8, 0.2, 0.1, 0.1,
        0.0.
    channels, n_layers, kernel_size, latent_lf, latent_hf, decoder_layers, lf_stride, \
dropout
        Size of :class:`lipanomaly.nn.DualVAE`; defaults 128, 4, 3, 32, 64, 4, 2, 0.1.
    max_epochs : int, default=60
    batch_size : int, default=16
    lr : float, default=1e-3
        AdamW learning rate; ``fit`` raises :class:`~lipanomaly.TrainingError` if training
        diverges.
    kl_anneal_epochs : int, default=15
    patience : int, default=10
        Early stopping on the validation loss; the best weights are restored.
    augment : bool, default=True
        Training augmentation of SPEC section 4.
    validation_fraction : float in (0, 1), default=0.2
        Fraction of the live clips (whole clips, never windows; at least one) held out for
        early stopping and to calibrate the components and the threshold.
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the training and the ΔE jitter. With an int, a trained network is
        reused by another fit on the same data with the same network parameters.
    device : str, default="cpu"
        Torch device for training and scoring.
    verbose : int, default=0
    memory : str, path, joblib.Memory or None, default=None
        Folder where trained networks are also kept (safetensors + JSON), so that parallel
        workers of a grid search (``n_jobs > 1``) share them. Only with an int
        ``random_state``.

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
    validation_index_ : ndarray of int
        Which live clips (in the order given to fit) were held out for validation.
    component_center_, component_scale_ : ndarray of shape (7,)
        Median and IQR / 1.349 of each raw component over the validation windows.
    columns_ : ndarray of int
        Columns of the components that enter the Mahalanobis distance.
    precision_ : ndarray of shape (p, p)
        Inverse robust covariance of those standardised components.
    weights_ : ndarray of shape (7,)
        Weights of the linear score, one per component (signs included).
    validation_scores_ : ndarray of shape (n_validation_clips,)
        ``score_samples`` of the validation clips.
    offset_ : float
        Threshold: ``decision_function = score_samples - offset_``.
    network_from_cache_ : bool
        Whether fit reused a trained network instead of training one.
    network_key_ : str or None
        Key of the trained network in the reuse cache (None without an int
        ``random_state``).

    See Also
    --------
    lipanomaly.OCVAEDetector : the OC-FakeDect one-class VAE baseline.

    Notes
    -----
    Clips must have at least ``window // 2`` frames; clips shorter than ``window`` are
    mirror-padded to one window (:func:`lipanomaly.windows.make_windows`).
    """

    _component_names = scoring.COMPONENTS
    _module_kind = "dual"
    _component_param_names = (
        "complexity",
        "n_jitter_draws",
        "jitter_max_shift",
        "jitter_drop_rate",
        "relative_errors",
    )
    _network_param_names = (
        "window",
        "stride",
        "fs",
        "cutoff",
        "rec_weight_lf",
        "kl_weight_lf",
        "rec_weight_hf",
        "stft_weight",
        "deriv_weight",
        "kl_weight_hf",
        "full_weight",
        "decor_weight",
        "jitter_weight",
        "mask_weight",
        "channels",
        "n_layers",
        "kernel_size",
        "latent_lf",
        "latent_hf",
        "decoder_layers",
        "lf_stride",
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
    _loss_weight_names: ClassVar[dict] = {
        "rec_weight_lf": "rec_lf",
        "kl_weight_lf": "kl_lf",
        "rec_weight_hf": "rec_hf",
        "stft_weight": "stft",
        "deriv_weight": "deriv",
        "kl_weight_hf": "kl_hf",
        "full_weight": "full",
        "decor_weight": "decor",
        "jitter_weight": "jitter",
        "mask_weight": "mask",
    }

    _parameter_constraints: ClassVar[dict] = {
        **_WindowVAEDetector._parameter_constraints,
        "fs": [Interval(numbers.Real, 0, None, closed="neither")],
        "cutoff": [None, Interval(numbers.Real, 0, None, closed="neither")],
        "combination": [StrOptions({"mahalanobis", "linear"})],
        "components": [None, tuple, list],
        "alpha": [numbers.Real],
        "beta": [numbers.Real],
        "gamma": [numbers.Real],
        "rmse_coef": [numbers.Real],
        "latent_coef": [numbers.Real],
        "relative_errors": ["boolean"],
        "complexity": [StrOptions({"sampen", "flatness"})],
        "n_jitter_draws": [Interval(numbers.Integral, 1, None, closed="left")],
        "jitter_max_shift": [Interval(numbers.Real, 0, None, closed="left")],
        "jitter_drop_rate": [tuple, list],
        **{
            name: [Interval(numbers.Real, 0, None, closed="left")]
            for name in (
                "rec_weight_lf",
                "kl_weight_lf",
                "rec_weight_hf",
                "stft_weight",
                "deriv_weight",
                "kl_weight_hf",
                "full_weight",
                "decor_weight",
                "jitter_weight",
                "mask_weight",
            )
        },
        "channels": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "kernel_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "latent_lf": [Interval(numbers.Integral, 1, None, closed="left")],
        "latent_hf": [Interval(numbers.Integral, 1, None, closed="left")],
        "decoder_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "lf_stride": [Interval(numbers.Integral, 1, None, closed="left")],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        *,
        window=64,
        stride=16,
        fs=25.0,
        cutoff=None,
        combination="mahalanobis",
        components=("drs",),
        alpha=1.0,
        beta=1.0,
        gamma=1.0,
        rmse_coef=0.0,
        latent_coef=0.0,
        relative_errors=False,
        aggregation="mean",
        contamination=0.2,
        threshold="quantile",
        iqr_factor=1.5,
        complexity="sampen",
        n_jitter_draws=3,
        jitter_max_shift=1.0,
        jitter_drop_rate=(0.05, 0.10),
        rec_weight_lf=1.0,
        kl_weight_lf=6.0,
        rec_weight_hf=0.5,
        stft_weight=0.5,
        deriv_weight=0.3,
        kl_weight_hf=0.8,
        full_weight=0.2,
        decor_weight=0.1,
        jitter_weight=0.1,
        mask_weight=0.0,
        channels=128,
        n_layers=4,
        kernel_size=3,
        latent_lf=32,
        latent_hf=64,
        decoder_layers=4,
        lf_stride=2,
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
        self.fs = fs
        self.cutoff = cutoff
        self.combination = combination
        self.components = components
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.rmse_coef = rmse_coef
        self.latent_coef = latent_coef
        self.relative_errors = relative_errors
        self.aggregation = aggregation
        self.contamination = contamination
        self.threshold = threshold
        self.iqr_factor = iqr_factor
        self.complexity = complexity
        self.n_jitter_draws = n_jitter_draws
        self.jitter_max_shift = jitter_max_shift
        self.jitter_drop_rate = jitter_drop_rate
        self.rec_weight_lf = rec_weight_lf
        self.kl_weight_lf = kl_weight_lf
        self.rec_weight_hf = rec_weight_hf
        self.stft_weight = stft_weight
        self.deriv_weight = deriv_weight
        self.kl_weight_hf = kl_weight_hf
        self.full_weight = full_weight
        self.decor_weight = decor_weight
        self.jitter_weight = jitter_weight
        self.mask_weight = mask_weight
        self.channels = channels
        self.n_layers = n_layers
        self.kernel_size = kernel_size
        self.latent_lf = latent_lf
        self.latent_hf = latent_hf
        self.decoder_layers = decoder_layers
        self.lf_stride = lf_stride
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

    def _resolved_cutoff(self):
        from .signal import DEFAULT_CUTOFF_HZ

        return DEFAULT_CUTOFF_HZ if self.cutoff is None else float(self.cutoff)

    def _module_kwargs(self):
        return {
            "channels": self.channels,
            "n_layers": self.n_layers,
            "kernel_size": self.kernel_size,
            "latent_lf": self.latent_lf,
            "latent_hf": self.latent_hf,
            "decoder_layers": self.decoder_layers,
            "lf_stride": self.lf_stride,
            "dropout": self.dropout,
        }

    def _train_network(self, train_w, valid_w, seed):
        from .nn import train_dual_vae

        return train_dual_vae(
            train_w,
            valid_w,
            fs=self.fs,
            cutoff=self._resolved_cutoff(),
            loss_weights={v: getattr(self, k) for k, v in self._loss_weight_names.items()},
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

    def _selected_components(self):
        names = scoring.COMPONENTS if self.components is None else tuple(self.components)
        unknown = sorted(set(names) - set(scoring.COMPONENTS))
        if unknown or not names:
            raise InputError(
                f"components must be a non-empty subset of {list(scoring.COMPONENTS)}, "
                f"got {list(names)}"
            )
        return [scoring.COMPONENTS.index(n) for n in names]

    def _fit_combination(self, z):
        # both combinations are learnt (cheap), so that each can be inspected
        self.columns_ = np.asarray(self._selected_components(), dtype=np.intp)
        self.precision_ = scoring.fit_mahalanobis(z[:, self.columns_])
        weights = self._linear_weights()
        self.weights_ = np.array([weights.get(n, 0.0) for n in scoring.COMPONENTS], dtype=float)

    def _linear_weights(self):
        return {
            "drs": self.alpha,
            "delta_e": -self.beta,
            "complexity": self.gamma,
            "rmse": -self.rmse_coef,
            "latent_rmse": -self.latent_coef,
        }

    def _needed_components(self):
        # from the fitted combination: what _combine reads
        if self.combination == "mahalanobis":
            return {scoring.COMPONENTS[i] for i in self.columns_}
        return {scoring.COMPONENTS[i] for i in np.flatnonzero(self.weights_)}

    def _combine(self, z):
        if self.combination == "mahalanobis":
            return -scoring.mahalanobis(z[:, self.columns_], self.precision_)
        return scoring.linear_score(z, self.weights_)

    def _reconstruct(self, w, *, hf_only=False):
        from .nn import reconstruct

        return reconstruct(
            self.net_.module_,
            w,
            fs=self.fs,
            cutoff=self._resolved_cutoff(),
            hf_only=hf_only,
            device=self.device,
        )

    def _window_components(self, w, starts, needed=None):
        rec = self._reconstruct(w)
        comps = scoring.reconstruction_errors(w, rec["x_lf"], rec["r_hf_target"], rec["r_hf"])
        if needed is None or "delta_e" in needed:
            comps["delta_e"] = self._delta_e(w, starts, comps["e_detail"])
        if needed is None or "latent_rmse" in needed:
            from .nn import encode

            # OC-FakeDect-2: re-encode the reconstruction (encoder only) and compare means
            x_hat = (rec["x_lf"] + rec["r_hf"]).astype(np.float32)
            mu_hat = encode(self.net_.module_, x_hat, device=self.device)
            comps["latent_rmse"] = scoring.latent_rmse(
                (rec["mu_lf"], rec["mu_hf"]), (mu_hat["mu_lf"], mu_hat["mu_hf"])
            )
        if needed is None or "complexity" in needed:
            comps["complexity"] = scoring.complexity(w, method=self.complexity)

        if self.relative_errors:
            energy = scoring.motion_energy(w) + 1e-6
            comps["e_smooth"] = comps["e_smooth"] / energy
            comps["rmse"] = comps["rmse"] / energy
            comps["e_detail"] = comps["e_detail"] / (scoring.window_norm(rec["r_hf_target"]) + 1e-6)
        return comps

    def _delta_e(self, w, starts, e_detail):
        """ΔE: growth of E_detail under seeded micro time-jitter, one draw per window.

        Window ``k`` of a clip (``start // stride``) is probed with draw ``k mod
        n_jitter_draws``, so a clip's ΔE averages every draw over its overlapping windows
        at the cost of one extra pass of the HF branch, whatever the number of draws.
        """
        from .augment import time_jitter

        draw_of = (np.asarray(starts) // self.stride) % self.n_jitter_draws
        jittered = np.empty_like(w)
        for draw in np.unique(draw_of):
            # Draw d warps all its windows alike (stacked on the feature axis): ΔE is a
            # fixed probe, the same whatever the batch, the other clips, their order or
            # the input's float precision.
            idx = np.flatnonzero(draw_of == draw)
            rng = np.random.default_rng([self.seed_, int(draw)])
            stacked = time_jitter(
                np.ascontiguousarray(w[idx].transpose(1, 0, 2))[None],
                rng,
                max_shift=self.jitter_max_shift,
                drop_rate=tuple(self.jitter_drop_rate),
            )[0]
            jittered[idx] = stacked.transpose(1, 0, 2)
        rj = self._reconstruct(jittered, hf_only=True)  # only r_hf is needed
        e_jittered = scoring.window_norm(rj["r_hf_target"] - rj["r_hf"])
        return scoring.delta_detail(e_detail, e_jittered[None], relative=self.relative_errors)

    def _check_extra_params(self):
        rate = self.jitter_drop_rate
        if not (len(rate) == 2 and 0 <= rate[0] <= rate[1] < 1):
            raise InputError(
                f"jitter_drop_rate must be (low, high) with 0 <= low <= high < 1, got {rate!r}"
            )
        self._selected_components()

    _fitted_arrays = (*_WindowVAEDetector._fitted_arrays, "columns_", "precision_", "weights_")
