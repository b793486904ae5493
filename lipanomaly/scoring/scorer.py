"""``ComponentScorer``: per-window score components to clip scores and a decision threshold.

The numpy half of the detectors (no torch): it takes what a network transformer computes
(:class:`lipanomaly.scoring.components.LFHFComponents`,
:class:`lipanomaly.detectors.ocvae.OCVAEComponents`), one structured array of per-window
components per clip, and owns everything that turns them into a decision: the robust
standardisation of each component, their combination (:data:`COMBINATIONS`: a two-sided
Mahalanobis distance or the seed's signed linear sum), the aggregation of window scores per
clip, and the threshold. Every formula is a function of :mod:`lipanomaly.scoring.formulas`.

Because it needs no network, a scorer can be fitted again on the components of any real clips
(a user's own recordings) without retraining the network:
``ComponentScorer().fit(network.transform(my_clips))``.
"""

import copy
import numbers
from types import MappingProxyType
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .._validation import check_fitted, reject_unsupported
from ..exceptions import InputError
from ..signal.windows import aggregate
from . import formulas

__all__ = [
    "COMBINATIONS",
    "ComponentScorer",
    "LinearCombination",
    "MahalanobisCombination",
    "check_components",
]

#: The field of a component array that is not a component: the window's first frame.
START = "start"


def _linear_weights(scorer):
    """Weight of each component in the linear score (signs included)."""
    return {
        "drs": scorer.alpha,
        "delta_e": -scorer.beta,
        "complexity": scorer.gamma,
        "rmse": -scorer.rmse_coef,
        "latent_rmse": -scorer.latent_coef,
    }


class MahalanobisCombination:
    """``score = -d``: the Mahalanobis distance of a window's components, each rectified to
    its side, from the live median (the default)."""

    name = "mahalanobis"

    @staticmethod
    def columns(scorer, names):
        """The positions in ``names`` of the components the score combines, and their sides."""
        columns = scorer.distance_columns(names)
        return columns, scorer.resolve_sides([names[j] for j in columns])

    @staticmethod
    def reads(names, distance, weights):
        """The components of ``names`` (in their order) that the score reads: those in
        ``distance``."""
        return tuple(n for n in names if n in distance)

    @staticmethod
    def combine(scorer, z):
        """The window scores of the standardised components ``z``."""
        # 0.0 - d, not -d: a window on the uncounted side of every component scores 0, not -0
        return 0.0 - formulas.mahalanobis(scorer.distance_input(z), scorer.precision_)


class LinearCombination:
    """The seed's signed sum ``alpha DRS - beta dE + gamma C (- ...)`` of the standardised
    components; its distance (kept for inspection) covers the given ``components``."""

    name = "linear"

    @staticmethod
    def columns(scorer, names):
        """As :meth:`MahalanobisCombination.columns`, every side ``"both"``."""
        wanted = names if scorer.components is None else scorer.components
        columns = np.asarray([j for j, n in enumerate(names) if n in wanted], np.intp)
        return columns, ("both",) * columns.size

    @staticmethod
    def reads(names, distance, weights):
        """The components of ``names`` with a non-zero weight (``weights``, one per name)."""
        return tuple(n for n, w in zip(names, weights) if w != 0)

    @staticmethod
    def combine(scorer, z):
        """As :meth:`MahalanobisCombination.combine`."""
        return formulas.linear_score(z, scorer.weights_)


#: ``combination`` -> how the components of a window make its score: one class each, with
#: the same three functions (which components, which it reads, how it combines them).
COMBINATIONS = MappingProxyType({c.name: c for c in (MahalanobisCombination, LinearCombination)})


def check_components(C, *, names=None, name="C"):
    """Validate per-clip component arrays; return ``(values, clip_index)``.

    Parameters
    ----------
    C : list of structured ndarray of shape (n_windows_i,)
        One array per clip, as returned by the ``transform`` of a network transformer: a
        field ``start`` (int) and one float field per component.
    names : sequence of str or None, default=None
        The components to read (in this order); None reads every field but ``start``, in
        the order of the first array.
    name : str, default="C"
        How the collection is named in error messages.

    Returns
    -------
    values : ndarray of shape (n_windows, n_components), float64
        The windows of every clip, one after the other.
    clip_index : ndarray of shape (n_windows,), int
        The clip of each window.
    names : tuple of str
        The components read.

    Raises
    ------
    InputError
        If ``C`` is not a non-empty list of structured arrays with at least one window each,
        a component in ``names`` is missing, or a value is NaN or infinite.
    """
    reject_unsupported(C, name=name)
    if isinstance(C, np.ndarray) and C.dtype.names is not None:
        raise InputError(
            f"{name}: got one structured array; expected a list of them, one per clip "
            "(as transform returns): pass [array] for one clip"
        )
    if isinstance(C, (str, bytes, numbers.Number, np.ndarray)) or not hasattr(C, "__len__"):
        raise InputError(
            f"{name}: expected a list of per-clip component arrays (the output of a network "
            f"transformer's transform), got {type(C).__name__}"
        )
    items = list(C)
    if not items:
        raise InputError(f"{name}: the list is empty; expected one component array per clip")
    for i, a in enumerate(items):
        if not isinstance(a, np.ndarray) or a.dtype.names is None or a.ndim != 1:
            raise InputError(
                f"{name}[{i}]: expected a 1-D structured array of per-window components "
                f"(fields 'start' and component names), got {type(a).__name__}"
            )
        if len(a) == 0:
            raise InputError(f"{name}[{i}]: holds no window")
    if names is None:
        names = tuple(f for f in items[0].dtype.names if f != START)
    names = tuple(names)
    for i, a in enumerate(items):
        missing = [n for n in names if n not in a.dtype.names]
        if missing:
            raise InputError(
                f"{name}[{i}]: has no component {missing} (fields {list(a.dtype.names)}); "
                "compute it with the network transformer's transform(X, components=...)"
            )
    values = (
        np.column_stack(
            [np.concatenate([np.asarray(a[n], dtype=np.float64) for a in items]) for n in names]
        )
        if names
        else np.empty((sum(len(a) for a in items), 0))
    )
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        clip = int(np.searchsorted(np.cumsum([len(a) for a in items]), row, side="right"))
        raise InputError(f"{name}[{clip}]: a component holds NaN or inf")
    clip_index = np.repeat(np.arange(len(items)), [len(a) for a in items])
    return values, clip_index, names


class ComponentScorer(OutlierMixin, BaseEstimator):
    """Outlier scores of clips from their per-window score components (numpy only).

    Fitted on the components of live clips (for the detectors: their validation clips, never
    used to train the network), it standardises each component with the median and IQR /
    1.349 of the live windows (:func:`lipanomaly.scoring.formulas.fit_robust_scale`), combines them
    into one window score, aggregates window scores per clip, and sets ``offset_`` from the
    live clips' scores.

    - ``combination="mahalanobis"`` (default): ``score = -d``, ``d`` the Mahalanobis distance
      of the standardised ``components`` from the live median under their robust covariance
      (:func:`~lipanomaly.scoring.formulas.fit_mahalanobis`). Each component counts on its
      ``sides``:
      ``"both"`` (a deviation in either direction), ``"low"`` (only values below the live
      median: the standardised value is clipped at 0 from above) or ``"high"`` (only values
      above it), :func:`~lipanomaly.scoring.formulas.rectify`.
    - ``combination="linear"``: the seed's signed sum
      ``S = alpha DRS - beta dE + gamma C - rmse_coef RMSE - latent_coef latent_RMSE`` of the
      standardised components (a component with weight 0 is not read).

    Parameters
    ----------
    combination : {"mahalanobis", "linear"}, default="mahalanobis"
        A distance (each component on its side), or the signed linear score.
    components : tuple of str or None, default=("e_smooth", "e_smooth_rel", "e_detail_rel")
        Components entering the Mahalanobis distance; None is every component of the
        arrays given to ``fit``. How the default was chosen: ``docs/quality.md``.
    sides : {"both", "low", "high"}, tuple of them or None, default=None
        On which side of the live median each of ``components`` counts as a deviation: one
        string for all, or one per component. None takes for each component the side on
        which fakes were measured to lie, :data:`lipanomaly.scoring.formulas.FAKE_SIDES` (for the
        default components: a smaller low-band error than live speech, but larger errors
        per unit of lip motion in both bands: generators move the lips less, and less
        coherently), and ``"both"`` for a component not listed there.
    alpha, beta, gamma : float, default=1.0
        Weights of ``drs``, ``-delta_e`` and ``complexity`` in the linear score.
    rmse_coef, latent_coef : float, default=0.0
        Weights of ``-rmse`` and ``-latent_rmse`` in the linear score (OC-FakeDect's errors).
    aggregation : {"mean", "median", "max", "min"}, default="mean"
        How window scores become one score per clip.
    contamination : float in (0, 0.5], default=0.2
        Fraction of the live clips of ``fit`` below the threshold (``threshold="quantile"``):
        0.2 is OC-FakeDect's T80.
    threshold : {"quantile", "iqr"}, default="quantile"
        ``"iqr"``: ``offset_ = Q1 - iqr_factor * IQR`` of the live clips' scores.
    iqr_factor : float, default=1.5

    Attributes
    ----------
    component_names_ : tuple of str
        The components of the arrays seen at fit, in their order (every field but ``start``).
    component_center_, component_scale_ : ndarray of shape (n_components,)
        Median and IQR / 1.349 of each component over the live windows.
    columns_ : ndarray of int
        Positions in ``component_names_`` of the components of the Mahalanobis distance.
    sides_ : tuple of str
        The side of each of those components.
    precision_ : ndarray of shape (p, p)
        Inverse robust covariance of those ``p`` standardised (and rectified) components.
    weights_ : ndarray of shape (n_components,)
        Weights of the linear score, one per component (signs included).
    calibration_scores_ : ndarray of shape (n_clips,)
        ``score_samples`` of the live clips of ``fit``.
    offset_ : float
        Threshold: ``decision_function = score_samples - offset_``.

    See Also
    --------
    lipanomaly.scoring.components.LFHFComponents : computes the components of the dual VAE.
    lipanomaly.LFHFVAEDetector : a network transformer and this scorer, composed.

    Examples
    --------
    >>> import numpy as np
    >>> from lipanomaly.scoring.scorer import ComponentScorer
    >>> rng = np.random.default_rng(0)
    >>> def clip(n, shift=0.0):
    ...     a = np.zeros(n, dtype=[("start", "i8"), ("drs", "f8")])
    ...     a["drs"] = rng.normal(1.0 + shift, 0.1, n)
    ...     return a
    >>> scorer = ComponentScorer(components=("drs",)).fit([clip(5) for _ in range(10)])
    >>> scorer.predict([clip(5), clip(5, shift=2.0)])
    array([ 1, -1])
    """

    _parameter_constraints: ClassVar[dict] = {
        "combination": [StrOptions(set(COMBINATIONS))],
        "components": [None, tuple, list],
        "sides": [None, StrOptions(set(formulas.SIDES)), tuple, list],
        "alpha": [numbers.Real],
        "beta": [numbers.Real],
        "gamma": [numbers.Real],
        "rmse_coef": [numbers.Real],
        "latent_coef": [numbers.Real],
        "aggregation": [StrOptions({"mean", "median", "max", "min"})],
        "contamination": [Interval(numbers.Real, 0, 0.5, closed="right")],
        "threshold": [StrOptions({"quantile", "iqr"})],
        "iqr_factor": [Interval(numbers.Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
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

    def distance_columns(self, names):
        """Positions in ``names`` of the components of the Mahalanobis distance (checked).

        Parameters
        ----------
        names : tuple of str
            The components fitted on, in order.

        Returns
        -------
        columns : ndarray of int
            The position of each of ``components`` (all of ``names`` when None).

        Raises
        ------
        InputError
            If ``components`` is empty, repeats a name, or names one not in ``names``.
        """
        chosen = names if self.components is None else tuple(self.components)
        unknown = [c for c in chosen if c not in names]
        if unknown or not chosen or len(set(chosen)) != len(chosen):
            raise InputError(
                f"components must be a non-empty subset of the components fitted on "
                f"{list(names)} (without repeats), got {list(chosen)}"
            )
        return np.asarray([names.index(c) for c in chosen], dtype=np.intp)

    def resolve_sides(self, names):
        """The side of each of the distance's components ``names`` (checked).

        Parameters
        ----------
        names : sequence of str
            The components of the distance, in order.

        Returns
        -------
        sides : tuple of str
            One of :data:`lipanomaly.scoring.formulas.SIDES` per component.
        """
        if self.sides is None:
            return tuple(formulas.FAKE_SIDES.get(n, "both") for n in names)
        if isinstance(self.sides, str):
            return (self.sides,) * len(names)
        sides = tuple(self.sides)
        if len(sides) != len(names) or not set(sides) <= set(formulas.SIDES):
            raise InputError(
                f"sides must be one of {list(formulas.SIDES)}, None, or a sequence of them, one "
                f"per component ({len(names)}: {list(names)}), got {self.sides!r}"
            )
        return sides

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, C, y=None):
        """Learn the standardisation, the combination and the threshold from live clips.

        Parameters
        ----------
        C : list of structured ndarray of shape (n_windows_i,)
            Components of live clips, one array per clip (see :func:`check_components`).
        y : ignored

        Returns
        -------
        self : ComponentScorer
        """
        values, clip_index, names = self._fit_input(C)
        center, scale = formulas.fit_robust_scale(values)
        return self._fit_standardised(values, clip_index, names, center, scale)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_with_scale(self, C, center, scale):
        """Fit as :meth:`fit` does, with the standardisation given instead of learnt.

        The combination and the threshold are learnt from the components of ``C``
        standardised with ``center`` and ``scale``. :func:`lipanomaly.calibrate` uses it
        to keep a re-fitted standardisation within bounds of the model's.

        Parameters
        ----------
        C : list of structured ndarray of shape (n_windows_i,)
            Components of live clips, one array per clip (see :func:`check_components`).
        center, scale : array-like of shape (n_components,)
            Centre and scale of each component, in the order of the arrays' fields (every
            field but ``start``); finite, and ``scale`` positive.

        Returns
        -------
        self : ComponentScorer
        """
        values, clip_index, names = self._fit_input(C)
        center = np.asarray(center, dtype=np.float64)
        scale = np.asarray(scale, dtype=np.float64)
        for what, a in (("center", center), ("scale", scale)):
            if a.shape != (len(names),) or not np.isfinite(a).all():
                raise InputError(
                    f"{what}: expected {len(names)} finite values, one per component "
                    f"{list(names)}, got {a.tolist()!r:.200}"
                )
        if not (scale > 0).all():
            raise InputError(f"scale: expected positive values, got {scale.tolist()}")
        return self._fit_standardised(values, clip_index, names, center, scale)

    @staticmethod
    def _fit_input(C):
        values, clip_index, names = check_components(C)
        if not names:
            raise InputError("C: the arrays hold no component (only 'start')")
        return values, clip_index, names

    def _fit_standardised(self, values, clip_index, names, center, scale):
        """Everything but the standardisation, learnt from the standardised windows."""
        self.component_names_ = names
        self.component_center_, self.component_scale_ = center, scale
        z = formulas.apply_robust_scale(values, self.component_center_, self.component_scale_)
        # both combinations are learnt (cheap), so that each can be inspected
        self.columns_, self.sides_ = COMBINATIONS[self.combination].columns(self, names)
        self.precision_ = (
            formulas.fit_mahalanobis(self.distance_input(z))
            if self.columns_.size
            else np.zeros((0, 0))
        )
        weights = _linear_weights(self)
        self.weights_ = np.array([weights.get(n, 0.0) for n in names], dtype=np.float64)
        n_clips = int(clip_index[-1]) + 1
        scores = aggregate(self._combine(z), clip_index, n_clips, how=self.aggregation)
        self.calibration_scores_ = scores
        self.offset_ = self._offset(scores)
        return self

    def _offset(self, scores):
        """The threshold of these parameters over the live clips' ``scores``."""
        return formulas.fit_offset(
            scores,
            contamination=self.contamination,
            method=self.threshold,
            iqr_factor=self.iqr_factor,
        )

    def recentred(self, center):
        """A copy of this fitted scorer with other centres of the components; all else kept.

        :func:`lipanomaly.calibrate` moves a model's centres towards a user's own live
        clips with it: the scales, the combination and the threshold stay the model's.

        Parameters
        ----------
        center : array-like of shape (n_components,)
            The new ``component_center_``, finite.

        Returns
        -------
        scorer : ComponentScorer
            A new, fitted scorer.
        """
        self._check_fitted()
        center = np.array(center, dtype=np.float64)
        if center.shape != self.component_center_.shape or not np.isfinite(center).all():
            raise InputError(
                f"center: expected {self.component_center_.size} finite values, one per "
                f"component {list(self.component_names_)}, got {center.tolist()!r:.200}"
            )
        new = copy.deepcopy(self)
        new.component_center_ = center
        return new

    def threshold_from(self, C, *, at_least=None):
        """Set ``calibration_scores_`` and ``offset_`` from the live clips ``C``; keep the rest.

        A scorer fitted on some clips can take its threshold (and the scores that p-values
        read) from others it was not fitted on: split-conformal calibration
        (:func:`lipanomaly.calibrate`).

        Parameters
        ----------
        C : list of structured ndarray of shape (n_windows_i,)
            Components of live clips, one array per clip.
        at_least : float or None, default=None
            The threshold is never below it (never more permissive than a model's).

        Returns
        -------
        self : ComponentScorer
        """
        self.calibration_scores_ = self.score_samples(C)
        offset = self._offset(self.calibration_scores_)
        self.offset_ = offset if at_least is None else max(offset, at_least)
        return self

    def _check_fitted(self):
        check_fitted(self, "offset_", "the components of live clips")

    def components_read(self, available):
        """The components that these parameters make the score read: what to compute for fit.

        Parameters
        ----------
        available : sequence of str
            The components that can be computed (a network transformer's
            ``component_names``).

        Returns
        -------
        names : tuple of str
            In the order of ``available``: for the Mahalanobis distance its ``components``
            (all of ``available`` for None), for the linear score those with a non-zero
            weight (all of ``available`` if no weight is).
        """
        available = tuple(available)
        linear = _linear_weights(self)
        weights = [linear.get(n, 0.0) for n in available]
        distance = available if self.components is None else self.components
        return COMBINATIONS[self.combination].reads(available, distance, weights) or available

    def needed_components(self):
        """The components the score reads; the others need not be computed.

        Returns
        -------
        names : tuple of str
            For the Mahalanobis distance its ``components``; for the linear score those
            with a non-zero weight. In the order of ``component_names_``.
        """
        self._check_fitted()
        names = tuple(self.component_names_)
        distance = [names[j] for j in self.columns_]
        return COMBINATIONS[self.combination].reads(names, distance, self.weights_)

    def distance_input(self, z):
        """The standardised components of the distance, each rectified to its side.

        Parameters
        ----------
        z : ndarray of shape (n_windows, n_components)
            Standardised components, in the order of ``component_names_``.

        Returns
        -------
        values : ndarray of shape (n_windows, n_distance_components)
        """
        return formulas.rectify(z[:, self.columns_], self.sides_)

    def _combine(self, z):
        return COMBINATIONS[self.combination].combine(self, z)

    def _window_scores(self, C):
        """Window scores and the clip of each window, reading only the needed components."""
        self._check_fitted()
        needed = self.needed_components()
        values, clip_index, _ = check_components(C, names=needed)
        # standardised components at their fitted positions; those the score does not read
        # stay 0 (the combination gives them no weight)
        z = np.zeros((len(values), len(self.component_names_)))
        at = [self.component_names_.index(name) for name in needed]
        z[:, at] = formulas.apply_robust_scale(
            values, self.component_center_[at], self.component_scale_[at]
        )
        return self._combine(z), clip_index

    def score_windows(self, C):
        """The score of every window of the clips ``C`` (higher = more live).

        Returns
        -------
        scores : list of ndarray of shape (n_windows_i,), float64
            One array per clip; aggregated with ``aggregation`` they are
            :meth:`score_samples`.
        """
        scores, clip_index = self._window_scores(C)
        return np.split(scores, np.cumsum(np.bincount(clip_index, minlength=len(C)))[:-1])

    def score_samples(self, C):
        """Liveness score of each clip: higher is more live.

        Parameters
        ----------
        C : list of structured ndarray of shape (n_windows_i,)
            Per clip, its windows' components (see :func:`check_components`); only those
            that the score reads are (:meth:`needed_components`).

        Returns
        -------
        scores : ndarray of shape (n_clips,), float64
        """
        scores, clip_index = self._window_scores(C)
        return aggregate(scores, clip_index, len(C), how=self.aggregation)

    def decision_function(self, C):
        """``score_samples(C) - offset_``, float64 of shape (n_clips,): negative for spoofs."""
        return self.score_samples(C) - self.offset_

    def predict(self, C):
        """+1 (live) or -1 (spoof), ints of shape (n_clips,); a NaN decision is never live."""
        return formulas.verdicts(self.decision_function(C))

    def p_values(self, C):
        """Conformal p-value of each clip among the live clips of ``fit``: the verdict's scale.

        ``(1 + number of calibration clips scoring at most the clip) / (n + 1)``
        (:func:`lipanomaly.scoring.formulas.conformal_p_values` over ``calibration_scores_``): small
        when the clip scores lower than most live clips; a live clip gets ``p <= a`` with
        probability at most ``a``.

        Parameters
        ----------
        C : list of structured ndarray of shape (n_windows_i,)
            As for :meth:`score_samples`.

        Returns
        -------
        p_values : ndarray of shape (n_clips,), float64
        """
        return formulas.conformal_p_values(self.score_samples(C), self.calibration_scores_)

    # -- persistence (lipanomaly.save_model) ----------------------------------------------

    _fitted_arrays = (
        "component_center_",
        "component_scale_",
        "columns_",
        "precision_",
        "weights_",
        "calibration_scores_",
    )

    def get_fitted_state(self):
        """The fitted state as (JSON-able dict, dict of arrays), for ``save_model``."""
        self._check_fitted()
        fitted = {
            "component_names_": list(self.component_names_),
            "sides_": list(self.sides_),
            "offset_": self.offset_,
        }
        return fitted, {k: np.asarray(getattr(self, k)) for k in self._fitted_arrays}

    def set_fitted_state(self, fitted, arrays):
        """Restore what :meth:`get_fitted_state` returned."""
        self.component_names_ = tuple(fitted["component_names_"])
        self.sides_ = tuple(fitted["sides_"])
        self.offset_ = float(fitted["offset_"])
        for name in self._fitted_arrays:
            setattr(self, name, np.asarray(arrays[name]))
        self.columns_ = self.columns_.astype(np.intp)
        return self
