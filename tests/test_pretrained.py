"""The pretrained detectors shipped in the package, and pipeline folders."""

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

import lipanomaly
from lipanomaly import FaceMotionDetector, LFHFVAEDetector, LipLandmarkExtractor
from lipanomaly.detectors.face import FACE_CLIPS
from lipanomaly.exceptions import InputError, ModelFileError
from lipanomaly.io.datasets import load_demo
from lipanomaly.io.tracks import read_track
from lipanomaly.nn.specs import DUAL
from lipanomaly.persistence.pretrained import (
    DEFAULT_PRETRAINED,
    PRETRAINED_MODELS,
    load_pipeline,
    save_pipeline,
)

pytestmark = pytest.mark.slow
PRETRAINED_DIR = PRETRAINED_MODELS["lfhf"]


@pytest.fixture(scope="module")
def pretrained():
    """The one-class LFHF model (most tests below are about pipeline folders)."""
    return lipanomaly.load_pretrained("lfhf")


@pytest.fixture(scope="module")
def face():
    return lipanomaly.load_pretrained()


def test_the_default_is_the_face_motion_model_trained_with_fakes(face):
    assert DEFAULT_PRETRAINED == "face"
    assert isinstance(face[-1], FaceMotionDetector) and face[-1].mode_ == "semi-supervised"
    assert {k: face[0].get_params()[k] for k in FACE_CLIPS} == FACE_CLIPS
    assert face[-1].get_params() == FaceMotionDetector(random_state=0).get_params()
    with pytest.raises(InputError, match="pretrained models"):
        lipanomaly.load_pretrained("nope")


def test_face_model_trained_on_every_collection_never_the_demo_s(face, development):
    folder = PRETRAINED_MODELS["face"]
    info = json.loads((folder / "TRAINING.json").read_text())
    demo = load_demo(split="demo")
    assert not set(info["training_clips"]) & set(demo.files)  # the demo scores unseen clips
    assert set(load_demo(split="train").files) <= set(info["training_clips"])
    assert info["n_live_clips"] == face[-1].n_live_ and info["n_fake_clips"] == face[-1].n_fake_
    assert {"EchoMimicV3", "FLOAT", "DPE", "SadTalker"} <= set(info["fake_families"])
    assert not {"DreamTalk", "StyleTalk"} & set(info["fake_families"])  # only the demo has them
    assert "research use" in (folder / "DATA_NOTICE.md").read_text()
    det = face[-1]  # the T80 of cross-fitted scores of every live clip
    assert len(det.validation_scores_) == det.n_live_
    assert det.offset_ == pytest.approx(np.percentile(det.validation_scores_, 20))


def test_face_model_scores_videos_and_their_track_files_alike(face, data_dir):
    video = data_dir / "videos" / "bbaf2n.mpg"
    reference = data_dir / "videos" / "bbaf2n.mpg.mp_lm.npz"
    scores = face.score_samples([str(video), str(reference), read_track(reference)])
    assert scores.dtype == np.float64 and np.isfinite(scores).all()
    np.testing.assert_allclose(scores, scores[1], rtol=1e-6)
    again = lipanomaly.load_pretrained()
    np.testing.assert_array_equal(again.score_samples([str(reference)]), scores[1:2])


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
    got = pretrained[-1].get_params()
    # the file is older than the loss_weights parameter: it names every weight, the defaults
    resolve = DUAL.resolve_loss_weights
    assert resolve(got.pop("loss_weights")) == resolve(expected.pop("loss_weights"))
    assert got == expected


def test_trained_on_real_development_clips_never_the_demo_s(development):
    info = json.loads((PRETRAINED_DIR / "TRAINING.json").read_text())
    demo = load_demo(split="demo")
    assert not set(info["training_clips"]) & set(demo.files)  # the demo scores unseen clips
    real = {Path(str(f)).name for f, y in zip(development.files, development.y) if y == 1}
    assert set(load_demo(split="train").files) <= set(info["training_clips"])
    assert len(info["training_clips"]) > len(real)  # both collections: wild/ too
    assert set(info["validation_clips"]) <= set(info["training_clips"])
    assert info["random_state"] == 0
    assert "research use" in (PRETRAINED_DIR / "DATA_NOTICE.md").read_text()


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
    again = lipanomaly.load_pretrained("lfhf")
    np.testing.assert_array_equal(again.score_samples(tracks), pretrained.score_samples(tracks))


def test_missing_model_is_a_clear_error(tmp_path, monkeypatch):
    import lipanomaly.persistence.pretrained as module

    monkeypatch.setattr(
        module, "PRETRAINED_MODELS", {**module.PRETRAINED_MODELS, "lfhf": tmp_path / "nothing"}
    )
    with pytest.raises(ModelFileError, match=r"train_pretrained\.py --model lfhf"):
        module.load_pretrained("lfhf")
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


# -- hostile pipeline folders (issue 14) --------------------------------------------------


@pytest.fixture(scope="module")
def pipeline_folder(pretrained, tmp_path_factory):
    path = tmp_path_factory.mktemp("pipe") / "model"
    return save_pipeline(pretrained, path)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"fps": 1e12}, r"'fps' must be a frame rate from 1 to 240"),
        ({"fps": -3}, r"'fps' must be a frame rate"),
        ({"fps": "25"}, r"'fps' must be a frame rate"),
        ({"fps": float("nan")}, r"'fps' must be a frame rate"),
        ({"max_gap": float("inf")}, r"'max_gap' must be a duration"),
        ({"min_segment": [1]}, r"'min_segment' must be a duration"),
        ({"points": [1000]}, "invalid extractor parameters"),
        ({"points": {"a": 1}}, "invalid extractor parameters"),
        ({"points": [[1, 2], [3]]}, "invalid extractor parameters"),
        ({"smoothing": 7}, "invalid extractor parameters"),
        ({"n_jobs": 64}, r"unknown \['n_jobs'\]"),
    ],
)
def test_malformed_extractor_json(pipeline_folder, tmp_path, params, message):
    import shutil

    path = tmp_path / "model"
    shutil.copytree(pipeline_folder, path)
    config = json.loads((path / "extractor.json").read_text())
    config["params"].update(params)
    (path / "extractor.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match=message) as info:
        load_pipeline(path)
    assert str(info.value).startswith(str(path / "extractor.json"))


@pytest.mark.parametrize(
    "content",
    [
        "[1, 2]",
        '{"format": "lipanomaly-extractor", "format_version": 2}',
        '{"format": "lipanomaly-extractor", "format_version": 1, "params": [1]}',
        '{"format": "lipanomaly-extractor", "format_version": 1, "step_names": ["a"]}',
        '{"format": "lipanomaly-extractor", "format_version": 1, "step_names": [1, 2]}',
        '{"format": "lipanomaly-extractor", "format_version": 1, "step_names": ["a", "a"]}',
        "\xff\xfe",
        "",
    ],
)
def test_malformed_extractor_json_structure(pipeline_folder, tmp_path, content):
    import shutil

    path = tmp_path / "model"
    shutil.copytree(pipeline_folder, path)
    (path / "extractor.json").write_bytes(content.encode("latin1"))
    with pytest.raises(ModelFileError, match=r"extractor\.json: "):
        load_pipeline(path)
    (path / "extractor.json").unlink()
    (path / "extractor.json").mkdir()  # not even a file
    with pytest.raises(ModelFileError, match=r"extractor\.json: "):
        load_pipeline(path)


def test_pipeline_overwrite_replaces_its_own_folder_only(pretrained, pipeline_folder, tmp_path):
    import shutil

    path = tmp_path / "model"
    shutil.copytree(pipeline_folder, path)
    pipe = Pipeline([("extractor", LipLandmarkExtractor(fps=30.0)), ("detector", pretrained[-1])])
    save_pipeline(pipe, path, overwrite=True)  # a pipeline folder: replaced, extractor.json too
    assert load_pipeline(path)[0].fps == 30.0
    (path / "notes.txt").write_text("mine")
    with pytest.raises(ModelFileError, match=r"not a lipanomaly model folder.*notes\.txt"):
        save_pipeline(pipe, path, overwrite=True)
    assert (path / "notes.txt").read_text() == "mine" and load_pipeline(path)[0].fps == 30.0


def test_a_huge_clip_is_refused_not_called_live(pretrained, data_dir):
    """x 1e37 gave a NaN score that predict turned into +1; now an InputError."""
    from lipanomaly.exceptions import InputError

    clip = pretrained[0].transform([data_dir / "videos" / "carphone_pristine.mp4.mp_lm.npz"])[0]
    for method in ("score_samples", "predict"):
        with pytest.raises(InputError, match=r"X\[0\]: values up to 1\.\d+e\+37"):
            getattr(pretrained[-1], method)([clip * 1e37])
