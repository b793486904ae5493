"""The dual low/high-frequency VAE outlier detector, :class:`LFHFVAEDetector`.

A detector is a composition of two public estimators, fitted in turn by ``fit``:

- ``network_``, a network transformer (:class:`lipanomaly.scoring.components.LFHFComponents`): clips
  to the raw components of each window (torch lives there and in :mod:`lipanomaly.nn`);
- ``scorer_``, a :class:`lipanomaly.scoring.scorer.ComponentScorer` fitted on the components of the
  network's live validation clips: standardisation, combination, aggregation, threshold.

This module also holds :class:`ComposedDetector`, the base class that
:class:`LFHFVAEDetector` and the OC-FakeDect baseline (:class:`lipanomaly.OCVAEDetector`)
share. A detector's parameters are those of its two parts, flat, each passed once to the
part that reads it (:meth:`ComposedDetector.build_network`,
:meth:`ComposedDetector.build_scorer`); its ``__init__`` is written out, and
``tests/test_detector.py`` checks that its signature is the union of its parts' (names and
defaults).
"""

from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context

from .._validation import check_fitted
from ..limits import DEFAULT_FPS
from ..scoring.components import LFHFComponents, check_component_names
from ..scoring.formulas import conformal_p_values, fit_offset, verdicts
from ..scoring.scorer import START, ComponentScorer, check_components
from ..signal.windows import aggregate

__all__ = ["ComposedDetector", "LFHFVAEDetector"]


def _own_params(estimator, cls):
    """The parameters of ``estimator`` that are parameters of ``cls``, by name."""
    params = estimator.get_params(deep=False)
    return {name: params[name] for name in cls().get_params(deep=False)}


class ComposedDetector(OutlierMixin, BaseEstimator):
    """Base class of the detectors: a network transformer and a ``ComponentScorer``.

    Not an estimator by itself. A subclass sets ``network_class`` (a
    :class:`~lipanomaly.scoring.components.NetworkComponents`) and writes out an ``__init__``
    whose parameters are those of its two parts; it may override :meth:`build_scorer` to
    map its own parameters onto the scorer's. ``network_spec`` is the network class's.
    """

    #: the network transformer
    network_class: ClassVar[type] = LFHFComponents
    #: its network (``network_class.network_spec``): how saved parameters are read
    network_spec: ClassVar = LFHFComponents.network_spec

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.network_spec = cls.network_class.network_spec

    def build_network(self):
        """The unfitted network transformer, with this detector's parameters.

        Returns
        -------
        network : NetworkComponents
            A ``network_class`` with the detector's parameters of the same names.
        """
        return self.network_class(**_own_params(self, self.network_class))

    def build_scorer(self):
        """The unfitted scorer, with this detector's parameters.

        Returns
        -------
        scorer : ComponentScorer
            With the detector's parameters of the same names.
        """
        return ComponentScorer(**_own_params(self, ComponentScorer))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, groups=None):
        """Train the network on live clips, then calibrate the score and the threshold.

        The network's validation clips (held out from training) calibrate the scorer.

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)
            Lip sequences (at least ``window // 2`` frames).
        y : array-like of shape (n_clips,) or None, default=None
            +1 live, -1 spoof: the network learns from the ``y == +1`` clips only.
        groups : array-like of shape (n_clips,) or None, default=None
            A label per clip (recording, person): validation holds out whole groups.
            Details of the three: the network transformer's ``fit``
            (:meth:`lipanomaly.scoring.components.LFHFComponents.fit`).

        Returns
        -------
        self : object
            The fitted detector.
        """
        scorer, available = self.build_scorer(), self.network_class.component_names
        if scorer.components is not None:  # fail before training, not after
            check_component_names(scorer.components, available)
        if scorer.combination == "mahalanobis":
            scorer.resolve_sides(scorer.components or available)
        network = self.build_network()
        # only the components the score reads (for the default DRS: one network pass)
        read = scorer.components_read(available)
        valid = network.fit_validation_components(X, y, groups=groups, components=read)
        self.scorer_ = scorer.fit(valid)
        self.network_ = network
        return self

    @property
    def offset_(self):
        """Threshold, float: ``decision_function = score_samples - offset_`` (the scorer's)."""
        return self.scorer_.offset_

    @property
    def validation_scores_(self):
        """``score_samples`` of the live validation clips, ndarray (the scorer's
        ``calibration_scores_``: after :func:`lipanomaly.calibrate`, the references')."""
        return self.scorer_.calibration_scores_

    def _check_fitted(self):
        check_fitted(self, "offset_", "live clips")

    def threshold_for(self, contamination):
        """The threshold that calls a share ``contamination`` of the validation clips spoof.

        The ``contamination`` quantile of ``validation_scores_``
        (:func:`lipanomaly.scoring.formulas.fit_offset`): at most that share of the live
        validation clips score below it. With the default rule (``threshold="quantile"``,
        ``contamination=0.2``), ``threshold_for(0.2)`` is the ``offset_`` that ``fit`` sets.

        Parameters
        ----------
        contamination : float in [0, 1]
            Share of the validation clips to call spoof.

        Returns
        -------
        threshold : float
            A score: a clip is a spoof when its score is below it.
        """
        self._check_fitted()
        return fit_offset(self.validation_scores_, contamination=contamination)

    def p_values_of(self, scores):
        """Conformal p-values of scores already computed: :meth:`p_values` without scoring again.

        ``p_values_of(score_samples(X))`` is ``p_values(X)``; also the p-value of a
        threshold (``p_values_of([offset_])``) or of the scores of :meth:`score_with_windows`.

        Parameters
        ----------
        scores : array-like of shape (n,)
            Scores of this detector (NaN gives NaN).

        Returns
        -------
        p_values : ndarray of shape (n,), float64
        """
        self._check_fitted()
        return conformal_p_values(scores, self.validation_scores_)

    def score_samples(self, X):
        """Liveness score of each clip: higher is more live.

        Only the components that the score reads are computed (for the default, DRS, one
        pass through the network).

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)
            Lip sequences with the ``K`` seen at fit (at least ``window // 2`` frames).

        Returns
        -------
        scores : ndarray of shape (n_clips,), float64
            The window scores (see :meth:`score_windows`) aggregated per clip.
        """
        self._check_fitted()
        needed = self.scorer_.needed_components()
        return self.scorer_.score_samples(self.network_.transform(X, components=needed or None))

    def score_with_windows(self, X):
        """:meth:`score_samples` of ``X`` and the window scores it aggregates, in one pass.

        Returns
        -------
        scores : ndarray of shape (n_clips,), float64
            As :meth:`score_samples`.
        windows : list of length n_clips of structured ndarray of shape (n_windows_i,)
            Per clip, one record per window: ``start`` and ``stop`` (its frames
            ``start:stop`` in the clip; a mirror-padded short clip stops at its end) and
            ``score`` (float64, higher = more live).
        """
        self._check_fitted()
        needed = self.scorer_.needed_components()
        C = self.network_.transform(X, components=needed or None)  # validates X
        windows = []
        dtype = [("start", np.int64), ("stop", np.int64), ("score", np.float64)]
        for clip, records, scores in zip(X, C, self.scorer_.score_windows(C)):
            w = np.empty(len(records), dtype=dtype)
            w["start"], w["score"] = records[START], scores
            w["stop"] = np.minimum(records[START] + self.network_.window, len(clip))
            windows.append(w)
        return self.scorer_.score_samples(C), windows

    def decision_function(self, X):
        """``score_samples(X) - offset_``, float64 of shape (n_clips,): negative for spoofs."""
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 (live) or -1 (spoof), ints of shape (n_clips,); a NaN decision is never live."""
        return verdicts(self.decision_function(X))

    def p_values(self, X):
        """Conformal p-value of each clip among the live validation clips: the verdict's scale.

        ``(1 + number of validation clips scoring at most the clip) / (n + 1)``, over
        ``validation_scores_`` (:func:`lipanomaly.scoring.formulas.conformal_p_values`): 0.05 means
        that at most 5 % of live clips like the validation clips score that low. With ``n``
        validation clips no p-value is below ``1 / (n + 1)``.

        Parameters
        ----------
        X : array-like of shape (n_clips, T, K, 2) or list of array-like of shape (T_i, K, 2)
            Lip sequences, as for :meth:`score_samples` (in a pipeline:
            ``pipe[-1].p_values(pipe[:-1].transform(videos))``).

        Returns
        -------
        p_values : ndarray of shape (n_clips,), float64
        """
        return self.p_values_of(self.score_samples(X))

    def _all_components(self, X):
        """Every component of every window, the window scores, and the clip of each window."""
        self._check_fitted()
        C = self.network_.transform(X)
        values, clip_index, names = check_components(C, names=self.network_.component_names)
        scores = np.concatenate(self.scorer_.score_windows(C))
        starts = np.concatenate([a[START] for a in C])
        return values, scores, clip_index, starts, names, len(C)

    def score_components(self, X):
        """Every raw (unstandardised) score component of the clips ``X``, averaged per clip.

        (Aggregated as the scores are: with the scorer's ``aggregation``.)

        Returns
        -------
        components : dict of str to ndarray of shape (n_clips,), float64
            One entry per component (see :mod:`lipanomaly.scoring.formulas`) and ``"score"``, the
            value of :meth:`score_samples`.
        """
        values, scores, clip_index, _, names, n_clips = self._all_components(X)
        both = np.column_stack([values, scores])
        out = aggregate(both, clip_index, n_clips, how=self.scorer_.aggregation)
        return {name: out[:, j].copy() for j, name in enumerate((*names, "score"))}

    def score_windows(self, X):
        """Time-resolved scores of the clips ``X``: one record per window.

        Returns
        -------
        windows : numpy record array of shape (n_windows,)
            Fields ``clip_index`` (index in X), ``start`` (first frame of the window; 0 for a
            padded short clip), ``score`` (the window's liveness score, higher = more live;
            aggregated per clip it gives :meth:`score_samples`) and one float64 field per
            raw component.
        """
        values, scores, clip_index, starts, names, _ = self._all_components(X)
        dtype = [("clip_index", np.int64), ("start", np.int64), ("score", np.float64)]
        dtype += [(name, np.float64) for name in names]
        out = np.recarray(len(values), dtype=dtype)
        out["clip_index"], out["start"], out["score"] = clip_index, starts, scores
        for j, name in enumerate(names):
            out[name] = values[:, j]
        return out

    # -- persistence (lipanomaly.save_model): the two parts' states, side by side --------

    def get_fitted_state(self):
        """The fitted state as (JSON-able dict, dict of arrays), for ``save_model``."""
        self._check_fitted()
        fitted, arrays = {}, {}
        for part in ("network", "scorer"):
            state, part_arrays = getattr(self, f"{part}_").get_fitted_state()
            fitted[part] = state
            arrays.update({f"{part}.{k}": v for k, v in part_arrays.items()})
        return fitted, arrays

    def set_fitted_state(self, fitted, arrays):
        """Restore what :meth:`get_fitted_state` returned (the network on CPU)."""
        for part, build in (("network", self.build_network), ("scorer", self.build_scorer)):
            prefix = f"{part}."
            part_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            setattr(self, f"{part}_", build().set_fitted_state(fitted[part], part_arrays))
        return self


class LFHFVAEDetector(ComposedDetector):
    """Outlier detector of spoofed lip motion with a dual low/high-frequency VAE.

    A TCN encoder with two VAE heads (:class:`lipanomaly.nn.DualVAE`) learns, from live clips
    only, the slow lip trajectory (LF head, strong KL) and the fast detail around it (HF
    head, weak KL). Each window of a clip gets ten score components (see
    :mod:`lipanomaly.scoring.formulas`): the LF and HF reconstruction errors ``e_smooth`` and
    ``e_detail``, their ratio ``drs``, ``delta_e`` (growth of ``e_detail`` under a seeded
    micro time-jitter), the complexity ``C`` of the principal lip motion, the
    OC-FakeDect-style ``rmse`` and ``latent_rmse``, and the errors per unit of lip motion
    ``e_smooth_rel``, ``e_detail_rel``, ``rmse_rel``. Each is standardised with the median
    and IQR of live validation clips (never used for training the weights; whole recordings
    when ``fit`` is given ``groups``). The chosen ``components`` are combined into
    ``score = -(Mahalanobis distance from the live distribution)``, each counting on its
    ``sides``: by default a low-band error below live and relative errors above live (a
    generator moves the lips less, and less coherently). ``combination="linear"`` gives
    the seed's
    ``S = alpha DRS - beta dE + gamma C - rmse_coef RMSE - latent_coef latent_RMSE``.
    Window scores are aggregated per clip; ``offset_`` is the ``contamination`` quantile of
    the live validation clips' scores (0.2: OC-FakeDect's T80) or Tukey's IQR rule.

    The detector is :class:`~lipanomaly.scoring.components.LFHFComponents` (the network and the
    components) followed by :class:`~lipanomaly.scoring.scorer.ComponentScorer` (the score); both
    are public, and each of the detector's parameters is one of theirs.

    Parameters
    ----------
    window, stride, fs, cutoff, complexity, n_jitter_draws, jitter_max_shift, \
jitter_drop_rate
        Windows, band split and the components: see
        :class:`~lipanomaly.scoring.components.LFHFComponents` (defaults 64, 16, 25.0, None,
        "sampen", 3, 1.0, (0.05, 0.10)).
    loss_weights : dict of str to float or None, default=None
        Weights of the loss terms (SPEC section 3) that differ from the defaults, by term
        (``{"kl_lf": 4.0}``): see :class:`~lipanomaly.scoring.components.LFHFComponents`; the
        defaults are ``lipanomaly.nn.specs.DUAL.loss_weights``.
    channels, n_layers, kernel_size, latent_lf, latent_hf, decoder_layers, lf_stride, \
dropout
        Size of :class:`lipanomaly.nn.DualVAE`; defaults 128, 4, 3, 32, 64, 4, 2, 0.1.
    max_epochs, max_steps, batch_size, lr, kl_anneal_epochs, patience, augment, \
validation_fraction, random_state, device, verbose, memory
        Training (defaults 20, 3000, 16, 1e-3, 5, 6, True, 0.2, None, "cpu", 0, None): see
        :class:`~lipanomaly.scoring.components.LFHFComponents`. ``validation_fraction`` of the live
        clips (or groups) is held out for early stopping and to calibrate the score and the
        threshold. With ``memory`` (a folder) and an int ``random_state``, a fit that would
        train the same network loads it: a ``GridSearchCV`` over the scoring parameters
        trains one network per fold.
    combination : {"mahalanobis", "linear"}, default="mahalanobis"
        A distance (each component on its side), or the signed linear score.
    components : tuple of str or None, default=("e_smooth", "e_smooth_rel", "e_detail_rel")
        Components entering the Mahalanobis distance; None is all ten.
    sides : {"both", "low", "high"}, tuple of them or None, default=None
        The side of each component on which it counts as a deviation from live; None is
        the side measured for it (:data:`lipanomaly.scoring.formulas.FAKE_SIDES`, two-sided for the
        others): see :class:`~lipanomaly.scoring.scorer.ComponentScorer`. The default reads
        generators as moving the lips less than live speech (a small low-band error) and
        less coherently (more error per unit of motion, in both bands). How it was chosen,
        and what it reaches on recordings and generators it never saw:
        ``docs/quality.md``.
    alpha, beta, gamma, rmse_coef, latent_coef, aggregation, contamination, threshold, \
iqr_factor
        The linear weights, the aggregation per clip and the threshold: see
        :class:`~lipanomaly.scoring.scorer.ComponentScorer` (defaults 1.0, 1.0, 1.0, 0.0, 0.0,
        "mean", 0.2, "quantile", 1.5).

    Attributes
    ----------
    network_ : lipanomaly.scoring.components.LFHFComponents
        The fitted network transformer: ``network_.net_`` is the trained skorch net,
        ``network_.validation_index_`` the live clips (in the order given to fit) held out.
    scorer_ : lipanomaly.scoring.scorer.ComponentScorer
        The scorer fitted on the components that the score reads, of the validation clips
        (``component_names_``, ``component_center_``, ``precision_``, ``weights_``...).
    validation_scores_ : ndarray of shape (n_validation_clips,)
        ``score_samples`` of the validation clips.
    offset_ : float
        Threshold: ``decision_function = score_samples - offset_``.

    See Also
    --------
    lipanomaly.OCVAEDetector : the OC-FakeDect one-class VAE baseline.

    Notes
    -----
    Clips must have at least ``window // 2`` frames; clips shorter than ``window`` are
    mirror-padded to one window (:func:`lipanomaly.signal.windows.make_windows`).
    """

    network_class = LFHFComponents
    _parameter_constraints: ClassVar[dict] = {
        **LFHFComponents._parameter_constraints,
        **ComponentScorer._parameter_constraints,
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
        combination="mahalanobis",
        components=("e_smooth", "e_smooth_rel", "e_detail_rel"),
        sides=None,
        alpha=1.0,
        beta=1.0,
        gamma=1.0,
        rmse_coef=0.0,
        latent_coef=0.0,
        aggregation="mean",
        contamination=0.2,
        threshold="quantile",
        iqr_factor=1.5,
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
        self.combination = combination
        self.components = components
        self.sides = sides
        self.alpha = alpha
        self.beta = beta
        self.gamma = gamma
        self.rmse_coef = rmse_coef
        self.latent_coef = latent_coef
        self.aggregation = aggregation
        self.contamination = contamination
        self.threshold = threshold
        self.iqr_factor = iqr_factor
