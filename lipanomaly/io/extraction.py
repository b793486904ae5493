"""``LipLandmarkExtractor``: videos and FaceMesh tracks to normalised lip sequences.

Every input, whatever its kind, goes one way: a video is run through MediaPipe FaceMesh
(:func:`lipanomaly.io.video.read_video_track`) into a :class:`~lipanomaly.io.tracks.Track`, a
track file is read into one (:func:`~lipanomaly.io.tracks.read_track`), an in-memory
``Track`` is one already; then one function, ``_track_to_segments``, normalises the head,
handles missing faces, resamples and smooths. So a video and its track file give the same
lip sequence, bit for bit.

This module imports neither OpenCV nor MediaPipe: :mod:`lipanomaly.io.video` does, when the
first video is read.
"""

import numbers
import os
import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import ClassVar

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, StrOptions

from .._validation import check_clips, user_level
from ..exceptions import InputError, MissingDependencyError
from ..limits import DEFAULT_FPS, MAX_FPS, MIN_FPS, VIDEO_EXTENSIONS
from .cache import cache_key, cached_video_track
from .landmarks import (
    HEAD_FRAMES,
    POINT_SETS,
    ema_smooth,
    face_box,
    face_segments,
    head_frames,
    head_pose,
    interpolate_gaps,
    normalize_head,
    resample,
    resolve_points,
)
from .tracks import Track, read_track, write_track

__all__ = [
    "VIDEO_EXTENSIONS",
    "CacheWarning",
    "ExtractedClips",
    "ExtractionWarning",
    "LipLandmarkExtractor",
    "cache_key",
    "extract_folder",
    "extract_videos",
    "find_files",
]


class ExtractedClips(list):
    """The lip sequences of :meth:`LipLandmarkExtractor.transform`: a list that knows their rate.

    A plain ``list`` of arrays in every respect, with one attribute more, ``fps``: the
    frame rate the clips were resampled to (None: each input's own). A detector behind the
    extractor in a ``Pipeline`` reads it and refuses clips at another rate than its ``fs``
    (:class:`~lipanomaly.scoring.components.LFHFComponents`). Slicing or copying it gives a plain
    list, which is not checked.

    Parameters
    ----------
    clips : iterable of ndarray of shape (T_i, K, 2)
    fps : float or None
    """

    def __init__(self, clips, fps):
        super().__init__(clips)
        self.fps = fps


class ExtractionWarning(UserWarning):
    """Frames or inputs were dropped during extraction (the message names the file)."""


class CacheWarning(UserWarning):
    """An extractor cache entry was foreign or damaged (recomputed) or could not be written."""


class LipLandmarkExtractor(TransformerMixin, BaseEstimator):
    """Turn talking-face videos or FaceMesh tracks into head-normalised lip sequences.

    One input gives one clip: ``transform(X)[i]`` comes from ``X[i]``, so the extractor can
    stand first in a ``Pipeline`` whose ``y`` labels the videos. The extractor learns
    nothing: ``fit`` only checks the parameters.

    Each input goes through the same steps (see ``docs/extraction.md``):

    1. landmarks: a video is decoded with OpenCV and every frame is passed, as RGB, to
       MediaPipe's legacy ``FaceMesh(static_image_mode=False, max_num_faces=1,
       refine_landmarks=True)`` (478 points; the model ships inside mediapipe 0.10.14,
       nothing is downloaded); a track file or a ``Track`` already holds them;
    2. head normalisation: x and y are scaled to pixels (``x * width``, ``y * height``),
       then each frame is translated to the centroid of stable non-lip anchors, rotated
       so that the eye line is horizontal and divided by the inter-ocular distance;
       anchors are the eye corners 33, 133 (subject's right eye) and 362, 263 (left eye)
       and the nose bridge 168, 6, 197, 195 (``head_frame="eyes"``); or the frame is the
       least-squares similarity fit of a rigid reference set of 19 points
       (``head_frame="rigid"``); with ``pose=True`` the head pose that this removes is
       kept, in head units, as two more rows of each clip;
    3. missing faces: runs of at most ``max_gap`` seconds without a face are filled by
       linear interpolation; longer runs split the track into face segments, segments
       shorter than ``min_segment`` seconds and missing frames at either end are dropped;
       the longest segment is returned (:meth:`transform_segments` returns all), with an
       :class:`ExtractionWarning` naming the file and the dropped frames;
    4. resampling of each segment to ``fps`` by linear interpolation;
    5. optional zero-phase exponential smoothing (off by default: the fast detail is the
       signal).

    Parameters
    ----------
    points : {"lips", "outer", "inner", "outer+inner", "face"} or array-like of int, \
default="lips"
        FaceMesh points to return: ``"lips"`` the 40 ``FACEMESH_LIPS`` points in ascending
        index order (0 13 14 17 37 39 40 61 78 80 81 82 84 87 88 91 95 146 178 181 185
        191 267 269 270 291 308 310 311 312 314 317 318 321 324 375 402 405 409 415);
        ``"outer"`` the 20 outer-contour points in ring order (61 146 91 181 84 17 314 405
        321 375 291 409 270 269 267 0 37 39 40 185); ``"inner"`` the 20 inner-contour
        points (78 95 88 178 87 14 317 402 318 324 308 415 310 311 312 13 82 81 80 191);
        ``"outer+inner"`` both rings (the 40 lip points in ring order); ``"face"`` the
        130 points of the face around the lips, the 40 lip points first
        (:data:`lipanomaly.io.landmarks.FACE_REGIONS`: lips, jaw and chin, cheeks, nose,
        eyes and brows, and the rigid reference set); or explicit FaceMesh indices in
        [0, 478).
    head_frame : {"eyes", "rigid"}, default="eyes"
        The head frame every frame is normalised in: ``"eyes"`` (eye line and nose bridge,
        above) or ``"rigid"`` (a similarity fit of the rigid reference set, which the
        eyes' own motion moves less; :func:`lipanomaly.io.landmarks.head_frames`).
    pose : bool, default=False
        Also keep the head pose of every frame, as two rows after the points: row ``K``
        the head's translation ``(x, y)`` from its median position over the clip, in
        median inter-ocular distances; row ``K + 1`` its in-plane rotation in radians and
        its log scale, both from their clip median
        (:func:`lipanomaly.io.landmarks.head_pose`). No pixel unit remains. Clips then have
        shape ``(T, K + 2, 2)``.
    fps : float or None, default=25.0
        Analysis frame rate every clip is resampled to
        (:data:`~lipanomaly.limits.DEFAULT_FPS` by default), from
        :data:`~lipanomaly.limits.MIN_FPS` to :data:`~lipanomaly.limits.MAX_FPS` (1 to 240);
        None keeps each input's own rate.
    max_gap : float, default=0.2
        Longest run of frames without a face, in seconds, that is interpolated; a longer
        run splits the track.
    min_segment : float, default=0.4
        Face segments shorter than this, in seconds, are dropped (detection flickers,
        e.g. a face found for one frame of a wide shot).
    smoothing : float in (0, 1] or None, default=None
        None: no smoothing. A float ``alpha``: zero-phase exponential moving average with
        weight ``alpha`` on the new frame (1 = none; 0.8 is light).
    n_jobs : int or None, default=None
        Inputs processed in parallel through joblib (None: one, unless inside a
        ``joblib.parallel_backend`` context; -1: all cores). Works with
        ``joblib.parallel_backend("dask")`` to spread videos over a Dask cluster.
    cache_dir : str, path-like or None, default=None
        A folder of FaceMesh track files keyed by each video's content hash (SHA-256) and
        the settings that determine its landmarks (FaceMesh arguments, mediapipe and
        OpenCV versions). A video seen before is read from there instead of being run
        through FaceMesh again. Only videos are cached; the normalisation parameters
        above do not enter the key, since the cache holds raw FaceMesh points.
    errors : {"raise", "skip"}, default="raise"
        What happens when an input gives no clip (a missing, unreadable, truncated or
        empty video, a bad track file, no face in any segment). Every input is processed
        first, in parallel mode too; then ``"raise"`` raises one :class:`InputError` that
        lists every bad input with its reason, and ``"skip"`` leaves them out with an
        :class:`ExtractionWarning` for each. With ``"skip"``, :meth:`transform` returns
        fewer clips than inputs (do not use it where the output must stay aligned with
        ``y``); :meth:`transform_segments` stays aligned (an empty list for a skipped
        input).
    verbose : int, default=0
        0: silent. 1: a tqdm progress bar over the inputs, or over the frames when there
        is a single video. 2: also a frame bar for each video (useful with ``n_jobs=1``).

    Attributes
    ----------
    point_indices_ : ndarray of shape (K,)
        FaceMesh indices of the returned points, in output order.

    See Also
    --------
    lipanomaly.io.tracks.read_track : read a track file.
    extract_folder : write the track files of a folder of videos.

    Notes
    -----
    FaceMesh runs with ``max_num_faces=1`` in video mode: it detects the face its detector
    scores highest when no face is being tracked, then follows that face from frame to
    frame until tracking is lost (it does not switch to a larger face meanwhile). With
    several people, the clip therefore follows one person at a time; a cut to another
    person within ``max_gap`` is not detected as such.

    Head normalisation removes translation, roll and scale but not yaw or pitch (the tracks
    are 2-D). Output units are inter-ocular distances, the origin the anchors' centroid.

    Examples
    --------
    >>> from lipanomaly import LipLandmarkExtractor
    >>> from lipanomaly.io.tracks import read_track
    >>> ext = LipLandmarkExtractor()
    >>> clips = ext.fit_transform(["bbaf2n.mpg", "carphone.npz"])  # doctest: +SKIP
    >>> clips[0].shape  # doctest: +SKIP
    (75, 40, 2)
    """

    _parameter_constraints: ClassVar[dict] = {
        "points": [StrOptions(set(POINT_SETS)), "array-like"],
        "head_frame": [StrOptions(set(HEAD_FRAMES))],
        "pose": ["boolean"],
        "fps": [Interval(Real, MIN_FPS, MAX_FPS, closed="both"), None],
        "max_gap": [Interval(Real, 0, None, closed="left")],
        "min_segment": [Interval(Real, 0, None, closed="left")],
        "smoothing": [Interval(Real, 0, 1, closed="right"), None],
        "n_jobs": [Integral, None],
        "cache_dir": [str, os.PathLike, None],
        "errors": [StrOptions({"raise", "skip"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        points="lips",
        head_frame="eyes",
        pose=False,
        fps=DEFAULT_FPS,
        max_gap=0.2,
        min_segment=0.4,
        smoothing=None,
        n_jobs=None,
        cache_dir=None,
        errors="raise",
        verbose=0,
    ):
        self.points = points
        self.head_frame = head_frame
        self.pose = pose
        self.fps = fps
        self.max_gap = max_gap
        self.min_segment = min_segment
        self.smoothing = smoothing
        self.n_jobs = n_jobs
        self.cache_dir = cache_dir
        self.errors = errors
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Check the parameters; nothing is learnt.

        Parameters
        ----------
        X : ignored
            Not read: the extractor is stateless, and reading videos here would only
            repeat the work of :meth:`transform` (``fit_transform`` extracts once).
        y : ignored

        Returns
        -------
        self : LipLandmarkExtractor
        """
        self.point_indices_ = resolve_points(self.points)
        return self

    def transform(self, X):
        """Extract one lip sequence per input.

        Parameters
        ----------
        X : list of (str, path-like or Track) of length n_inputs
            Video files (anything OpenCV reads), track files (``.npz``) or
            :class:`~lipanomaly.io.tracks.Track` objects (in-memory FaceMesh arrays of shape
            (T, 478, 2) or (T, 478, 3) with their fps and frame size), mixed freely.

        Returns
        -------
        clips : ExtractedClips of ndarray of shape (T_i, K, 2), float64
            The longest face segment of each input at ``fps``; one per input (fewer only
            with ``errors="skip"``). No NaN. A ``list``, with the rate as ``clips.fps``.

        Raises
        ------
        InputError
            With ``errors="raise"``: one error that lists every input that gave no clip.
        """
        clips = [segs[_longest(segs)] for segs in self._extract(X, keep="longest") if segs]
        if not clips:
            raise InputError("X: no input gave a clip (all were skipped)")
        return ExtractedClips(check_clips(clips, name="extracted"), self.fps)

    def transform_segments(self, X):
        """Extract every face segment of each input.

        Parameters
        ----------
        X : list of (str, path-like or Track) of length n_inputs
            As in :meth:`transform`.

        Returns
        -------
        segments : list of length n_inputs of lists of ndarray of shape (T_ij, K, 2)
            ``segments[i]`` holds the face segments of ``X[i]`` in time order, each at
            ``fps`` (an empty list for an input skipped with ``errors="skip"``).
        """
        return self._extract(X, keep="all")

    def transform_report(self, X):
        """Extract each input without raising for a bad one: :meth:`transform`, as data.

        Parameters
        ----------
        X : list of (str, path-like or Track) of length n_inputs

        Returns
        -------
        report : list of length n_inputs of sklearn.utils.Bunch
            ``clip`` (the longest face segment, (T, K, 2), or None), ``error`` (why there is
            none, naming the input), ``note`` (frames or segments left out, cache entries
            repaired or not written; or None), ``start_s`` (time of the clip's first frame
            in the input, in seconds: add it to times within the clip to get video time)
            and ``face_box`` (the followed face's median box ``(x0, y0, x1, y1)`` as
            fractions of the frame's width and height; FaceMesh follows one face). The
            last two are None when there is no clip.
        """
        report = []
        for res in self._run(X):
            notes = list(res.cache_notes)  # the landmark cache's, never fatal
            if res.error is None and (res.note or len(res.segments) > 1):
                notes.insert(0, _drop_message(res, "longest", named=False))
            r = Bunch(clip=None, error=res.error, note="; ".join(notes) or None)
            r.start_s = r.face_box = None
            if res.error is None:
                k = _longest(res.segments)
                r.clip, r.start_s, r.face_box = (
                    res.segments[k],
                    res.ranges[k][0] / res.fps,
                    res.boxes[k],
                )
            report.append(r)
        return report

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False  # stateless: transform works without fit
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []  # always float64 lip sequences
        return tags

    # -- internals -------------------------------------------------------------------

    def _settings(self):
        return _Settings(
            points=tuple(int(i) for i in resolve_points(self.points)),
            head_frame=self.head_frame,
            pose=bool(self.pose),
            fps=None if self.fps is None else float(self.fps),
            max_gap=float(self.max_gap),
            min_segment=float(self.min_segment),
            smoothing=None if self.smoothing is None else float(self.smoothing),
            cache_dir=None if self.cache_dir is None else os.fspath(self.cache_dir),
        )

    def _run(self, X):
        """The worker's result for each input (errors are returned, not raised)."""
        self._validate_params()
        items = _check_inputs(X)
        settings = self._settings()
        n = len(items)
        frame_bars = self.verbose >= 2 or (self.verbose >= 1 and n == 1)
        return _run_parallel(
            _extract_item,
            [(i, item, settings, frame_bars) for i, item in enumerate(items)],
            n_jobs=self.n_jobs,
            progress=self.verbose >= 1 and n > 1,
            desc="lip landmarks",
        )

    def _extract(self, X, *, keep):
        results = self._run(X)
        _handle_errors(results, self.errors, len(results), what="inputs")
        out = []
        for res in results:
            if res.error is not None:
                out.append([])
                continue
            if res.note or (keep == "longest" and len(res.segments) > 1):
                warnings.warn(_drop_message(res, keep), ExtractionWarning, stacklevel=user_level())
            out.append(res.segments)
        return out


@dataclass(frozen=True)
class _Settings:
    points: tuple
    head_frame: str
    pose: bool
    fps: float | None
    max_gap: float
    min_segment: float
    smoothing: float | None
    cache_dir: str | None


@dataclass(kw_only=True)
class _Result:
    name: str  # "X[i]" (empty for extract_folder, whose messages name the file)
    path: str | None = None
    error: str | None = None
    segments: list = field(default_factory=list)
    ranges: list = field(default_factory=list)  # native frame range of each segment
    fps: float | None = None  # native frame rate (ranges / fps: seconds of the video)
    boxes: list = field(default_factory=list)  # face box of each segment (fractions of frame)
    n_frames: int = 0
    note: str | None = None  # frames dropped before segments were chosen
    cache_notes: list = field(default_factory=list)  # cache entries repaired or not written


def _check_inputs(X):
    """Return ``X`` as a list of inputs, rejecting what cannot be a collection of them."""
    if isinstance(X, (str, bytes, os.PathLike, Track)):
        raise InputError(
            f"X: got a single input ({type(X).__name__}); X is a list of inputs: pass [X]"
        )
    if isinstance(X, np.ndarray) and X.dtype.kind in "biufc":
        raise InputError(
            f"X: got a numeric array of shape {X.shape}; LipLandmarkExtractor takes a list of "
            "video paths, track files (.npz) or lipanomaly.io.tracks.Track objects (wrap a "
            "FaceMesh array of shape (T, 478, 2) as Track(landmarks, fps=..., width=..., "
            "height=...))"
        )
    if isinstance(X, numbers.Number) or not hasattr(X, "__len__"):
        raise InputError(f"X: expected a list of inputs, got {type(X).__name__}")
    items = list(X)
    if not items:
        raise InputError("X: the list of inputs is empty")
    for i, item in enumerate(items):
        if not isinstance(item, (str, os.PathLike, Track)):
            hint = ""
            if isinstance(item, np.ndarray):
                hint = (
                    "; wrap a FaceMesh array of shape (T, 478, 2) as "
                    "lipanomaly.io.tracks.Track(landmarks, fps=..., width=..., height=...)"
                )
            raise InputError(
                f"X[{i}]: expected a video path, a track file (.npz) path or a "
                f"lipanomaly.io.tracks.Track, got {type(item).__name__}{hint}"
            )
    return items


def _extract_item(i, item, settings, frame_bar):
    """Worker: one input to its segments; every failure of the input is returned, not raised.

    Any exception (a ``MemoryError`` too) becomes this input's error, so that one bad input
    never aborts a batch; a missing optional dependency is not the input's fault and
    propagates.
    """
    name = f"X[{i}]"
    notes = []
    track = None
    try:
        track = _load_track(item, settings.cache_dir, frame_bar, notes)
        res = _track_to_segments(track, settings, name)
    except MissingDependencyError:
        raise
    except Exception as exc:
        label = track.path if track is not None and track.path else _input_label(item)
        res = _Result(name=name, error=_input_error(exc, label))
    res.cache_notes = notes
    return res


def _input_label(item):
    if isinstance(item, Track):
        return item.path or "in-memory track"
    return os.fspath(item)


def _input_error(exc, label):
    """One line naming the input: the message of an InputError (prefixed with the input when
    it does not name it), or the type and message of any other exception."""
    text = str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split()) or type(exc).__name__
    return text if text.startswith(label) else f"{label}: {text}"


def _load_track(item, cache_dir, progress, notes=None):
    if isinstance(item, Track):
        return item
    path = os.fspath(item)
    if path.lower().endswith(".npz"):
        return read_track(path)
    from .video import native_logs_silenced, read_video_track

    # MediaPipe's native INFO / WARNING lines and protobuf's deprecation warning (once per
    # frame) are not the user's business: the extractor reports what matters as data
    with warnings.catch_warnings(), native_logs_silenced():
        warnings.filterwarnings("ignore", category=UserWarning, module="google.protobuf")
        if cache_dir is not None:
            return cached_video_track(path, cache_dir, progress, [] if notes is None else notes)
        return read_video_track(path, progress=progress)


def _track_to_segments(track, settings, name):
    """The one normalisation path shared by videos, track files and in-memory tracks."""
    frames = head_frames(track.landmarks, track.width, track.height, frame=settings.head_frame)
    lips = normalize_head(
        track.landmarks, track.width, track.height, settings.points, frames=frames
    )
    n = len(lips)
    valid = np.isfinite(lips).all(axis=(1, 2))
    max_gap = int(np.floor(settings.max_gap * track.fps + 1e-9))
    min_len = max(1, int(np.ceil(settings.min_segment * track.fps - 1e-9)))
    ranges = face_segments(valid, max_gap=max_gap, min_length=min_len)
    if not ranges:
        raise InputError(
            f"{track.path or 'in-memory track'}: no face segment of at least "
            f"{settings.min_segment} s "
            f"(a face was found in {int(valid.sum())} of {n} frames)"
        )
    segments = []
    for a, b in ranges:
        x = lips[a:b]
        if settings.pose:  # in head units of this segment; NaN where the points are
            pose = head_pose(*(f[a:b] for f in frames))
            pose[~valid[a:b]] = np.nan
            x = np.concatenate([x, pose], axis=1)
        x = interpolate_gaps(x)
        if settings.fps is not None:
            x = resample(x, track.fps, settings.fps)
        if settings.smoothing is not None:
            x = ema_smooth(x, settings.smoothing)
        segments.append(x)
    covered = np.zeros(n, dtype=bool)
    for a, b in ranges:
        covered[a:b] = True
    notes = []
    no_face = ~valid & ~covered  # gaps inside segments were interpolated, not dropped
    # frames before the first face or after the last have nothing to interpolate from: a
    # single one missing there is cut, whatever max_gap says
    faces = np.flatnonzero(valid)
    edge = no_face & ((np.arange(n) < faces[0]) | (np.arange(n) > faces[-1]))
    if edge.any():
        notes.append(f"{_no_face(edge)}, at the clip's start or end: cut")
    inner = no_face & ~edge
    if inner.any():
        notes.append(
            f"{_no_face(inner)}: gaps longer than {settings.max_gap} s are not interpolated"
        )
    short = valid & ~covered
    if short.any():
        notes.append(
            f"dropped face runs shorter than {settings.min_segment} s: frames "
            f"{_format_frames(np.flatnonzero(short))}"
        )
    note = "; ".join(notes) or None
    boxes = [face_box(track.landmarks[a:b]) for a, b in ranges]
    return _Result(
        name=name,
        path=track.path,
        segments=segments,
        ranges=ranges,
        fps=float(track.fps),
        boxes=boxes,
        n_frames=n,
        note=note,
    )


def _longest(segments):
    return int(np.argmax([len(s) for s in segments]))  # first of equals


def _drop_message(res, keep, named=True):
    parts = [res.note] if res.note else []
    if keep == "longest" and len(res.segments) > 1:
        k = _longest(res.segments)
        a, b = res.ranges[k]
        others = ", ".join(f"{x}-{y - 1}" for j, (x, y) in enumerate(res.ranges) if j != k)
        parts.append(
            f"{len(res.segments)} face segments: kept the longest, frames {a}-{b - 1}, and "
            f"dropped frames {others} (transform_segments returns every segment)"
        )
    name = f"{res.name} ({res.path})" if res.path else res.name
    if not named:  # the input alone names itself
        name = res.path or "in-memory track"
    return f"{name}: " + "; ".join(parts)


def _no_face(mask):
    """``no face in frame(s) <ranges> (<k> of <n>)`` for the True frames of ``mask``."""
    k = int(mask.sum())
    frames = _format_frames(np.flatnonzero(mask))
    return f"no face in frame{'s' * (k > 1)} {frames} ({k} of {mask.size})"


def _format_frames(frames, limit=6):
    """Frame numbers as inclusive ranges: ``0-24, 26-45, ...``."""
    frames = np.asarray(frames)
    cuts = np.flatnonzero(np.diff(frames) > 1)
    starts = np.concatenate([[frames[0]], frames[cuts + 1]])
    stops = np.concatenate([frames[cuts], [frames[-1]]])
    text = [f"{a}-{b}" if b > a else f"{a}" for a, b in zip(starts, stops)]
    if len(text) > limit:
        text = [*text[:limit], f"... ({len(text) - limit} more)"]
    return ", ".join(text)


def _run_parallel(func, arg_tuples, *, n_jobs, progress, desc):
    """Run ``func(*args)`` for each tuple through joblib, in order, with a tqdm bar."""
    from tqdm import tqdm

    jobs = (delayed(func)(*args) for args in arg_tuples)
    gen = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    return list(tqdm(gen, total=len(arg_tuples), desc=desc, unit="file", disable=not progress))


def _handle_errors(results, errors, n, *, what, stacklevel=None):
    stacklevel = user_level() if stacklevel is None else stacklevel
    for r in results:  # workers cannot warn across processes: they return their notes
        for note in r.cache_notes:
            warnings.warn(note, CacheWarning, stacklevel=stacklevel)
    bad = [r for r in results if r.error is not None]
    if not bad:
        return
    if errors == "raise":
        lines = "\n".join(f"  {r.name}: {r.error}" if r.name else f"  {r.error}" for r in bad)
        raise InputError(
            f"{len(bad)} of {n} {what} gave no result (every input was tried; pass "
            f"errors='skip' to keep the others):\n{lines}"
        )
    for r in bad:
        prefix = f"{r.name}: " if r.name else ""
        warnings.warn(f"{prefix}skipped: {r.error}", ExtractionWarning, stacklevel=stacklevel)


# -- track files for a folder -----------------------------------------------------------------


def _write_track_item(video, out_path, cache_dir, progress):
    notes = []
    try:
        track = _load_track(video, cache_dir, progress, notes)
        write_track(
            out_path,
            Track(
                track.landmarks,
                fps=track.fps,
                width=track.width,
                height=track.height,
                origin=os.path.basename(video),
            ),
            overwrite=True,
        )
        return _Result(name="", path=video, cache_notes=notes)
    except MissingDependencyError:
        raise
    except Exception as exc:  # any failure is this video's error, never the batch's
        return _Result(name="", path=video, error=_input_error(exc, video), cache_notes=notes)


def find_files(folder, extensions=VIDEO_EXTENSIONS, *, recursive=False):
    """The files of ``folder`` (and its sub-folders if ``recursive``) with one of ``extensions``.

    Returns
    -------
    files : list of pathlib.Path
        Sorted; ``extensions`` match the end of the name in any case.
    """
    exts = tuple(e.lower() for e in extensions)
    found = Path(folder).rglob("*") if recursive else Path(folder).iterdir()
    return sorted(p for p in found if p.is_file() and p.name.lower().endswith(exts))


def extract_folder(folder, out_dir, *, extensions=VIDEO_EXTENSIONS, recursive=False, **kwargs):
    """Write a FaceMesh track file for every video of a folder.

    The track files hold the raw FaceMesh points (``landmarks`` (T, 478, 2), ``fps``,
    ``width``, ``height`` and ``origin``, the video's file name), the format of the
    development data; :class:`LipLandmarkExtractor` reads them like videos, without
    running FaceMesh again.

    Parameters
    ----------
    folder : str or path-like
        Where the videos are.
    out_dir : str or path-like
        Where the track files go: ``<out_dir>/<relative video path>.npz`` (e.g.
        ``clip.mp4`` gives ``clip.mp4.npz``, so ``a.mp4`` and ``a.avi`` never collide).
    extensions : sequence of str, default=VIDEO_EXTENSIONS
        File endings that are videos (case-insensitive).
    recursive : bool, default=False
        Also look in sub-folders (their layout is kept under ``out_dir``).
    **kwargs
        ``overwrite``, ``n_jobs``, ``cache_dir``, ``errors``, ``verbose``: see
        :func:`extract_videos`.

    Returns
    -------
    result : sklearn.utils.Bunch
        As :func:`extract_videos`, the videos sorted.
    """
    folder, out_dir = Path(folder), Path(out_dir)
    if not folder.is_dir():
        raise InputError(f"{folder}: no such folder")
    videos = find_files(folder, extensions, recursive=recursive)
    if not videos:
        raise InputError(f"{folder}: no video files (looked for {', '.join(extensions)})")
    outs = [out_dir / (str(v.relative_to(folder)) + ".npz") for v in videos]
    return extract_videos(videos, outs, **kwargs)


def extract_videos(
    videos,
    out_paths,
    *,
    overwrite=False,
    n_jobs=None,
    cache_dir=None,
    errors="raise",
    verbose=1,
):
    """Write a FaceMesh track file for each video: :func:`extract_folder` for a list.

    Parameters
    ----------
    videos : list of str or path-like
        Video files.
    out_paths : list of str or path-like
        The track file of each video.
    overwrite : bool, default=False
        Recompute videos whose track file exists already; by default they are left as
        they are, so an interrupted run resumes where it stopped.
    n_jobs : int or None, default=None
        Videos processed in parallel through joblib.
    cache_dir : str, path-like or None, default=None
        As in :class:`LipLandmarkExtractor`.
    errors : {"raise", "skip"}, default="raise"
        After every video was tried, ``"raise"`` raises one :class:`InputError` listing
        those that failed (the track files of the others are written), ``"skip"`` warns.
    verbose : int, default=1
        0: silent; 1: a progress bar over the videos.

    Returns
    -------
    result : sklearn.utils.Bunch
        ``videos`` and ``tracks`` (list of str; a track is None where its video failed),
        ``status`` (``"written"``, ``"existing"`` or ``"failed"`` per video) and ``errors``
        (dict video -> one-line message naming it): every failure, as data.
    """
    if errors not in ("raise", "skip"):
        raise InputError(f"errors must be 'raise' or 'skip', got {errors!r}")
    videos, outs = [str(v) for v in videos], [str(o) for o in out_paths]
    if len(videos) != len(outs):
        raise InputError(
            f"out_paths: expected one track file per video ({len(videos)}), got {len(outs)}"
        )
    todo = [i for i, o in enumerate(outs) if overwrite or not os.path.exists(o)]
    results = _run_parallel(
        _write_track_item,
        [(videos[i], outs[i], cache_dir, False) for i in todo],
        n_jobs=n_jobs,
        progress=verbose >= 1,
        desc="track files",
    )
    status = ["existing"] * len(videos)
    tracks = list(outs)
    errs = {}
    for i, res in zip(todo, results):
        status[i] = "written" if res.error is None else "failed"
        if res.error is not None:
            tracks[i] = None
            errs[videos[i]] = res.error
    _handle_errors(results, errors, len(todo), what="videos", stacklevel=3)
    return Bunch(videos=videos, tracks=tracks, status=status, errors=errs)
