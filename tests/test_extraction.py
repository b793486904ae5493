import re
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from lipanomaly import LipLandmarkExtractor
from lipanomaly._validation import check_clips
from lipanomaly.exceptions import InputError
from lipanomaly.io.extraction import ExtractionWarning, cache_key, extract_folder
from lipanomaly.io.landmarks import FACEMESH_LIPS, LIPS_INNER, LIPS_OUTER
from lipanomaly.io.tracks import Track, read_track, write_track

pytestmark = pytest.mark.filterwarnings("ignore:SymbolDatabase.GetPrototype:UserWarning")

needs_video = pytest.mark.skipif(
    not all(__import__("importlib").util.find_spec(m) for m in ("cv2", "mediapipe")),
    reason="needs the video extra (mediapipe, OpenCV)",
)


@pytest.fixture(scope="module")
def videos(data_dir):
    return data_dir / "videos"


@pytest.fixture
def bad_inputs(videos, tmp_path):
    """One of each kind of bad input, made in tmp_path."""
    text = tmp_path / "text.mp4"
    text.write_text("not a video")
    data = (videos / "single_face.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 3])
    wrong_keys = tmp_path / "wrong_keys.npz"
    np.savez(wrong_keys, points=np.zeros((3, 478, 2)), fps=25.0)
    wrong_shape = tmp_path / "wrong_shape.npz"
    np.savez(wrong_shape, landmarks=np.zeros((3, 40, 2)), fps=25.0, width=10, height=10)
    return [tmp_path / "missing.mp4", text, cut, wrong_keys, wrong_shape]


def _track(landmarks, fps=25.0, path=None):
    return Track(landmarks, fps=fps, width=360, height=288, path=path)


def test_import_does_not_load_video_libraries():
    code = (
        "import sys, lipanomaly.io.extraction; from lipanomaly import LipLandmarkExtractor; "
        "print([m for m in ('cv2', 'mediapipe') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- track files and in-memory tracks (no MediaPipe) -----------------------------------


def test_track_file_and_in_memory_track_agree(videos):
    path = videos / "carphone_pristine.mp4.mp_lm.npz"
    track = read_track(path)
    ext = LipLandmarkExtractor()
    from_file, from_memory = ext.fit_transform([path, track])
    # 120 frames at 29.97 fps span 3.97 s: 100 frames at 25 fps
    assert from_file.shape == (100, 40, 2) and from_file.dtype == np.float64
    np.testing.assert_array_equal(from_file, from_memory)
    check_clips([from_file])
    assert ext.point_indices_.tolist() == track.extra["lips_idx"].tolist()


def test_track_with_z_equals_track_without(videos):
    ref = read_track(videos / "sbia1a.mpg.mp_lm.npz")
    z = np.random.default_rng(0).normal(size=(*ref.landmarks.shape[:2], 1))
    with_z = Track(np.concatenate([ref.landmarks, z], axis=-1), fps=25.0, width=360, height=288)
    a, b = LipLandmarkExtractor().fit_transform([ref, with_z])
    np.testing.assert_array_equal(a, b)


def test_fps_none_and_point_sets(videos):
    path = videos / "carphone_pristine.mp4.mp_lm.npz"
    lips = LipLandmarkExtractor(fps=None).fit_transform([path])[0]
    assert lips.shape == (120, 40, 2)
    for points, k in [("outer", 20), ("inner", 20), ([61, 291], 2)]:
        assert LipLandmarkExtractor(points=points).fit_transform([path])[0].shape == (100, k, 2)
    # the same 40 points in ring order: a permutation of the default output
    rings = LipLandmarkExtractor(points="outer+inner").fit_transform([path])[0]
    default = LipLandmarkExtractor().fit_transform([path])[0]
    order = [FACEMESH_LIPS.index(i) for i in LIPS_OUTER + LIPS_INNER]
    np.testing.assert_array_equal(default[:, order], rings)


def test_development_tracks_at_25_fps(development):
    """Every real development clip gives one finite clip of the expected duration."""
    tracks = development.tracks[:40]
    clips = LipLandmarkExtractor().fit_transform(tracks)
    assert len(clips) == len(tracks)
    for t, c in zip(tracks, clips):
        assert len(c) == int(np.floor((t.n_frames - 1) * 25.0 / t.fps + 1e-9)) + 1


def test_short_gap_is_interpolated_long_gap_splits(videos):
    ref = read_track(videos / "bbaf2n.mpg.mp_lm.npz")
    full = LipLandmarkExtractor().fit_transform([ref])[0]
    lm = ref.landmarks.copy()
    lm[10:14] = np.nan  # 4 frames = 0.16 s <= max_gap: interpolated, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExtractionWarning)
        short = LipLandmarkExtractor().fit_transform([_track(lm, path="gap.npz")])[0]
    assert short.shape == full.shape
    np.testing.assert_array_equal(short[:10], full[:10])
    np.testing.assert_allclose(short[11], (3 * full[9] + 2 * full[14]) / 5)

    lm[30:40] = np.nan  # 0.4 s: splits into frames 0-29 and 40-74
    ext = LipLandmarkExtractor()
    with pytest.warns(ExtractionWarning, match=r"gap\.npz.*no face in frames 30-39") as rec:
        (clip,) = ext.fit_transform([_track(lm, path="gap.npz")])
    assert "kept the longest, frames 40-74" in str(rec[0].message)
    np.testing.assert_array_equal(clip, full[40:])
    with pytest.warns(ExtractionWarning):
        (segments,) = ext.transform_segments([_track(lm, path="gap.npz")])
    assert [len(s) for s in segments] == [30, 35]
    np.testing.assert_array_equal(segments[0][:10], full[:10])


def test_missing_frame_at_the_start_is_cut_not_a_gap(videos):
    """One frame without a face at the clip's start is cut: the note says so, not max_gap."""
    ref = read_track(videos / "bbaf2n.mpg.mp_lm.npz")
    full = LipLandmarkExtractor().fit_transform([ref])[0]
    lm = ref.landmarks.copy()
    lm[0] = np.nan
    with pytest.warns(ExtractionWarning) as rec:
        (clip,) = LipLandmarkExtractor().fit_transform([_track(lm, path="edge.npz")])
    message = str(rec[0].message)
    assert re.search(r"edge\.npz.*no face in frame 0 \(1 of 75\), at the clip's start", message)
    assert "interpolated" not in message
    assert len(clip) == len(full) - 1


def test_no_face_raises_or_skips(videos):
    ref = read_track(videos / "bbaf2n.mpg.mp_lm.npz")
    empty = _track(np.full((50, 478, 2), np.nan, dtype=np.float32), path="noface.npz")
    with pytest.raises(InputError, match=r"noface\.npz.*no face segment.*0 of 50 frames"):
        LipLandmarkExtractor().fit_transform([ref, empty])
    ext = LipLandmarkExtractor(errors="skip")
    with pytest.warns(ExtractionWarning, match=r"X\[1\]: skipped: noface\.npz: no face"):
        segments = ext.transform_segments([ref, empty, ref])
    assert [len(s) for s in segments] == [1, 0, 1]  # aligned with the inputs
    with pytest.warns(ExtractionWarning):
        clips = ext.transform([ref, empty, ref])
    assert len(clips) == 2  # transform leaves skipped inputs out (documented)


def test_smoothing_is_light(videos):
    path = videos / "carphone_pristine.mp4.mp_lm.npz"
    raw = LipLandmarkExtractor().fit_transform([path])[0]
    smooth = LipLandmarkExtractor(smoothing=0.8).fit_transform([path])[0]
    step_raw = np.abs(np.diff(raw, axis=0)).mean()
    step_smooth = np.abs(np.diff(smooth, axis=0)).mean()
    assert 0.4 * step_raw < step_smooth < step_raw
    assert np.abs(smooth - raw).mean() < 0.5 * step_raw  # the shape of the motion stays


@pytest.mark.parametrize(
    ("X", "match"),
    [
        ("clip.mp4", "single input"),
        (np.zeros((4, 6)), "numeric array of shape"),
        ([], "empty"),
        ([np.zeros((5, 478, 2))], r"X\[0\].*wrap a FaceMesh array"),
        ([3], r"X\[0\]: expected a video path"),
    ],
)
def test_bad_collections(X, match):
    with pytest.raises(InputError, match=match):
        LipLandmarkExtractor().fit_transform(X)


@pytest.mark.parametrize(
    "params", [{"points": "teeth"}, {"fps": 0}, {"smoothing": 1.5}, {"errors": "ignore"}]
)
def test_bad_parameters(params, videos):
    with pytest.raises(InvalidParameterError):
        LipLandmarkExtractor(**params).transform([videos / "bbaf2n.mpg.mp_lm.npz"])


def test_bad_track_files_named(bad_inputs):
    wrong_keys, wrong_shape = bad_inputs[3:]
    with pytest.raises(InputError) as info:
        LipLandmarkExtractor().transform([wrong_keys, wrong_shape])
    msg = str(info.value)
    assert "2 of 2 inputs" in msg
    assert "wrong_keys.npz: not a track file, missing key(s)" in msg
    assert "wrong_shape.npz: 'landmarks' must have shape (T, 478, 2)" in msg


# -- videos (real MediaPipe) -----------------------------------------------------------


@needs_video
def test_video_equals_its_track_file(videos):
    """Video and track file share one normalisation path: the results are identical."""
    ext = LipLandmarkExtractor()
    for name in ("bbaf2n.mpg", "carphone_pristine.mp4"):
        from_video, from_file = ext.fit_transform([videos / name, videos / f"{name}.mp_lm.npz"])
        np.testing.assert_array_equal(from_video, from_file)


@needs_video
def test_video_with_gaps_keeps_longest_segment(videos):
    with pytest.warns(ExtractionWarning, match=r"face_noface\.mov.*no face in frames 72-168"):
        (clip,) = LipLandmarkExtractor().fit_transform([videos / "face_noface.mov"])
    # frames 0-71 at 26.4 fps span 2.69 s: 68 frames at 25 fps
    assert clip.shape == (68, 40, 2)


@needs_video
def test_bad_items_in_parallel_are_all_reported(videos, bad_inputs, capsys):
    good = [videos / "bbaf2n.mpg", videos / "brbk7n.mpg.mp_lm.npz"]
    items = [good[0], *bad_inputs, good[1]]
    with pytest.raises(InputError) as info:
        LipLandmarkExtractor(n_jobs=2).transform(items)
    msg = str(info.value)
    assert msg.startswith("5 of 7 inputs gave no result")
    for i, path in enumerate(bad_inputs, start=1):
        assert f"X[{i}]: {path}" in msg
    assert "no such video file" in msg and "cannot be opened as a video" in msg
    # errors="skip": the good results survive, aligned with the inputs
    with pytest.warns(ExtractionWarning) as rec:
        segments = LipLandmarkExtractor(n_jobs=2, errors="skip").transform_segments(items)
    assert len(rec) == 5
    assert [len(s) for s in segments] == [1, 0, 0, 0, 0, 0, 1]
    serial = LipLandmarkExtractor().transform(good)
    np.testing.assert_array_equal(segments[0][0], serial[0])
    np.testing.assert_array_equal(segments[-1][0], serial[1])
    assert "lip landmarks" not in capsys.readouterr().err  # verbose=0: no progress bar


@needs_video
def test_dask_backend_gives_the_serial_arrays(videos):
    joblib = pytest.importorskip("joblib")
    distributed = pytest.importorskip("dask.distributed")
    items = [videos / "bbaf2n.mpg", videos / "lbax4n.mpg", videos / "sbia1a.mpg.mp_lm.npz"]
    serial = LipLandmarkExtractor().transform(items)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_backend("dask"),
    ):
        spread = LipLandmarkExtractor().transform(items)
    assert len(spread) == len(serial)
    for a, b in zip(spread, serial):
        np.testing.assert_array_equal(a, b)


@needs_video
def test_cache_reads_instead_of_recomputing(videos, tmp_path, monkeypatch):
    import lipanomaly.io.video

    video = tmp_path / "clip.mpg"
    shutil.copy(videos / "bbaf2n.mpg", video)
    cache = tmp_path / "cache"
    first = LipLandmarkExtractor(cache_dir=cache).transform([video])[0]
    entries = list(cache.glob("*.npz"))
    assert [e.name for e in entries] == [cache_key(video)]

    def fail(*args, **kwargs):
        raise AssertionError("FaceMesh ran although the video is cached")

    monkeypatch.setattr(lipanomaly.io.video, "read_video_track", fail)
    # another name, same bytes: still a cache hit; other normalisation settings reuse it too
    renamed = tmp_path / "renamed.mpg"
    shutil.copy(video, renamed)
    again = LipLandmarkExtractor(cache_dir=cache).transform([renamed])[0]
    np.testing.assert_array_equal(again, first)
    assert LipLandmarkExtractor(cache_dir=cache, fps=None).transform([video])[0].shape[0] == 75
    other = tmp_path / "other.mpg"
    shutil.copy(videos / "brbk7n.mpg", other)
    assert cache_key(other) != cache_key(video)


@needs_video
def test_progress_bars(videos, capsys):
    LipLandmarkExtractor(verbose=1).transform([videos / "bbaf2n.mpg"])
    assert "bbaf2n.mpg" in capsys.readouterr().err  # frame bar for a single video
    LipLandmarkExtractor(verbose=1).transform([videos / "bbaf2n.mpg.mp_lm.npz"] * 2)
    assert "lip landmarks" in capsys.readouterr().err  # bar over the inputs


@needs_video
def test_extract_folder(videos, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("bbaf2n.mpg", "single_face.mp4"):
        shutil.copy(videos / name, folder / name)
    (folder / "broken.mp4").write_text("not a video")
    (folder / "readme.txt").write_text("not a video either, and not looked at")
    out = tmp_path / "tracks"
    with pytest.warns(ExtractionWarning, match=r"skipped: .*broken\.mp4: cannot be opened"):
        result = extract_folder(folder, out, errors="skip", verbose=0)
    assert result.status == ["written", "failed", "written"]  # sorted: bbaf2n, broken, single
    assert result.tracks[1] is None and str(folder / "broken.mp4") in result.errors
    written = read_track(out / "bbaf2n.mpg.npz")
    ref = read_track(videos / "bbaf2n.mpg.mp_lm.npz")
    np.testing.assert_array_equal(written.landmarks, ref.landmarks)
    assert (written.fps, written.width, written.height) == (25.0, 360, 288)
    assert written.origin == "bbaf2n.mpg"
    # a second run leaves existing track files alone; with errors="raise" the bad one raises
    with pytest.raises(InputError, match=r"(?s)1 of 1 videos.*broken\.mp4: cannot be opened"):
        extract_folder(folder, out, verbose=0)
    again = extract_folder(folder, out, errors="skip", verbose=0, extensions=(".mpg",))
    assert again.status == ["existing"]


def test_extract_folder_without_videos(tmp_path):
    with pytest.raises(InputError, match="no video files"):
        extract_folder(tmp_path, tmp_path / "out", verbose=0)
    with pytest.raises(InputError, match="no such folder"):
        extract_folder(tmp_path / "nope", tmp_path / "out", verbose=0)


def test_written_track_round_trips_through_extractor(videos, tmp_path):
    ref = read_track(videos / "sbia1a.mpg.mp_lm.npz")
    path = write_track(tmp_path / "copy.npz", ref)
    a, b = LipLandmarkExtractor().fit_transform([path, ref])
    np.testing.assert_array_equal(a, b)
