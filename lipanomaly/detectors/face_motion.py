"""Whole-face motion features of a clip: pure numpy, one function per family of features.

A *face clip* is what ``LipLandmarkExtractor(points="face", head_frame="rigid", pose=True)``
gives: an array of shape ``(T, 132, 2)`` at ``fs`` frames per second, whose first 130 rows are
the points of :data:`lipanomaly.io.landmarks.FACE_REGIONS` in the head frame of the rigid
reference set (units: inter-ocular distances) and whose last two rows are the head pose
(:func:`lipanomaly.io.landmarks.head_pose`: translation, then rotation and log scale).

:func:`face_motion_features` turns one face clip into :data:`N_FEATURES` numbers that
describe how the face moves, never what it looks like or how it was filmed:

- every signal is first low-passed at ``lowpass`` Hz (6 by default), so that what a
  recording's frame rate or a face's size in pixels leaves in the fastest landmark jitter
  is not read (measured: ``docs/quality.md``, confounds);
- nothing reads the frame rate, the frame size or the face size: amplitudes are in head
  units, speeds per frame at the analysis rate, and most features are ratios, correlations
  or spectral shares;
- static shape (how wide a mouth is) is left out: only its motion counts.

The families (:data:`FEATURES` lists every name with the family and the region it reads):

============ ==================================================================== ========
family       what it measures                                                     reads
============ ==================================================================== ========
head         std, speed, jerkiness, share of fast motion and periodicity of the   context
             head's translation, roll, scale and of two proxies of yaw and pitch
rigid        how much the rigid points wobble about their mean once the head is   context
             removed, and how fast
regions      speed of lips, jaw, cheeks, nose, eyes and brows relative to the     both
             rigid points, their jerkiness, share of fast motion, burstiness
mouth        opening (inner and outer lips) and width: spread, speed,             lips
             jerkiness, rhythm (spectral peak and centroid), time spent open,
             autocorrelation, periodicity, stillness, lip thickness changes,
             dimensionality of the lip shapes
jaw          jaw drop: spread, speed, rhythm                                      context
coupling     how mouth opening goes with jaw drop, chin, cheeks, nose, head and   context
             brows (correlations, lag, slope, ratios), and how much of the lips'
             motion in the head frame follows head motion (slip)
eyes         eye-opening variation, blink rate, left/right synchrony of blinks,   context
             brows and gaze, gaze spread and speed, saccade rate
============ ==================================================================== ========

Every value is finite for any clip of at least :data:`MIN_SECONDS` seconds (constant
signals give zero correlations and shares); :func:`face_motion_features` refuses shorter
clips.
"""

import math

import numpy as np

from ..exceptions import InputError
from ..io.landmarks import FACE_POINTS, FACE_REGIONS
from ..limits import DEFAULT_FPS
from ..signal.filters import lowpass as _lowpass

__all__ = [
    "FACE_CLIP_ROWS",
    "FEATURES",
    "FEATURE_REGIONS",
    "MIN_SECONDS",
    "N_FEATURES",
    "face_motion_features",
    "feature_names",
    "min_frames",
]

#: Rows of a face clip: the 130 face points, then the two rows of the head pose.
FACE_CLIP_ROWS = len(FACE_POINTS) + 2
#: Shortest clip whose motion the features describe, in seconds (blink rate, rhythm and
#: the 8-frame autocorrelation need a few syllables).
MIN_SECONDS = 2.0
#: The regions a feature may read: ``"lips"`` (lip points alone) or ``"context"`` (the
#: face around them, the head pose, or the lips against them).
FEATURE_REGIONS = ("lips", "context")

_ROW = {index: row for row, index in enumerate(FACE_POINTS)}
_REGION_ROWS = {name: np.array([_ROW[i] for i in pts]) for name, pts in FACE_REGIONS.items()}
_EPS = 1e-9


def min_frames(fs):
    """Fewest frames of a clip at ``fs`` frames per second (:data:`MIN_SECONDS`)."""
    return math.ceil(MIN_SECONDS * fs - 1e-9)


# -- elementary statistics; each one is finite for a constant signal --------------------------


def _rms(a):
    return float(np.sqrt(np.mean(np.square(a))))


def _speed(s):
    """Root mean square of the frame-to-frame change (all points and axes together)."""
    return _rms(np.diff(s, axis=0))


def _jerkiness(s):
    """Acceleration relative to speed: high for jittery, low for smooth motion."""
    return _rms(np.diff(s, 2, axis=0)) / (_speed(s) + _EPS)


def _power(s, fs, *, taper=False):
    """Frequencies and power of ``s`` (summed over all but the time axis)."""
    s = s - s.mean(axis=0)
    if taper:
        s = s * np.hanning(len(s)).reshape((-1,) + (1,) * (s.ndim - 1))
    p = np.abs(np.fft.rfft(s, axis=0)) ** 2
    if p.ndim > 1:
        p = p.reshape(len(p), -1).sum(axis=1)
    return np.fft.rfftfreq(len(s), 1 / fs), p


def _fast_share(s, fs, above=4.0):
    """Share of the signal's power (the mean removed) at ``above`` Hz or more."""
    f, p = _power(s, fs)
    return float(p[f >= above].sum() / (p[1:].sum() + _EPS))


def _peak_hz(s, fs):
    """Frequency of the strongest component between 0.5 and 10 Hz (the rhythm)."""
    f, p = _power(s, fs, taper=True)
    band = (f > 0.5) & (f < 10)
    return float(f[band][np.argmax(p[band])]) if band.any() else 0.0


def _centroid_hz(s, fs):
    """Power-weighted mean frequency of the signal's change."""
    f, p = _power(np.diff(s, axis=0), fs)
    return float((f * p).sum() / (p.sum() + _EPS))


def _peakiness(s, fs):
    """Strongest frequency's share of the change's power from 0.2 to 6 Hz: periodicity."""
    f, p = _power(np.diff(s, axis=0), fs, taper=True)
    band = (f > 0.2) & (f < 6)
    return float(p[band].max() / (p[band].sum() + _EPS)) if band.any() else 0.0


def _corr(a, b):
    a = a - a.mean()
    b = b - b.mean()
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + _EPS))


def _kurtosis(v):
    v = v - v.mean()
    return float((v**4).mean() / ((v**2).mean() ** 2 + _EPS**2))


def _cv(v):
    return float(v.std() / (v.mean() + _EPS))


def _autocorr(s, lags):
    v = np.diff(s)
    v = v - v.mean()
    denom = float(v @ v) + _EPS
    return [float(v[: len(v) - k] @ v[k:]) / denom if k < len(v) else 0.0 for k in lags]


def _fit_r2(target, regressors):
    """Share of ``target``'s variance that a linear fit on ``regressors`` explains."""
    design = np.column_stack([regressors, np.ones(len(regressors))])
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    residual = target - design @ coef
    total = float(((target - target.mean(axis=0)) ** 2).sum())
    return 1.0 - float((residual**2).sum()) / total if total > _EPS else 0.0


def _blinks(ear):
    """Number of dips of the eye opening below its usual level."""
    med = np.median(ear)
    mad = np.median(np.abs(ear - med))
    low = ear < med - max(4 * mad, 0.15 * med)
    return int((np.diff(low.astype(int)) == 1).sum())


# -- the signals every family reads -------------------------------------------------------------


class _Face:
    """Named signals of one low-passed face clip."""

    def __init__(self, points, pose, fs):
        self.points, self.fs = points, fs
        self._regions = {}
        roll, log_scale = pose[:, 1, 0], pose[:, 1, 1]
        self.pose = {"tx": pose[:, 0, 0], "ty": pose[:, 0, 1], "roll": roll, "scale": log_scale}
        left, right = self.dist(1, 234), self.dist(1, 454)
        self.pose["yaw"] = (left - right) / (left + right + _EPS)
        eye_line = self.y(33, 263)
        self.pose["pitch"] = (self.y(1) - eye_line) / (self.y(152) - eye_line + _EPS)
        self.open = self.dist(13, 14)
        self.open_outer = self.dist(0, 17)
        self.width = self.dist(61, 291)
        self.jaw = self.dist(152, 168)

    def at(self, index):
        return self.points[:, _ROW[index]]

    def dist(self, i, j):
        return np.linalg.norm(self.at(i) - self.at(j), axis=1)

    def y(self, *indices):
        return np.mean([self.at(i)[:, 1] for i in indices], axis=0)

    def region(self, name):
        if name not in self._regions:  # each family reads them: gathered once
            self._regions[name] = self.points[:, _REGION_ROWS[name]]
        return self._regions[name]


# -- the families -------------------------------------------------------------------------------


def _head(face):
    out = []
    for name, s in face.pose.items():
        out += [
            (f"head_{name}_std", float(s.std())),
            (f"head_{name}_speed", _speed(s)),
            (f"head_{name}_jerk", _jerkiness(s)),
            (f"head_{name}_fast", _fast_share(s, face.fs)),
        ]
    for name in ("tx", "ty", "roll"):
        out.append((f"head_{name}_periodicity", _peakiness(face.pose[name], face.fs)))
    motion = np.column_stack([face.pose[k] for k in ("tx", "ty", "roll", "scale")])
    speed = np.linalg.norm(np.diff(motion, axis=0), axis=1)
    out += [("head_speed_kurtosis", _kurtosis(speed)), ("head_speed_cv", _cv(speed))]
    return out


def _rigid(face):
    wobble = face.region("rigid") - face.region("rigid").mean(axis=0)
    return [
        ("rigid_wobble", _rms(wobble)),
        ("rigid_speed", _speed(wobble)),
        ("rigid_jerk", _jerkiness(wobble)),
        ("rigid_fast", _fast_share(wobble, face.fs)),
    ]


def _regions(face):
    rigid_speed = _speed(face.region("rigid")) + _EPS
    out = []
    for name in ("lips", "jaw", "cheeks", "nose", "eyes", "brows"):
        r = face.region(name)
        out += [
            (f"{name}_speed_rel", _speed(r) / rigid_speed),
            (f"{name}_jerk", _jerkiness(r)),
            (f"{name}_fast", _fast_share(r - r.mean(axis=0), face.fs)),
        ]
    for name in ("lips", "jaw", "eyes", "brows"):
        r = face.region(name)
        speed = np.linalg.norm(np.diff(r, axis=0).reshape(len(r) - 1, -1), axis=1)
        out += [(f"{name}_speed_kurtosis", _kurtosis(speed)), (f"{name}_speed_cv", _cv(speed))]
    return out


def _signal_stats(name, s, fs):
    return [
        (f"{name}_std", float(s.std())),
        (f"{name}_speed", _speed(s)),
        (f"{name}_jerk", _jerkiness(s)),
        (f"{name}_peak_hz", _peak_hz(s, fs)),
        (f"{name}_centroid_hz", _centroid_hz(s, fs)),
    ]


def _mouth(face):
    fs = face.fs
    out = _signal_stats("open", face.open, fs)
    out += _signal_stats("open_outer", face.open_outer, fs)
    out += _signal_stats("width", face.width, fs)
    out += [
        ("open_fraction", float((face.open > 0.05).mean())),
        ("open_width_corr", _corr(face.open_outer, face.width)),
        ("inner_outer_corr", _corr(face.open, face.open_outer)),
    ]
    lips = face.region("lips")
    shapes = (lips - lips.mean(axis=1, keepdims=True)).reshape(len(lips), -1)
    shapes -= shapes.mean(axis=0)
    # squared singular values of the shapes: eigenvalues of their (80, 80) Gram matrix
    sv = np.clip(np.linalg.eigvalsh(shapes.T @ shapes)[::-1], 0.0, None)
    share = sv / (sv.sum() + _EPS)
    out += [
        ("lip_shape_pc1", float(share[0])),
        ("lip_shape_pc3", float(share[:3].sum())),
        ("lip_shape_dims", float(sv.sum() ** 2 / ((sv**2).sum() + _EPS))),
    ]
    lags = (1, 2, 3, 5, 8)
    out += [(f"open_autocorr_{k}", v) for k, v in zip(lags, _autocorr(face.open_outer, lags))]
    upper, lower = face.y(0, 13), face.y(17, 14)
    out.append(("upper_lower_speed", _speed(upper) / (_speed(lower) + _EPS)))
    thick_upper, thick_lower = face.dist(0, 13), face.dist(14, 17)
    out += [
        ("upper_thickness_cv", _cv(thick_upper)),
        ("lower_thickness_cv", _cv(thick_lower)),
        ("open_upper_thickness_corr", _corr(face.open, thick_upper)),
        ("open_lower_thickness_corr", _corr(face.open, thick_lower)),
    ]
    change = np.abs(np.diff(face.open_outer))
    out += [
        ("mouth_still_fraction", float((change < 0.1 * np.percentile(change, 90)).mean())),
        ("open_periodicity", _peakiness(face.open_outer, fs)),
    ]
    return out


def _jaw(face):
    return _signal_stats("jaw_drop", face.jaw, face.fs)


def _coupling(face):
    opening, jaw, chin = face.open_outer, face.jaw, face.dist(199, 168)
    head = np.column_stack([face.pose[k] for k in ("tx", "ty", "roll", "scale")])
    head_speed = np.hypot(np.diff(face.pose["tx"]), np.diff(face.pose["ty"]))
    envelope = np.abs(np.diff(opening))
    brows = face.region("brows")[:, :, 1].mean(axis=1)
    slope = np.polyfit(opening, jaw, 1)[0] if opening.std() > _EPS else 0.0
    out = [
        ("open_jaw_corr", _corr(opening, jaw)),
        ("open_chin_corr", _corr(opening, chin)),
        ("open_jaw_speed_corr", _corr(np.diff(opening), np.diff(jaw))),
        ("jaw_per_open", float(slope)),
        ("width_cheek_corr", _corr(face.width, face.dist(205, 425))),
        ("open_head_y_corr", _corr(opening, face.pose["ty"])),
        ("mouth_head_speed_corr", _corr(envelope, head_speed)),
        ("mouth_brow_speed_corr", _corr(envelope, np.abs(np.diff(brows)))),
        ("head_per_mouth", float(head_speed.mean() / (envelope.mean() + _EPS))),
    ]
    for name in ("lips", "jaw", "nose", "eyes"):
        centre = face.region(name).mean(axis=1)
        out.append((f"{name}_slip", _fit_r2(np.diff(centre, axis=0), np.diff(head, axis=0))))
    corners = (face.at(61) + face.at(291)) / 2
    cheeks = (face.at(205) + face.at(425)) / 2
    out += [
        ("corner_cheek_corr", _corr(np.diff(corners[:, 1]), np.diff(cheeks[:, 1]))),
        ("cheek_per_corner", _speed(cheeks) / (_speed(corners) + _EPS)),
        ("nose_upper_lip_corr", _corr(np.diff(face.at(1)[:, 1]), np.diff(face.at(0)[:, 1]))),
    ]
    a = np.diff(opening) - np.diff(opening).mean()
    b = np.diff(face.at(152)[:, 1]) - np.diff(face.at(152)[:, 1]).mean()
    half = 5  # lags of up to 0.2 s at 25 fps
    xcorr = np.correlate(a, b, "full")[len(a) - 1 - half : len(a) + half]
    out += [
        ("open_chin_lag", float(np.argmax(np.abs(xcorr)) - half)),
        ("open_chin_xcorr", float(xcorr.max() / (np.sqrt((a * a).sum() * (b * b).sum()) + _EPS))),
    ]
    return out


def _eyes(face):
    def eye_opening(lids, corners):
        (a, b), (c, d), (e, f) = lids
        return (face.dist(a, b) + face.dist(c, d) + face.dist(e, f)) / (
            2 * face.dist(*corners) + _EPS
        )

    right = eye_opening(((159, 145), (158, 153), (160, 144)), (33, 133))
    left = eye_opening(((386, 374), (385, 380), (387, 373)), (362, 263))
    both = (right + left) / 2
    duration_min = len(both) / face.fs / 60
    brow_right = face.y(70, 63, 105, 66, 107) - face.y(159, 158, 160)
    brow_left = face.y(300, 293, 334, 296, 336) - face.y(386, 385, 387)

    def gaze(iris, a, b):  # the iris centre in its eye's frame, in eye widths
        centre = (face.at(a) + face.at(b)) / 2
        return (face.at(iris) - centre) / (face.dist(a, b)[:, None] + _EPS)

    gaze_right, gaze_left = gaze(468, 33, 133), gaze(473, 362, 263)
    g = (gaze_right + gaze_left) / 2
    g_speed = np.linalg.norm(np.diff(g, axis=0), axis=1)
    med = np.median(g_speed)
    jump = med + 4 * np.median(np.abs(g_speed - med)) + _EPS
    saccades = int(((g_speed[1:] > jump) & (g_speed[:-1] <= jump)).sum())
    return [
        ("eye_open_cv", _cv(both)),
        ("eye_open_speed", _speed(both) / (both.mean() + _EPS)),
        ("blink_rate", _blinks(both) / duration_min),
        ("eye_lr_corr", _corr(right, left)),
        ("eye_lr_speed_corr", _corr(np.diff(right), np.diff(left))),
        ("brow_std", float((brow_right + brow_left).std())),
        ("brow_speed", _speed(brow_right + brow_left)),
        ("brow_lr_corr", _corr(brow_right, brow_left)),
        ("gaze_std", float(g.std(axis=0).sum())),
        ("gaze_speed", _speed(g)),
        ("saccade_rate", saccades / (len(g) / face.fs)),
        ("gaze_lr_corr", _corr(gaze_right[:, 0], gaze_left[:, 0])),
        ("gaze_speed_kurtosis", _kurtosis(g_speed)),
    ]


# family -> (function, the region of each of its features when not "context")
_FAMILIES = (_head, _rigid, _regions, _mouth, _jaw, _coupling, _eyes)
# features of these families, or with these names, read the lip points alone
_LIPS_FAMILIES = {"_mouth"}
_LIPS_NAMES = {
    "lips_jerk",
    "lips_fast",
    "lips_speed_kurtosis",
    "lips_speed_cv",
}


def _compute(points, pose, fs):
    face = _Face(points, pose, fs)
    values = []
    for family in _FAMILIES:
        values += [(name, value, family.__name__) for name, value in family(face)]
    return values


def _describe():
    """(name, region, family) of every feature, read off a dry run on a synthetic clip."""
    t = np.arange(64)[:, None, None]
    rng = np.random.default_rng(0)
    base = rng.normal(size=(1, FACE_CLIP_ROWS, 2))
    clip = base + 0.01 * np.sin(0.3 * t + rng.normal(size=(1, FACE_CLIP_ROWS, 2)))
    out = []
    for name, _, family in _compute(clip[:, :-2], clip[:, -2:], DEFAULT_FPS):
        lips = family in _LIPS_FAMILIES or name in _LIPS_NAMES
        out.append((name, "lips" if lips else "context", family.strip("_")))
    return tuple(out)


#: Every feature, in the order of :func:`face_motion_features`, as ``(name, region,
#: family)``: region ``"lips"`` for features that read the lip points alone.
FEATURES = _describe()
#: Number of features of a clip.
N_FEATURES = len(FEATURES)


def feature_names(regions="both"):
    """Names of the features that read ``regions``: ``"lips"``, ``"context"`` or ``"both"``."""
    if regions not in ("lips", "context", "both"):
        raise InputError(f"regions must be 'lips', 'context' or 'both', got {regions!r}")
    return tuple(name for name, region, _ in FEATURES if regions in ("both", region))


def face_motion_features(clip, *, fs=DEFAULT_FPS, lowpass=6.0, name="clip"):
    """The whole-face motion features of one face clip.

    Parameters
    ----------
    clip : ndarray of shape (T, 132, 2)
        A face clip (module docstring): at least :func:`min_frames` frames, finite.
    fs : float, default=25.0
        Its frame rate (the extractor's analysis rate).
    lowpass : float or None, default=6.0
        Cut-off in Hz of the zero-phase low-pass applied to every point and pose signal
        first (:func:`lipanomaly.signal.filters.lowpass`); None reads the clip as it is.
    name : str, default="clip"
        How the clip is named in messages.

    Returns
    -------
    features : ndarray of shape (N_FEATURES,), float64
        In the order of :data:`FEATURES`.

    Raises
    ------
    InputError
        If the clip is not a face clip, is shorter than :data:`MIN_SECONDS`, or a feature
        comes out NaN or inf (the message names the clip and the feature).
    """
    clip = np.asarray(clip, dtype=np.float64)
    if clip.ndim != 3 or clip.shape[1:] != (FACE_CLIP_ROWS, 2):
        raise InputError(
            f"{name}: expected a face clip of shape (T, {FACE_CLIP_ROWS}, 2) (the 130 face "
            "points and the head pose: LipLandmarkExtractor(points='face', head_frame='rigid', "
            f"pose=True)), got shape {clip.shape}"
        )
    if len(clip) < min_frames(fs):
        raise InputError(
            f"{name}: {len(clip)} frames ({len(clip) / fs:.2f} s at {fs:g} fps); the face "
            f"motion features need at least {MIN_SECONDS:g} s ({min_frames(fs)} frames)"
        )
    if lowpass is not None:
        clip = _lowpass(clip, cutoff=lowpass, fs=fs)
    values = _compute(clip[:, :-2], clip[:, -2:], fs)
    out = np.array([v for _, v, _ in values], dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(out))
    if bad.size:
        raise InputError(
            f"{name}: the feature(s) {[FEATURES[i][0] for i in bad[:3]]} are not finite for "
            "this clip (degenerate landmarks?)"
        )
    return out
