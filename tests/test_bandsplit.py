"""BandSplit: the output representation, collections, inverse, short clips, errors, pipelines."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from lipanomaly import BandSplit
from lipanomaly.exceptions import InputError, NotFittedError
from lipanomaly.signal.filters import FACEMESH_LIPS, band_split


@pytest.fixture
def batch(rng):
    return rng.normal(size=(3, 64, 40, 2))


def test_both_is_low_and_high_side_by_side(batch):
    out = BandSplit(cutoff=3.0).fit_transform(batch)
    assert isinstance(out, np.ndarray)
    assert out.shape == (3, 64, 40, 4)
    assert out.dtype == np.float64
    for i in range(3):
        low, high = band_split(batch[i], cutoff=3.0)
        np.testing.assert_array_equal(out[i, ..., :2], low)
        np.testing.assert_array_equal(out[i, ..., 2:], high)


@pytest.mark.parametrize("band", ["low", "high"])
def test_single_band(batch, band):
    out = BandSplit(band=band).fit_transform(batch)
    assert out.shape == batch.shape
    low, high = band_split(batch[2])
    np.testing.assert_array_equal(out[2], low if band == "low" else high)


def test_low_plus_high_is_the_input(batch):
    low = BandSplit(band="low").fit_transform(batch)
    high = BandSplit(band="high").fit_transform(batch)
    np.testing.assert_allclose(low + high, batch, rtol=0, atol=1e-12)


def test_ragged_list_stays_a_list(rng):
    clips = [rng.normal(size=(n, 40, 2)) for n in (64, 30, 7, 1)]
    out = BandSplit().fit(clips).transform(clips)
    assert isinstance(out, list)
    assert [c.shape for c in out] == [(n, 40, 4) for n in (64, 30, 7, 1)]
    for clip, both in zip(clips, out):
        np.testing.assert_allclose(both[..., :2] + both[..., 2:], clip, rtol=0, atol=1e-12)


def test_inverse_transform_round_trip(batch, rng):
    bs = BandSplit().fit(batch)
    np.testing.assert_allclose(bs.inverse_transform(bs.transform(batch)), batch, atol=1e-12)
    clips = [rng.normal(size=(n, 40, 2)) for n in (20, 33)]
    back = bs.inverse_transform(bs.transform(clips))
    assert isinstance(back, list)
    for a, b in zip(back, clips):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("band", ["low", "high"])
def test_no_inverse_for_one_band(band):
    assert not hasattr(BandSplit(band=band), "inverse_transform")
    assert hasattr(BandSplit(band="both"), "inverse_transform")


def test_inverse_transform_checks_its_input(batch):
    bs = BandSplit().fit(batch)
    with pytest.raises(InputError, match=r"X\[0\].*\(T, 40, 4\)"):
        bs.inverse_transform(batch)
    bad = bs.transform(batch)
    bad[1, 5, 2, 3] = np.nan
    with pytest.raises(InputError, match="NaN"):
        bs.inverse_transform(bad)


def test_short_clips_do_not_crash(rng):
    clips = [rng.normal(size=(n, 40, 2)) for n in range(1, 18)]
    out = BandSplit(band="both").fit_transform(clips)
    for clip, both in zip(clips, out):
        assert np.isfinite(both).all()
        np.testing.assert_allclose(both[..., :2] + both[..., 2:], clip, rtol=0, atol=1e-12)


def test_nan_rejected_naming_the_clip(batch):
    bad = batch.copy()
    bad[2, 10, 5, 1] = np.nan
    with pytest.raises(
        InputError, match=r"X\[2\]: contains NaN or inf in 1 frame\(s\) \(first: \[10\]\)"
    ):
        BandSplit().fit(batch).transform(bad)
    with pytest.raises(InputError, match="NaN"):
        BandSplit().fit(bad)


def test_single_clip_rejected(batch):
    with pytest.raises(InputError, match=r"pass \[clip\]"):
        BandSplit().fit(batch[0])


def test_number_of_points_remembered(batch, rng):
    bs = BandSplit().fit(batch)
    assert bs.n_points_ == 40
    with pytest.raises(InputError, match="expected 40 lip points"):
        bs.transform([rng.normal(size=(30, 20, 2))])


def test_not_fitted():
    with pytest.raises(NotFittedError):
        BandSplit().transform(np.zeros((1, 10, 40, 2)))


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"cutoff": 13.0}, InputError, "Nyquist"),
        ({"cutoff": 5.0, "fs": 10.0}, InputError, "Nyquist"),
        ({"cutoff": -1.0}, ValueError, "cutoff"),
        ({"cutoff": 1e-300}, InputError, "MIN_CUTOFF_FRACTION"),
        ({"band": "mid"}, ValueError, "band"),
        ({"order": 0}, ValueError, "order"),
    ],
)
def test_parameters_validated_in_fit(batch, params, error, match):
    bs = BandSplit(**params)  # __init__ stores, never checks
    with pytest.raises(error, match=match):
        bs.fit(batch)


def test_clone_and_params():
    bs = BandSplit(cutoff=3.0, band="high")
    assert clone(bs).get_params() == bs.get_params()


def test_in_a_pipeline(batch):
    pipe = make_pipeline(BandSplit(band="high"), BandSplit(band="low", cutoff=10.0))
    out = pipe.fit_transform(batch)
    assert out.shape == batch.shape


def test_float32_input_gives_float64(batch):
    out = BandSplit().fit_transform(batch.astype(np.float32))
    assert out.dtype == np.float64


def test_real_clip_split(development):
    """On real lips (25 fps clip), the high band is the small fast part of the motion."""
    fps25 = [i for i, t in enumerate(development.tracks) if t.fps == 25.0 and t.face_found.all()]
    track = development.tracks[fps25[0]]
    lips = track.landmarks[:, list(FACEMESH_LIPS)] * [track.width, track.height]
    motion = lips - lips.mean(axis=0)
    both = BandSplit().fit_transform([motion])[0]
    np.testing.assert_allclose(both[..., :2] + both[..., 2:], motion, rtol=0, atol=1e-9)
    # most motion power lies below 4 Hz (docs/bandsplit.md): the high band is the minor part
    assert (both[..., 2:] ** 2).sum() < 0.5 * (both[..., :2] ** 2).sum()
    assert (both[..., 2:] ** 2).sum() > 0
