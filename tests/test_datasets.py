import os

import numpy as np
import pytest

from lipanomaly.exceptions import InputError
from lipanomaly.io.datasets import load_development
from lipanomaly.io.tracks import Track, read_track, write_track


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


# -- hostile and out-of-range track files (issue 14) -----------------------------------------

import io  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import zipfile  # noqa: E402

from lipanomaly import limits  # noqa: E402


def _npy(dtype, shape, data=b"", *, version=(1, 0), fortran=False):
    """The bytes of a .npy member whose header declares ``dtype`` and ``shape`` (any lie)."""
    descr = np.lib.format.dtype_to_descr(np.dtype(dtype))
    text = repr({"descr": descr, "fortran_order": fortran, "shape": tuple(shape)})
    size = 2 if version == (1, 0) else 4
    pad = -(6 + 2 + size + len(text) + 1) % 64
    text = (text + " " * pad + "\n").encode("latin1")
    return b"\x93NUMPY" + bytes(version) + len(text).to_bytes(size, "little") + text + data


def _zeros_member(zf, name, header, n_zeros):
    """Stream a member of ``header`` then ``n_zeros`` zero bytes (a deflate bomb if large)."""
    with zf.open(name, "w", force_zip64=True) as fh:
        fh.write(header)
        block = bytes(1 << 22)
        while n_zeros > 0:
            fh.write(block[: min(n_zeros, len(block))])
            n_zeros -= len(block)


def _good_members(t=60):
    """A plausible track (a synthetic face) as the .npy bytes of its members."""
    lm = np.full((t, 478, 2), 0.5, dtype=np.float32)
    lm[:, [33, 133]] = [0.40, 0.40], [0.45, 0.40]
    lm[:, [362, 263]] = [0.55, 0.40], [0.60, 0.40]
    lm[:, [168, 6, 197, 195]] = [0.5, 0.40], [0.5, 0.42], [0.5, 0.45], [0.5, 0.48]
    lm[:, 0, 1] = 0.6 + 0.01 * np.sin(np.arange(t))  # a lip point that moves
    out = {}
    for key, value in {
        "landmarks": lm,
        "fps": np.float64(25.0),
        "width": np.int64(640),
        "height": np.int64(480),
    }.items():
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.asarray(value), allow_pickle=False)
        out[key] = buf.getvalue()
    return out


def _write_zip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name if name.endswith(".npy") else name + ".npy", data)
    return path


def test_a_good_synthetic_track_is_read(tmp_path):
    track = read_track(_write_zip(tmp_path / "good.npz", _good_members()))
    assert track.n_frames == 60 and track.fps == 25.0


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (_npy("<f4", (10**12, 478, 2), bytes(4000)), "declares 1000000000000 frames"),
        (_npy("<f4", (100, 478, 2), bytes(4000)), "holds 4000 bytes of data"),  # a header lie
        (_npy("<f4", (1, 478, 2), bytes(478 * 8 + 100)), "holds 3924 bytes"),  # more data
        (_npy("|O", (1, 478, 2), b"\x80\x04N."), "must be numeric, got dtype object"),
        (_npy("<c8", (1, 478, 2), bytes(478 * 16)), "must be numeric, got dtype complex64"),
        (_npy("<U3", (1, 478, 2), bytes(478 * 24)), "must be numeric"),
        (_npy([("a", "<f4")], (1, 478, 2), bytes(478 * 8)), "must be numeric"),
        (_npy("<f4", (1, 478, 2), bytes(478 * 8), version=(3, 0)), "unsupported .npy format"),
        (b"\x93NUMPY\x01\x00\x10\x00{'descr': lies}   \n", "cannot be read as an .npz"),
        (b"not an npy member at all", "cannot be read as an .npz"),
    ],
)
def test_forged_headers_are_refused_before_allocation(tmp_path, member, message):
    members = {**_good_members(), "landmarks": member}
    path = _write_zip(tmp_path / "forged.npz", members)
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=message) as info:
            read_track(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "forged.npz" in str(info.value) and "\n" not in str(info.value)
    assert peak < 2 * 2**20  # nothing sized by the forged header was allocated


def test_big_endian_and_fortran_order_are_read(tmp_path):
    members = _good_members()
    lm = np.load(io.BytesIO(members["landmarks"]))
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asfortranarray(lm.astype(">f8")))
    members["landmarks"] = buf.getvalue()
    track = read_track(_write_zip(tmp_path / "be.npz", members))
    np.testing.assert_array_equal(track.landmarks, lm)


def test_truncated_archive(tmp_path):
    raw = _write_zip(tmp_path / "t.npz", _good_members()).read_bytes()
    for cut in (10, len(raw) // 3, len(raw) // 2, len(raw) - 30):
        (tmp_path / "cut.npz").write_bytes(raw[:cut])
        with pytest.raises(InputError, match=r"cut\.npz"):
            read_track(tmp_path / "cut.npz")


def test_corrupt_compressed_data_fails_its_crc(tmp_path):
    members = _good_members()
    path = _write_zip(tmp_path / "crc.npz", members, compression=zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    at = raw.index(members["landmarks"][-2000:])  # inside the landmark data
    raw[at + 100] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match=r"crc\.npz: cannot be read.*CRC"):
        read_track(path)


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_deflate_bomb_in_landmarks_is_refused_unread(tmp_path):
    """100k frames of zeros (382 MB) in 0.4 MB: refused by its compression ratio."""
    n = 100_000
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        _zeros_member(zf, "landmarks.npy", _npy("<f4", (n, 478, 2)), n * 478 * 8)
        for key, data in _good_members().items():
            if key != "landmarks":
                zf.writestr(key + ".npy", data)
    assert path.stat().st_size < 3 * 2**20
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(InputError, match=r"bomb\.npz: 'landmarks': compressed \d+ to 1"):
            read_track(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20 and time.perf_counter() - t0 < 1.0


def test_deflate_bomb_in_an_unknown_key_is_never_read(tmp_path):
    """512 MiB of zeros under a key the reader does not know: not even decompressed."""
    path = tmp_path / "unknown.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for key, data in _good_members().items():
            zf.writestr(key + ".npy", data)
        n = 2**29
        _zeros_member(zf, "junk.npy", _npy("<f4", (n // 4,)), n)
    before = _rss_mb()
    t0 = time.perf_counter()
    track = read_track(path)
    assert time.perf_counter() - t0 < 1.0 and _rss_mb() - before < 50
    assert track.n_frames == 60 and track.extra == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fps": np.float64(0.001)}, r"'fps' is 0\.001, outside the plausible frame rates 1 to"),
        ({"fps": np.float64(1e6)}, "outside the plausible frame rates"),
        ({"width": np.int64(10**9)}, "'width' is 1000000000 pixels, more than 16384"),
        ({"label": np.str_("x" * 5000)}, "text longer than 4096 characters"),
    ],
)
def test_out_of_range_values(tmp_path, change, message):
    members = _good_members()
    for key, value in change.items():
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.asarray(value))
        members[key] = buf.getvalue()
    with pytest.raises(InputError, match=message) as info:
        read_track(_write_zip(tmp_path / "range.npz", members))
    assert "range.npz" in str(info.value)


def test_too_many_frames_is_refused_in_memory_too():
    lm = np.broadcast_to(np.zeros((1, 478, 2), np.float16), (limits.MAX_FRAMES + 1, 478, 2))
    with pytest.raises(InputError, match=r"108001 frames, more than the 108000"):
        Track(lm, fps=25, width=1, height=1)


def test_pixel_landmarks_are_refused_with_the_fix(data_dir):
    t = read_track(data_dir / "videos" / "video_8s_real.mp4.mp_lm.npz")
    pixels = t.landmarks * np.array([t.width, t.height], dtype=np.float32)
    with pytest.raises(InputError) as info:
        Track(pixels, fps=t.fps, width=t.width, height=t.height, path="px.npz")
    message = str(info.value)
    assert message.startswith("px.npz: 'landmarks' look like pixel coordinates of the 640x320")
    assert "divide x by the width and y by the height" in message
    fixed = Track(pixels / [t.width, t.height], fps=t.fps, width=t.width, height=t.height)
    np.testing.assert_allclose(fixed.landmarks, t.landmarks, rtol=1e-6)


@pytest.mark.parametrize("value", [-5.0, 40.0, 1e30])
def test_coordinates_far_outside_the_unit_square(value):
    lm = np.full((5, 478, 2), 0.5, dtype=np.float32)
    lm[2, 17, 1] = value
    with pytest.raises(InputError, match=r"far outside MediaPipe's normalised \[0, 1\]"):
        Track(lm, fps=25, width=100, height=10)  # 40 > 1.5 x 10: not pixels either


def test_points_slightly_outside_the_frame_are_fine():
    lm = np.full((5, 478, 2), 0.5, dtype=np.float32)
    lm[:, :10] = [-0.3, 1.4]  # a face cut by the frame's edge
    Track(lm, fps=25, width=640, height=480)


def test_inf_is_refused_nan_rows_are_missing_faces():
    lm = np.full((5, 478, 2), 0.5, dtype=np.float32)
    lm[1] = np.nan
    assert Track(lm, fps=25, width=1, height=1).face_found.tolist() == [1, 0, 1, 1, 1]
    lm[3, 7, 0] = np.inf
    with pytest.raises(InputError, match=r"track: 'landmarks' holds inf in 1 frame\(s\)"):
        Track(lm, fps=25, width=1, height=1)


def test_write_track_publishes_atomically_and_cleans_up(tmp_path, monkeypatch):
    t = read_track(_write_zip(tmp_path / "good.npz", _good_members()))
    out = tmp_path / "out" / "a.npz"
    write_track(out, t)
    assert sorted(p.name for p in out.parent.iterdir()) == ["a.npz"]  # no temporary left

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", fail)
    with pytest.raises(OSError, match="disk full"):
        write_track(out, t, overwrite=True)
    assert sorted(p.name for p in out.parent.iterdir()) == ["a.npz"]
    assert read_track(out).n_frames == 60  # the old file is intact


def test_write_track_honours_the_umask(tmp_path):
    t = read_track(_write_zip(tmp_path / "good.npz", _good_members()))
    old = os.umask(0o027)
    try:
        path = write_track(tmp_path / "new" / "a.npz", t)
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert os.stat(tmp_path / "new").st_mode & 0o777 == 0o750


def test_wild_collection(data_dir, development_all):
    """wild/ is read from its packed files, exactly as the data's own unpacker writes them
    (read from the session's load of every collection, which the test below needs too)."""
    import runpy
    import shutil
    import tempfile

    data = development_all
    wild = data.collections == "wild"
    assert (wild.sum(), (data.y[wild] == 1).sum()) == (166, 149)
    assert len(set(data.groups[wild & (data.y == 1)])) == 76
    assert {"DPE", "AD-NeRF", "AudioDVP", "DiffusedHeads", "NeuralTextures", "Face2Face"} == set(
        data.generators[wild & (data.y == -1)]
    )
    # landmarks/ groups merge the sources that show the same person
    assert "eamm" not in set(data.groups) and "dreamtalk" in set(data.groups)
    i = int(np.flatnonzero(wild)[0])
    name = data.files[i]
    unpack = runpy.run_path(str(data_dir / "unpack_tracks.py"))["unpack"]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "src"), os.path.join(tmp, "dst")
        os.makedirs(src)
        shutil.copy(data_dir / "wild" / name, src)
        shutil.copy(data_dir / "wild" / "MANIFEST.csv", src)
        unpack(src, dst)
        reference = read_track(os.path.join(dst, name))
    np.testing.assert_array_equal(data.tracks[i].landmarks, reference.landmarks)
    assert (data.tracks[i].fps, data.tracks[i].width) == (reference.fps, reference.width)


def test_unknown_collection(data_dir):
    with pytest.raises(InputError, match="collections"):
        load_development(data_dir, collections=("nope",))


def test_read_track_reads_the_packed_development_files(data_dir, development_all):
    """wild/ and modern/ are packed (1/256 px, lzma): read_track reads them as track files,
    so `lipanomaly fit modern/ --with-fakes` needs no unpacking."""
    name = "float__panels__sota02_FLOAT.mp4.npz"
    track = read_track(data_dir / "modern" / name)
    assert (track.label, track.generator) == ("fake", "FLOAT")
    assert track.landmarks.shape[1:] == (478, 2) and track.fps == 25.0
    loaded = development_all.tracks[development_all.files.index(name)]
    np.testing.assert_array_equal(track.landmarks, loaded.landmarks)
    assert set(development_all.collections) == {"landmarks", "wild", "modern"}
