import numpy as np
import pytest

from lipanomaly.exceptions import InputError
from lipanomaly.signal.windows import aggregate, make_windows


def test_windows_cover_every_frame():
    clip = np.arange(100, dtype=float)[:, None, None] * np.ones((1, 3, 2))
    w, idx, starts = make_windows([clip], length=64, stride=16)
    assert w.shape == (4, 64, 3, 2)
    assert starts.tolist() == [0, 16, 32, 36]  # last window aligned to the end
    assert (idx == 0).all()
    np.testing.assert_array_equal(w[-1, -1], clip[-1])


def test_short_clip_is_mirrored_then_rejected():
    clip = np.arange(40, dtype=float)[:, None, None] * np.ones((1, 3, 2))
    w, _, _ = make_windows([clip], length=64)
    assert w.shape == (1, 64, 3, 2)
    np.testing.assert_array_equal(w[0, 40, 0, 0], 39.0)  # mirrored, no jump
    with pytest.raises(InputError, match="shorter than the 32 frames"):
        make_windows([clip[:20]], length=64)


def test_aggregate():
    idx = np.array([0, 0, 1])
    np.testing.assert_allclose(aggregate([1.0, 3.0, 5.0], idx, 2), [2.0, 5.0])
    np.testing.assert_allclose(aggregate([1.0, 3.0, 5.0], idx, 2, how="max"), [3.0, 5.0])
    with pytest.raises(InputError, match="aggregation"):
        aggregate([1.0], np.array([0]), 1, how="sum")
