"""Anomaly-score components, their robust standardisation, combination and thresholds.

Pure numpy (antropy is imported lazily for sample entropy); no torch. The detectors
(:class:`lipanomaly.LFHFVAEDetector`, :class:`lipanomaly.OCVAEDetector`) compute network
reconstructions and hand numpy arrays to these functions, so every formula here can be
tested alone.

Conventions
-----------
A *window* is an array of shape ``(L, F)`` (``L`` frames, ``F = 2 K`` coordinates); window
functions take a batch ``(N, L, F)`` and return one float64 value per window, shape ``(N,)``.
The *norm* of a window is its root mean square over frames and coordinates,
``||a|| = sqrt(mean(a ** 2))``, so that errors do not grow with the window length or ``K``.

Components (one value per window; SPEC section 5):

================ ===================================================================
``e_smooth``     ``||x - x_lf||``: error of the low-frequency reconstruction.
``e_detail``     ``||r_hf - r_hf_hat||``: error of the high-band residual.
``drs``          ``e_smooth / (e_detail + eps)``: detail-to-smooth ratio.
``delta_e``      growth of ``e_detail`` under a micro time-jitter of the input.
``complexity``   sample entropy (or spectral flatness) of the principal lip motion.
``rmse``         ``||x - (x_lf + r_hf_hat)||``: OC-FakeDect's whole-window error.
``latent_rmse``  RMSE between ``mu(x)`` and ``mu(x_hat)`` (reconstruction re-encoded).
``e_smooth_rel`` ``e_smooth / (m + eps)``, ``m`` the window's motion energy
                 (:func:`motion_energy`): the error per unit of lip motion.
``e_detail_rel`` ``e_detail / (m + eps)``.
``rmse_rel``     ``rmse / (m + eps)``.
================ ===================================================================

An absolute error grows with how much the lips move (and so with the speaker and the
recording); the relative errors do not. A generator that under-articulates makes small
absolute errors (there is little motion to miss) but large relative ones.

None of them has a sign by construction: a fake may reconstruct better or worse than a live
clip. :func:`mahalanobis` measures a distance from the live distribution, two-sided or, after
:func:`rectify`, on the side where fakes were measured to lie;
:func:`linear_score` is the seed's signed sum ``S = alpha DRS - beta dE + gamma C``.
"""

from types import MappingProxyType

import numpy as np

from ..exceptions import InputError
from ..signal import filters as _signal

__all__ = [
    "COMPONENTS",
    "FAKE_SIDES",
    "N_QUANTILES",
    "RELATIVE",
    "SIDES",
    "apply_robust_scale",
    "complexity",
    "conformal_p_values",
    "delta_detail",
    "detail_error",
    "fit_mahalanobis",
    "fit_offset",
    "fit_quantile_normal",
    "fit_robust_scale",
    "latent_rmse",
    "linear_score",
    "mahalanobis",
    "motion_energy",
    "quantile_normal",
    "reconstruction_errors",
    "rectify",
    "sample_entropy",
    "verdicts",
    "window_norm",
]

#: Names of the per-window components, in the order of the columns of a component matrix.
COMPONENTS = (
    "e_smooth",
    "e_detail",
    "drs",
    "delta_e",
    "complexity",
    "rmse",
    "latent_rmse",
    "e_smooth_rel",
    "e_detail_rel",
    "rmse_rel",
)

#: The errors that have a relative form (``<name>_rel``, divided by the motion energy).
RELATIVE = ("e_smooth", "e_detail", "rmse")

# IQR of a standard normal: IQR / _IQR_NORMAL estimates sigma for Gaussian data.
_IQR_NORMAL = 1.3489795003921634
_MAD_NORMAL = 1.482602218505602
_TINY = 1e-12


def window_norm(a):
    """Root mean square of each window: ``sqrt(mean(a[i] ** 2))``.

    Parameters
    ----------
    a : ndarray of shape (N, ...)

    Returns
    -------
    norms : ndarray of shape (N,), float64
    """
    a = np.asarray(a, dtype=np.float64)
    return np.sqrt(np.mean(a.reshape(a.shape[0], -1) ** 2, axis=1))


def detail_error(r_hf_target, r_hf_hat):
    """``e_detail = ||r_hf - r_hf_hat||``: error of the high-band reconstruction per window.

    Parameters
    ----------
    r_hf_target, r_hf_hat : ndarray of shape (N, L, F)
        The high-band residual of the input (``x - lowpass(x)``) and its reconstruction.

    Returns
    -------
    e_detail : ndarray of shape (N,), float64
    """
    return window_norm(np.asarray(r_hf_target, dtype=np.float64) - r_hf_hat)


def reconstruction_errors(x, x_lf, r_hf_target, r_hf_hat, *, eps=1e-6):
    """The reconstruction components of a batch of windows.

    Parameters
    ----------
    x : ndarray of shape (N, L, F)
        The (standardised) input windows.
    x_lf : ndarray of shape (N, L, F)
        The LF head's reconstruction of the slow trajectory.
    r_hf_target : ndarray of shape (N, L, F)
        The high-band residual of the input, ``x - lowpass(x)``.
    r_hf_hat : ndarray of shape (N, L, F)
        The HF head's reconstruction of that residual.
    eps : float, default=1e-6
        Keeps ``drs`` and the relative errors finite when a divisor is zero.

    Returns
    -------
    components : dict of ndarray of shape (N,), float64
        ``e_smooth``, ``e_detail``, ``drs``, ``rmse`` and the relative errors
        ``e_smooth_rel``, ``e_detail_rel``, ``rmse_rel`` (see the module docstring).
    """
    x = np.asarray(x, dtype=np.float64)
    e_smooth = window_norm(x - x_lf)
    e_detail = detail_error(r_hf_target, r_hf_hat)
    out = {
        "e_smooth": e_smooth,
        "e_detail": e_detail,
        "drs": e_smooth / (e_detail + eps),
        "rmse": window_norm(x - (np.asarray(x_lf, dtype=np.float64) + r_hf_hat)),
    }
    energy = motion_energy(x) + eps
    out.update({f"{name}_rel": out[name] / energy for name in RELATIVE})
    return out


def delta_detail(e_detail, e_detail_jittered, *, relative=False, eps=1e-6):
    """ΔE: how much the detail error grows when the input is micro time-jittered.

    The jittered copies are drawn by :func:`lipanomaly.signal.augment.jitter_probe` and their
    detail errors (:func:`detail_error`) computed by the network transformer; this is the
    formula.

    Parameters
    ----------
    e_detail : ndarray of shape (N,)
        Detail error of the windows as they are.
    e_detail_jittered : ndarray of shape (n_draws, N)
        Detail error of ``n_draws`` seeded jittered copies of the windows.
    relative : bool, default=False
        Divide the growth by ``e_detail + eps`` (relative growth).
    eps : float, default=1e-6

    Returns
    -------
    delta : ndarray of shape (N,), float64
        ``mean(e_detail_jittered, axis=0) - e_detail`` (or that over ``e_detail + eps``).
    """
    e_detail = np.asarray(e_detail, dtype=np.float64)
    jittered = np.atleast_2d(np.asarray(e_detail_jittered, dtype=np.float64))
    delta = jittered.mean(axis=0) - e_detail
    return delta / (e_detail + eps) if relative else delta


def latent_rmse(mu, mu_hat):
    """RMSE between the latent means of the input and of its re-encoded reconstruction.

    Parameters
    ----------
    mu, mu_hat : sequence of ndarray of shape (N, ...)
        Latent means of ``x`` and of ``x_hat`` (for the dual VAE: ``mu_lf`` and ``mu_hf``),
        compared element by element over all of them together.

    Returns
    -------
    rmse : ndarray of shape (N,), float64
    """
    sq = sum(
        np.sum((np.asarray(a, np.float64) - b).reshape(len(a), -1) ** 2, axis=1)
        for a, b in zip(mu, mu_hat, strict=True)
    )
    n = sum(np.asarray(a[:1]).size for a in mu)
    return np.sqrt(sq / n)


def motion_energy(x):
    """How much the lips move in each window: RMS of the window about its temporal mean.

    Parameters
    ----------
    x : ndarray of shape (N, L, F)

    Returns
    -------
    energy : ndarray of shape (N,), float64
    """
    x = np.asarray(x, dtype=np.float64)
    return window_norm(x - x.mean(axis=1, keepdims=True))


def _is_flat(sig):
    scale = np.max(np.abs(sig), axis=-1)
    return np.std(sig, axis=-1) <= 1e-9 * np.maximum(scale, 1.0)


def sample_entropy(signals, *, order=2, r=0.2):
    """Sample entropy of each signal (antropy's Chebyshev implementation), guarded.

    The tolerance is ``r`` times the signal's standard deviation. Sample entropy is
    ``-log(A / B)`` with ``B`` (``A``) the number of template pairs of length ``order``
    (``order + 1``) within the tolerance. Where antropy returns NaN (no pair of length
    ``order`` matches) or inf (none of length ``order + 1``), the value is capped at
    ``log(P)``, ``P = (n - order)(n - order - 1) / 2`` the number of template pairs: the
    largest finite value a signal of this length can reach. A flat signal (no motion)
    is perfectly regular: 0.

    Parameters
    ----------
    signals : ndarray of shape (N, n)
    order : int, default=2
        Embedding dimension ``m``.
    r : float, default=0.2
        Tolerance as a fraction of each signal's standard deviation.

    Returns
    -------
    sampen : ndarray of shape (N,), float64
        Finite values in ``[0, log(P)]``.
    """
    import antropy  # lazily: numba compilation takes seconds

    signals = np.ascontiguousarray(signals, dtype=np.float64)
    n = signals.shape[1]
    if n < order + 3:
        raise InputError(f"sample entropy needs signals of at least {order + 3} samples, got {n}")
    cap = np.log((n - order) * (n - order - 1) / 2.0)
    flat = _is_flat(signals)
    out = np.zeros(signals.shape[0], dtype=np.float64)
    for i in np.flatnonzero(~flat):
        sig = signals[i]
        value = antropy.sample_entropy(sig, order=order, tolerance=float(r * np.std(sig)))
        out[i] = value if np.isfinite(value) else cap
    return np.clip(out, 0.0, cap)


def complexity(x, *, method="sampen", order=2, r=0.2):
    """Dynamic complexity of each window's principal lip motion.

    Parameters
    ----------
    x : ndarray of shape (N, L, F)
    method : {"sampen", "flatness"}, default="sampen"
        :func:`sample_entropy` or :func:`lipanomaly.signal.filters.spectral_flatness` of the
        window's principal motion (:func:`lipanomaly.signal.filters.principal_motion`).
    order, r
        Sample-entropy settings.

    Returns
    -------
    c : ndarray of shape (N,), float64
    """
    sig = _signal.principal_motion(x)
    if method == "sampen":
        return sample_entropy(sig, order=order, r=r)
    if method == "flatness":
        return np.asarray(_signal.spectral_flatness(sig, axis=1), dtype=np.float64)
    raise InputError(f"complexity method must be 'sampen' or 'flatness', got {method!r}")


def fit_robust_scale(values):
    """Robust centre and scale of each column: median and IQR / 1.349.

    Where the IQR is zero (many tied values), the MAD times 1.4826 is used, then the
    standard deviation, then 1: a constant column is centred, never divided by zero.

    Parameters
    ----------
    values : ndarray of shape (n, p)

    Returns
    -------
    center, scale : ndarray of shape (p,), float64
        ``scale`` is strictly positive; both estimate the mean and standard deviation for
        Gaussian data.
    """
    values = np.asarray(values, dtype=np.float64)
    center = np.median(values, axis=0)
    q1, q3 = np.percentile(values, [25, 75], axis=0)
    scale = (q3 - q1) / _IQR_NORMAL
    mad = np.median(np.abs(values - center), axis=0) * _MAD_NORMAL
    std = values.std(axis=0)
    for fallback in (mad, std, np.ones_like(std)):
        bad = ~(scale > _TINY * np.maximum(np.abs(center), 1.0))
        scale = np.where(bad, fallback, scale)
    return center, scale


def apply_robust_scale(values, center, scale):
    """``(values - center) / scale``, float64."""
    return (np.asarray(values, dtype=np.float64) - center) / scale


#: The sides on which a standardised component can count as a deviation from live.
SIDES = ("both", "low", "high")

#: The side on which fakes were measured to lie, for the components where it held across
#: generator families (``docs/quality.md``): generators move the lips less than live speech
#: (smaller absolute low-band and whole-window errors, a smaller latent distance) and less
#: coherently (larger errors per unit of motion). The other components are two-sided.
FAKE_SIDES = MappingProxyType(
    {
        "e_smooth": "low",
        "rmse": "low",
        "latent_rmse": "low",
        "e_smooth_rel": "high",
        "e_detail_rel": "high",
        "rmse_rel": "high",
    }
)


def rectify(z, sides):
    """Keep of each standardised component only the side on which it counts.

    Parameters
    ----------
    z : ndarray of shape (N, p)
        Robustly standardised components (0 is the live median).
    sides : sequence of str of length p
        Per column: ``"both"`` (kept as is), ``"low"`` (``min(z, 0)``: only values below
        the live median deviate) or ``"high"`` (``max(z, 0)``).

    Returns
    -------
    z : ndarray of shape (N, p), float64
        A new array.
    """
    z = np.array(z, dtype=np.float64)
    for j, side in enumerate(sides):
        if side == "low":
            np.minimum(z[:, j], 0.0, out=z[:, j])
        elif side == "high":
            np.maximum(z[:, j], 0.0, out=z[:, j])
        elif side != "both":
            raise InputError(f"sides: expected one of {list(SIDES)} per component, got {side!r}")
    return z


def fit_mahalanobis(z, *, shrinkage=0.1, clip=3.0):
    """Robust covariance of robust-standardised live component vectors.

    The vectors are winsorised at ``±clip`` (so a few extreme live windows do not inflate
    the covariance), their second moment about 0 (the median after
    :func:`fit_robust_scale`) is shrunk towards a multiple of the identity, and inverted.
    Cheap, deterministic, and well conditioned even with fewer vectors than dimensions.

    Parameters
    ----------
    z : ndarray of shape (n, p)
        Standardised components of live (validation) windows.
    shrinkage : float in [0, 1], default=0.1
        Weight of the identity target: ``(1 - s) C + s tr(C) / p I``.
    clip : float, default=3.0
        Winsorising bound.

    Returns
    -------
    precision : ndarray of shape (p, p), float64
        Inverse of the shrunk covariance.
    """
    z = np.clip(np.asarray(z, dtype=np.float64), -clip, clip)
    cov = z.T @ z / max(len(z), 1)
    p = cov.shape[0]
    target = max(np.trace(cov) / p, _TINY)
    cov = (1.0 - shrinkage) * cov + shrinkage * target * np.eye(p)
    return np.linalg.pinv(cov, hermitian=True)


def mahalanobis(z, precision):
    """Mahalanobis distance of each standardised vector from 0 (the live median).

    Parameters
    ----------
    z : ndarray of shape (n, p)
    precision : ndarray of shape (p, p)

    Returns
    -------
    distance : ndarray of shape (n,), float64
        Non-negative; larger is farther from live, in either direction.
    """
    z = np.asarray(z, dtype=np.float64)
    d2 = np.einsum("ij,jk,ik->i", z, precision, z)
    return np.sqrt(np.maximum(d2, 0.0))


def linear_score(z, weights):
    """The seed's signed combination ``sum_j w_j z_j`` (e.g. ``alpha DRS - beta dE + gamma C``).

    Parameters
    ----------
    z : ndarray of shape (n, p)
    weights : ndarray of shape (p,)

    Returns
    -------
    score : ndarray of shape (n,), float64
    """
    return np.asarray(z, dtype=np.float64) @ np.asarray(weights, dtype=np.float64)


def fit_offset(scores, *, contamination=0.2, method="quantile", iqr_factor=1.5):
    """Decision threshold on live ``scores`` (higher = more live).

    Parameters
    ----------
    scores : ndarray of shape (n,)
        Scores of live validation clips.
    contamination : float, default=0.2
        For ``method="quantile"``: the fraction of live clips allowed below the threshold.
        0.2 is OC-FakeDect's T80: the 80th percentile of the anomaly score ``-scores``.
    method : {"quantile", "iqr"}, default="quantile"
        ``"iqr"``: Tukey's rule on the anomaly score, ``Q1 - iqr_factor * IQR`` of
        ``scores``.
    iqr_factor : float, default=1.5

    Returns
    -------
    offset : float
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0 or not np.isfinite(scores).all():
        raise InputError("cannot set a threshold: no finite validation scores")
    if method == "quantile":
        if not 0 <= contamination <= 1:
            raise InputError(f"contamination must be in [0, 1], got {contamination!r}")
        return float(np.percentile(scores, 100.0 * contamination))
    if method == "iqr":
        q1, q3 = np.percentile(scores, [25, 75])
        return float(q1 - iqr_factor * (q3 - q1))
    raise InputError(f"threshold must be 'quantile' or 'iqr', got {method!r}")


#: Quantiles of each feature kept by :func:`fit_quantile_normal`.
N_QUANTILES = 50
_QUANTILE_BOUND = 1e-7  # probabilities are clipped to [b, 1 - b]: z within +-5.2


def verdicts(decision):
    """+1 (live) where ``decision >= 0``, else -1 (spoof): ints; a NaN decision is never live.

    Examples
    --------
    >>> verdicts([0.5, 0.0, -1.0, float("nan")]).tolist()
    [1, 1, -1, -1]
    """
    return np.where(np.asarray(decision, dtype=np.float64) >= 0, 1, -1).astype(int)


def fit_quantile_normal(X, n_quantiles=N_QUANTILES):
    """The quantiles of each column of ``X``, for :func:`quantile_normal`.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        Finite values.
    n_quantiles : int, default=N_QUANTILES
        At most ``n``; evenly spaced probabilities from 0 to 1.

    Returns
    -------
    quantiles : ndarray of shape (n_quantiles, p), float64
        Non-decreasing down each column.
    """
    X = np.asarray(X, dtype=np.float64)
    probs = np.linspace(0.0, 100.0, min(n_quantiles, len(X)))
    return np.maximum.accumulate(np.percentile(X, probs, axis=0), axis=0)


def quantile_normal(X, quantiles):
    """Map each column through its empirical distribution onto a standard normal.

    ``z = Phi^-1(F(x))`` with ``F`` the piecewise-linear distribution function through
    ``quantiles`` (averaged over both directions of interpolation, so that tied quantiles
    map to the middle of their range, as scikit-learn's ``QuantileTransformer`` does) and
    probabilities clipped to ``[1e-7, 1 - 1e-7]``: values outside the fitted range map to
    about +-5.2, never to inf.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    quantiles : ndarray of shape (n_quantiles, p)
        From :func:`fit_quantile_normal`.

    Returns
    -------
    z : ndarray of shape (n, p), float64
    """
    from scipy.special import ndtri

    X = np.asarray(X, dtype=np.float64)
    probs = np.linspace(0.0, 1.0, len(quantiles))
    u = np.empty_like(X)
    for j in range(X.shape[1]):
        q = quantiles[:, j]
        up = np.interp(X[:, j], q, probs)
        down = np.interp(-X[:, j], -q[::-1], -probs[::-1])
        u[:, j] = 0.5 * (up - down)
    return ndtri(np.clip(u, _QUANTILE_BOUND, 1.0 - _QUANTILE_BOUND))


def conformal_p_values(scores, calibration_scores):
    """Empirical (conformal) p-value of each score among live calibration scores.

    .. math::

        p(s) = \\frac{1 + \\#\\{i : c_i \\le s\\}}{n + 1}

    with ``c_1 .. c_n`` the scores of the live calibration clips (higher = more live). It is
    the rank of ``s`` among the ``n + 1`` scores: small when the clip scores lower than most
    live clips. For a live clip exchangeable with the calibration clips,
    ``P(p <= a) <= a`` for every ``a``, whatever the distribution of the scores
    (distribution-free). Its smallest value is ``1 / (n + 1)``: with 3 calibration clips no
    clip gets a p-value below 0.25.

    Parameters
    ----------
    scores : array-like of shape (n_clips,)
        Scores to rate (NaN gives NaN).
    calibration_scores : array-like of shape (n,)
        Scores of the live calibration clips (a detector's ``validation_scores_``).

    Returns
    -------
    p_values : ndarray of shape (n_clips,), float64
        In ``[1 / (n + 1), 1]``.

    Examples
    --------
    >>> conformal_p_values([0.0, 2.5, 9.0], [1.0, 2.0, 3.0])
    array([0.25, 0.75, 1.  ])
    """
    cal = np.sort(np.asarray(calibration_scores, dtype=np.float64).ravel())
    if cal.size == 0 or not np.isfinite(cal).all():
        raise InputError("calibration_scores: needs at least one finite score")
    s = np.asarray(scores, dtype=np.float64)
    p = (1.0 + np.searchsorted(cal, s, side="right")) / (cal.size + 1.0)
    return np.where(np.isnan(s), np.nan, p)
