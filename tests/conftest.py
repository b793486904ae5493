"""Shared fixtures: fixed seeds, few torch threads, the development data, hypothesis profiles."""

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# CI machines are small and shared: no deadlines, derandomised examples.
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=60)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _few_threads():
    """One thread per test worker, for torch and for BLAS / OpenMP: pytest-xdist runs two
    workers on two cores. A BLAS of two threads in each worker only waits for a core, and
    its threads spin while they wait: on a busy machine that made tests of small matrices
    several times slower (the examples' processes get one thread each too)."""
    from threadpoolctl import threadpool_limits

    try:
        import torch
    except ImportError:  # pragma: no cover
        pass
    else:
        torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield


@pytest.fixture
def seed():
    """The fixed seed of the test-suite."""
    return 0


@pytest.fixture
def rng(seed):
    return np.random.default_rng(seed)


def _data_dir():
    env = os.environ.get("LIPANOMALY_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir():
    """The real development data (``../shared/data``); skipped where it is absent."""
    path = _data_dir()
    if not (path / "landmarks" / "MANIFEST.csv").is_file():
        pytest.skip(f"development data not found at {path} (set LIPANOMALY_DATA)")
    return path


@pytest.fixture(scope="session")
def development(data_dir):
    """The whole development set, loaded once per test session."""
    from lipanomaly.io.datasets import load_development

    return load_development(data_dir)


@pytest.fixture(scope="session")
def development_lips(development):
    """Normalised lip sequences of every development clip, extracted once per session."""
    from lipanomaly.io.extraction import LipLandmarkExtractor

    return LipLandmarkExtractor(verbose=0).transform(development.tracks)


@pytest.fixture(scope="session")
def development_all(data_dir):
    """Every collection of the development set: landmarks/, wild/ and modern/."""
    from lipanomaly.io.datasets import load_development

    return load_development(data_dir, collections=("landmarks", "wild", "modern"))


@pytest.fixture(scope="session")
def face_clips_all(development_all):
    """Face clips of every clip of ``development_all``, extracted once per session."""
    import warnings

    from lipanomaly.detectors.face import face_extractor
    from lipanomaly.io.extraction import ExtractionWarning

    with warnings.catch_warnings():  # three clips lose a frame or two: said elsewhere
        warnings.simplefilter("ignore", ExtractionWarning)
        return face_extractor().transform(development_all.tracks)


@pytest.fixture(scope="session")
def faces(development):
    """Face clips (the face-motion detector's input) of a few development clips, cut to 160
    frames like ``lips``: ``train`` (live), ``test`` (live), ``fake``."""
    from lipanomaly.detectors.face import face_extractor

    real = [t for t, y in zip(development.tracks, development.y) if y == 1]
    fake = [t for t, y in zip(development.tracks, development.y) if y == -1]
    pick = {"train": real[::9], "test": real[1::9][:6], "fake": fake[::5]}
    extractor = face_extractor()
    return {k: [c[:160] for c in extractor.transform(v)] for k, v in pick.items()}


@pytest.fixture(scope="session")
def lips(development, development_lips):
    """Small train / test / fake splits of the development clips, cut to 160 frames.

    Every 9th real clip for training: sources are listed in blocks, so this spans several.
    """
    clips = [c[:160] for c in development_lips]
    real = [c for c, y in zip(clips, development.y) if y == 1]
    fake = [c for c, y in zip(clips, development.y) if y == -1]
    return {"train": real[::9], "test": real[1::9][:6], "fake": fake[::5]}
