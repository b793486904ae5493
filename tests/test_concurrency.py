"""Files are published atomically: concurrent writers of one track file or one cache entry
never let a concurrent reader see a partial file (issue 14: a fixed ``.partial.npz`` name let
a reader see "No data left in file" 32 times in 265 reads)."""

import multiprocessing
import os
import time

import numpy as np
import pytest

from lipanomaly.io.cache import _read_cache_entry, _write_cache_entry
from lipanomaly.io.tracks import Track, read_track, write_track

# one worker runs these tests one after the other: each starts processes that compete for
# the two cores, and a read count is part of what they check
pytestmark = pytest.mark.xdist_group("concurrency")

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


def _read_until(read_once, start, stop, done, queue):
    """Call ``read_once(n)`` from ``start`` until ``stop`` and the writers are ``done`` (on a
    busy machine they take longer: the reads span all the writing); put (reads, failures)
    on ``queue``."""
    while time.time() < start:
        pass
    n, bad = 0, []
    while (time.time() < stop or not done.is_set()) and time.time() < start + 120:
        try:
            read_once(n)
            n += 1
        except Exception as exc:  # any failure is a partial or torn read
            bad.append(f"{type(exc).__name__}: {exc}"[:200])
    queue.put((n, bad))


def _reader(kind, path, start, stop, done, queue):
    def read_once(n):
        if kind == "track":
            t = read_track(path)
        else:
            t, problem = _read_cache_entry(path, "the-key.npz", "video.mp4")
            if t is None:
                raise AssertionError(problem)
        values = np.unique(t.landmarks)
        assert values.size == 1 and t.n_frames >= 200, (values, t.n_frames)

    _read_until(read_once, start, stop, done, queue)


@pytest.mark.parametrize("kind", ["track", "cache"])
def test_readers_only_ever_see_complete_files(tmp_path, kind):
    ctx = multiprocessing.get_context("fork")
    path = str(tmp_path / "shared.npz")
    if kind == "track":
        write_track(path, _track(0.05, 200))
    else:
        _write_cache_entry(path, "the-key.npz", _track(0.05, 200))
    start = time.time() + 0.3  # every process starts at once
    queue, done = ctx.Queue(), ctx.Event()
    writers = [ctx.Process(target=_writer, args=(kind, path, w, start)) for w in range(N_WRITERS)]
    readers = [
        ctx.Process(target=_reader, args=(kind, path, start, start + 1.5, done, queue))
        for _ in range(N_READERS)
    ]
    for p in writers + readers:
        p.start()
    for p in writers:
        p.join(timeout=60)
    done.set()
    results = [queue.get(timeout=60) for _ in readers]
    for p in writers + readers:
        p.join(timeout=60)
        assert p.exitcode == 0
    reads = sum(n for n, _ in results)
    problems = [b for _, bad in results for b in bad]
    assert reads > 50 and problems == [], problems[:3]
    assert os.listdir(tmp_path) == ["shared.npz"]  # no temporary file left


# -- a model folder replaced while it is read --------------------------------------------------


def _model(version):
    """A pipeline folder's content whose two files tell the version: the extractor's
    analysis rate and the scorer's threshold."""
    from sklearn.pipeline import Pipeline

    from lipanomaly import LipLandmarkExtractor
    from lipanomaly.scoring.scorer import ComponentScorer

    rng = np.random.default_rng(version)
    C = []
    for _ in range(10):
        a = np.zeros(4, dtype=[("start", "i8"), ("e_smooth", "f8")])
        a["e_smooth"] = rng.normal(1.0 + version, 0.1, 4)
        C.append(a)
    scorer = ComponentScorer(components=("e_smooth",)).fit(C)
    return Pipeline([("extractor", LipLandmarkExtractor(fps=20.0 + version)), ("d", scorer)])


def _model_writer(path, start, stop):
    from lipanomaly.persistence.pretrained import save_pipeline

    models = [_model(0), _model(1)]
    while time.time() < start:
        pass
    i = 0
    while time.time() < stop:
        i += 1
        save_pipeline(models[i % 2], path, overwrite=True)


def _model_reader(path, start, stop, offsets, done, queue):
    from lipanomaly.persistence.pretrained import load_pipeline
    from lipanomaly.persistence.serialization import load_model

    def read_once(n):
        if n % 2:
            pipeline = load_pipeline(path)
            version = round(pipeline[0].fps - 20.0)
            assert pipeline[-1].offset_ == offsets[version], "files of two versions"
        else:
            assert load_model(path).offset_ in offsets

    _read_until(read_once, start, stop, done, queue)


def test_a_model_being_replaced_reads_old_or_new(tmp_path):
    """A reader sees the model before or after the swap, never "no such model folder",
    "corrupt weights" or the extractor of one version with the detector of the other."""
    from lipanomaly.persistence.pretrained import save_pipeline

    ctx = multiprocessing.get_context("fork")
    path = str(tmp_path / "model")
    save_pipeline(_model(0), path)
    offsets = [_model(v)[-1].offset_ for v in (0, 1)]
    start = time.time() + 0.5
    stop = start + 2.0
    queue, done = ctx.Queue(), ctx.Event()
    writer = ctx.Process(target=_model_writer, args=(path, start, stop))
    readers = [
        ctx.Process(target=_model_reader, args=(path, start, stop, offsets, done, queue))
        for _ in range(N_READERS)
    ]
    for p in [writer, *readers]:
        p.start()
    writer.join(timeout=60)
    done.set()
    results = [queue.get(timeout=60) for _ in readers]
    for p in [writer, *readers]:
        p.join(timeout=60)
        assert p.exitcode == 0
    reads = sum(n for n, _ in results)
    problems = [b for _, bad in results for b in bad]
    assert reads > 20 and problems == [], (len(problems), problems[:3])
    assert os.listdir(tmp_path) == ["model"]  # no temporary folder left
