"""Real MediaPipe FaceMesh on real videos, against the reference extractions beside them."""

import shutil

import numpy as np
import pytest

from lipanomaly.exceptions import InputError
from lipanomaly.io.tracks import read_track

pytest.importorskip("mediapipe")
pytest.importorskip("cv2")

from lipanomaly.io.video import facemesh_fingerprint, read_video_track

# mediapipe 0.10.14 calls a protobuf API that protobuf deprecates, once per process
pytestmark = pytest.mark.filterwarnings("ignore:SymbolDatabase.GetPrototype:UserWarning")


def _compare(track, ref):
    assert track.n_frames == ref.n_frames
    assert (track.width, track.height) == (ref.width, ref.height)
    assert track.fps == pytest.approx(ref.fps, rel=1e-9)
    np.testing.assert_array_equal(track.face_found, ref.face_found)
    both = track.face_found
    dist = np.linalg.norm(track.landmarks[both] - ref.landmarks[both], axis=-1)
    return np.median(dist) if dist.size else 0.0


@pytest.mark.parametrize(
    ("name", "found"),
    [
        ("bbaf2n.mpg", 1.0),  # GRID, 75 frames, 360x288
        ("single_face.mp4", 1.0),  # 72 frames, 30 fps, 640x360
        ("face_noface.mov", 0.43),  # a face, then a cartoon: the README's 43 %
        ("short_hamilton_clip.mp4", 0.48),  # several people, wide shots: 48 %
    ],
)
def test_matches_reference_extraction(data_dir, name, found):
    video = data_dir / "videos" / name
    track = read_video_track(video)
    ref = read_track(f"{video}.mp_lm.npz")
    median = _compare(track, ref)
    # same software gives the same points; allow a CPU's rounding (1e-4 of the frame width
    # is well under a pixel here)
    assert median < 1e-4
    assert track.face_found.mean() == pytest.approx(found, abs=0.01)
    assert track.landmarks.dtype == np.float32 and track.path == str(video)


def test_landmark_copy_fast_path_equals_protobuf_reads(rng):
    from mediapipe.framework.formats import landmark_pb2

    from lipanomaly.io.video import _xy

    xyz = rng.random((478, 3)).astype(np.float32)
    face = landmark_pb2.NormalizedLandmarkList()
    for x, y, z in xyz:
        face.landmark.add(x=x, y=y, z=z)
    np.testing.assert_array_equal(_xy(face), xyz[:, :2])
    face.landmark[7].visibility = 0.5  # another wire layout: the slow path, same answer
    np.testing.assert_array_equal(_xy(face), xyz[:, :2])


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such video file") as info:
        read_video_track(tmp_path / "nope.mp4")
    assert "nope.mp4" in str(info.value)


def test_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n")
    with pytest.raises(InputError, match="cannot be opened as a video") as info:
        read_video_track(path)
    assert str(path) in str(info.value)


def test_truncated_mp4(data_dir, tmp_path):
    """An .mp4 cut in half loses its index (at the end of the file): it cannot be opened."""
    data = (data_dir / "videos" / "single_face.mp4").read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated") as info:
        read_video_track(path)
    assert "cut.mp4" in str(info.value)


@pytest.mark.parametrize(("share", "decoded"), [(0.4, "80 (39%)"), (0.95, "194 (96%)")])
def test_truncated_mp4_that_still_opens(data_dir, tmp_path, share, decoded):
    """An .mp4 with its index first, cut: it opens and decodes up to the cut, while the
    container declares all its 203 frames; an error, not a shorter clip."""
    data = (data_dir / "videos" / "video_8s_real.mp4").read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: int(len(data) * share)])
    with pytest.raises(InputError) as info:
        read_video_track(path)
    assert str(info.value) == (
        f"{path}: truncated or corrupt video: the container declares 203 frames, only "
        f"{decoded} could be decoded"
    )


def test_truncated_mpeg_keeps_frames_before_the_cut(data_dir, tmp_path):
    """An MPEG stream cut in half decodes up to the cut (documented); those frames are right."""
    video = data_dir / "videos" / "bbaf2n.mpg"
    data = video.read_bytes()
    path = tmp_path / "cut.mpg"
    path.write_bytes(data[: len(data) // 2])
    track = read_video_track(path)
    ref = read_track(f"{video}.mp_lm.npz")
    assert 0.3 * ref.n_frames < track.n_frames < 0.7 * ref.n_frames
    n = track.n_frames - 1  # the last frame may be damaged by the cut
    np.testing.assert_allclose(track.landmarks[:n], ref.landmarks[:n], atol=1e-4)


def test_zero_frame_video(tmp_path):
    import cv2

    path = tmp_path / "empty.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (64, 48))
    writer.release()  # a valid container with no frame
    with pytest.raises(InputError, match="0 frames") as info:
        read_video_track(path)
    assert "empty.avi" in str(info.value)


def test_video_with_odd_name_is_read(data_dir, tmp_path):
    """The decoder goes by content, not by the file name."""
    path = tmp_path / "clip with spaces.avi"
    shutil.copy(data_dir / "videos" / "bbaf2n.mpg", path)
    assert read_video_track(path).n_frames == 75


def test_fingerprint_names_versions():
    fp = facemesh_fingerprint()
    assert fp["facemesh"]["refine_landmarks"] is True
    assert fp["facemesh"]["max_num_faces"] == 1
    import cv2
    import mediapipe

    assert (fp["mediapipe"], fp["opencv"]) == (mediapipe.__version__, cv2.__version__)


def _synthetic_video(path, fps, n_frames=3):
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    for _ in range(n_frames):
        writer.write(np.zeros((48, 64, 3), dtype=np.uint8))
    writer.release()
    return path


def test_implausible_frame_rate_refused_before_decoding(tmp_path):
    path = _synthetic_video(tmp_path / "fast.avi", 1000.0)
    with pytest.raises(InputError, match=r"fast\.avi: the video reports 1000 fps, outside"):
        read_video_track(path)


def test_frame_count_bounded_while_decoding(tmp_path, monkeypatch):
    import lipanomaly.io.video as video

    monkeypatch.setattr(video, "MAX_FRAMES", 4)
    path = _synthetic_video(tmp_path / "long.avi", 25.0, n_frames=6)
    with pytest.raises(InputError, match=r"long\.avi: more than 4 frames"):
        read_video_track(path)
    assert read_video_track(_synthetic_video(tmp_path / "ok.avi", 25.0, n_frames=4)).n_frames == 4
