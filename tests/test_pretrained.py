"""The pretrained default detector shipped in the package, and pipeline folders."""

import json

import numpy as np
import pytest
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

import lipanomaly
from lipanomaly import LFHFVAEDetector, LipLandmarkExtractor
from lipanomaly.datasets import load_demo, read_track
from lipanomaly.exceptions import ModelFileError
from lipanomaly.pretrained import PRETRAINED_DIR, load_pipeline, save_pipeline

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pretrained():
    return lipanomaly.load_pretrained()


def test_a_fitted_extraction_and_detection_pipeline(pretrained):
    assert isinstance(pretrained, Pipeline)
    assert [name for name, _ in pretrained.steps] == ["extractor", "detector"]
    assert isinstance(pretrained[0], LipLandmarkExtractor)
    assert isinstance(pretrained[-1], LFHFVAEDetector)
    check_is_fitted(pretrained)
    # what scripts/train_pretrained.py promises: default settings, random_state=0
    defaults = LipLandmarkExtractor().get_params()
    assert pretrained[0].get_params() == defaults
    expected = LFHFVAEDetector(random_state=0).get_params()
    assert pretrained[-1].get_params() == expected


def test_trained_on_the_train_split_only():
    info = json.loads((PRETRAINED_DIR / "TRAINING.json").read_text())
    train, demo = load_demo(split="train"), load_demo(split="demo")
    assert sorted(info["training_clips"]) == sorted(train.files)
    assert not set(info["training_clips"]) & set(demo.files)  # the demo scores unseen clips
    assert set(info["validation_clips"]) <= set(info["training_clips"])
    assert info["random_state"] == 0


def test_threshold_is_the_t80_of_the_real_validation_clips(pretrained):
    det = pretrained[-1]
    assert det.contamination == 0.2
    assert det.offset_ == pytest.approx(np.percentile(det.validation_scores_, 20))
    assert np.mean(det.validation_scores_ >= det.offset_) >= 0.8


def test_scores_videos_track_files_and_tracks_alike(pretrained, data_dir):
    video = data_dir / "videos" / "bbaf2n.mpg"
    reference = data_dir / "videos" / "bbaf2n.mpg.mp_lm.npz"  # MediaPipe's own extraction
    inputs = [str(video), str(reference), read_track(reference)]
    scores = pretrained.score_samples(inputs)
    assert scores.dtype == np.float64 and scores.shape == (3,)
    # FaceMesh here gives the reference's landmarks: the three scores agree
    np.testing.assert_allclose(scores, scores[1], rtol=1e-6)
    labels = pretrained.predict(inputs[1:])
    assert labels.dtype.kind == "i" and set(labels) <= {-1, 1}
    np.testing.assert_array_equal(pretrained.decision_function(inputs[1:]) >= 0, labels == 1)


def test_deterministic(pretrained):
    demo = load_demo(split="demo")
    tracks = demo.tracks[:3]
    np.testing.assert_array_equal(
        pretrained.score_samples(tracks), pretrained.score_samples(tracks)
    )
    again = lipanomaly.load_pretrained()
    np.testing.assert_array_equal(again.score_samples(tracks), pretrained.score_samples(tracks))


def test_missing_model_is_a_clear_error(tmp_path, monkeypatch):
    import lipanomaly.pretrained as module

    monkeypatch.setattr(module, "PRETRAINED_DIR", tmp_path / "nothing")
    with pytest.raises(ModelFileError, match=r"train_pretrained\.py"):
        module.load_pretrained()
    with pytest.raises(ModelFileError, match="no such model folder"):
        load_pipeline(tmp_path / "nothing")


def test_pipeline_folder_round_trip(pretrained, tmp_path):
    """save_pipeline keeps the extraction settings; load_pipeline restores them."""
    pipe = Pipeline(
        [
            ("extractor", LipLandmarkExtractor(fps=30.0, points="outer")),
            ("detector", pretrained[-1]),
        ]
    )
    path = save_pipeline(pipe, tmp_path / "copy")
    loaded = load_pipeline(path, n_jobs=2)
    assert loaded[0].fps == 30.0 and loaded[0].points == "outer" and loaded[0].n_jobs == 2
    assert loaded[-1].offset_ == pretrained[-1].offset_
    with pytest.raises(ModelFileError, match="already exists"):  # never overwritten unless asked
        save_pipeline(pipe, path)
    (path / "extractor.json").write_text("{not json")
    with pytest.raises(ModelFileError, match=r"extractor\.json"):
        load_pipeline(path)
