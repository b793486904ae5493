import numpy as np
import pytest

from lipanomaly.datasets import Track, load_development, read_track, write_track
from lipanomaly.exceptions import InputError


def test_development_set(development):
    assert len(development.tracks) == 140
    assert (development.y == 1).sum() == 111
    assert (development.y == -1).sum() == 29
    assert set(development.generators[development.y == -1]) == {
        "SadTalker", "HyperLips", "Wav2Lip", "StyleHEAT", "DreamTalk", "StyleTalk", "GeneFace"
    }  # fmt: skip
    t = development.tracks[0]
    assert t.landmarks.shape[1:] == (478, 2)
    assert 20 <= t.fps <= 30


def test_load_only_fakes(data_dir):
    fakes = load_development(data_dir, label="fake")
    assert len(fakes.tracks) == 29 and (fakes.y == -1).all()


def test_reference_track_has_no_label(data_dir):
    t = read_track(data_dir / "videos" / "face_noface.mov.mp_lm.npz")
    assert t.label is None
    assert 0.40 < t.face_found.mean() < 0.46  # the README's 43 %
    assert "lips_idx" in t.extra


def test_roundtrip(tmp_path, rng):
    lm = rng.random((10, 478, 2)).astype(np.float32)
    lm[3] = np.nan
    t = Track(lm, fps=29.97, width=640, height=360, label="real", source="s")
    path = write_track(tmp_path / "a.npz", t)
    back = read_track(path)
    np.testing.assert_array_equal(back.landmarks, lm)
    assert (back.fps, back.width, back.height, back.label) == (29.97, 640, 360, "real")
    assert back.generator is None
    with pytest.raises(InputError, match="exists already"):
        write_track(path, t)
    np.testing.assert_array_equal(read_track(path).landmarks, lm)  # untouched


def _save(path, **arrays):
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"fps": 25.0, "width": 1, "height": 1}, r"missing key\(s\) \['landmarks'\]"),
        ({"landmarks": np.zeros((5, 40, 2)), "fps": 25.0, "width": 1, "height": 1}, "shape"),
        ({"landmarks": np.array(["a"] * 5), "fps": 25.0, "width": 1, "height": 1}, "numeric"),
        ({"landmarks": np.zeros((5, 478, 2)), "fps": -1.0, "width": 1, "height": 1}, "fps"),
        ({"landmarks": np.zeros((5, 478, 2)), "fps": 25.0, "width": 0, "height": 1}, "width"),
    ],
)
def test_bad_track_files(tmp_path, arrays, message):
    path = _save(tmp_path / "bad.npz", **arrays)
    with pytest.raises(InputError, match=message) as info:
        read_track(path)
    assert "bad.npz" in str(info.value)


def test_not_an_npz(tmp_path):
    path = tmp_path / "x.npz"
    path.write_text("hello")
    with pytest.raises(InputError, match=r"x\.npz"):
        read_track(path)
    with pytest.raises(InputError, match="no such track file"):
        read_track(tmp_path / "missing.npz")
