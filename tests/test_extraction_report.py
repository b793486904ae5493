"""What the extractor tells a user: where the clip starts in the video, which face, and
warnings that point at the user's line (issue 15)."""

import importlib.util
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from lipanomaly import LipLandmarkExtractor
from lipanomaly.io.datasets import load_demo
from lipanomaly.io.extraction import ExtractionWarning
from lipanomaly.io.landmarks import face_box
from lipanomaly.io.tracks import Track


@pytest.fixture
def late_face():
    track = load_demo(split="train").tracks[0]
    lm = track.landmarks.copy()
    lm[:30] = np.nan  # no face in the first 30 frames
    return Track(lm, fps=track.fps, width=track.width, height=track.height)


def test_transform_report_gives_the_start_in_the_video_and_the_face(late_face):
    (r,) = LipLandmarkExtractor().transform_report([late_face])
    assert r.start_s == pytest.approx(30 / late_face.fps)
    x0, y0, x1, y1 = r.face_box
    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    assert r.face_box == face_box(late_face.landmarks)


def test_face_box_without_a_face_is_nan():
    assert np.isnan(face_box(np.full((3, 478, 2), np.nan))).all()


@pytest.mark.parametrize("through_pipeline", [False, True])
def test_extraction_warning_points_at_the_users_line(late_face, through_pipeline):
    model = LipLandmarkExtractor()
    if through_pipeline:
        model = make_pipeline(model, FunctionTransformer())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit_transform([late_face])  # the line the warning must name
    (w,) = [w for w in caught if issubclass(w.category, ExtractionWarning)]
    assert w.filename == __file__


@pytest.mark.skipif(
    not all(importlib.util.find_spec(m) for m in ("cv2", "mediapipe")),
    reason="needs the video extra (mediapipe, OpenCV)",
)
def test_python_api_prints_no_mediapipe_logs(data_dir):
    """MediaPipe's native lines and protobuf's warning stay out of a user's output."""
    code = (
        "from lipanomaly import LipLandmarkExtractor\n"
        f"LipLandmarkExtractor().transform([{str(data_dir / 'videos' / 'bbaf2n.mpg')!r}])\n"
        "print('done')\n"
    )
    run = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == "done\n"
    assert run.stderr == ""
