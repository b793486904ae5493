"""FaceMesh point sets, head normalisation, gaps, resampling and light smoothing.

Pure numpy / scipy: everything here works on landmark arrays, never on video. The steps that
turn a FaceMesh track into lip sequences, in the order
:class:`~lipanomaly.io.extraction.LipLandmarkExtractor` applies them:

1. :func:`normalize_head`: pixel coordinates, then translation, in-plane rotation and scale
   removed with stable non-lip anchor points (eye corners, nose bridge);
2. :func:`face_segments` and :func:`interpolate_gaps`: frames without a face are filled
   by linear interpolation when the gap is short, and split the track when it is long;
3. :func:`resample`: each segment is brought to the analysis rate (25 fps by default);
4. :func:`ema_smooth`: optional, very light zero-phase smoothing.

With ``points="face"`` the extractor keeps the face around the lips too
(:data:`FACE_REGIONS`); with ``head_frame="rigid"`` the head frame is fitted to a rigid
reference set of points rather than to the eye line, and with ``pose=True`` the head pose
of every frame (:func:`head_pose`) is kept as two more rows of the clip.

FaceMesh indices (MediaPipe ``face_mesh`` with ``refine_landmarks=True``, 478 points):

- ``"lips"``: the 40 ``FACEMESH_LIPS`` points, ascending: 0 13 14 17 37 39 40 61 78 80 81 82
  84 87 88 91 95 146 178 181 185 191 267 269 270 291 308 310 311 312 314 317 318 321 324 375
  402 405 409 415;
- ``"outer"``: the outer lip contour, 20 points in ring order from the mouth corner 61: 61 146
  91 181 84 17 314 405 321 375 291 409 270 269 267 0 37 39 40 185;
- ``"inner"``: the inner lip contour, 20 points in ring order from 78: 78 95 88 178 87 14 317
  402 318 324 308 415 310 311 312 13 82 81 80 191;
- ``"outer+inner"``: the same 40 points as ``"lips"``, outer ring then inner ring (ring order,
  convenient for drawing contours);
- ``"face"``: :data:`FACE_POINTS`, the 130 points of :data:`FACE_REGIONS`: the 40 lip
  points first (in the order of ``"lips"``), then jaw and chin, cheeks, nose, eyes (lids
  and iris centres) and brows, and the rigid reference set;
- anchors of the head frame: eye corners 33 133 (subject's right eye, outer / inner) and
  362 263 (left eye, inner / outer); nose bridge 168 6 197 195.
"""

import warnings
from types import MappingProxyType

import numpy as np
from scipy import signal as _sps

from ..exceptions import InputError
from ..limits import MAX_FRAMES, MAX_LIP_UNITS

__all__ = [
    "FACEMESH_LIPS",
    "FACE_POINTS",
    "FACE_REGIONS",
    "HEAD_ANCHORS",
    "HEAD_FRAMES",
    "LEFT_EYE_CORNERS",
    "LIPS_INNER",
    "LIPS_OUTER",
    "NOSE_BRIDGE",
    "POINT_SETS",
    "POSE_ROWS",
    "RIGHT_EYE_CORNERS",
    "ema_smooth",
    "face_box",
    "face_segments",
    "head_frames",
    "head_pose",
    "interpolate_gaps",
    "normalize_head",
    "normalize_in_frames",
    "resample",
    "resolve_points",
]

#: The 40 lip points of MediaPipe's ``FACEMESH_LIPS``, ascending (the order of the
#: reference extractions' ``lips_idx``).
FACEMESH_LIPS = (
    0, 13, 14, 17, 37, 39, 40, 61, 78, 80, 81, 82, 84, 87, 88, 91, 95, 146, 178, 181,
    185, 191, 267, 269, 270, 291, 308, 310, 311, 312, 314, 317, 318, 321, 324, 375, 402,
    405, 409, 415,
)  # fmt: skip
#: Outer lip contour in ring order, from the mouth corner 61 along the lower lip.
LIPS_OUTER = (
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
)  # fmt: skip
#: Inner lip contour in ring order, from the inner corner 78 along the lower lip.
LIPS_INNER = (
    78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191,
)  # fmt: skip
#: The face around the lips, by region (FaceMesh indices with ``refine_landmarks=True``):
#: the lips; jaw line and chin; cheeks; nose tip and wings; eyes (upper and lower lids of
#: both eyes, the iris centres 468 and 473); brows; and the rigid reference set, points
#: that speech barely moves (forehead, nose bridge, eye corners, temples), to which the
#: ``"rigid"`` head frame is fitted.
FACE_REGIONS = MappingProxyType({
    "lips": FACEMESH_LIPS,
    "jaw": (
        152, 148, 176, 149, 150, 136, 172, 58, 132, 377, 400, 378, 379, 365, 397, 288, 361,
        175, 199, 200,
    ),
    "cheeks": (50, 280, 205, 425, 187, 411, 123, 352, 116, 345, 117, 346, 101, 330),
    "nose": (1, 2, 4, 98, 327, 129, 358, 48, 278),
    "eyes": (
        159, 158, 160, 145, 144, 153, 386, 385, 387, 374, 373, 380, 468, 473, 157, 154, 384,
        381,
    ),
    "brows": (70, 63, 105, 66, 107, 300, 293, 334, 296, 336),
    "rigid": (
        10, 151, 9, 8, 168, 6, 197, 195, 5, 33, 133, 362, 263, 127, 356, 234, 454, 21, 251,
    ),
})  # fmt: skip
#: The 130 points of :data:`FACE_REGIONS`, region after region (the lips first).
FACE_POINTS = tuple(i for region in FACE_REGIONS.values() for i in region)
#: Named point sets accepted by ``LipLandmarkExtractor(points=...)``.
POINT_SETS = MappingProxyType(
    {
        "lips": FACEMESH_LIPS,
        "outer": LIPS_OUTER,
        "inner": LIPS_INNER,
        "outer+inner": LIPS_OUTER + LIPS_INNER,
        "face": FACE_POINTS,
    }
)
#: How the head frame of every video frame is found (``LipLandmarkExtractor(head_frame=...)``):
#: ``"eyes"``, from the eye corners and the nose bridge (:data:`HEAD_ANCHORS`); ``"rigid"``,
#: a least-squares similarity fit of the rigid reference set (``FACE_REGIONS["rigid"]``).
HEAD_FRAMES = ("eyes", "rigid")
#: The two rows that ``pose=True`` appends to a clip, in order: the head's translation
#: (x, y), and its in-plane rotation and log scale (see :func:`head_pose`).
POSE_ROWS = ("translation", "rotation_scale")
#: Subject's right eye, outer and inner corner (left in a non-mirrored image).
RIGHT_EYE_CORNERS = (33, 133)
#: Subject's left eye, inner and outer corner.
LEFT_EYE_CORNERS = (362, 263)
#: Nose bridge, from between the eyes down the dorsum (above the tip, which the upper lip
#: pulls on).
NOSE_BRIDGE = (168, 6, 197, 195)
#: The stable non-lip points whose centroid is the origin of the head frame.
HEAD_ANCHORS = RIGHT_EYE_CORNERS + LEFT_EYE_CORNERS + NOSE_BRIDGE

_N_FACEMESH = 478


def resolve_points(points):
    """Return the FaceMesh indices of a named point set or of explicit indices.

    Parameters
    ----------
    points : {"lips", "outer", "inner", "outer+inner"} or sequence of int
        A name of :data:`POINT_SETS` or FaceMesh indices in ``[0, 478)``.

    Returns
    -------
    indices : ndarray of shape (K,), dtype intp
    """
    if isinstance(points, str):
        if points not in POINT_SETS:
            raise InputError(
                f"points must be one of {sorted(POINT_SETS)} or a sequence of FaceMesh "
                f"indices, got {points!r}"
            )
        return np.asarray(POINT_SETS[points], dtype=np.intp)
    idx = np.asarray(points)
    if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
        raise InputError(
            f"points must be a non-empty 1-D sequence of int FaceMesh indices, got {points!r}"
        )
    if idx.min() < 0 or idx.max() >= _N_FACEMESH or np.unique(idx).size != idx.size:
        raise InputError(
            f"points must be distinct FaceMesh indices in [0, {_N_FACEMESH}), got {idx.tolist()}"
        )
    return idx.astype(np.intp)


def _pixels(landmarks, width, height, points):
    # float64 before scaling: the float32 of track files and of MediaPipe give the same result
    lm = np.asarray(landmarks)
    return lm[:, np.asarray(points, dtype=np.intp), :2].astype(np.float64) * np.array(
        [width, height], dtype=np.float64
    )


def head_frames(landmarks, width, height, *, frame="eyes"):
    """The head frame of every video frame: a similarity transform, in pixels.

    Parameters
    ----------
    landmarks : array-like of shape (T, 478, 2) or (T, 478, 3)
        FaceMesh points in MediaPipe's normalised image coordinates; NaN rows where no
        face was found.
    width, height : int
        Frame size in pixels.
    frame : {"eyes", "rigid"}, default="eyes"
        ``"eyes"``: the origin is the centroid of :data:`HEAD_ANCHORS`, the x axis the
        eye line (from the centre of the right eye's corners to the left eye's) and the
        unit its length, the inter-ocular distance. ``"rigid"``: the least-squares
        similarity (Procrustes) fit of the rigid reference set ``FACE_REGIONS["rigid"]``
        onto its own median shape over the track (in ``"eyes"`` units); the origin is the
        set's centroid. Fitted to 19 points that speech barely moves rather than to four
        eye corners, it follows the head with less of the eyes' own motion (blinks,
        squints).

    Returns
    -------
    origin : ndarray of shape (T, 2)
        The head's origin in pixels.
    rotation : ndarray of shape (T,), complex
        In-plane rotation of the head (roll), as the unit number ``exp(1j * angle)``.
    scale : ndarray of shape (T,)
        Pixels per head unit (the inter-ocular distance for ``"eyes"``); NaN where the
        frame is degenerate (a collapsed eye line or reference set) or has no face.
    """
    if frame not in HEAD_FRAMES:
        raise InputError(f"frame must be one of {list(HEAD_FRAMES)}, got {frame!r}")
    anchors = _pixels(landmarks, width, height, HEAD_ANCHORS)
    n_right = len(RIGHT_EYE_CORNERS)
    n_eyes = n_right + len(LEFT_EYE_CORNERS)
    eye_axis = anchors[:, n_right:n_eyes].mean(axis=1) - anchors[:, :n_right].mean(axis=1)
    origin = anchors.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.hypot(eye_axis[:, 0], eye_axis[:, 1])
        scale = np.where(scale > 0, scale, np.nan)  # a collapsed eye line is no face
        rotation = eye_axis[:, 0] / scale + 1j * (eye_axis[:, 1] / scale)
        if frame == "eyes":
            return origin, rotation, scale
        rigid = _pixels(landmarks, width, height, FACE_REGIONS["rigid"])
        centre = rigid.mean(axis=1)
        # complex coordinates: a similarity transform is one multiplication
        z = (rigid[..., 0] - centre[:, None, 0]) + 1j * (rigid[..., 1] - centre[:, None, 1])
        in_eyes = z * np.conj(rotation)[:, None] / scale[:, None]
        ok = np.isfinite(in_eyes).all(axis=1)
        if not ok.any():  # no face in any frame
            return centre, rotation, scale
        template = np.median(in_eyes[ok].real, axis=0) + 1j * np.median(in_eyes[ok].imag, axis=0)
        template -= template.mean()
        # least squares z ~ m * template per frame: rotation m / |m|, scale |m|
        m = (np.conj(template)[None] * z).sum(axis=1) / (np.abs(template) ** 2).sum()
        size = np.abs(m)
        scale = np.where(size > 0, size, np.nan)
        return centre, m / scale, scale


def head_pose(origin, rotation, scale):
    """The head pose of each frame of a face segment, in head units: no pixels.

    Parameters
    ----------
    origin, rotation, scale : ndarray of shape (T, 2), (T,) and (T,)
        The head frames of one face segment (:func:`head_frames`); NaN in frames without
        a face.

    Returns
    -------
    pose : ndarray of shape (T, 2, 2)
        Row 0: the translation ``(x, y)`` of the head's origin from its median position
        over the segment, along the head's mean axes (x along its mean eye line, so that a
        tilted camera does not turn it), in units of the segment's median head size
        (inter-ocular distances), clipped to :data:`~lipanomaly.limits.MAX_LIP_UNITS`. Row 1: the
        rotation in radians from the segment's mean direction, and ``log(scale /
        median scale)`` (approach to and away from the camera). NaN where the input is.
    """
    ok = np.isfinite(scale) & np.isfinite(rotation) & np.isfinite(origin).all(axis=1)
    pose = np.full((len(scale), 2, 2), np.nan)
    if not ok.any():
        return pose
    unit = np.median(scale[ok])
    mean_dir = rotation[ok].mean()
    mean_dir /= np.abs(mean_dir)
    # translation along the head's own mean axes: a tilted camera does not turn it
    d = origin[ok] - np.median(origin[ok], axis=0)
    along = (d[:, 0] + 1j * d[:, 1]) * np.conj(mean_dir) / unit
    pose[ok, 0] = np.clip(np.column_stack([along.real, along.imag]), -MAX_LIP_UNITS, MAX_LIP_UNITS)
    # the angle from the mean direction: never wraps for a face (|roll| < pi / 2)
    pose[ok, 1, 0] = np.angle(rotation[ok] * np.conj(mean_dir))
    pose[ok, 1, 1] = np.log(scale[ok] / unit)
    return pose


def normalize_head(landmarks, width, height, points=FACEMESH_LIPS, *, frame="eyes", frames=None):
    """Express ``points`` in a head frame: anchor centroid at 0, eye line along +x, unit scale.

    Per frame, with ``p = (x * width, y * height)`` in pixels (MediaPipe divides x by the
    width and y by the height, so a non-square frame must be un-squeezed before any angle
    or distance means anything):

    - origin ``o``: the centroid of :data:`HEAD_ANCHORS` (eye corners and nose bridge);
    - ``e``: from the centre of the right eye's corners to the centre of the left eye's;
      ``s = |e|`` (inter-ocular distance), ``theta = atan2(e_y, e_x)``;
    - ``p' = R(-theta) (p - o) / s``.

    With ``frame="rigid"``, ``o``, ``theta`` and ``s`` come from the similarity fit of the
    rigid reference set instead (:func:`head_frames`).

    Head translation, in-plane rotation (roll) and distance to the camera (scale) are
    removed; out-of-plane rotation (yaw, pitch) is not, since the tracks are 2-D.

    A frame whose head frame is degenerate is not a face and comes out as NaN, like a
    frame where FaceMesh found none (so that it is interpolated over when the gap is short,
    or splits the track): the eye line has collapsed (``s == 0``), or it is so short that
    a lip point lands more than :data:`~lipanomaly.limits.MAX_LIP_UNITS` inter-ocular
    distances from the origin (real faces: under 3). Dividing by an inter-ocular distance
    near 0 can therefore never produce huge or non-finite lip coordinates.

    Parameters
    ----------
    landmarks : array-like of shape (T, 478, 2) or (T, 478, 3)
        FaceMesh points in MediaPipe's normalised image coordinates; NaN rows where no
        face was found. A third (z) coordinate is ignored.
    width, height : int
        Frame size in pixels.
    points : sequence of int, default=FACEMESH_LIPS
        FaceMesh indices to return.
    frame : {"eyes", "rigid"}, default="eyes"
        How the head frame is found (:func:`head_frames`).
    frames : tuple or None, default=None
        The head frames, if already computed by :func:`head_frames` (``frame`` is then
        not read).

    Returns
    -------
    normalized : ndarray of shape (T, K, 2), float64
        ``points`` in inter-ocular units, each within ``MAX_LIP_UNITS`` of 0; NaN in
        frames without a face (or with a degenerate eye line).
    """
    if frames is None:
        frames = head_frames(landmarks, width, height, frame=frame)
    return normalize_in_frames(_pixels(landmarks, width, height, points), *frames)


def normalize_in_frames(pixels, origin, rotation, scale):
    """Points in pixels, ``(T, K, 2)``, in the head frames of :func:`head_frames`.

    Frames whose points land farther than :data:`~lipanomaly.limits.MAX_LIP_UNITS` from
    the origin (a degenerate head frame) come out as NaN, like frames without a face.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = rotation.real[:, None]
        sin = rotation.imag[:, None]
        d = pixels - origin[:, None, :]
        out = np.empty_like(d)
        out[..., 0] = (cos * d[..., 0] + sin * d[..., 1]) / scale[:, None]
        out[..., 1] = (-sin * d[..., 0] + cos * d[..., 1]) / scale[:, None]
        # a near-collapsed eye line blows the lips up: such a frame is no face either
        out[~(np.abs(out) <= MAX_LIP_UNITS).all(axis=(1, 2))] = np.nan
    return np.ascontiguousarray(out)


def face_box(landmarks):
    """Median box of a face over frames, as fractions of the frame's width and height.

    Parameters
    ----------
    landmarks : ndarray of shape (T, n_points, 2 or 3)
        FaceMesh points normalised by the frame size (a track's ``landmarks``); NaN rows
        (no face) are ignored.

    Returns
    -------
    box : tuple of float
        ``(x0, y0, x1, y1)``: which face was followed, where in the frame.
    """
    xy = np.asarray(landmarks, dtype=np.float64)[..., :2]
    xy = xy[np.isfinite(xy).all(axis=2).any(axis=1)]  # frames with a face
    if not len(xy):
        return (np.nan,) * 4
    with warnings.catch_warnings():  # points a track leaves out are NaN in every frame
        warnings.simplefilter("ignore", RuntimeWarning)
        box = np.concatenate([np.nanmin(xy, axis=1), np.nanmax(xy, axis=1)], axis=1)
    return tuple(float(v) for v in np.median(box, axis=0))


def face_segments(valid, *, max_gap, min_length=1):
    """Split a track into runs of face frames, bridging gaps of at most ``max_gap`` frames.

    Parameters
    ----------
    valid : array-like of bool, shape (T,)
        Whether a face was found in each frame.
    max_gap : int
        Longest run of missing frames inside a segment (to be interpolated); longer runs
        split the track. Missing frames at the start or end are never part of a segment.
    min_length : int, default=1
        Segments spanning fewer frames are dropped.

    Returns
    -------
    segments : list of (start, stop)
        Half-open frame ranges, in order; ``valid[start]`` and ``valid[stop - 1]`` are True.
    """
    idx = np.flatnonzero(np.asarray(valid, dtype=bool))
    if idx.size == 0:
        return []
    # a new segment starts where the jump to the next face frame skips more than max_gap
    breaks = np.flatnonzero(np.diff(idx) - 1 > max_gap)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    stops = np.concatenate([idx[breaks], [idx[-1]]]) + 1
    return [(int(a), int(b)) for a, b in zip(starts, stops) if b - a >= min_length]


def interpolate_gaps(x):
    """Fill NaN frames of ``x`` by linear interpolation in time between face frames.

    Parameters
    ----------
    x : ndarray of shape (T, ...)
        A segment whose first and last frames are finite; a frame counts as missing when
        any of its values is NaN.

    Returns
    -------
    filled : ndarray of shape (T, ...), float64
    """
    x = np.array(x, dtype=np.float64, order="C")
    flat = x.reshape(len(x), -1)  # a view: filling flat fills x
    ok = np.isfinite(flat).all(axis=1)
    if ok.all():
        return x
    if not (ok[0] and ok[-1]):
        raise InputError("interpolate_gaps needs a finite first and last frame")
    t = np.arange(len(x))
    good = np.flatnonzero(ok)
    # for each missing frame, the face frames just before and after it
    after = good[np.searchsorted(good, t[~ok])]
    before = good[np.searchsorted(good, t[~ok]) - 1]
    w = ((t[~ok] - before) / (after - before))[:, None]
    flat[~ok] = (1 - w) * flat[before] + w * flat[after]
    return x


def resample(x, fps_in, fps_out):
    """Linearly resample ``x`` along time from ``fps_in`` to ``fps_out``.

    Output frame ``j`` is at time ``j / fps_out`` (frame 0 stays frame 0), for every
    time inside the input's span ``[0, (T - 1) / fps_in]``. Equal rates return a copy.
    Linear interpolation never overshoots; it attenuates content near the output
    Nyquist frequency slightly, and a 30 to 25 fps conversion folds the little lip
    motion above 12.5 Hz back into the band.

    Parameters
    ----------
    x : array-like of shape (T, ...)
    fps_in, fps_out : float
        Input and output frame rates.

    Returns
    -------
    resampled : ndarray of shape (T_out, ...), float64
        ``T_out = floor((T - 1) * fps_out / fps_in) + 1``.

    Raises
    ------
    InputError
        If a rate is not a positive finite number, or ``T_out`` would exceed
        :data:`~lipanomaly.limits.MAX_FRAMES` (checked before anything is allocated).
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    for what, rate in (("fps_in", fps_in), ("fps_out", fps_out)):
        if not (np.isfinite(rate) and rate > 0):
            raise InputError(f"resample: {what} must be a positive frame rate, got {rate}")
    if n <= 1 or np.isclose(fps_in, fps_out, rtol=1e-9, atol=0):
        return x.copy()
    ratio = fps_in / fps_out
    n_out = int(np.floor((n - 1) / ratio + 1e-9)) + 1
    if n_out > MAX_FRAMES:
        raise InputError(
            f"resampling {n} frames from {fps_in:g} to {fps_out:g} fps gives {n_out} frames, "
            f"more than {MAX_FRAMES} (lipanomaly.limits.MAX_FRAMES)"
        )
    t = np.arange(n_out) * ratio  # output frame times in input frames
    i0 = np.minimum(np.floor(t).astype(np.intp), n - 2)
    w = (t - i0).reshape((-1,) + (1,) * (x.ndim - 1))
    return (1 - w) * x[i0] + w * x[i0 + 1]


def ema_smooth(x, alpha):
    """Zero-phase exponential moving average along time (forward, then backward).

    ``y[t] = alpha * x[t] + (1 - alpha) * y[t - 1]``, started at ``y[0] = x[0]``, run
    forwards and then backwards so that no delay is introduced. ``alpha=1`` returns ``x``;
    values near 1 (0.7 to 0.9) only touch frame-to-frame jitter: the fast detail is the
    signal the detector looks at.

    Parameters
    ----------
    x : array-like of shape (T, ...)
    alpha : float in (0, 1]
        Weight of the new sample.

    Returns
    -------
    smoothed : ndarray of shape (T, ...), float64
    """
    x = np.asarray(x, dtype=np.float64)
    if alpha >= 1 or len(x) < 2:
        return x.copy()
    b, a = [alpha], [1.0, alpha - 1.0]

    def _pass(v):
        zi = (1 - alpha) * v[:1]  # steady state at the first sample: no start-up transient
        return _sps.lfilter(b, a, v, axis=0, zi=zi)[0]

    return _pass(_pass(x)[::-1])[::-1].copy()
