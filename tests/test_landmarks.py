import numpy as np
import pytest

from lipanomaly.exceptions import InputError
from lipanomaly.io.landmarks import (
    FACEMESH_LIPS,
    HEAD_ANCHORS,
    LIPS_INNER,
    LIPS_OUTER,
    ema_smooth,
    face_segments,
    interpolate_gaps,
    normalize_head,
    resample,
    resolve_points,
)
from lipanomaly.io.tracks import read_track


@pytest.fixture(scope="module")
def carphone(data_dir):
    """A real track with head motion: the classic car-phone clip (176x144, 29.97 fps)."""
    return read_track(data_dir / "videos" / "carphone_pristine.mp4.mp_lm.npz")


# -- point sets ---------------------------------------------------------------------


def test_lips_match_reference_indices(carphone):
    # the reference extractions store MediaPipe's FACEMESH_LIPS as lips_idx
    np.testing.assert_array_equal(resolve_points("lips"), carphone.extra["lips_idx"])


def test_point_sets():
    outer, inner = set(LIPS_OUTER), set(LIPS_INNER)
    assert len(outer) == len(inner) == 20 and not outer & inner
    assert outer | inner == set(FACEMESH_LIPS)
    np.testing.assert_array_equal(resolve_points("outer+inner"), LIPS_OUTER + LIPS_INNER)
    np.testing.assert_array_equal(resolve_points([61, 291]), [61, 291])
    assert not set(HEAD_ANCHORS) & set(FACEMESH_LIPS)


def test_rings_follow_mediapipe_lip_contours():
    """Consecutive points of each ring are joined in MediaPipe's own FACEMESH_LIPS edges."""
    mp = pytest.importorskip("mediapipe")
    edges = {frozenset(e) for e in mp.solutions.face_mesh.FACEMESH_LIPS}
    assert {i for e in edges for i in e} == set(FACEMESH_LIPS)
    for ring in (LIPS_OUTER, LIPS_INNER):
        ring_edges = {frozenset((a, b)) for a, b in zip(ring, ring[1:] + ring[:1])}
        assert ring_edges <= edges


@pytest.mark.parametrize("bad", ["teeth", [], [0, 478], [1, 1], [[0, 1]], [0.5]])
def test_bad_points(bad):
    with pytest.raises(InputError, match="points"):
        resolve_points(bad)


# -- head normalisation -------------------------------------------------------------


def _face(T=1):
    """Synthetic landmarks (pixels) with eye corners at known places, lips at (x, y)."""
    lm = np.zeros((T, 478, 2))
    lm[:, [33, 133]] = [[-3.0, 0.0], [-1.0, 0.0]]  # right eye centre (-2, 0)
    lm[:, [362, 263]] = [[1.0, 0.0], [3.0, 0.0]]  # left eye centre (2, 0): distance 4
    lm[:, [168, 6, 197, 195]] = [[0.0, 0.0], [0.0, 1.0], [0.0, 2.0], [0.0, 3.0]]
    return lm  # anchor centroid (0, 0.75)


def test_normalize_known_answer():
    lm = _face()
    lm[0, 0] = [2.0, 4.75]  # a lip point 2 px right of and 4 px below the anchor centroid
    out = normalize_head(lm / [100, 50], 100, 50, points=[0])
    np.testing.assert_allclose(out[0, 0], [0.5, 1.0])  # divided by the inter-ocular 4 px


def test_normalize_removes_similarity_and_pixel_aspect(carphone):
    """Rotating, scaling and moving the head, or changing the frame size, changes nothing."""
    lm = carphone.landmarks[:20].astype(np.float64) * [carphone.width, carphone.height]
    angle, scale, shift = np.deg2rad(25.0), 1.8, np.array([40.0, -15.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = scale * lm @ rot.T + shift
    width, height = 640, 360  # another frame size and aspect ratio
    ref = normalize_head(carphone.landmarks[:20], carphone.width, carphone.height)
    out = normalize_head(moved / [width, height], width, height)
    np.testing.assert_allclose(out, ref, atol=1e-9)
    assert ref.shape == (20, 40, 2) and ref.dtype == np.float64


def test_normalize_real_lips_land_below_the_eyes(carphone):
    out = normalize_head(carphone.landmarks, carphone.width, carphone.height)
    centre = out.mean(axis=(0, 1))
    # mouth centred under the anchors, about one inter-ocular distance below them
    assert abs(centre[0]) < 0.15 and 0.9 < centre[1] < 1.5
    width = np.linalg.norm(out[:, 25] - out[:, 7], axis=-1)  # mouth corners 291 and 61
    assert 0.6 < np.median(width) < 1.2


@pytest.mark.parametrize("name", ["carphone_pristine.mp4", "video_8s_real.mp4"])
def test_normalize_removes_head_motion(data_dir, name):
    """On real clips with a moving head, the lips' centroid moves far less once normalised."""
    t = read_track(data_dir / "videos" / f"{name}.mp_lm.npz")
    lm = t.landmarks[t.face_found]
    raw = lm[:, list(FACEMESH_LIPS)] * [t.width, t.height]
    norm = normalize_head(lm, t.width, t.height)

    def motion(x):  # centroid wander in units of the median mouth width
        width = np.median(np.linalg.norm(x[:, 25] - x[:, 7], axis=-1))
        return np.linalg.norm(x.mean(axis=1).std(axis=0)) / width

    assert motion(norm) < 0.3 * motion(raw)


def test_normalize_keeps_missing_frames_missing(carphone):
    lm = carphone.landmarks[:5].copy()
    lm[2] = np.nan
    out = normalize_head(lm, carphone.width, carphone.height)
    assert np.isnan(out[2]).all() and np.isfinite(out[[0, 1, 3, 4]]).all()
    collapsed = _face()
    collapsed[:, [33, 133, 362, 263]] = 0.0  # no eye line: treated as no face
    assert np.isnan(normalize_head(collapsed, 1, 1)).all()


# -- gaps -----------------------------------------------------------------------------


def test_face_segments_known_answer():
    valid = np.array([0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0], dtype=bool)
    assert face_segments(valid, max_gap=2) == [(1, 7), (10, 14)]
    assert face_segments(valid, max_gap=1) == [(1, 3), (5, 7), (10, 14)]
    assert face_segments(valid, max_gap=3) == [(1, 14)]
    assert face_segments(valid, max_gap=1, min_length=3) == [(10, 14)]
    assert face_segments(np.zeros(4, bool), max_gap=5) == []


def test_interpolate_gaps_recovers_linear_motion():
    t = np.arange(12.0)
    x = np.stack([2 * t + 1, -t], axis=-1)[:, None, :].repeat(3, axis=1)  # (12, 3, 2)
    holes = x.copy()
    holes[[2, 3, 4, 9]] = np.nan
    np.testing.assert_allclose(interpolate_gaps(holes), x)
    with pytest.raises(InputError):
        interpolate_gaps(holes[3:])


# -- resampling and smoothing ----------------------------------------------------------


def test_resample_identity_and_length():
    x = np.random.default_rng(0).normal(size=(120, 4, 2))
    np.testing.assert_array_equal(resample(x, 25.0, 25.0), x)
    assert len(resample(x, 30000 / 1001, 25.0)) == 100  # floor(119 * 25 / 29.97) + 1
    assert len(resample(x, 20.0, 25.0)) == 149  # 5.95 s at 25 fps


def test_resample_timing_is_exact():
    """A 1.5 Hz sine sampled at 29.97 fps lands on the same sine sampled at 25 fps."""
    fps_in, fps_out, f = 30000 / 1001, 25.0, 1.5
    x = np.sin(2 * np.pi * f * np.arange(150) / fps_in)[:, None, None]
    y = resample(x, fps_in, fps_out)[:, 0, 0]
    expected = np.sin(2 * np.pi * f * np.arange(len(y)) / fps_out)
    # linear interpolation error of a sine: at most (2 pi f / fps_in)^2 / 8
    assert np.abs(y - expected).max() < (2 * np.pi * f / fps_in) ** 2 / 8 + 1e-12
    linear = np.arange(90.0)[:, None, None]
    np.testing.assert_allclose(resample(linear, 30.0, 25.0)[:, 0, 0], np.arange(75) * 1.2)


def test_ema_smooth_is_light_and_zero_phase():
    x = np.zeros((41, 1, 2))
    x[20] = 1.0
    y = ema_smooth(x, 0.8)
    assert np.argmax(y[:, 0, 0]) == 20  # no delay
    np.testing.assert_allclose(y[::-1], y, atol=1e-12)  # symmetric: zero phase
    np.testing.assert_array_equal(ema_smooth(x, 1.0), x)
    np.testing.assert_allclose(ema_smooth(np.full((10, 2, 2), 3.0), 0.5), 3.0)
    jitter = np.random.default_rng(0).normal(size=(500, 1, 1))
    assert 0.3 < ema_smooth(jitter, 0.8).std() / jitter.std() < 0.9


# -- degenerate inputs (issue 14) -------------------------------------------------------


@pytest.mark.parametrize("eye_distance", [0.0, 1e-12, 1e-3, 0.1])
def test_a_near_collapsed_eye_line_is_no_face(eye_distance):
    """Dividing by an inter-ocular distance near 0 never gives huge lip coordinates: the
    frame comes out NaN (no face), like a frame where FaceMesh found none."""
    from lipanomaly.limits import MAX_LIP_UNITS

    lm = np.repeat(_face(), 3, axis=0)
    lm[:, 0] = [0.0, 4.75]  # a lip point 1 inter-ocular distance below the anchors
    d = eye_distance / 2
    lm[1, [33, 133]] = [[-d, 0.0], [-d, 0.0]]
    lm[1, [362, 263]] = [[d, 0.0], [d, 0.0]]
    out = normalize_head(lm, 1, 1, points=[0])
    assert np.isfinite(out[[0, 2]]).all() and np.isnan(out[1]).all()
    lm[1] = _face()[0] * 0.5  # a plausibly small head is kept
    lm[1, 0] = [0.0, 2.375]
    out = normalize_head(lm, 1, 1, points=[0])
    assert np.isfinite(out).all() and np.abs(out).max() <= MAX_LIP_UNITS


def test_resample_is_bounded_before_allocation():
    from lipanomaly.limits import MAX_FRAMES

    x = np.zeros((1000, 40, 2))
    with pytest.raises(InputError, match=r"0\.001 to 25 fps gives \d+ frames, more than 108000"):
        resample(x, 0.001, 25.0)
    assert len(resample(x[:2], 1.0, MAX_FRAMES - 1.0)) == MAX_FRAMES  # the limit itself
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(InputError, match="positive frame rate"):
            resample(x, bad, 25.0)
