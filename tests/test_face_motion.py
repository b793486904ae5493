"""Whole-face motion features (lipanomaly.detectors.face_motion) and the face clips they read."""

import dataclasses

import numpy as np
import pytest

from lipanomaly.detectors.face import FaceMotionFeatures, face_extractor
from lipanomaly.detectors.face_motion import (
    FACE_CLIP_ROWS,
    FEATURES,
    MIN_SECONDS,
    N_FEATURES,
    face_motion_features,
    feature_names,
    min_frames,
)
from lipanomaly.exceptions import InputError
from lipanomaly.io.landmarks import FACE_POINTS, FACE_REGIONS, FACEMESH_LIPS
from lipanomaly.io.tracks import Track


@pytest.fixture(scope="module")
def track(development):
    """A real talking head of 10 s (a HDTF address is in wild/; landmarks/ has StyleTalk)."""
    return next(t for t in development.tracks if "Obama_clip1" in t.path)


@pytest.fixture(scope="module")
def clip(track):
    return face_extractor().transform([track])[0]


def test_the_table_of_features():
    names = [name for name, _, _ in FEATURES]
    assert len(set(names)) == len(names) == N_FEATURES
    assert {region for _, region, _ in FEATURES} == {"lips", "context"}
    lips, context = feature_names("lips"), feature_names("context")
    assert set(lips) | set(context) == set(names) and not set(lips) & set(context)
    assert feature_names("both") == tuple(names)
    with pytest.raises(InputError, match="regions"):
        feature_names("eyes")
    # no feature reads the recording: nothing named after fps, size or duration
    assert not [n for n in names if any(w in n for w in ("fps", "size", "duration", "pixel"))]


def test_face_clips_start_with_the_lip_clip_the_lfhf_detector_reads(track, clip):
    from lipanomaly import LipLandmarkExtractor

    assert FACE_POINTS[:40] == FACEMESH_LIPS and len(FACE_POINTS) == 130
    assert clip.shape[1:] == (FACE_CLIP_ROWS, 2)
    lips = LipLandmarkExtractor(head_frame="rigid").transform([track])[0]
    np.testing.assert_array_equal(clip[:, :40], lips)
    # the pose rows are small numbers about 0 (relative to the clip's median): no pixels
    assert np.abs(np.median(clip[:, -2:], axis=0)).max() < 0.05


def test_lip_features_read_the_lips_alone(clip):
    """Moving every point but the lips, and the head, changes no "lips" feature."""
    rng = np.random.default_rng(0)
    other = clip.copy()
    other[:, 40:] += np.cumsum(rng.normal(0, 0.01, other[:, 40:].shape), axis=0)
    a, b = face_motion_features(clip), face_motion_features(other)
    for j, (name, region, _) in enumerate(FEATURES):
        if region == "lips":
            assert a[j] == pytest.approx(b[j], rel=1e-9, abs=1e-12), name
    assert not np.allclose(a, b)  # the context features do see it


def _moved(track, **changes):
    return dataclasses.replace(track, **changes)


def test_invariant_to_frame_size_position_and_roll_of_the_face(track, clip):
    """The same face filmed larger, elsewhere in the frame or tilted gives the same features:
    no pixel unit and no absolute position or angle reaches them."""
    lm = track.landmarks.astype(np.float64)
    doubled = _moved(track, width=2 * track.width, height=2 * track.height)
    shifted = _moved(track, landmarks=(lm + np.array([0.05, -0.03])).astype(np.float32))
    px = lm * [track.width, track.height]
    centre = np.nanmean(px, axis=(0, 1))
    a = np.deg2rad(12)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    turned = (px - centre) @ rot.T + centre
    tilted = _moved(track, landmarks=(turned / [track.width, track.height]).astype(np.float32))
    reference = face_motion_features(clip)
    for other in (doubled, shifted, tilted):
        moved = face_motion_features(face_extractor().transform([other])[0])
        np.testing.assert_allclose(moved, reference, rtol=1e-4, atol=1e-6)


def test_finite_for_a_still_face_and_constant_signals(clip):
    still = np.repeat(clip[:1], 60, axis=0)
    values = face_motion_features(still)
    assert values.shape == (N_FEATURES,) and np.isfinite(values).all()


def test_too_short_or_not_a_face_clip(clip):
    assert min_frames(25.0) == 50 and MIN_SECONDS == 2.0
    with pytest.raises(InputError, match=r"my clip: 49 frames \(1\.96 s at 25 fps\).*2 s"):
        face_motion_features(clip[:49], name="my clip")
    face_motion_features(clip[:50])
    with pytest.raises(InputError, match=r"points='face', head_frame='rigid', pose=True"):
        face_motion_features(clip[:, :40])
    with pytest.raises(InputError, match=r"X: face clips have 132 rows.*got 40"):
        FaceMotionFeatures().fit([clip[:, :40]])


def test_the_low_pass_keeps_the_fastest_jitter_out(clip):
    """Jitter above 6 Hz (what a frame rate or a face size shapes) barely moves the
    features; without the low-pass it moves them."""
    rng = np.random.default_rng(1)
    t = np.arange(len(clip))[:, None, None]
    jitter = 0.004 * np.sin(2 * np.pi * 11.0 * t / 25.0 + rng.uniform(0, 6, clip.shape[1:]))
    base, noisy = clip, clip + jitter
    filtered = np.abs(face_motion_features(noisy) - face_motion_features(base))
    raw = np.abs(
        face_motion_features(noisy, lowpass=None) - face_motion_features(base, lowpass=None)
    )
    assert np.median(filtered) < 0.2 * np.median(raw)


def test_transformer_regions_and_names(clip):
    both = FaceMotionFeatures().fit([clip])
    lips = FaceMotionFeatures(regions="lips").fit([clip])
    assert both.transform([clip, clip]).shape == (2, N_FEATURES)
    assert list(lips.get_feature_names_out()) == list(feature_names("lips"))
    in_lips = [name in feature_names("lips") for name, *_ in FEATURES]
    np.testing.assert_array_equal(lips.transform([clip])[0], both.transform([clip])[0][in_lips])
    with pytest.raises(InputError, match="Nyquist"):
        FaceMotionFeatures(fs=10.0, lowpass=6.0).fit([clip])


def test_regions_cover_the_face():
    assert set(FACE_REGIONS) == {"lips", "jaw", "cheeks", "nose", "eyes", "brows", "rigid"}
    assert {468, 473} <= set(FACE_REGIONS["eyes"])  # the iris centres: gaze
    assert len(set(FACE_POINTS)) == len(FACE_POINTS)


def test_pose_rows_follow_the_head(track):
    """A head sliding right by one head unit over the clip: the translation row spans 1,
    and the face points, in the head frame, do not move."""
    from lipanomaly.io.landmarks import head_frames

    _, _, scale = head_frames(track.landmarks, track.width, track.height, frame="rigid")
    unit = np.nanmedian(scale)  # pixels per head unit
    ramp = np.linspace(0, unit / track.width, len(track.landmarks))[:, None, None]
    moved = _moved(track, landmarks=track.landmarks + (ramp * [1, 0]).astype(np.float32))
    a, b = (face_extractor(fps=None).transform([t])[0] for t in (track, moved))
    shift = b[:, -2] - a[:, -2]  # along the head's mean axes: a slightly tilted x
    assert np.hypot(*(shift[-1] - shift[0])) == pytest.approx(1.0, rel=1e-3)
    np.testing.assert_allclose(a[:, :-2], b[:, :-2], atol=1e-5)


def test_a_track_without_a_face_in_the_context_points_is_refused():
    lm = np.full((80, 478, 2), np.nan, dtype=np.float32)
    with pytest.raises(InputError, match="no face segment"):
        face_extractor().transform([Track(lm, fps=25.0, width=100, height=100)])
