"""The extractor cache (entries verified against their key, junk and orphans handled) and
per-input failures of any kind (issue 14). FaceMesh is replaced by a stand-in: these tests
are about the cache and the error handling, not about landmarks."""

import os
import shutil
import time
import warnings

import numpy as np
import pytest

from lipanomaly import LipLandmarkExtractor
from lipanomaly.exceptions import InputError
from lipanomaly.io import video
from lipanomaly.io.cache import _clean_cache_temporaries
from lipanomaly.io.extraction import CacheWarning, ExtractionWarning, cache_key, extract_folder
from lipanomaly.io.tracks import Track, read_track, write_track


def _face_track(seed, t=50):
    """A plausible synthetic FaceMesh track whose lip motion depends on ``seed``."""
    rng = np.random.default_rng(seed)
    lm = np.full((t, 478, 2), 0.5, dtype=np.float32)
    lm[:, [33, 133]] = [0.40, 0.40], [0.45, 0.40]
    lm[:, [362, 263]] = [0.55, 0.40], [0.60, 0.40]
    lm[:, [168, 6, 197, 195]] = [0.5, 0.40], [0.5, 0.42], [0.5, 0.45], [0.5, 0.48]
    lm[:, :, 1] += rng.normal(0, 0.002, (t, 478)).astype(np.float32)
    return Track(lm, fps=25.0, width=640, height=480)


@pytest.fixture
def fake_facemesh(monkeypatch, tmp_path):
    """Videos are small files; 'FaceMesh' gives a track seeded by the file's bytes and counts
    its runs. Returns (list of video paths, dict of runs per path)."""
    runs = {}

    def read_video_track(path, progress=False):
        path = os.fspath(path)
        runs[path] = runs.get(path, 0) + 1
        with open(path, "rb") as fh:
            data = fh.read()
        if data.startswith(b"oom"):
            raise MemoryError("cannot allocate the frames")
        t = _face_track(int.from_bytes(data[:4], "little"))
        return Track(t.landmarks, fps=t.fps, width=t.width, height=t.height, path=path)

    monkeypatch.setattr(video, "read_video_track", read_video_track)
    monkeypatch.setattr(video, "facemesh_fingerprint", lambda: {"stand-in": 1})
    folder = tmp_path / "videos"
    folder.mkdir()
    paths = []
    for i, content in enumerate([b"\x01\x00\x00\x00a", b"\x02\x00\x00\x00b", b"oom"]):
        p = folder / f"v{i}.mp4"
        p.write_bytes(content)
        paths.append(str(p))
    return paths, runs


def _transform(paths, cache, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = LipLandmarkExtractor(cache_dir=cache, **kwargs).transform(paths)
    return out, [w for w in caught if issubclass(w.category, CacheWarning | ExtractionWarning)]


def test_entries_hold_their_key_and_hit(fake_facemesh, tmp_path):
    (a, b, _), runs = fake_facemesh
    cache = tmp_path / "cache"
    first, caught = _transform([a, b], cache)
    assert not caught and runs == {a: 1, b: 1}
    for v in (a, b):
        entry = read_track(cache / cache_key(v))
        assert entry.n_frames == 50
    again, caught = _transform([a, b], cache)
    assert not caught and runs == {a: 1, b: 1}  # read from the cache
    for x, y in zip(first, again):
        np.testing.assert_array_equal(x, y)


def test_a_swapped_entry_is_a_miss_with_a_warning(fake_facemesh, tmp_path):
    (a, b, _), runs = fake_facemesh
    cache = tmp_path / "cache"
    (_, clip_b), _ = _transform([a, b], cache)
    shutil.copyfile(cache / cache_key(a), cache / cache_key(b))  # b's entry is a's now
    (again,), caught = _transform([b], cache)
    np.testing.assert_array_equal(again, clip_b)  # recomputed, not a's clip
    assert runs[b] == 2
    (w,) = caught
    assert w.category is CacheWarning and "belongs to another video" in str(w.message)
    assert b in str(w.message)
    (_,), caught = _transform([b], cache)  # the entry was replaced by the right one
    assert not caught and runs[b] == 2


@pytest.mark.parametrize("junk", ["directory", "garbage", "empty"])
def test_junk_at_an_entry_path_is_a_miss(fake_facemesh, tmp_path, junk):
    (a, b, _), runs = fake_facemesh
    cache = tmp_path / "cache"
    cache.mkdir()
    entry = cache / cache_key(a)
    if junk == "directory":
        (entry / "inside").mkdir(parents=True)
    else:
        entry.write_bytes(b"garbage" if junk == "garbage" else b"")
    clips, caught = _transform([a, b], cache)  # the other input is unaffected
    assert len(clips) == 2
    assert runs == {a: 1, b: 1}
    messages = " | ".join(str(w.message) for w in caught)
    assert all(w.category is CacheWarning for w in caught) and a in messages
    if junk == "directory":
        assert "is not a file" in messages and "not written" in messages
        assert (entry / "inside").is_dir()  # left alone
    else:
        assert "damaged cache entry" in messages
        assert read_track(entry).n_frames == 50  # replaced


def test_orphan_temporaries_are_cleaned(fake_facemesh, tmp_path):
    (a, _, _), _ = fake_facemesh
    cache = tmp_path / "cache"
    cache.mkdir()
    name = f".{'a' * 64}-{'b' * 16}.npz.{{}}.tmp"
    old = cache / name.format("0" * 32)
    fresh = cache / name.format("1" * 32)
    mine = cache / ".notes.npz.tmp"  # not a temporary of the cache: never touched
    for p in (old, fresh, mine):
        p.write_bytes(b"half a file")
    two_hours_ago = time.time() - 7200
    for p in (old, mine):
        os.utime(p, (two_hours_ago, two_hours_ago))
    _transform([a], cache)
    assert not old.exists() and fresh.exists() and mine.exists()
    assert _clean_cache_temporaries(cache, max_age=0) == 1 and not fresh.exists()
    assert sorted(p.name for p in cache.iterdir()) == [".notes.npz.tmp", cache_key(a)]


def test_cache_folder_honours_the_umask(fake_facemesh, tmp_path):
    (a, _, _), _ = fake_facemesh
    old = os.umask(0o027)
    try:
        _transform([a], tmp_path / "cache" / "deeper")
    finally:
        os.umask(old)
    assert (tmp_path / "cache" / "deeper").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "cache" / "deeper" / cache_key(a)).stat().st_mode & 0o777 == 0o640


# -- per-input failures of any kind --------------------------------------------------------


@pytest.mark.parametrize("cache", [False, True])
def test_a_memory_error_is_that_inputs_error(fake_facemesh, tmp_path, cache):
    (a, b, oom), _ = fake_facemesh
    cache_dir = tmp_path / "cache" if cache else None
    out, caught = _transform([a, oom, b], cache_dir, errors="skip")
    assert len(out) == 2
    (w,) = [w for w in caught if "skipped" in str(w.message)]
    assert str(w.message) == f"X[1]: skipped: {oom}: MemoryError: cannot allocate the frames"
    with pytest.raises(InputError, match=r"1 of 3 inputs gave no result") as info:
        LipLandmarkExtractor(cache_dir=cache_dir).transform([a, oom, b])
    assert f"X[1]: {oom}: MemoryError" in str(info.value)


def test_any_failure_of_a_track_file_is_that_inputs_error(tmp_path, monkeypatch):
    import lipanomaly.io.extraction as extraction

    good = write_track(tmp_path / "good.npz", _face_track(1))
    bad = write_track(tmp_path / "bad.npz", _face_track(2))
    real_read = extraction.read_track

    def read(path):
        if os.fspath(path) == bad:
            raise MemoryError()
        return real_read(path)

    monkeypatch.setattr(extraction, "read_track", read)
    with pytest.warns(ExtractionWarning, match=r"X\[0\]: skipped: .*bad\.npz: MemoryError"):
        segments = LipLandmarkExtractor(errors="skip").transform_segments([bad, good])
    assert segments[0] == [] and len(segments[1]) == 1


def test_extract_folder_keeps_the_others(fake_facemesh, tmp_path):
    (a, _, _), _ = fake_facemesh
    out = tmp_path / "tracks"
    with pytest.warns(ExtractionWarning, match=r"v2\.mp4: MemoryError"):
        res = extract_folder(os.path.dirname(a), out, errors="skip", verbose=0)
    assert res.status == ["written", "written", "failed"]
    assert sorted(p.name for p in out.iterdir()) == ["v0.mp4.npz", "v1.mp4.npz"]
