"""Round 2 of the robustness work: non-finite scores are never live, refusals come before
the work, bounded frame rates, no orphaned temporary files."""

import os
import time

import numpy as np
import pytest

from lipanomaly import limits
from lipanomaly.exceptions import ModelFileError

torch = pytest.importorskip("torch")

TINY = {"window": 16, "stride": 8, "channels": 4, "n_layers": 1, "decoder_layers": 1}
TINY |= {"max_epochs": 1, "augment": False, "random_state": 0, "batch_size": 8}
HOSTILE_SCORES = np.array([np.nan, np.inf, -np.inf, 1e300, -1e300, 0.0])


def _clips(n=6, length=40, seed=0):
    rng = np.random.default_rng(seed)
    return [np.cumsum(rng.normal(0, 0.05, (length, 4, 2)), axis=0) for _ in range(n)]


@pytest.fixture(scope="module")
def detectors():
    from lipanomaly import LFHFVAEDetector, OCVAEDetector

    clips = _clips(8)
    return {
        "lfhf": LFHFVAEDetector(latent_lf=2, latent_hf=2, **TINY).fit(clips),
        "ocvae": OCVAEDetector(latent=2, **TINY).fit(clips),
    }


def _nan_scores(estimator, monkeypatch):
    monkeypatch.setattr(estimator, "score_samples", lambda X: HOSTILE_SCORES.copy())


@pytest.mark.parametrize("name", ["lfhf", "ocvae"])
def test_a_non_finite_score_is_never_live(detectors, name, monkeypatch):
    """predict of a NaN score is -1 on each detector, on its scorer and in a pipeline."""
    from sklearn.pipeline import Pipeline

    from lipanomaly import LipLandmarkExtractor

    detector = detectors[name]
    for estimator in (detector, detector.scorer_):
        with monkeypatch.context() as m:
            _nan_scores(estimator, m)
            verdicts = estimator.predict(_clips(len(HOSTILE_SCORES)))
            decisions = estimator.decision_function(_clips(len(HOSTILE_SCORES)))
        assert verdicts.tolist()[:3] == [-1, 1, -1]  # NaN, +inf, -inf
        assert verdicts[0] == -1 and np.isnan(decisions[0])
    pipeline = Pipeline([("extractor", LipLandmarkExtractor(fps=None)), ("detector", detector)])
    with monkeypatch.context() as m:
        _nan_scores(detector, m)
        m.setattr(LipLandmarkExtractor, "transform", lambda self, X: X)
        assert pipeline.predict(_clips(len(HOSTILE_SCORES)))[0] == -1


@pytest.mark.parametrize("name", ["lfhf", "ocvae"])
def test_a_loaded_model_with_a_nan_offset_is_refused(detectors, name, tmp_path):
    import json

    from lipanomaly import load_model, save_model

    folder = save_model(detectors[name], tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["fitted"]["scorer"]["offset_"] = float("nan")
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match=r"offset_.*not a finite number"):
        load_model(folder)


# -- refusals before the work --------------------------------------------------------


def _user_folder(tmp_path):
    folder = tmp_path / "project"
    (folder / "src").mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "src" / "main.py").write_text("print('mine')")
    return folder


def test_check_destination_refuses_what_save_model_would(detectors, tmp_path):
    from lipanomaly.persistence.serialization import check_destination, save_model

    user = _user_folder(tmp_path)
    with pytest.raises(ModelFileError, match="not a lipanomaly model folder"):
        check_destination(user, overwrite=True)
    with pytest.raises(ModelFileError, match="already exists"):
        check_destination(user)
    assert check_destination(tmp_path / "new") == tmp_path / "new"
    model = save_model(detectors["lfhf"], tmp_path / "model")
    assert check_destination(model, overwrite=True) == model
    assert sorted(p.name for p in (user / "src").iterdir()) == ["main.py"]


def test_fit_force_refuses_a_user_folder_before_training(tmp_path, monkeypatch, capsys):
    from lipanomaly import LFHFVAEDetector
    from lipanomaly.app.cli import main

    def never(*args, **kwargs):  # pragma: no cover - the point is that it is not called
        raise AssertionError("training started before the destination was checked")

    monkeypatch.setattr(LFHFVAEDetector, "fit", never)
    user = _user_folder(tmp_path)
    start = time.perf_counter()
    code = main(["fit", str(tmp_path / "no-such-input.npz"), "-o", str(user), "--force", "-q"])
    assert code == 1 and time.perf_counter() - start < 5
    assert "not a lipanomaly model folder" in capsys.readouterr().err
    assert (user / "src" / "main.py").read_text() == "print('mine')"


# -- frame rates ------------------------------------------------------------------------


@pytest.mark.parametrize("fps", [0.001, 0.5, limits.MAX_FPS + 1, 1e9, float("nan")])
def test_extractor_fps_is_bounded(fps):
    from sklearn.utils._param_validation import InvalidParameterError

    from lipanomaly import LipLandmarkExtractor

    with pytest.raises(InvalidParameterError, match="'fps' parameter"):
        LipLandmarkExtractor(fps=fps).fit(None)


@pytest.mark.parametrize("fps", [limits.MIN_FPS, 25, limits.MAX_FPS, None])
def test_extractor_fps_within_the_limits_is_accepted(fps):
    from lipanomaly import LipLandmarkExtractor

    LipLandmarkExtractor(fps=fps).fit(None)


# -- orphaned temporary files -----------------------------------------------------------


def _track():
    from lipanomaly.io.tracks import Track

    lm = np.random.default_rng(0).uniform(0.3, 0.7, (30, 478, 2)).astype(np.float32)
    return Track(lm, fps=25, width=640, height=480)


def test_write_track_removes_orphaned_temporaries(tmp_path):
    from lipanomaly.io.tracks import write_track

    orphan = tmp_path / f".a.npz.{'0' * 32}.tmp"  # what an interrupted write_track leaves
    fresh = tmp_path / f".b.npz.{'1' * 32}.tmp"  # a write in progress
    mine = [tmp_path / ".notes.tmp", tmp_path / f"a.npz.{'2' * 32}.tmp", tmp_path / "x.npz"]
    for p in (orphan, fresh, *mine):
        p.write_bytes(b"half a file")
    old = time.time() - limits.CACHE_TEMP_MAX_AGE_S - 60
    for p in (orphan, *mine):
        os.utime(p, (old, old))
    write_track(tmp_path / "c.npz", _track())
    assert not orphan.exists() and fresh.exists()
    assert all(p.exists() for p in mine)  # not the package's temporaries: never touched


def test_write_track_and_the_cache_share_one_clean_up():
    from lipanomaly.io import cache, files, tracks

    assert cache.clean_temporaries is tracks.clean_temporaries is files.clean_temporaries
    name = f".{'a' * 64}-{'b' * 16}.npz.{'0' * 32}.tmp"
    assert cache._CACHE_TEMP.fullmatch(name)
    assert tracks.TRACK_TEMPORARY.fullmatch(name)
