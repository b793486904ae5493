"""lipanomaly.persistence.serialization: the folder format (config.json + weights.safetensors)."""

import json

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from lipanomaly._version import __version__
from lipanomaly.exceptions import ModelFileError, NotFittedError
from lipanomaly.persistence import serialization
from lipanomaly.persistence.serialization import load_model, save_model

torch = pytest.importorskip("torch")

TINY = {"channels": 8, "decoder_layers": 1, "latent_lf": 4, "latent_hf": 4}


class TinyDetector(BaseEstimator):
    """A stand-in estimator with the save/load protocol: a tiny trained dual VAE inside."""

    def __init__(self, max_epochs=1, window=(64, 16), module_kwargs=None, random_state=0):
        self.max_epochs = max_epochs
        self.window = window
        self.module_kwargs = module_kwargs
        self.random_state = random_state

    def fit(self, X):
        from lipanomaly.nn import train_dual_vae

        X = np.asarray(X, dtype=np.float32)
        self.mean_ = X.mean(axis=(0, 1))
        self.n_features_in_ = X.shape[2]
        self.net_ = train_dual_vae(
            X[:-2] - self.mean_,
            X[-2:] - self.mean_,
            module_kwargs=self.module_kwargs,
            max_epochs=self.max_epochs,
            random_state=self.random_state,
        )
        self.module_ = self.net_.module_
        self.offset_ = -1.5
        return self

    def reconstruct(self, X):
        from lipanomaly.nn import reconstruct

        return reconstruct(self.module_, np.asarray(X, dtype=np.float32) - self.mean_)

    def get_fitted_state(self):
        from lipanomaly.nn import module_state

        if not hasattr(self, "module_"):
            raise NotFittedError("not fitted")
        arrays = {f"module.{k}": v for k, v in module_state(self.module_).items()}
        arrays["mean_"] = self.mean_
        fitted = {"offset_": self.offset_, "n_features_in_": self.n_features_in_}
        return fitted, arrays

    def set_fitted_state(self, fitted, arrays):
        from lipanomaly.nn import module_from_state

        self.offset_ = fitted["offset_"]
        self.n_features_in_ = fitted["n_features_in_"]
        self.mean_ = arrays["mean_"]
        state = {k[len("module.") :]: v for k, v in arrays.items() if k.startswith("module.")}
        self.module_ = module_from_state(
            state, n_features=self.n_features_in_, module_kwargs=self.module_kwargs
        )
        return self


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(serialization._REGISTRY, "TinyDetector", TinyDetector)


@pytest.fixture(scope="module")
def windows():
    rng = np.random.default_rng(0)
    t = np.arange(64) / 25.0
    slow = np.sin(2 * np.pi * 1.0 * t)[None, :, None] * rng.uniform(0.5, 2, (10, 1, 6))
    return (slow + 0.1 * rng.standard_normal((10, 64, 6))).astype(np.float32)


@pytest.fixture(scope="module")
def fitted(windows):
    return TinyDetector(module_kwargs=TINY, window=(64, 16)).fit(windows)


def test_round_trip(registered, fitted, windows, tmp_path):
    path = save_model(fitted, tmp_path / "model")
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "weights.safetensors"]
    config = json.loads((path / "config.json").read_text())
    assert config["format"] == "lipanomaly-model" and config["format_version"] == 1
    assert config["lipanomaly_version"] == __version__
    assert config["class"] == "TinyDetector"
    loaded = load_model(path)
    assert type(loaded) is TinyDetector
    assert loaded.get_params() == fitted.get_params()
    assert loaded.window == (64, 16)  # tuples survive JSON
    assert loaded.offset_ == fitted.offset_
    a, b = fitted.reconstruct(windows), loaded.reconstruct(windows)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_no_pickle_in_the_files(registered, fitted, tmp_path):
    path = save_model(fitted, tmp_path / "model")
    raw = (path / "weights.safetensors").read_bytes()
    assert b"\x80\x04" not in raw[:16] and not raw.startswith(b"PK")  # not pickle, not zip
    from safetensors.numpy import load_file

    arrays = load_file(str(path / "weights.safetensors"))
    assert all(isinstance(v, np.ndarray) for v in arrays.values())


def test_never_overwrites_unless_asked(registered, fitted, tmp_path):
    path = save_model(fitted, tmp_path / "model")
    with pytest.raises(ModelFileError, match="already exists"):
        save_model(fitted, path)
    save_model(fitted, path, overwrite=True)
    load_model(path)
    other = tmp_path / "notes"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(ModelFileError, match="not a lipanomaly model folder"):
        save_model(fitted, other, overwrite=True)
    assert (other / "keep.txt").read_text() == "mine"


def test_corrupt_weights(registered, fitted, tmp_path):
    path = save_model(fitted, tmp_path / "model")
    weights = path / "weights.safetensors"
    raw = bytearray(weights.read_bytes())
    raw[-5] ^= 0xFF  # flip bits in the last tensor's data
    weights.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="corrupt weights"):
        load_model(path)
    weights.write_bytes(b"not a safetensors file")
    with pytest.raises(ModelFileError, match="corrupt"):
        load_model(path)


def test_corrupt_config(registered, fitted, tmp_path):
    path = save_model(fitted, tmp_path / "model")
    (path / "config.json").write_text("{ truncated")
    with pytest.raises(ModelFileError, match="corrupt configuration"):
        load_model(path)


def _edit_config(path, **changes):
    config = json.loads((path / "config.json").read_text())
    config.update(changes)
    (path / "config.json").write_text(json.dumps(config))


def test_wrong_format_version(registered, fitted, tmp_path):
    path = save_model(fitted, tmp_path / "model")
    _edit_config(path, format_version=2)
    with pytest.raises(ModelFileError, match="format version 2"):
        load_model(path)


def test_other_package_version(registered, fitted, tmp_path):
    path = save_model(fitted, tmp_path / "model")
    major, minor = __version__.split(".")[:2]
    _edit_config(path, lipanomaly_version=f"{major}.{int(minor) + 1}.0")
    with pytest.raises(ModelFileError, match=r"saved by lipanomaly .* is installed"):
        load_model(path)
    # a patch release reads it
    _edit_config(path, lipanomaly_version=f"{major}.{minor}.99")
    load_model(path)


def test_unknown_class_is_never_imported(registered, fitted, tmp_path):
    path = save_model(fitted, tmp_path / "model")
    _edit_config(path, **{"class": "os.system"})
    with pytest.raises(ModelFileError, match=r"unknown estimator class 'os\.system'"):
        load_model(path)


def test_missing_folder_and_not_a_model(tmp_path):
    with pytest.raises(ModelFileError, match="no such model folder"):
        load_model(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFileError, match=r"no config\.json"):
        load_model(tmp_path / "empty")


def test_unregistered_or_unfitted_estimator(registered, tmp_path):
    class Other(BaseEstimator):
        pass

    with pytest.raises(TypeError, match="cannot save"):
        save_model(Other(), tmp_path / "m")
    with pytest.raises(NotFittedError):
        save_model(TinyDetector(), tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_registry_names_the_package_estimators():
    # looked up by name and imported lazily: the registry holds names, not classes
    assert serialization._REGISTRY["LFHFVAEDetector"] == (
        "lipanomaly.detectors.lfhf",
        "LFHFVAEDetector",
    )
    assert serialization._REGISTRY["OCVAEDetector"] == (
        "lipanomaly.detectors.ocvae",
        "OCVAEDetector",
    )
    # the two parts of a detector are saved on their own too
    assert serialization._REGISTRY["LFHFComponents"] == (
        "lipanomaly.scoring.components",
        "LFHFComponents",
    )
    assert serialization._REGISTRY["ComponentScorer"] == (
        "lipanomaly.scoring.scorer",
        "ComponentScorer",
    )
    for name in serialization._REGISTRY:  # every entry names a class that exists
        assert serialization._registered_class(name, "test").__name__ == name


def test_loads_on_cpu_a_model_saved_from_cuda_tensors(registered, fitted, tmp_path, monkeypatch):
    # arrays are saved as numpy (device-free): simulate a GPU-trained module whose state the
    # estimator hands over via .cpu().numpy(); loading never touches CUDA
    path = save_model(fitted, tmp_path / "model")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = load_model(path)
    assert next(loaded.module_.parameters()).device.type == "cpu"


# -- overwrite replaces only the package's own model folder (issue 14) ----------------------


def _snapshot(folder):
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def test_overwrite_refuses_a_user_folder_with_a_config_json(registered, fitted, tmp_path):
    """A project folder with a config.json and a src/ is never deleted, not even in part."""
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print('mine')\n")
    (project / "config.json").write_text('{"name": "my project"}')
    before = _snapshot(project)
    with pytest.raises(ModelFileError) as info:
        save_model(fitted, project, overwrite=True)
    message = str(info.value)
    assert message.startswith(f"{project}: not a lipanomaly model folder")
    assert "src/" in message and "\n" not in message
    assert _snapshot(project) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]  # no temporary left


def test_overwrite_refuses_a_config_json_of_another_format(registered, fitted, tmp_path):
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "config.json").write_text('{"format": "something-else"}')
    (folder / "weights.safetensors").write_bytes(b"mine")
    before = _snapshot(folder)
    with pytest.raises(ModelFileError, match=r"no config\.json with format 'lipanomaly-model'"):
        save_model(fitted, folder, overwrite=True)
    assert _snapshot(folder) == before


def test_overwrite_refuses_a_file_and_a_symlink(registered, fitted, tmp_path):
    afile = tmp_path / "model.txt"
    afile.write_text("mine")
    with pytest.raises(ModelFileError, match="exists and is not a folder"):
        save_model(fitted, afile, overwrite=True)
    target = save_model(fitted, tmp_path / "real-model")
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(ModelFileError, match="exists and is not a folder"):
        save_model(fitted, link, overwrite=True)
    assert afile.read_text() == "mine" and link.is_symlink()


def test_overwrite_replaces_a_genuine_model_folder(registered, fitted, tmp_path):
    from lipanomaly.persistence.pretrained import PRETRAINED_DIR

    path = save_model(fitted, tmp_path / "model")
    # the files of a pipeline folder and of a pretrained model are the package's own
    for name in ("extractor.json", "TRAINING.json"):
        (path / name).write_bytes((PRETRAINED_DIR / name).read_bytes())
    old_config = (path / "config.json").read_text()
    save_model(fitted, path, overwrite=True)
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "weights.safetensors"]
    assert (path / "config.json").read_text() == old_config  # same model, same bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary left
    load_model(path)


def test_overwrite_fills_an_empty_folder(registered, fitted, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    save_model(fitted, empty, overwrite=True)
    load_model(empty)


def test_a_failed_write_leaves_the_old_model(registered, fitted, tmp_path, monkeypatch):
    path = save_model(fitted, tmp_path / "model")
    before = _snapshot(path)

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(serialization, "file_sha256", fail)
    with pytest.raises(OSError, match="disk full"):
        save_model(fitted, path, overwrite=True)
    assert _snapshot(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_folders_honour_the_umask(registered, fitted, tmp_path):
    import os

    old = os.umask(0o022)
    try:
        path = save_model(fitted, tmp_path / "a" / "model")
        save_model(fitted, path, overwrite=True)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o755
    assert (path / "config.json").stat().st_mode & 0o777 == 0o644
    assert (path / "weights.safetensors").stat().st_mode & 0o777 == 0o644


def test_oversized_config_is_refused_unread(registered, fitted, tmp_path):
    from lipanomaly.limits import MAX_JSON_BYTES

    path = save_model(fitted, tmp_path / "model")
    (path / "config.json").write_text(" " * (MAX_JSON_BYTES + 1))
    with pytest.raises(ModelFileError, match=r"config\.json: \d+ bytes, larger than"):
        load_model(path)
    (path / "config.json").write_text("[" * 100_000)  # nesting past the recursion limit
    with pytest.raises(ModelFileError, match="corrupt configuration"):
        load_model(path)


def test_model_files_with_the_flat_loss_weights_of_0_5_still_load(tmp_path):
    """Until issue 22 each loss weight was a parameter (``kl_weight_lf``); the shipped
    ``pretrained/lfhf`` model still says so. They load as one ``loss_weights``, and the
    model saved again carries the new name."""
    import shutil

    from lipanomaly.nn.specs import DUAL, OCVAE, upgrade_params
    from lipanomaly.persistence.pretrained import PRETRAINED_MODELS

    config = json.loads((PRETRAINED_MODELS["lfhf"] / "config.json").read_text())
    assert "kl_weight_lf" in config["params"]  # the file is old
    detector = load_model(PRETRAINED_MODELS["lfhf"])
    assert detector.loss_weights == dict(DUAL.loss_weights)
    assert detector.network_.loss_weights == dict(DUAL.loss_weights)
    saved = save_model(detector, tmp_path / "again")
    params = json.loads((saved / "config.json").read_text())["params"]
    assert "kl_weight_lf" not in params and params["loss_weights"]["kl_lf"] == 6.0
    assert load_model(saved).get_params() == detector.get_params()
    # an old file whose weights were not the defaults, and the baseline's names
    old = {"window": 32, "kl_weight_lf": 4.0, "mask_weight": 0.5}
    assert upgrade_params(old, DUAL) == {"window": 32, "loss_weights": {"kl_lf": 4.0, "mask": 0.5}}
    assert upgrade_params({"latent_weight": 1.0}, OCVAE) == {"loss_weights": {"latent": 1.0}}
    assert upgrade_params({"window": 32}, DUAL) == {"window": 32}
    # an old name in a file of the new format is still an unknown parameter elsewhere
    shutil.copytree(PRETRAINED_MODELS["lfhf"], tmp_path / "bad")
    config["params"]["kl_weight_hx"] = 1.0
    (tmp_path / "bad" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelFileError, match="unknown parameter"):
        load_model(tmp_path / "bad")
