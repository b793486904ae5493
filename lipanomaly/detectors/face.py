"""Whole-face motion: :class:`FaceMotionFeatures` (clips to features) and
:class:`FaceMotionDetector` (features to liveness scores, one-class or with known fakes).

The detector reads face clips, ``LipLandmarkExtractor(points="face", head_frame="rigid",
pose=True)`` (:func:`face_extractor` makes one), turns each into the motion features of
:mod:`lipanomaly.detectors.face_motion`, maps every feature through its empirical
distribution onto a standard normal (:func:`lipanomaly.scoring.formulas.quantile_normal`),
and scores it:

- ``fit(X)``, live clips only (one-class): minus the Mahalanobis distance from the live
  clips (:func:`lipanomaly.scoring.formulas.fit_mahalanobis`);
- ``fit(X, y)`` with known fakes (``y == -1``; semi-supervised, as known anomalies are in
  Deep SAD or XGBOD): the log-odds of *live* of an L2-regularised logistic regression on
  the same features. ``groups`` makes every recording (live clips) and every generator
  family (fakes) count as one, so that a family with many clips does not teach the model
  that family alone.

Either way the threshold is cross-fitted: the live clips are split into ``n_splits`` folds
of whole groups, each fold is scored by a model fitted without it (and without any fake of
its groups), and ``offset_`` is the ``contamination`` quantile of these out-of-group
scores (``validation_scores_``), which also give the p-values. The model that scores new
clips is then fitted on everything.

Numpy only at scoring time: neither torch nor skorch is imported.
"""

from numbers import Integral, Real
from types import MappingProxyType
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .._validation import check_clip_rate, check_clips, check_fitted
from ..exceptions import InputError
from ..limits import DEFAULT_FPS, MAX_FPS, MIN_FPS
from ..scoring.formulas import (
    conformal_p_values,
    fit_mahalanobis,
    fit_offset,
    fit_quantile_normal,
    mahalanobis,
    quantile_normal,
    verdicts,
)
from .face_motion import FACE_CLIP_ROWS, FEATURES, face_motion_features
from .face_motion import feature_names as feature_names_of

__all__ = [
    "FACE_CLIPS",
    "FaceMotionDetector",
    "FaceMotionFeatures",
    "check_face_clips",
    "face_extractor",
]

#: The extractor settings that give face clips (``LipLandmarkExtractor(**FACE_CLIPS)``).
FACE_CLIPS = MappingProxyType({"points": "face", "head_frame": "rigid", "pose": True})
_REGIONS = ("both", "lips", "context")


def face_extractor(**params):
    """A :class:`~lipanomaly.LipLandmarkExtractor` that gives face clips.

    Parameters
    ----------
    **params
        Other parameters of the extractor (``fps``, ``n_jobs``, ``cache_dir``, ...).

    Returns
    -------
    extractor : LipLandmarkExtractor
        With ``points="face", head_frame="rigid", pose=True``.
    """
    from ..io.extraction import LipLandmarkExtractor

    return LipLandmarkExtractor(**FACE_CLIPS, **params)


def check_face_clips(X, name="X"):
    """Validate a collection of face clips (the lengths are checked by the features)."""
    clips = check_clips(X, name=name)
    if clips[0].shape[1] != FACE_CLIP_ROWS:
        raise InputError(
            f"{name}: face clips have {FACE_CLIP_ROWS} rows (130 face points and the head "
            f"pose), got {clips[0].shape[1]}: extract them with LipLandmarkExtractor("
            "points='face', head_frame='rigid', pose=True) "
            "(lipanomaly.detectors.face.face_extractor())"
        )
    return clips


class FaceMotionFeatures(TransformerMixin, BaseEstimator):
    """Face clips to whole-face motion features (:mod:`lipanomaly.detectors.face_motion`).

    It learns nothing: ``fit`` checks the parameters and the clips. Use it to put the
    features into any scikit-learn model (``make_pipeline(FaceMotionFeatures(), StandardScaler(),
    OneClassSVM())``).

    Parameters
    ----------
    regions : {"both", "lips", "context"}, default="both"
        Which features: those that read the lip points alone, those that read the face
        around them and the head pose, or all (:data:`lipanomaly.detectors.face_motion.FEATURES`).
    fs : float, default=25.0
        Frame rate of the clips (the extractor's ``fps``).
    lowpass : float or None, default=6.0
        Cut-off in Hz of the low-pass applied to every signal first; None reads the clips
        as they are (then the fastest landmark jitter, which a recording's frame rate and
        face size shape, is read too).
    verbose : int, default=0
        1: a progress bar over the clips.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
        The names of the features of ``regions``.

    Examples
    --------
    >>> from lipanomaly.detectors.face import FaceMotionFeatures, face_extractor
    >>> clips = face_extractor().fit_transform(["talk.mp4"])  # doctest: +SKIP
    >>> FaceMotionFeatures().fit_transform(clips).shape  # doctest: +SKIP
    (1, 128)
    """

    _parameter_constraints: ClassVar[dict] = {
        "regions": [StrOptions(set(_REGIONS))],
        "fs": [Interval(Real, MIN_FPS, MAX_FPS, closed="both")],
        "lowpass": [Interval(Real, 0, None, closed="neither"), None],
        "verbose": ["verbose"],
    }

    def __init__(self, *, regions="both", fs=DEFAULT_FPS, lowpass=6.0, verbose=0):
        self.regions = regions
        self.fs = fs
        self.lowpass = lowpass
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and the clips; nothing is learnt.

        Parameters
        ----------
        X : list of array-like of shape (T_i, 132, 2)
            Face clips.
        y : ignored

        Returns
        -------
        self : FaceMotionFeatures
        """
        check_face_clips(X)
        if self.lowpass is not None and not self.lowpass < self.fs / 2:
            raise InputError(
                f"lowpass must be below the Nyquist frequency fs / 2 = {self.fs / 2:g} Hz, "
                f"got {self.lowpass!r}"
            )
        self.feature_names_out_ = np.array(feature_names_of(self.regions), dtype=object)
        return self

    def transform(self, X):
        """The features of each clip.

        Parameters
        ----------
        X : list of array-like of shape (T_i, 132, 2)
            Face clips of at least ``MIN_SECONDS`` (2 s).

        Returns
        -------
        features : ndarray of shape (n_clips, n_features), float64

        Raises
        ------
        InputError
            If a clip is not a face clip, is too short, holds NaN or inf, or gives a
            non-finite feature (the message names the clip).
        """
        from threadpoolctl import threadpool_limits
        from tqdm import tqdm

        check_fitted(self, "feature_names_out_", "face clips")
        check_clip_rate(X, self.fs)
        clips = check_face_clips(X)
        columns = [i for i, f in enumerate(FEATURES) if f[0] in set(self.feature_names_out_)]
        # the features' matrices are small (80 x 80 at most): a second BLAS thread buys
        # nothing, and waits on the first when the other core is busy (bench_face_cost.py)
        with threadpool_limits(limits=1, user_api="blas"):
            rows = [
                face_motion_features(c, fs=self.fs, lowpass=self.lowpass, name=f"X[{i}]")
                for i, c in enumerate(
                    tqdm(clips, desc="face motion", unit="clip", disable=self.verbose < 1)
                )
            ]
        return np.asarray(rows, dtype=np.float64)[:, columns]

    def get_feature_names_out(self, input_features=None):
        """Names of the output features."""
        check_fitted(self, "feature_names_out_", "face clips")
        return self.feature_names_out_.copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags


class FaceMotionDetector(OutlierMixin, BaseEstimator):
    """Liveness from whole-face motion: one-class, or semi-supervised with known fakes.

    The clips' motion features (:class:`FaceMotionFeatures`) are mapped onto standard
    normals through their distribution in the training clips, then scored: minus the
    Mahalanobis distance from the live clips when only live clips are given (``fit(X)``),
    the log-odds of *live* of a logistic regression when known fakes are given too
    (``fit(X, y)`` with ``y == -1`` for them). Higher is more live either way. The threshold
    ``offset_`` is the ``contamination`` quantile of cross-fitted scores of live clips from
    groups the scoring model was fitted without (module docstring).

    Parameters
    ----------
    regions : {"both", "lips", "context"}, default="both"
        Features read (see :class:`FaceMotionFeatures`).
    fs : float, default=25.0
        Frame rate of the clips (the extractor's ``fps``).
    lowpass : float or None, default=6.0
        Low-pass of every signal before the features, in Hz.
    C : float, default=0.1
        Inverse strength of the logistic regression's L2 penalty (with known fakes).
    shrinkage : float in [0, 1], default=0.1
        Shrinkage of the live covariance towards the identity (one-class).
    contamination : float in (0, 0.5], default=0.2
        Share of live validation clips below the threshold: 0.2 is OC-FakeDect's T80.
    n_splits : int, default=5
        Folds of the cross-fitted validation scores (at most the number of live groups).
    random_state : int, RandomState instance or None, default=None
        Shuffles the live groups into folds.
    verbose : int, default=0
        1: a progress bar over the clips' features.

    Attributes
    ----------
    mode_ : {"one-class", "semi-supervised"}
        How it was fitted: without or with known fakes.
    feature_names_ : tuple of str
        The features read.
    quantiles_ : ndarray of shape (n_quantiles, n_features)
        The training clips' quantiles of each feature.
    coef_, intercept_ : ndarray of shape (n_features,) and float
        The logistic regression on the normal scores (semi-supervised; zeros otherwise).
    precision_ : ndarray of shape (n_features, n_features)
        Inverse live covariance of the normal scores (one-class; zeros otherwise).
    live_mean_ : ndarray of shape (n_features,)
        Mean normal score of each feature over the live training clips: the reference of
        :meth:`explain`.
    validation_scores_ : ndarray of shape (n_live,)
        Cross-fitted scores of the live clips, each from a model fitted without its group.
    offset_ : float
        Threshold: ``decision_function = score_samples - offset_``.
    n_live_, n_fake_ : int
        Training clips of each kind.

    See Also
    --------
    lipanomaly.LFHFVAEDetector : one-class, from lip motion alone (a dual VAE).

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from lipanomaly import FaceMotionDetector
    >>> from lipanomaly.detectors.face import face_extractor
    >>> model = make_pipeline(face_extractor(), FaceMotionDetector())
    >>> model.fit(tracks, y, facemotiondetector__groups=groups)  # doctest: +SKIP
    >>> model.predict(["suspect.mp4"])  # doctest: +SKIP
    array([-1])
    """

    _parameter_constraints: ClassVar[dict] = {
        **FaceMotionFeatures._parameter_constraints,
        "C": [Interval(Real, 0, None, closed="neither")],
        "shrinkage": [Interval(Real, 0, 1, closed="both")],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        regions="both",
        fs=DEFAULT_FPS,
        lowpass=6.0,
        C=0.1,
        shrinkage=0.1,
        contamination=0.2,
        n_splits=5,
        random_state=None,
        verbose=0,
    ):
        self.regions = regions
        self.fs = fs
        self.lowpass = lowpass
        self.C = C
        self.shrinkage = shrinkage
        self.contamination = contamination
        self.n_splits = n_splits
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        """What the parameter constraints cannot say (read by ``load_model`` too)."""
        if self.lowpass is not None and not self.lowpass < self.fs / 2:
            raise InputError(
                f"lowpass must be below the Nyquist frequency fs / 2 = {self.fs / 2:g} Hz, "
                f"got {self.lowpass!r}"
            )

    def features(self):
        """The unfitted :class:`FaceMotionFeatures` of this detector's parameters."""
        return FaceMotionFeatures(
            regions=self.regions, fs=self.fs, lowpass=self.lowpass, verbose=self.verbose
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, groups=None):
        """Learn the live clips' motion, and the known fakes' if any; set the threshold.

        Parameters
        ----------
        X : list of array-like of shape (T_i, 132, 2)
            Face clips (at least 2 s each).
        y : array-like of shape (n_clips,) or None, default=None
            +1 live, -1 known fake. None (or no -1): one-class.
        groups : array-like of shape (n_clips,) or None, default=None
            A label per clip: for live clips the recording or person (validation folds
            hold out whole groups, and each group weighs as one), for fakes the generator
            family (each family weighs as one). None: every clip its own group.

        Returns
        -------
        self : FaceMotionDetector
        """
        return self.fit_features(self.features().fit_transform(X), y, groups=groups)

    def fit_features(self, F, y=None, *, groups=None, feature_names=None):
        """:meth:`fit` on features already computed: stacking other features onto them.

        Parameters
        ----------
        F : ndarray of shape (n_clips, n_features)
            Finite features, e.g. ``FaceMotionFeatures().fit_transform(X)`` with columns
            of another model appended (the LFHF network's components, say).
        y, groups
            As in :meth:`fit`.
        feature_names : sequence of str or None, default=None
            A name per column (None: the features of ``regions``). A model fitted on
            other columns than those of ``regions`` scores features (:meth:`score_features`)
            but cannot score clips nor be saved.

        Returns
        -------
        self : FaceMotionDetector
        """
        F = np.asarray(F, dtype=np.float64)
        names = tuple(feature_names_of(self.regions) if feature_names is None else feature_names)
        if F.ndim != 2 or F.shape[1] != len(names) or not np.isfinite(F).all():
            raise InputError(
                f"F: expected finite features of shape (n_clips, {len(names)}), got "
                f"{F.shape}{'' if np.isfinite(F).all() else ' with NaN or inf'}"
            )
        y, groups = _check_labels(y, groups, len(F))
        live = y == 1
        if live.sum() < 2:
            raise InputError(f"fit needs at least 2 live clips (y == +1), got {live.sum()}")
        self.mode_ = "semi-supervised" if (~live).any() else "one-class"
        self.feature_names_ = names
        self.validation_scores_ = self._cross_fit(F, y, groups)
        self.offset_ = fit_offset(self.validation_scores_, contamination=self.contamination)
        for name, value in self._fit_scoring(F, y, groups).items():
            setattr(self, name, value)
        self.n_live_, self.n_fake_ = int(live.sum()), int((~live).sum())
        return self

    def score_features(self, F):
        """:meth:`score_samples` of features already computed (as given to
        :meth:`fit_features`): ndarray of shape (n_clips,)."""
        self._check_fitted()
        F = np.asarray(F, dtype=np.float64)
        if F.ndim != 2 or F.shape[1] != len(self.feature_names_):
            raise InputError(
                f"F: expected shape (n_clips, {len(self.feature_names_)}), got {F.shape}"
            )
        return _score_normal(self._state(), quantile_normal(F, self.quantiles_))

    def _cross_fit(self, F, y, groups):
        """Scores of the live clips, each by a model fitted without its group's clips."""
        from sklearn.model_selection import GroupKFold

        live = np.flatnonzero(y == 1)
        n_groups = len(np.unique(groups[live]))
        if n_groups < 2:
            raise InputError("fit needs live clips of at least 2 groups (recordings or people)")
        folds = GroupKFold(
            n_splits=min(self.n_splits, n_groups), shuffle=True, random_state=self.random_state
        )
        scores = np.empty(len(live))
        for _, held in folds.split(live, groups=groups[live]):
            out = np.isin(groups, groups[live[held]])  # the held-out groups' fakes too
            if self.mode_ == "semi-supervised" and not (y[~out] == -1).any():
                raise InputError(
                    "every known fake shares its group with live clips; give each fake its "
                    "generator family as its group"
                )
            state = self._fit_scoring(F[~out], y[~out], groups[~out])
            scores[held] = _score_normal(state, quantile_normal(F[live[held]], state["quantiles_"]))
        return scores

    def _fit_scoring(self, F, y, groups):
        """The scoring state (the fitted attributes it reads) on the features ``F``."""
        quantiles = fit_quantile_normal(F)
        z = quantile_normal(F, quantiles)
        live = y == 1
        p = F.shape[1]
        state = {
            "mode_": self.mode_,
            "quantiles_": quantiles,
            "live_mean_": z[live].mean(axis=0),
            "coef_": np.zeros(p),
            "intercept_": 0.0,
            "precision_": np.zeros((p, p)),
        }
        if self.mode_ == "semi-supervised":
            from sklearn.linear_model import LogisticRegression

            lr = LogisticRegression(C=self.C, max_iter=5000)
            lr.fit(z, y, sample_weight=_weights(y, groups))
            # classes_ are [-1, 1]: the decision is the log-odds of live
            state["coef_"] = lr.coef_[0].astype(np.float64)
            state["intercept_"] = float(lr.intercept_[0])
        else:
            centred = z[live] - state["live_mean_"]
            state["precision_"] = fit_mahalanobis(centred, shrinkage=self.shrinkage)
        return state

    def _check_fitted(self):
        check_fitted(self, "offset_", "live clips (and known fakes)")

    def _state(self):
        return {k: getattr(self, k) for k in _STATE_KEYS}

    def _features(self, X):
        """The features of ``X`` and their normal scores."""
        self._check_fitted()
        if self.feature_names_ != feature_names_of(self.regions):
            raise InputError(
                "this model was fitted on other features than those of its regions "
                "(fit_features): score them with score_features"
            )
        F = self.features().fit_transform(X)
        return F, quantile_normal(F, self.quantiles_)

    def score_samples(self, X):
        """Liveness score of each clip: higher is more live.

        Parameters
        ----------
        X : list of array-like of shape (T_i, 132, 2)
            Face clips.

        Returns
        -------
        scores : ndarray of shape (n_clips,), float64
            The log-odds of live (with known fakes) or minus the distance from the live
            clips (one-class).
        """
        z = self._features(X)[1]
        return _score_normal(self._state(), z)

    def score_with_windows(self, X):
        """:meth:`score_samples` of ``X``, with each clip as its one window (the interface
        of the window detectors, for reports that draw windows).

        Returns
        -------
        scores : ndarray of shape (n_clips,), float64
        windows : list of length n_clips of structured ndarray of shape (1,)
            Fields ``start`` (0), ``stop`` (the clip's length) and ``score``.
        """
        scores = self.score_samples(X)
        dtype = [("start", np.int64), ("stop", np.int64), ("score", np.float64)]
        windows = [np.array([(0, len(clip), s)], dtype=dtype) for clip, s in zip(X, scores)]
        return scores, windows

    def decision_function(self, X):
        """``score_samples(X) - offset_``, float64 of shape (n_clips,): negative for spoofs."""
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 (live) or -1 (spoof), ints of shape (n_clips,); a NaN decision is never live."""
        return verdicts(self.decision_function(X))

    def p_values(self, X):
        """Conformal p-value of each clip among the cross-fitted live validation scores.

        ``(1 + number of validation clips scoring at most the clip) / (n + 1)``
        (:func:`lipanomaly.scoring.formulas.conformal_p_values`).

        Returns
        -------
        p_values : ndarray of shape (n_clips,), float64
        """
        return self.p_values_of(self.score_samples(X))

    def p_values_of(self, scores):
        """:meth:`p_values` of clips already scored (``p_values_of(score_samples(X))``), or
        of a threshold (``p_values_of([offset_])``): their ranks among the cross-fitted
        ``validation_scores_`` (:func:`lipanomaly.scoring.formulas.conformal_p_values`).

        Returns
        -------
        p_values : ndarray of the shape of ``scores``, float64
            NaN for a NaN score.
        """
        self._check_fitted()
        return conformal_p_values(scores, self.validation_scores_)

    def threshold_for(self, contamination):
        """The score under which a share ``contamination`` (float in [0, 1]) of the live
        clips' cross-fitted ``validation_scores_`` lie: the rule of ``offset_``
        (:func:`lipanomaly.scoring.formulas.fit_offset`) at another share;
        ``threshold_for(self.contamination)`` is ``offset_``.

        Returns
        -------
        threshold : float
            A clip scoring below it is called a spoof.
        """
        self._check_fitted()
        return fit_offset(self.validation_scores_, contamination=contamination)

    def explain(self, X, n_top=3):
        """The features that pushed each clip's score down (towards spoof) the most.

        Each feature's push is its share of the score against a typical live clip: the
        change of the score if that feature alone took the live training clips' mean
        normal score. With known fakes the score is linear in the normal scores, so the
        pushes add up to the score's difference from a typical live clip; one-class, they
        are each feature's share of the squared distance (negated).

        Parameters
        ----------
        X : list of array-like of shape (T_i, 132, 2)
            Face clips.
        n_top : int, default=3
            Features per clip.

        Returns
        -------
        explanations : list of length n_clips of list of dict
            Per clip, at most ``n_top`` features with a negative push, most negative first:
            ``feature`` (its name, :data:`lipanomaly.detectors.face_motion.FEATURES`), ``value``
            (the
            clip's value), ``z`` (its normal score: 0 is the training clips' median, +-1.28
            their 10th and 90th percentiles), ``live_z`` (the live training clips' mean
            normal score) and ``push`` (in score units; negative towards spoof).
        """
        F, z = self._features(X)
        pushes = _pushes(self._state(), z)
        out = []
        for fi, zi, pi in zip(F, z, pushes):
            order = [j for j in np.argsort(pi) if pi[j] < 0][:n_top]
            out.append(
                [
                    {
                        "feature": self.feature_names_[j],
                        "value": float(fi[j]),
                        "z": float(zi[j]),
                        "live_z": float(self.live_mean_[j]),
                        "push": float(pi[j]),
                    }
                    for j in order
                ]
            )
        return out

    # -- persistence (lipanomaly.save_model): arrays and JSON, no pickle ---------------------

    def get_fitted_state(self):
        """The fitted state as (JSON-able dict, dict of arrays), for ``save_model``."""
        self._check_fitted()
        if self.feature_names_ != feature_names_of(self.regions):
            raise TypeError("a model fitted with fit_features on other columns cannot be saved")
        fitted = {
            "mode_": self.mode_,
            "feature_names_": list(self.feature_names_),
            "offset_": float(self.offset_),
            "intercept_": float(self.intercept_),
            "n_live_": self.n_live_,
            "n_fake_": self.n_fake_,
        }
        arrays = {k: np.asarray(getattr(self, k), dtype=np.float64) for k in _ARRAY_KEYS}
        return fitted, arrays

    def set_fitted_state(self, fitted, arrays):
        """Restore what :meth:`get_fitted_state` returned (checked: a ModelFileError)."""
        quantiles = arrays["quantiles_"]
        if len(quantiles) < 2 or (np.diff(quantiles, axis=0) < 0).any():
            raise ValueError("'quantiles_' must be at least 2 non-decreasing rows")
        if not len(arrays["validation_scores_"]):
            raise ValueError("no validation score")
        self.mode_ = fitted["mode_"]
        self.feature_names_ = tuple(fitted["feature_names_"])
        self.offset_ = float(fitted["offset_"])
        self.intercept_ = float(fitted["intercept_"])
        self.n_live_, self.n_fake_ = int(fitted["n_live_"]), int(fitted["n_fake_"])
        for k in _ARRAY_KEYS:
            setattr(self, k, np.asarray(arrays[k], dtype=np.float64))
        return self

    def state_spec(self, fitted):
        """The arrays a saved model holds: ``{name: (shape, dtypes)}``, ``None`` for any length.

        Read by :func:`lipanomaly.load_model` to check a model file before it reads any
        array; ``fitted`` is the file's JSON state, checked here.

        Raises
        ------
        ValueError
            If ``fitted`` does not describe a model of these parameters.
        """
        expected = list(feature_names_of(self.regions))
        if fitted.get("feature_names_") != expected:
            raise ValueError(
                f"'feature_names_' must be the {len(expected)} features of {self.regions!r}"
            )
        if fitted.get("mode_") not in ("one-class", "semi-supervised"):
            raise ValueError("'mode_' must be 'one-class' or 'semi-supervised'")
        for key in ("offset_", "intercept_"):
            if isinstance(fitted.get(key), bool) or not isinstance(fitted.get(key), (int, float)):
                raise ValueError(f"{key!r} must be a number")
        for key in ("n_live_", "n_fake_"):
            if isinstance(fitted.get(key), bool) or not isinstance(fitted.get(key), int):
                raise ValueError(f"{key!r} must be a whole number")
        p = len(expected)
        floats = ("F64",)
        return {
            "quantiles_": ((None, p), floats),
            "coef_": ((p,), floats),
            "precision_": ((p, p), floats),
            "live_mean_": ((p,), floats),
            "validation_scores_": ((None,), floats),
        }


_ARRAY_KEYS = ("quantiles_", "coef_", "precision_", "live_mean_", "validation_scores_")
_STATE_KEYS = ("mode_", "quantiles_", "coef_", "intercept_", "precision_", "live_mean_")


def _check_labels(y, groups, n):
    if y is None:
        y = np.ones(n, dtype=int)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise InputError(f"y: expected one label per clip, shape ({n},), got shape {y.shape}")
    if not set(np.unique(y).tolist()) <= {1, -1}:
        raise InputError(
            f"y: expected +1 (live) and -1 (known fake), got values {sorted(set(y.tolist()))}"
        )
    if groups is None:
        groups = np.arange(n)
    groups = np.asarray(groups).astype(str)
    if groups.shape != (n,):
        raise InputError(f"groups: expected one label per clip, shape ({n},), got {groups.shape}")
    return y.astype(int), groups


def _weights(y, groups):
    """Each group weighs as one within its class, and the two classes weigh the same."""
    keys = np.char.add(np.where(y == 1, "live:", "fake:"), groups)
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    w = 1.0 / counts[inverse]
    for label in (1, -1):
        if (y == label).any():
            w[y == label] /= w[y == label].sum()
    return w * len(y) / w.sum()


def _score_normal(state, z):
    """Scores of normal-scored features ``z`` under a scoring state."""
    if state["mode_"] == "semi-supervised":  # a row's sum alone: the same in any batch
        return (z * state["coef_"]).sum(axis=1) + state["intercept_"]
    return -mahalanobis(z - state["live_mean_"], state["precision_"])


def _pushes(state, z):
    """Each feature's share of the score against the live mean (see ``explain``)."""
    d = z - state["live_mean_"]
    if state["mode_"] == "semi-supervised":
        return d * state["coef_"]
    return -d * (d @ state["precision_"])
