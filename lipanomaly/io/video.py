"""Video decoding (OpenCV) and MediaPipe FaceMesh: the only module that imports them.

Both are imported inside the functions, through :func:`lipanomaly._optional.import_optional`,
so that ``import lipanomaly`` stays light and a missing ``video`` extra gives an error that
says what to install.

Landmarks are made exactly as the reference extractions of the development data: mediapipe
0.10.14's legacy ``mediapipe.solutions.face_mesh.FaceMesh(static_image_mode=False,
max_num_faces=1, refine_landmarks=True)`` (video mode: the face found first is tracked from
frame to frame), every decoded frame in order, converted from OpenCV's BGR to RGB.
"""

import contextlib
import os
import sys
from types import MappingProxyType

import numpy as np

from .._optional import import_optional
from ..exceptions import InputError
from ..limits import MAX_FPS, MAX_FRAME_SIZE, MAX_FRAMES, MIN_FPS
from .tracks import FACEMESH_N_POINTS, Track

__all__ = ["FACEMESH_SETTINGS", "facemesh_fingerprint", "native_logs_silenced", "read_video_track"]

#: Arguments of ``mediapipe.solutions.face_mesh.FaceMesh`` used for every video.
FACEMESH_SETTINGS = MappingProxyType(
    {
        "static_image_mode": False,
        "max_num_faces": 1,
        "refine_landmarks": True,
        "min_detection_confidence": 0.5,
        "min_tracking_confidence": 0.5,
    }
)


# The wire format of a NormalizedLandmarkList whose landmarks carry exactly x, y, z: per point
# the field tag 0x0a, the length 15, then x, y, z as tagged little-endian float32.
_WIRE = np.dtype(
    [("tag", "u1"), ("len", "u1"), ("tx", "u1"), ("x", "<f4"), ("ty", "u1"), ("y", "<f4"),
     ("tz", "u1"), ("z", "<f4")]
)  # fmt: skip
_WIRE_TAGS = {"tag": 0x0A, "len": 15, "tx": 0x0D, "ty": 0x15, "tz": 0x1D}


def _xy(face):
    """x, y of a FaceMesh result as a (478, 2) float32 array.

    Reading the serialised message with numpy is ten times faster than 956 protobuf
    attribute reads (0.01 vs 0.11 ms a frame); any other layout takes the slow path.
    """
    raw = face.SerializeToString()
    if len(raw) == FACEMESH_N_POINTS * _WIRE.itemsize:
        rec = np.frombuffer(raw, dtype=_WIRE)
        if all((rec[k] == v).all() for k, v in _WIRE_TAGS.items()):
            return np.stack([rec["x"], rec["y"]], axis=-1)
    return np.array([(p.x, p.y) for p in face.landmark], dtype=np.float32)


def facemesh_fingerprint():
    """What determines the landmarks of a video besides its bytes (the cache key's settings).

    Returns
    -------
    fingerprint : dict
        The FaceMesh arguments and the mediapipe and OpenCV versions (the decoder).
    """
    mp = import_optional("mediapipe")
    cv2 = import_optional("cv2")
    return {
        "facemesh": dict(FACEMESH_SETTINGS),
        "mediapipe": mp.__version__,
        "opencv": cv2.__version__,
        "color": "BGR2RGB",
        "frames": "all",
    }


def read_video_track(path, *, progress=False):
    """Run MediaPipe FaceMesh over every frame of a video.

    Parameters
    ----------
    path : str or path-like
        Any file OpenCV's FFmpeg back-end decodes (``.mp4``, ``.avi``, ``.mov``,
        ``.mpg`` ...).
    progress : bool, default=False
        Show a tqdm progress bar over the frames.

    Returns
    -------
    track : Track
        ``landmarks`` of shape (T, 478, 2), float32, x by the frame width and y by its
        height (MediaPipe's coordinates, as in the track files); a NaN row where no face
        was found. ``fps`` is the container's frame rate; ``width`` and ``height`` are
        those of the decoded frames.

    Raises
    ------
    InputError
        If the file is missing, cannot be opened as a video (not a video, an unsupported
        codec, a truncated ``.mp4`` / ``.mov`` whose index is lost), has no frame rate or
        one outside :data:`~lipanomaly.limits.MIN_FPS` to :data:`~lipanomaly.limits.MAX_FPS`
        (checked before decoding), frames larger than
        :data:`~lipanomaly.limits.MAX_FRAME_SIZE`, more than
        :data:`~lipanomaly.limits.MAX_FRAMES` frames (checked while decoding), no frame
        can be decoded, or fewer frames decode than the container declares (more than 2
        frames and 1 % fewer: a truncated or corrupt file; the message gives the decoded
        share). The message names the file.

    Notes
    -----
    A truncated ``.mp4`` whose index comes first decodes up to the cut, and its
    container still declares every frame: that is the error above. A truncated MPEG
    stream (``.mpg``) also decodes up to the cut (FFmpeg logs the damage), but its frame
    count is an estimate from the file's size, so nothing tells such a file from a short
    video: the frames before the cut are returned.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such video file")
    cv2 = import_optional("cv2")
    mp = import_optional("mediapipe")
    from tqdm import tqdm

    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise InputError(
                f"{path}: cannot be opened as a video (not a video file, an unsupported "
                "codec, or a truncated / corrupt container)"
            )
        fps = float(cap.get(cv2.CAP_PROP_FPS))
        if not np.isfinite(fps) or fps <= 0:
            raise InputError(f"{path}: the video reports no valid frame rate (got {fps})")
        if not MIN_FPS <= fps <= MAX_FPS:  # checked before a frame is decoded
            raise InputError(
                f"{path}: the video reports {fps:g} fps, outside the plausible frame rates "
                f"{MIN_FPS:g} to {MAX_FPS:g} (lipanomaly.limits.MIN_FPS, MAX_FPS)"
            )
        n_expected = int(max(cap.get(cv2.CAP_PROP_FRAME_COUNT), 0)) or None
        rows = []
        size = None
        bar = tqdm(
            total=n_expected,
            desc=os.path.basename(path),
            unit="frame",
            disable=not progress,
            leave=False,
        )
        with mp.solutions.face_mesh.FaceMesh(**FACEMESH_SETTINGS) as mesh, bar:
            while True:
                try:
                    ok, frame = cap.read()
                except cv2.error as exc:  # pragma: no cover - depends on the FFmpeg build
                    raise InputError(f"{path}: decoding failed after {len(rows)} frames") from exc
                if not ok:
                    break
                if size is None:
                    size = frame.shape[1], frame.shape[0]
                    if max(size) > MAX_FRAME_SIZE:
                        raise InputError(
                            f"{path}: frames of {size[0]}x{size[1]} pixels, larger than "
                            f"{MAX_FRAME_SIZE} (lipanomaly.limits.MAX_FRAME_SIZE)"
                        )
                if len(rows) == MAX_FRAMES:  # the landmarks of every frame are kept
                    raise InputError(
                        f"{path}: more than {MAX_FRAMES} frames "
                        "(lipanomaly.limits.MAX_FRAMES); split the video"
                    )
                result = mesh.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
                if result.multi_face_landmarks:
                    rows.append(_xy(result.multi_face_landmarks[0]))
                else:
                    rows.append(None)
                bar.update()
    finally:
        cap.release()
    if not rows:
        raise InputError(f"{path}: the video has no decodable frame (0 frames)")
    # a container that declares more frames than decode is cut or damaged; a frame or two
    # (1 %) of slack for containers whose count is an estimate
    if n_expected is not None and n_expected - len(rows) > max(2, 0.01 * n_expected):
        raise InputError(
            f"{path}: truncated or corrupt video: the container declares {n_expected} frames, "
            f"only {len(rows)} ({len(rows) / n_expected:.0%}) could be decoded"
        )
    landmarks = np.full((len(rows), FACEMESH_N_POINTS, 2), np.nan, dtype=np.float32)
    for i, row in enumerate(rows):
        if row is not None:
            landmarks[i] = row
    return Track(landmarks=landmarks, fps=fps, width=size[0], height=size[1], path=path)


@contextlib.contextmanager
def native_logs_silenced(active=True):
    """Send file descriptor 2 to the null device for a while; Python's stderr stays visible.

    MediaPipe's C++ code (TensorFlow Lite, absl logging) writes INFO and WARNING lines
    straight to the process's stderr, past Python's ``sys.stderr``, and no environment
    variable silences all of them; on a command line they bury the messages that matter.
    ``sys.stderr`` is pointed at a copy of the real stderr meanwhile, so that progress bars
    and Python's warnings still show; worker processes started meanwhile inherit the null
    device.

    Parameters
    ----------
    active : bool, default=True
        False leaves everything as it is (the command's ``--debug``).
    """
    if not active:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real file descriptor (e.g. an embedded interpreter)
        yield
        return
    try:  # a sys.stderr of its own (a notebook's, pytest's) is left as it is
        real = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        real = False
    visible = open(os.dup(saved), "w", buffering=1)  # noqa: SIM115 (closed below)
    redirect = contextlib.redirect_stderr(visible) if real else contextlib.nullcontext()
    try:
        with open(os.devnull, "w") as null, redirect:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        visible.close()
        os.dup2(saved, 2)
        os.close(saved)
