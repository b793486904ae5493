"""Clip-level metrics of a liveness / spoof detector, with bootstrap intervals, and plots.

Conventions (those of the whole package, ``docs/data.md``):

- labels ``y``: **+1 = live (bona fide), -1 = spoof (attack)**;
- scores: **higher = more live** (``score_samples``);
- a clip is *accepted as live* when ``score >= threshold``, or when
  ``decision >= 0`` for a ``decision_function`` output (``predict`` outputs, +1 / -1, work
  as decisions too).

ROC AUC takes the **live class as the positive class**: it is the probability that a random
live clip scores higher than a random spoof (ties count one half), the value of
``sklearn.metrics.roc_auc_score(y == 1, scores)``. 1 is perfect, 0.5 chance, 0 a detector
whose scores point the wrong way.

The presentation-attack metrics follow ISO/IEC 30107-3:

- **APCER**, attack presentation classification error rate: the share of attacks (spoofs)
  accepted as live, computed *per attack family* (PAI species; here the generator family)
  and reported for the whole set as the **maximum over families**, as the standard asks;
  the pooled share is given too (``apcer_pooled``);
- **BPCER**, bona fide presentation classification error rate: the share of live clips
  rejected as spoofs;
- **ACER** = (APCER + BPCER) / 2 (with the max-over-families APCER);
- **BPCER at APCER = 5 % / 10 %** (BPCER20 / BPCER10): the lowest BPCER of any threshold
  whose APCER is at most 5 % (10 %) for every family. With fewer than 20 (10) attacks in a
  family, that means accepting none of them.
- **EER**: the error rate where APCER and BPCER are equal on the ROC (pooled attacks),
  linearly interpolated between the two thresholds around the crossing.

The development sets are small, so every number comes with a **bootstrap confidence
interval**: clips are resampled with replacement, stratified (live clips and each attack
family separately, so that every replicate keeps the composition of the set), from a seeded
generator; the interval is the percentile interval of the replicates. A family of very few
attacks varies little under resampling (a single clip not at all), so its interval reflects
the live clips' variability only and understates the uncertainty: :func:`format_table` flags
families of fewer than 5 clips.

The metric functions take plain arrays, so that a protocol can call them per fold and per
family; :func:`evaluate_scores` gathers everything in one dict, :func:`format_table` prints
it as markdown. The plots use matplotlib, imported when a plot is drawn.
"""

import math
import numbers

import numpy as np

from ..exceptions import InputError
from ..limits import DEFAULT_FPS
from .protocol import SourceFolds, check_no_leak, cross_val_scores, development_pairs

__all__ = [
    "APCER_TARGETS",
    "SourceFolds",
    "bpcer_at_apcer",
    "check_no_leak",
    "cross_val_scores",
    "development_pairs",
    "equal_error_rate",
    "error_rates",
    "evaluate_scores",
    "format_table",
    "plain_label",
    "plot_roc",
    "plot_score_distributions",
    "plot_window_scores",
    "roc_auc",
]

#: The APCER operating points of ISO/IEC 30107-3 reported by default (BPCER20, BPCER10).
APCER_TARGETS = (0.05, 0.10)


# ---------------------------------------------------------------------------- validation


def _check_labels(y, name="y"):
    y = np.asarray(y)
    if y.ndim != 1:
        raise InputError(f"{name} must be 1-D (one label per clip), got shape {y.shape}")
    if y.dtype.kind not in "biuf" or not np.isin(y, (-1, 1)).all():
        values = np.unique(y)[:5].tolist() if y.size else []
        raise InputError(
            f"{name} must hold +1 (live) and -1 (spoof) labels, got values such as {values}"
        )
    y = y.astype(int)
    if not ((y == 1).any() and (y == -1).any()):
        raise InputError(
            f"{name} needs live (+1) and spoof (-1) clips, got {int((y == 1).sum())} live "
            f"and {int((y == -1).sum())} spoof"
        )
    return y


def _check_values(values, n, name):
    values = np.asarray(values)
    if values.dtype.kind not in "biuf":
        raise InputError(f"{name} must be numeric, got dtype {values.dtype}")
    values = values.astype(np.float64)
    if values.shape != (n,):
        raise InputError(f"{name} must have shape ({n},) (one value per clip), got {values.shape}")
    if not np.isfinite(values).all():
        bad = np.flatnonzero(~np.isfinite(values))
        raise InputError(
            f"{name} holds NaN or inf for {bad.size} clip(s) (first: {bad[:5].tolist()})"
        )
    return values


def _check_generators(generators, y):
    """Attack family per clip (the value of live clips is ignored); None: one family."""
    if generators is None:
        return np.where(y == 1, "live", "spoof").astype(object)
    gens = np.asarray(generators, dtype=object)
    if gens.shape != y.shape:
        raise InputError(
            f"generators must have shape {y.shape} (one family per clip), got {gens.shape}"
        )
    gens = np.array(["unknown" if g is None or g == "" else str(g) for g in gens], dtype=object)
    gens[y == 1] = "live"
    return gens


def _check_target(target):
    if not (isinstance(target, numbers.Real) and 0 <= target < 1):
        raise InputError(f"an APCER target must be a rate in [0, 1), got {target!r}")
    return float(target)


# ---------------------------------------------------------------------------- metrics


def _auc(live, spoof):
    """P(live > spoof) + P(tie) / 2 from sorted ``spoof``."""
    below = np.searchsorted(spoof, live, side="left")
    ties = np.searchsorted(spoof, live, side="right") - below
    return float((below.sum() + 0.5 * ties.sum()) / (live.size * spoof.size))


def roc_auc(y, scores):
    """Area under the ROC curve, live (+1) as the positive class.

    Parameters
    ----------
    y : array-like of shape (n_clips,)
        +1 live, -1 spoof.
    scores : array-like of shape (n_clips,)
        Higher = more live.

    Returns
    -------
    auc : float
        P(score of a live clip > score of a spoof), ties counted one half.
    """
    y = _check_labels(y)
    scores = _check_values(scores, y.size, "scores")
    return _auc(scores[y == 1], np.sort(scores[y == -1]))


def _eer(live, spoof):
    """EER and its threshold from sorted ``live`` and ``spoof`` scores."""
    thresholds = np.unique(np.concatenate([live, spoof, [np.inf]]))
    apcer = 1.0 - np.searchsorted(spoof, thresholds, side="left") / spoof.size
    bpcer = np.searchsorted(live, thresholds, side="left") / live.size
    diff = apcer - bpcer  # non-increasing in the threshold: +1 at the lowest, -1 at +inf
    i = int(np.argmax(diff <= 0))
    if diff[i] == 0 or i == 0:
        return float(apcer[i]), float(thresholds[i])
    # the rates cross between thresholds i-1 and i: interpolate both linearly
    w = diff[i - 1] / (diff[i - 1] - diff[i])
    eer = apcer[i - 1] + w * (apcer[i] - apcer[i - 1])
    j = i if -diff[i] <= diff[i - 1] else i - 1
    return float(eer), float(thresholds[j])


def equal_error_rate(y, scores):
    """Equal error rate: where the share of accepted attacks equals that of rejected live clips.

    Thresholds run over every score (a clip is accepted as live when ``score >= t``). APCER
    (pooled attacks) falls and BPCER rises with ``t``; the EER is their common value where
    they cross, linearly interpolated between the two thresholds around the crossing.

    Parameters
    ----------
    y : array-like of shape (n_clips,)
        +1 live, -1 spoof.
    scores : array-like of shape (n_clips,)
        Higher = more live.

    Returns
    -------
    eer : float
        In [0, 1]: 0 for perfectly separated scores, 1 for perfectly reversed ones.
    threshold : float
        The score threshold (accept as live if ``score >= threshold``) where
        ``|APCER - BPCER|`` is smallest; ``inf`` means "accept nothing".
    """
    y = _check_labels(y)
    scores = _check_values(scores, y.size, "scores")
    return _eer(np.sort(scores[y == 1]), np.sort(scores[y == -1]))


def _accepted(scores, threshold, decision):
    if decision is not None:
        return decision >= 0
    return scores >= threshold


def _rates(y, accepted, gens, families):
    apcer_fam = {f: float(accepted[gens == f].mean()) for f in families}
    apcer = max(apcer_fam.values())
    bpcer = float((~accepted[y == 1]).mean())
    return {
        "apcer": apcer,
        "apcer_pooled": float(accepted[y == -1].mean()),
        "bpcer": bpcer,
        "acer": (apcer + bpcer) / 2,
        "apcer_per_family": apcer_fam,
    }


def error_rates(y, *, scores=None, threshold=None, decision=None, generators=None):
    """APCER, BPCER and ACER at one operating point (ISO/IEC 30107-3).

    Give either ``scores`` and a ``threshold`` (accepted as live: ``score >= threshold``) or
    ``decision`` (``decision_function`` values or ``predict`` outputs; accepted: ``>= 0``).

    Parameters
    ----------
    y : array-like of shape (n_clips,)
        +1 live, -1 spoof.
    scores : array-like of shape (n_clips,), optional
    threshold : float, optional
    decision : array-like of shape (n_clips,), optional
    generators : array-like of shape (n_clips,), optional
        Attack family of each clip (the value of live clips is ignored; the development
        set's ``generators`` says ``"real"`` there). None: all attacks are one family.

    Returns
    -------
    rates : dict
        ``apcer`` (max over families), ``apcer_pooled``, ``bpcer``, ``acer``,
        ``apcer_per_family`` (dict family -> APCER).
    """
    y = _check_labels(y)
    scores, threshold, decision = _operating_point(y, scores, threshold, decision)
    gens = _check_generators(generators, y)
    families = sorted(set(gens[y == -1]))
    return _rates(y, _accepted(scores, threshold, decision), gens, families)


def _operating_point(y, scores, threshold, decision):
    if decision is not None:
        if threshold is not None:
            raise InputError("give either threshold (on scores) or decision, not both")
        return None, None, _check_values(decision, y.size, "decision")
    if scores is None or threshold is None:
        raise InputError("an operating point needs scores and a threshold, or a decision")
    if not (isinstance(threshold, numbers.Real) and not math.isnan(threshold)):
        raise InputError(f"threshold must be a number, got {threshold!r}")
    return _check_values(scores, y.size, "scores"), float(threshold), None


def _bpcer_at(live, spoof_by_family, target):
    """Lowest BPCER with APCER <= target for every family; spoof scores sorted descending."""
    t = -np.inf
    for s in spoof_by_family:
        k = math.floor(target * s.size + 1e-9)  # attacks that may be accepted
        if k < s.size:
            # accept only scores above the (k+1)-th highest attack score
            t = max(t, float(np.nextafter(s[k], np.inf)))
    return float(np.mean(live < t)), t


def bpcer_at_apcer(y, scores, target=0.05, *, generators=None):
    """BPCER at the lowest threshold whose APCER is at most ``target`` for every family.

    Parameters
    ----------
    y : array-like of shape (n_clips,)
        +1 live, -1 spoof.
    scores : array-like of shape (n_clips,)
        Higher = more live.
    target : float, default=0.05
        The APCER bound (0.05 gives BPCER20, 0.10 BPCER10).
    generators : array-like of shape (n_clips,), optional
        Attack family per clip: the bound holds for each family (the max-over-families
        APCER of the standard). None: for the pooled attacks.

    Returns
    -------
    bpcer : float
    threshold : float
        Accept as live if ``score >= threshold`` (``-inf``: everything may be accepted).
    """
    y = _check_labels(y)
    scores = _check_values(scores, y.size, "scores")
    target = _check_target(target)
    gens = _check_generators(generators, y)
    fams = sorted(set(gens[y == -1]))
    spoof = [np.sort(scores[gens == f])[::-1] for f in fams]
    return _bpcer_at(scores[y == 1], spoof, target)


# ---------------------------------------------------------------------------- evaluate


def _metrics(y, scores, accepted, gens, families, targets):
    """Every metric of one (re)sample: overall and per family, as flat dicts."""
    live = np.sort(scores[y == 1])
    spoof_fam = {f: np.sort(scores[gens == f]) for f in families}
    spoof_all = np.sort(scores[y == -1])
    out = {"auc": _auc(live, spoof_all)}
    out["eer"], out["eer_threshold"] = _eer(live, spoof_all)
    for target in targets:
        out[("bpcer_at_apcer", target)] = _bpcer_at(
            live, [s[::-1] for s in spoof_fam.values()], target
        )[0]
    fam = {}
    for f, s in spoof_fam.items():
        m = {"auc": _auc(live, s)}
        m["eer"], _ = _eer(live, s)
        for target in targets:
            m[("bpcer_at_apcer", target)] = _bpcer_at(live, [s[::-1]], target)[0]
        fam[f] = m
    if accepted is not None:
        rates = _rates(y, accepted, gens, families)
        for key in ("apcer", "apcer_pooled", "bpcer", "acer"):
            out[key] = rates[key]
        for f in families:
            fam[f]["apcer"] = rates["apcer_per_family"][f]
    return out, fam


def evaluate_scores(
    y,
    scores,
    *,
    generators=None,
    threshold=None,
    decision=None,
    apcer_targets=APCER_TARGETS,
    n_boot=1000,
    confidence=0.95,
    random_state=None,
):
    """All clip-level metrics of one detector's scores, overall and per attack family.

    Parameters
    ----------
    y : array-like of shape (n_clips,)
        +1 live, -1 spoof.
    scores : array-like of shape (n_clips,)
        ``score_samples`` output: higher = more live.
    generators : array-like of shape (n_clips,), optional
        Attack family of each clip (the generator; ignored for live clips). None: all
        attacks form one family, ``"spoof"``.
    threshold : float, optional
        Operating point on ``scores`` (accepted as live: ``score >= threshold``), e.g. a
        fitted detector's ``offset_``.
    decision : array-like of shape (n_clips,), optional
        ``decision_function`` values or ``predict`` outputs instead of a threshold
        (accepted: ``>= 0``); use it for out-of-fold scores of models with different
        thresholds. Without ``threshold`` and ``decision``, APCER, BPCER and ACER are NaN:
        they need an operating point chosen without the test labels.
    apcer_targets : sequence of float, default=(0.05, 0.10)
        APCER bounds for the BPCER at APCER operating points.
    n_boot : int, default=1000
        Bootstrap replicates for the confidence intervals; 0 skips them (intervals NaN).
    confidence : float, default=0.95
        Level of the percentile intervals.
    random_state : int, numpy Generator or None, default=None
        Seed of the bootstrap: the same seed gives the same intervals.

    Returns
    -------
    result : dict
        ``n_live``, ``n_spoof``; ``auc``, ``eer``, ``eer_threshold``, ``apcer`` (max over
        families), ``apcer_pooled``, ``bpcer``, ``acer``, ``bpcer_at_apcer`` (dict target ->
        BPCER), ``threshold`` (the operating point: a float, ``"decision"`` or None); for
        each metric ``m`` with an interval, ``m_ci`` = (low, high) (``bpcer_at_apcer_ci`` is
        a dict target -> (low, high)); ``per_family``: dict family -> dict with ``n``,
        ``auc``, ``eer``, ``apcer``, ``bpcer_at_apcer`` and their ``_ci``, each computed
        against all live clips; ``confidence``, ``n_boot``.

    Examples
    --------
    >>> from lipanomaly.evaluation.metrics import evaluate_scores
    >>> r = evaluate_scores([1, 1, 1, -1, -1], [0.9, 0.8, 0.3, 0.4, 0.1], threshold=0.5,
    ...                     n_boot=0)
    >>> round(r["auc"], 3), r["apcer"], round(r["bpcer"], 3)
    (0.833, 0.0, 0.333)
    """
    y = _check_labels(y)
    scores = _check_values(scores, y.size, "scores")
    gens = _check_generators(generators, y)
    families = sorted(set(gens[y == -1]))
    targets = tuple(_check_target(t) for t in apcer_targets)
    if not (isinstance(n_boot, numbers.Integral) and n_boot >= 0):
        raise InputError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if not (isinstance(confidence, numbers.Real) and 0 < confidence < 1):
        raise InputError(f"confidence must be in (0, 1), got {confidence!r}")
    accepted = None
    op = None
    if threshold is not None or decision is not None:
        _, thr, dec = _operating_point(y, scores, threshold, decision)
        accepted = _accepted(scores, thr, dec)
        op = "decision" if dec is not None else thr

    point, point_fam = _metrics(y, scores, accepted, gens, families, targets)
    keys = [k for k in point if k != "eer_threshold"]
    fam_keys = list(next(iter(point_fam.values())))
    boot = {k: [] for k in keys}
    boot_fam = {f: {k: [] for k in fam_keys} for f in families}
    if n_boot:
        rng = np.random.default_rng(random_state)
        strata = [np.flatnonzero(y == 1)] + [np.flatnonzero(gens == f) for f in families]
        for _ in range(n_boot):
            idx = np.concatenate([rng.choice(s, size=s.size, replace=True) for s in strata])
            acc = None if accepted is None else accepted[idx]
            m, mf = _metrics(y[idx], scores[idx], acc, gens[idx], families, targets)
            for k in keys:
                boot[k].append(m[k])
            for f in families:
                for k in fam_keys:
                    boot_fam[f][k].append(mf[f][k])
    alpha = (1 - confidence) / 2

    def ci(values):
        if not values:
            return (math.nan, math.nan)
        lo, hi = np.percentile(values, [100 * alpha, 100 * (1 - alpha)])
        return (float(lo), float(hi))

    def fold(metrics, samples):
        out = {}
        for k, v in metrics.items():
            if isinstance(k, tuple):  # ("bpcer_at_apcer", target)
                out.setdefault(k[0], {})[k[1]] = v
                out.setdefault(k[0] + "_ci", {})[k[1]] = ci(samples.get(k, []))
            else:
                out[k] = v
                if k in samples:
                    out[k + "_ci"] = ci(samples[k])
        return out

    result = {
        "n_live": int((y == 1).sum()),
        "n_spoof": int((y == -1).sum()),
        "threshold": op,
        "confidence": float(confidence),
        "n_boot": int(n_boot),
    }
    nan_ci = (math.nan, math.nan)
    for key in ("apcer", "apcer_pooled", "bpcer", "acer"):
        result[key], result[key + "_ci"] = math.nan, nan_ci
    result.update(fold(point, boot))
    result["per_family"] = {}
    for f in families:
        entry = {"n": int((gens == f).sum()), "apcer": math.nan, "apcer_ci": nan_ci}
        entry.update(fold(point_fam[f], boot_fam[f]))
        result["per_family"][f] = entry
    return result


def _fmt(value, ci=None, digits=2):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = f"{value:.{digits}f}"
    if ci is not None and not any(math.isnan(c) for c in ci):
        text += f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"
    return text


def format_table(result, *, digits=2, name=None):
    """A markdown table of :func:`evaluate_scores`'s result: all attacks, then each family.

    Parameters
    ----------
    result : dict
        Output of :func:`evaluate_scores`.
    digits : int, default=2
    name : str, optional
        A first column naming the detector (for tables that stack several).

    Returns
    -------
    table : str
        Markdown; intervals in brackets; ``—`` where a value needs an operating point that
        was not given (BPCER is one number for all rows: it depends on live clips only).
    """
    targets = sorted(result["bpcer_at_apcer"])
    at = [f"BPCER @ APCER {100 * t:g} %" for t in targets]
    head = ["attacks", "live / attack clips", "AUC", "EER", "APCER", "BPCER", "ACER", *at]
    if name is not None:
        head = ["detector", *head]
    ci_note = (
        f"values with {100 * result['confidence']:g} % confidence intervals in brackets "
        f"(clip-level bootstrap stratified by class and family, {result['n_boot']} replicates)"
        if result["n_boot"]
        else "no confidence intervals (n_boot=0)"
    )
    rows = []

    def row(label, r, n_attack, overall):
        cells = [
            label,
            f"{result['n_live']} / {n_attack}",
            _fmt(r["auc"], r.get("auc_ci"), digits),
            _fmt(r["eer"], r.get("eer_ci"), digits),
            _fmt(r["apcer"], r.get("apcer_ci"), digits),
            _fmt(result["bpcer"], result["bpcer_ci"], digits) if overall else "",
            _fmt(result["acer"], result["acer_ci"], digits) if overall else "",
            *[_fmt(r["bpcer_at_apcer"][t], r["bpcer_at_apcer_ci"][t], digits) for t in targets],
        ]
        rows.append(([name] if name is not None else []) + cells)

    row(f"all (APCER: max of {len(result['per_family'])})", result, result["n_spoof"], True)
    for fam, r in result["per_family"].items():
        row(fam, r, r["n"], False)
    cells_right = ["---:"] * (6 + len(at))  # the numbers: clip counts to the last target
    lines = [
        "| " + " | ".join(head) + " |",
        "| " + " | ".join(["---"] * (len(head) - len(cells_right)) + cells_right) + " |",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    few = [f for f, r in result["per_family"].items() if r["n"] < 5]
    if few and result["n_boot"]:
        lines.append(
            f"Families with fewer than 5 attack clips ({', '.join(few)}): their intervals come "
            "almost only from resampling the live clips and understate the uncertainty."
        )
        lines.append("")
    lines.append(
        f"Live = +1 is the positive class; {ci_note}; operating point: "
        + (
            "none given"
            if result["threshold"] is None
            else "decision >= 0"
            if result["threshold"] == "decision"
            else f"score >= {result['threshold']:.4g}"
        )
        + "."
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- plots


def _axes(ax, figsize):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def plain_label(text):
    """``text`` as matplotlib draws it literally: every ``$`` escaped, so no mathtext.

    File names and a track's ``generator`` are the user's: ``$1_$2`` would otherwise be
    parsed as mathematics and fail the figure.

    Parameters
    ----------
    text : str

    Returns
    -------
    label : str
    """
    return str(text).replace("$", r"\$")


def plot_roc(curves, *, ax=None, log_x=False):
    """ROC curves of several detectors on one figure.

    Axes are the ISO rates: APCER (attacks accepted, x) against 1 - BPCER (live clips
    accepted, y); the legend gives each AUC.

    Parameters
    ----------
    curves : dict
        Detector name -> ``(y, scores)``, labels +1 / -1 and scores higher = more live.
    ax : matplotlib Axes, optional
        Where to draw; None makes a new figure with pyplot.
    log_x : bool, default=False
        Logarithmic APCER axis (to read the low-APCER region).

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax, (5.5, 5))
    for label, (y, scores) in curves.items():
        y = _check_labels(y, name=f"curves[{label!r}] y")
        s = _check_values(scores, y.size, f"curves[{label!r}] scores")
        live, spoof = np.sort(s[y == 1]), np.sort(s[y == -1])
        thr = np.unique(np.concatenate([s, [np.inf]]))[::-1]
        apcer = 1.0 - np.searchsorted(spoof, thr, side="left") / spoof.size
        accept_live = 1.0 - np.searchsorted(live, thr, side="left") / live.size
        auc = _auc(live, spoof)
        ax.step(apcer, accept_live, where="post", label=f"{plain_label(label)} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls="--", label="chance")
    targets = " and ".join(f"{100 * t:g} %" for t in APCER_TARGETS)
    for k, target in enumerate(APCER_TARGETS):
        # one legend entry for the reference lines: where BPCER at APCER is read
        label = f"APCER {targets}" if k == 0 else None
        ax.axvline(target, color="0.8", lw=0.8, ls=":", label=label)
    if log_x:
        ax.set_xscale("log")
        ax.set_xlim(1e-2, 1)
    ax.set_xlabel("APCER (attacks accepted as live)")
    ax.set_ylabel("1 − BPCER (live clips accepted)")
    ax.set_title("ROC, live = positive class")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


# live is blue; the attack families take the other colours of the default cycle
_FAMILY_COLOURS = ("tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink")


def plot_score_distributions(y, scores, *, generators=None, threshold=None, bins=30, ax=None):
    """Score histograms of live clips and of each attack family, with the threshold.

    Parameters
    ----------
    y : array-like of shape (n_clips,)
        +1 live, -1 spoof.
    scores : array-like of shape (n_clips,)
        Higher = more live.
    generators : array-like of shape (n_clips,), optional
        Attack family per clip: one histogram per family.
    threshold : float, optional
        Drawn as a vertical line (accepted as live to its right).
    bins : int, default=30
    ax : matplotlib Axes, optional

    Returns
    -------
    ax : matplotlib Axes
    """
    y = _check_labels(y)
    scores = _check_values(scores, y.size, "scores")
    gens = _check_generators(generators, y)
    ax = _axes(ax, (7, 4))
    edges = np.histogram_bin_edges(scores, bins=bins)
    ax.hist(scores[y == 1], bins=edges, alpha=0.55, color="tab:blue",
            label=f"live (n={int((y == 1).sum())})")  # fmt: skip
    for k, fam in enumerate(sorted(set(gens[y == -1]))):
        sel = gens == fam
        ax.hist(scores[sel], bins=edges, alpha=0.45, histtype="stepfilled",
                color=_FAMILY_COLOURS[k % len(_FAMILY_COLOURS)],
                label=f"{plain_label(fam)} (n={int(sel.sum())})")  # fmt: skip
    if threshold is not None:
        ax.axvline(float(threshold), color="k", lw=1.2, ls="--", label="threshold")
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("score (higher = more live)")
    ax.set_ylabel("clips")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.5 of a clip
    ax.legend(fontsize=8)
    return ax


def plot_window_scores(
    window_scores, starts, *, window=64, fs=DEFAULT_FPS, threshold=None, ax=None, t0=0.0
):
    """Time-resolved scores of one clip: each window's score over the frames it covers.

    Parameters
    ----------
    window_scores : array-like of shape (n_windows,)
        Score of each window (higher = more live).
    starts : array-like of shape (n_windows,)
        First frame of each window (``make_windows``' ``starts``).
    window : int, default=64
        Window length in frames.
    fs : float, default=25.0
        Frame rate, to put the time axis in seconds.
    threshold : float, optional
        Drawn as a horizontal line; windows below it are marked.
    ax : matplotlib Axes, optional
    t0 : float, default=0.0
        Time of frame 0 in seconds: the clip's start in its video puts the axis in video
        time.

    Returns
    -------
    ax : matplotlib Axes
        The legend sits right of the plot, clear of the windows.
    """
    s = _check_values(window_scores, np.asarray(window_scores).size, "window_scores")
    starts = _check_values(starts, s.size, "starts")
    ax = _axes(ax, (8, 3))
    centre = t0 + (starts + window / 2) / fs
    for k, (st, sc) in enumerate(zip(starts, s)):
        ax.hlines(sc, t0 + st / fs, t0 + (st + window) / fs, color="0.75", lw=3,
                  label="window (frames it covers)" if k == 0 else None)  # fmt: skip
    ax.plot(centre, s, "o-", color="tab:blue", ms=3, label="window score (at its centre)")
    if threshold is not None:
        ax.axhline(float(threshold), color="k", ls="--", lw=1, label="threshold")
        low = s < threshold
        if low.any():
            ax.plot(centre[low], s[low], "o", color="tab:red", ms=5, label="below threshold")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("score (higher = more live)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax
