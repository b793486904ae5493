"""Files are published atomically: concurrent writers of one track file or one cache entry
never let a concurrent reader see a partial file (issue 14: a fixed ``.partial.npz`` name let
a reader see "No data left in file" 32 times in 265 reads)."""

import multiprocessing
import os
import time

import numpy as np
import pytest

from lipanomaly.datasets import Track, read_track, write_track
from lipanomaly.landmark_cache import _read_cache_entry, _write_cache_entry

N_WRITERS, N_READERS, WRITES = 3, 2, 25


def _track(value, t):
    """A track every value of which is ``value``: a reader can tell a complete file."""
    lm = np.full((t, 478, 2), value, dtype=np.float32)
    return Track(lm, fps=25.0, width=640, height=480)


def _writer(kind, path, wid, start):
    while time.time() < start:
        pass
    for i in range(WRITES):
        track = _track(0.1 + 0.1 * wid, 200 + 50 * wid + i)  # files of different sizes
        if kind == "track":
            write_track(path, track, overwrite=True)
        else:
            _write_cache_entry(path, "the-key.npz", track)


def _reader(kind, path, start, stop, queue):
    while time.time() < start:
        pass
    n, bad = 0, []
    while time.time() < stop:
        try:
            if kind == "track":
                t = read_track(path)
            else:
                t, problem = _read_cache_entry(path, "the-key.npz", "video.mp4")
                if t is None:
                    raise AssertionError(problem)
            values = np.unique(t.landmarks)
            assert values.size == 1 and t.n_frames >= 200, (values, t.n_frames)
            n += 1
        except Exception as exc:  # any failure is a partial or torn file
            bad.append(f"{type(exc).__name__}: {exc}"[:200])
    queue.put((n, bad))


@pytest.mark.parametrize("kind", ["track", "cache"])
def test_readers_only_ever_see_complete_files(tmp_path, kind):
    ctx = multiprocessing.get_context("fork")
    path = str(tmp_path / "shared.npz")
    if kind == "track":
        write_track(path, _track(0.05, 200))
    else:
        _write_cache_entry(path, "the-key.npz", _track(0.05, 200))
    start = time.time() + 0.3  # every process starts at once
    queue = ctx.Queue()
    writers = [ctx.Process(target=_writer, args=(kind, path, w, start)) for w in range(N_WRITERS)]
    readers = [
        ctx.Process(target=_reader, args=(kind, path, start, start + 1.5, queue))
        for _ in range(N_READERS)
    ]
    for p in writers + readers:
        p.start()
    results = [queue.get(timeout=60) for _ in readers]
    for p in writers + readers:
        p.join(timeout=60)
        assert p.exitcode == 0
    reads = sum(n for n, _ in results)
    problems = [b for _, bad in results for b in bad]
    assert reads > 50 and problems == [], problems[:3]
    assert os.listdir(tmp_path) == ["shared.npz"]  # no temporary file left
