import numpy as np
import pytest

from lipanomaly._validation import check_clips
from lipanomaly.exceptions import InputError


def test_array_and_ragged_list(rng):
    arr = rng.random((3, 20, 40, 2))
    out = check_clips(arr)
    assert len(out) == 3 and out[0].dtype == np.float64
    ragged = [rng.random((n, 40, 2)).astype(np.float32) for n in (10, 30)]
    out = check_clips(ragged)
    assert [c.shape for c in out] == [(10, 40, 2), (30, 40, 2)]


@pytest.mark.parametrize(
    ("X", "message"),
    [
        ([], "empty"),
        (np.zeros((20, 40, 2)), r"pass \[clip\]"),
        ([np.zeros((20, 40, 3))], r"X\[0\].*\(T, K, 2\)"),
        ([np.zeros((20, 40, 2)), np.zeros((20, 20, 2))], r"X\[1\].*20 lip points"),
        ([np.full((20, 40, 2), np.nan)], "NaN"),
        ([np.array([["a"]])], "numeric"),
        ("clips", "collection"),
    ],
)
def test_bad_collections(X, message):
    with pytest.raises(InputError, match=message):
        check_clips(X)


def test_points_and_length_checked():
    with pytest.raises(InputError, match="expected 40 lip points"):
        check_clips([np.zeros((20, 20, 2))], n_points=40)
    with pytest.raises(InputError, match="at least 30 frames"):
        check_clips([np.zeros((20, 40, 2))], min_length=30)


@pytest.mark.parametrize("scale", [1e37, 1e3, -25.0])
def test_magnitudes_beyond_head_normalised_lips_are_refused(rng, scale):
    """A lip sequence far beyond a few inter-ocular distances (x 1e37 overflows the
    network's float32 into NaN scores) is refused, naming the clip and the frames."""
    clip = rng.uniform(-1, 1, (30, 40, 2))
    clip[7:9] *= scale
    with pytest.raises(
        InputError, match=r"X\[1\]: values up to .* in 2 frame\(s\) \(first: \[7, 8\]\)"
    ):
        check_clips([rng.uniform(-1, 1, (30, 40, 2)), clip])
    check_clips([clip.clip(-20, 20)])  # MAX_LIP_UNITS itself is accepted
