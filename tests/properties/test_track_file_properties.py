"""Fuzzing track files and extractor configurations (hypothesis; issue 14).

Random ``.npz`` archives (random keys, dtypes, shapes, header lies, truncation, flipped
bytes, NaN / inf / huge values, huge declared shapes, deflate bombs in known and unknown
keys) are fed to :func:`~lipanomaly.io.tracks.read_track` and to
``LipLandmarkExtractor(errors="skip")``. Promised, for every file:

- only the package's own exceptions (:class:`~lipanomaly.exceptions.InputError`), and the
  message names the file on one line;
- bounded memory: reading and extracting allocate at most :data:`PEAK_BYTES` (measured with
  :mod:`tracemalloc`, which sees numpy's buffers), and a few seconds at most;
- never a silent bad clip: a file whose header lies about a member that is read, or that
  is truncated, is refused; every clip that comes out is finite, of shape (T, 40, 2), and
  within :data:`~lipanomaly.limits.MAX_LIP_UNITS`.
"""

import io
import json
import time
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lipanomaly.exceptions import InputError, ModelFileError
from lipanomaly.io.extraction import LipLandmarkExtractor
from lipanomaly.io.tracks import Track, read_track, write_track
from lipanomaly.limits import MAX_LIP_UNITS, RATIO_FREE_BYTES

#: The most a file of this test (at most a few MB) may make the package allocate.
PEAK_BYTES = 48 * 2**20
#: The longest one file may take to be read and extracted, in seconds (loose: shared CI).
MAX_SECONDS = 5.0

KNOWN = ("landmarks", "fps", "width", "height", "label", "source", "lips_idx")
NUMERIC = ("<f4", "<f8", ">f4", "<f2", "<i4", "|u1", "|b1")
OTHER = ("<c8", "<U4", "|S3", "|O", "<M8[s]")
VALUES = (0.5, 0.0, 1.0, -0.3, 1.4, 40.0, -1e30, 1e38, np.nan, np.inf, -np.inf)


def _npy_header(descr, shape, fortran=False):
    text = repr({"descr": descr, "fortran_order": fortran, "shape": tuple(shape)})
    text += " " * (-(10 + len(text) + 1) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode("latin1")


def _face(t, rng):
    """A plausible FaceMesh track of ``t`` frames (float32), some frames without a face."""
    lm = np.full((t, 478, 2), 0.5, dtype=np.float32)
    lm[:, [33, 133]] = [0.40, 0.40], [0.45, 0.40]
    lm[:, [362, 263]] = [0.55, 0.40], [0.60, 0.40]
    lm[:, [168, 6, 197, 195]] = [0.5, 0.40], [0.5, 0.42], [0.5, 0.45], [0.5, 0.48]
    lm += rng.normal(0, 0.003, lm.shape).astype(np.float32)
    lm[rng.random(t) < 0.1] = np.nan
    return lm


@st.composite
def members(draw):
    """One archive member: (name, bytes, declared_ok) where declared_ok says the header
    tells the truth about the data."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    key = draw(st.sampled_from(KNOWN) | st.sampled_from(["junk", "extra", "x/y", "__"]))
    kind = draw(st.sampled_from(["good", "good", "good", "random", "lie", "huge", "bomb"]))
    if kind == "bomb":  # zeros that compress ~1000:1, just past the ratio-free size
        n_frames = RATIO_FREE_BYTES // (478 * 2 * 4) + draw(st.integers(1, 300))
        head = _npy_header("<f4", (n_frames, 478, 2))
        return key, head + bytes(n_frames * 478 * 2 * 4), True
    if kind == "good":
        if key == "landmarks":
            arr = _face(draw(st.integers(0, 60)), rng)
            if draw(st.booleans()):  # poison a few values
                idx = tuple(rng.integers(0, s) for s in arr.shape) if arr.size else None
                if idx is not None:
                    arr[idx] = draw(st.sampled_from(VALUES))
        elif key in ("fps", "width", "height"):
            arr = np.asarray(draw(st.sampled_from([25.0, 29.97, 0.001, 1e9, 640, -1, 0, np.nan])))
        elif key == "lips_idx":
            arr = np.arange(draw(st.integers(0, 500)))
        else:
            arr = np.str_(draw(st.text(max_size=20)))
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
        return key, buf.getvalue(), True
    descr = draw(st.sampled_from(NUMERIC + OTHER))
    if kind == "huge":
        shape = draw(st.sampled_from([(10**12, 478, 2), (2**40,), (10**6, 10**6), (2**62, 478, 2)]))
        return key, _npy_header(descr, shape) + bytes(draw(st.integers(0, 4096))), False
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.sampled_from([0, 1, 2, 3, 478, 40])) for _ in range(ndim))
    if key == "landmarks" and draw(st.booleans()):
        shape = (draw(st.integers(0, 30)), 478, draw(st.sampled_from([2, 3])))
    itemsize = np.dtype(descr).itemsize if descr != "|O" else 8
    declared = size = int(np.prod(shape)) * itemsize
    if kind == "lie":
        size = max(0, size + draw(st.sampled_from([-1, 1, -size // 2, 7, 4096])))
    data = rng.bytes(size)
    if descr in ("<f4", "<f8") and kind == "random" and size:  # readable floats, some NaN
        vals = rng.choice(np.asarray(VALUES, dtype=np.float64), size // itemsize)
        data = vals.astype(descr).tobytes()
    fortran = draw(st.booleans())
    return key, _npy_header(descr, shape, fortran) + data, size == declared


def _member_bytes(value):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
    return buf.getvalue()


@st.composite
def archives(draw):
    """(raw bytes of an .npz, whether it must be refused).

    Half are a valid track with a few additions (unknown keys, bombs, one poisoned value,
    an optional key of any kind), half any members at all (the required keys added, valid
    or not, most of the time).
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    required = ("landmarks", "fps", "width", "height")
    if draw(st.booleans()):
        lm = _face(draw(st.integers(1, 60)), rng)
        if draw(st.booleans()):  # one poisoned value
            idx = tuple(int(rng.integers(0, n)) for n in lm.shape)
            lm[idx] = draw(st.sampled_from(VALUES))
        fps = draw(st.sampled_from([25.0, 29.97, 30.0, 60.0, 1.0, 240.0]))
        chosen = [
            (
                "landmarks",
                _member_bytes(lm.astype(draw(st.sampled_from(["<f4", "<f8", ">f4"])))),
                True,
            ),
            ("fps", _member_bytes(fps), True),
            ("width", _member_bytes(draw(st.sampled_from([640, 1920, 176, 1]))), True),
            ("height", _member_bytes(draw(st.sampled_from([480, 1080, 144, 1]))), True),
        ]
        extra = draw(st.lists(members(), max_size=3))
        chosen += [m for m in extra if m[0] not in required]
    else:
        chosen = draw(st.lists(members(), max_size=7))
        if draw(st.booleans()):  # most archives carry the required keys, valid or not
            present = {name for name, _, _ in chosen}
            defaults = {
                "landmarks": _face(draw(st.integers(20, 60)), rng),
                "fps": 25.0,
                "width": 640,
                "height": 480,
            }
            chosen += [(k, _member_bytes(defaults[k]), True) for k in required if k not in present]
    buf = io.BytesIO()
    compression = draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED]))
    truthful = {}  # of each known key's last member: the one the reader takes
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", compression, compresslevel=1) as zf:
        warnings.simplefilter("ignore")  # duplicate names, on purpose
        for name, data, honest in chosen:
            zf.writestr(name + ".npy", data)
            if name in KNOWN:
                truthful[name] = honest
    must_fail = not all(truthful.values())
    raw = buf.getvalue()
    damage = draw(st.sampled_from(["none"] * 6 + ["truncate", "flip"]))
    if damage == "truncate":
        raw = raw[: draw(st.integers(0, len(raw) - 1))]
        must_fail = True
    elif damage == "flip" and raw:
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1 :]
    return raw, must_fail


@pytest.fixture(scope="module")
def good_track(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("good") / "good.npz"
    return write_track(path, Track(_face(60, rng), fps=25.0, width=640, height=480))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(archive=archives())
def test_any_file_gives_a_track_or_one_clear_input_error(archive, tmp_path, good_track):
    raw, must_fail = archive
    path = tmp_path / "fuzz.npz"
    path.write_bytes(raw)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        try:
            track = read_track(path)
            error = None
        except InputError as exc:
            track, error = None, str(exc)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            segments = LipLandmarkExtractor(errors="skip").transform_segments([path, good_track])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    event("read: a track" if error is None else "read: InputError")
    event(f"fuzzed file gave a clip: {bool(segments[0])}")
    assert time.perf_counter() - t0 < MAX_SECONDS
    assert peak < PEAK_BYTES, f"{peak / 2**20:.0f} MiB"
    if error is not None:
        assert error.startswith(str(path)) and "\n" not in error
        skipped = [str(w.message) for w in caught if "skipped" in str(w.message)]
        assert segments[0] == [] and skipped and skipped[0].startswith("X[0]: skipped: ")
    if must_fail:
        assert track is None, "a truncated file or a header lie was read as a track"
    assert len(segments[1]) == 1  # the good file is never lost
    for seg in segments[0] + segments[1]:
        assert seg.ndim == 3 and seg.shape[1:] == (40, 2) and len(seg) > 0
        assert np.isfinite(seg).all() and np.abs(seg).max() <= MAX_LIP_UNITS


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
param_values = st.fixed_dictionaries(
    {},
    optional={
        "points": st.sampled_from(["lips", "outer", "nope"])
        | st.lists(st.integers(-5, 600), max_size=5)
        | json_values,
        "fps": st.sampled_from([25.0, 0.5, 1e12, None]) | json_values,
        "max_gap": st.sampled_from([0.2, -1.0, 1e300]) | json_values,
        "min_segment": st.sampled_from([0.4, 0.0]) | json_values,
        "smoothing": st.sampled_from([None, 0.8, 0.0, 2.0]) | json_values,
        "n_jobs": json_values,
    },
)


@given(
    params=param_values,
    names=st.sampled_from([["extractor", "detector"], ["a", "a"], ["x"], "no"]) | json_values,
    version=st.sampled_from([1, 1, 2, "1"]),
)
def test_any_extractor_json_is_valid_or_one_model_file_error(
    tmp_path_factory, params, names, version
):
    from lipanomaly.persistence.pretrained import _read_extractor_config

    path = tmp_path_factory.mktemp("cfg") / "extractor.json"
    config = {"format": "lipanomaly-extractor", "format_version": version, "params": params}
    config["step_names"] = names
    path.write_text(json.dumps(config))
    try:
        got, step_names = _read_extractor_config(path)
    except ModelFileError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
        return
    ext = LipLandmarkExtractor(**got).fit()  # what was accepted builds a working extractor
    assert ext.fps is None or 1 <= ext.fps <= 240
    assert len(step_names) == 2 and step_names[0] != step_names[1]
