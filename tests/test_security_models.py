"""Hostile model folders: every mutation of a real saved model is a ModelFileError, or loads
and works; never a raw exception, never a large allocation, never a +1 for a NaN score."""

import hashlib
import json
import math
import re
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lipanomaly import limits
from lipanomaly.exceptions import LipAnomalyError, ModelFileError
from lipanomaly.persistence.serialization import load_model, save_model

pytest.importorskip("torch")
safetensors_numpy = pytest.importorskip("safetensors.numpy")

#: the smallest networks that train: one epoch, one block of four channels
TINY = {"window": 16, "stride": 8, "channels": 4, "n_layers": 1, "decoder_layers": 1}
TINY |= {"max_epochs": 1, "augment": False, "random_state": 0, "batch_size": 8}
#: what a mutation puts in place of a value of config.json
HOSTILE = [
    None,
    [],
    {},
    "x",
    ["x"],
    {"__tuple__": 5},
    True,
    -1,
    0,
    1,
    3,
    0.5,
    1e308,
    -1e308,
    30_000,
    200_000,
    2**63,
    float("nan"),
    float("inf"),
    [[[[[]]]]],
]


def _clips(n=6, length=40, seed=0):
    rng = np.random.default_rng(seed)
    return [np.cumsum(rng.normal(0, 0.05, (length, 4, 2)), axis=0) for _ in range(n)]


def _face_clips(n=6, length=60, seed=0):
    """Random-walk face clips (132 rows) about a fixed face of the development layout."""
    rng = np.random.default_rng(seed)
    face = rng.normal(0, 1, (1, 132, 2))
    return [face + np.cumsum(rng.normal(0, 0.01, (length, 132, 2)), axis=0) for _ in range(n)]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Tiny saved models: the three detectors (the face-motion one with known fakes), and a
    network transformer and a scorer alone."""
    from lipanomaly import FaceMotionDetector, LFHFVAEDetector, OCVAEDetector

    clips = _clips(8)
    folder = tmp_path_factory.mktemp("models")
    lfhf = LFHFVAEDetector(latent_lf=2, latent_hf=2, **TINY).fit(clips)
    ocvae = OCVAEDetector(latent=2, **TINY).fit(clips)
    face = FaceMotionDetector(random_state=0).fit(_face_clips(10), [1] * 6 + [-1] * 4)
    saved = {
        "lfhf": save_model(lfhf, folder / "lfhf"),
        "ocvae": save_model(ocvae, folder / "ocvae"),
        "network": save_model(lfhf.network_, folder / "network"),
        "scorer": save_model(ocvae.scorer_, folder / "scorer"),
        "face": save_model(face, folder / "face"),
    }
    return saved, {"lfhf": lfhf, "ocvae": ocvae, "face": face}


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def _config(folder):
    return json.loads((folder / "config.json").read_text())


def _write_config(folder, config):
    (folder / "config.json").write_text(json.dumps(config))


def _write_weights(folder, arrays):
    """Replace the weights and record their checksum: only the content is hostile."""
    data = safetensors_numpy.save(arrays)
    (folder / "weights.safetensors").write_bytes(data)
    config = _config(folder)
    config["weights_sha256"] = hashlib.sha256(data).hexdigest()
    _write_config(folder, config)


def _paths(value, at=()):
    """Every path into a JSON value."""
    out = [at] if at else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*at, i))
    return out


def _set(value, path, new):
    for key in path[:-1]:
        value = value[key]
    value[path[-1]] = new


def _loads_and_works_or_refuses(folder):
    """The one outcome allowed: a ModelFileError, or a model whose verdicts are sound."""
    start = time.perf_counter()
    try:
        model = load_model(folder)
    except ModelFileError as exc:
        event("refused: " + str(exc).split(": ", 2)[-1][:40])
        assert str(folder) in str(exc)
        assert time.perf_counter() - start < 5
        return None
    event("loaded")
    if hasattr(model, "predict") and (hasattr(model, "network_") or hasattr(model, "explain")):
        clips = _face_clips(3, seed=1) if hasattr(model, "explain") else _clips(3, seed=1)
        try:
            scores = model.score_samples(clips)
            verdicts = model.predict(clips)
        except LipAnomalyError:  # e.g. a window longer than the clips: the package's error
            return model
        assert set(verdicts.tolist()) <= {-1, 1}
        assert (np.isfinite(scores) | (verdicts == -1)).all()
    assert time.perf_counter() - start < 30
    return model


_FUZZ = settings(
    deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_FUZZ
@given(data=st.data())
def test_fuzz_config_values(models, data):
    saved, _ = models
    name = data.draw(st.sampled_from(sorted(saved)))
    config = _config(saved[name])
    path = data.draw(st.sampled_from(_paths(config)))
    new = data.draw(st.sampled_from(HOSTILE))
    with tempfile.TemporaryDirectory() as tmp:
        folder = _copy(saved[name], Path(tmp) / "m")
        _set(config, path, new)
        _write_config(folder, config)
        _loads_and_works_or_refuses(folder)


@_FUZZ
@given(data=st.data())
def test_fuzz_config_keys_dropped_or_added(models, data):
    saved, _ = models
    name = data.draw(st.sampled_from(sorted(saved)))
    config = _config(saved[name])
    dicts = [p for p in [(), *_paths(config)] if isinstance(_get(config, p), dict)]
    path = data.draw(st.sampled_from(dicts))
    target = _get(config, path)
    if target and data.draw(st.booleans()):
        del target[data.draw(st.sampled_from(sorted(target)))]
    else:
        target[data.draw(st.sampled_from(["x", "offset_", "channels", "__tuple__"]))] = 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = _copy(saved[name], Path(tmp) / "m")
        _write_config(folder, config)
        _loads_and_works_or_refuses(folder)


def _get(value, path):
    for key in path:
        value = value[key]
    return value


@_FUZZ
@given(data=st.data())
def test_fuzz_config_bytes(models, data):
    """Truncated or garbled config.json."""
    saved, _ = models
    name = data.draw(st.sampled_from(sorted(saved)))
    raw = bytearray((saved[name] / "config.json").read_bytes())
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        for _ in range(data.draw(st.integers(1, 4))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    with tempfile.TemporaryDirectory() as tmp:
        folder = _copy(saved[name], Path(tmp) / "m")
        (folder / "config.json").write_bytes(bytes(raw))
        _loads_and_works_or_refuses(folder)


_ARRAY_MUTATIONS = ("nan", "inf", "shorter", "longer", "transpose", "float16", "int", "float64")
_ARRAY_MUTATIONS += ("drop", "add", "swap", "negative", "huge_index")


def _mutate(arrays, name, how, other):
    a = arrays[name]
    if how in ("nan", "inf") and a.dtype.kind == "f" and a.size:
        a = a.copy()
        a.flat[0] = np.nan if how == "nan" else np.inf
    elif how == "shorter" and a.ndim:
        a = a[:-1]
    elif how == "longer" and a.ndim:
        a = np.concatenate([a, a[:1]])
    elif how == "transpose":
        a = np.ascontiguousarray(a.T if a.ndim > 1 else a[None])
    elif how in ("float16", "int", "float64"):
        a = a.astype({"float16": np.float16, "int": np.int64, "float64": np.float64}[how])
    elif how == "drop":
        del arrays[name]
        return arrays
    elif how == "add":
        arrays[name + ".x"] = a
    elif how == "swap":
        arrays[name], arrays[other] = arrays[other], a
        return arrays
    elif how == "negative":
        a = -np.abs(a) - 1
    elif how == "huge_index" and a.dtype.kind == "i":
        a = a + 10**6
    arrays[name] = np.ascontiguousarray(a)
    return arrays


@_FUZZ
@given(data=st.data())
def test_fuzz_weights(models, data):
    """Arrays with NaN, other shapes or dtypes, missing, extra or swapped; checksum fixed."""
    saved, _ = models
    name = data.draw(st.sampled_from(sorted(saved)))
    arrays = safetensors_numpy.load_file(str(saved[name] / "weights.safetensors"))
    keys = sorted(arrays)
    key, other = data.draw(st.sampled_from(keys)), data.draw(st.sampled_from(keys))
    how = data.draw(st.sampled_from(_ARRAY_MUTATIONS))
    arrays = _mutate(arrays, key, how, other)
    with tempfile.TemporaryDirectory() as tmp:
        folder = _copy(saved[name], Path(tmp) / "m")
        _write_weights(folder, arrays)
        _loads_and_works_or_refuses(folder)


@settings(deadline=None, max_examples=30)
@given(data=st.data())
def test_fuzz_weights_bytes(models, data):
    """A truncated or garbled weights file whose checksum was updated to match."""
    saved, _ = models
    name = data.draw(st.sampled_from(sorted(saved)))
    raw = bytearray((saved[name] / "weights.safetensors").read_bytes())
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        # the first bytes are the header length and the JSON header
        for _ in range(data.draw(st.integers(1, 4))):
            raw[data.draw(st.integers(0, min(len(raw), 600) - 1))] = data.draw(st.integers(0, 255))
    with tempfile.TemporaryDirectory() as tmp:
        folder = _copy(saved[name], Path(tmp) / "m")
        (folder / "weights.safetensors").write_bytes(bytes(raw))
        config = _config(folder)
        config["weights_sha256"] = hashlib.sha256(bytes(raw)).hexdigest()
        _write_config(folder, config)
        _loads_and_works_or_refuses(folder)


@pytest.mark.parametrize("donor", ["ocvae", "network", "scorer"])
def test_weights_of_another_model_are_refused(models, donor, tmp_path):
    saved, _ = models
    folder = _copy(saved["lfhf"], tmp_path / "m")
    shutil.copy(saved[donor] / "weights.safetensors", folder / "weights.safetensors")
    config = _config(folder)
    config["weights_sha256"] = hashlib.sha256(
        (folder / "weights.safetensors").read_bytes()
    ).hexdigest()
    _write_config(folder, config)
    with pytest.raises(ModelFileError, match=r"do not fit config\.json"):
        load_model(folder)


@pytest.mark.parametrize("missing", ["config.json", "weights.safetensors"])
def test_a_missing_file_is_refused(models, missing, tmp_path):
    saved, _ = models
    folder = _copy(saved["lfhf"], tmp_path / "m")
    (folder / missing).unlink()
    with pytest.raises(ModelFileError, match=re.escape(str(folder))):
        load_model(folder)


@pytest.mark.parametrize(
    ("param", "value", "match"),
    [
        ("channels", 30_000, "MAX_NETWORK_PARAMETERS"),
        ("n_layers", 200_000, "MAX_NETWORK_DEPTH"),
        ("decoder_layers", 33, "MAX_NETWORK_DEPTH"),
        ("latent_hf", 10**9, "MAX_NETWORK_PARAMETERS"),
        ("window", 10**9, "MAX_WINDOW"),
        ("stride", 10**9, "MAX_WINDOW"),
        ("kernel_size", 10**5, "MAX_RECEPTIVE_FIELD"),
        ("channels", "x", "'channels' parameter"),
        ("channels", 0, "'channels' parameter"),
        ("dropout", 2.0, "'dropout' parameter"),
        ("contamination", -1, "'contamination' parameter"),
        ("fs", 1e9, "MAX_FPS"),
        ("unknown", 1, "unknown parameter"),
    ],
)
def test_huge_or_invalid_parameters_are_refused_before_allocation(
    models, tmp_path, param, value, match
):
    saved, _ = models
    folder = _copy(saved["lfhf"], tmp_path / "m")
    config = _config(folder)
    config["params"][param] = value
    _write_config(folder, config)
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=match) as info:
        load_model(folder)
    assert time.perf_counter() - start < 2
    assert str(folder / "config.json") in str(info.value)


def test_an_unknown_device_is_the_packages_error_when_used(models, tmp_path):
    from lipanomaly.exceptions import InputError

    saved, _ = models
    folder = _copy(saved["lfhf"], tmp_path / "m")
    config = _config(folder)
    config["params"]["device"] = "nowhere"
    _write_config(folder, config)
    model = load_model(folder)
    with pytest.raises(InputError, match="device"):
        model.predict(_clips(2))


@pytest.mark.parametrize("key", ["params", "fitted"])
def test_a_tagged_tuple_in_place_of_an_object_is_refused(models, tmp_path, key):
    saved, _ = models
    for name in ("lfhf", "scorer"):
        folder = _copy(saved[name], tmp_path / name)
        config = _config(folder)
        config[key] = {"__tuple__": [1, "x"]}
        _write_config(folder, config)
        with pytest.raises(ModelFileError, match="tagged tuples"):
            load_model(folder)


@pytest.mark.parametrize("value", [["x"], None, 3, {"a": 1}])
def test_a_class_that_is_not_a_string_is_refused(models, tmp_path, value):
    saved, _ = models
    folder = _copy(saved["lfhf"], tmp_path / "m")
    config = _config(folder)
    config["class"] = value
    _write_config(folder, config)
    with pytest.raises(ModelFileError, match="'class'"):
        load_model(folder)


@pytest.mark.parametrize("name", ["lfhf", "ocvae", "scorer"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_non_finite_offset_is_refused(models, tmp_path, name, value):
    """A model whose offset is NaN would call everything live (or spoof): refused."""
    saved, _ = models
    folder = _copy(saved[name], tmp_path / "m")
    config = _config(folder)
    fitted = config["fitted"]["scorer"] if "scorer" in config["fitted"] else config["fitted"]
    fitted["offset_"] = value
    _write_config(folder, config)  # json writes NaN / Infinity literals
    with pytest.raises(ModelFileError, match="offset_"):
        load_model(folder)


@pytest.mark.parametrize(
    "array",
    [
        "network.module.encoder.out.weight",
        "network.window_mean_",
        "scorer.component_center_",
        "scorer.component_scale_",
        "scorer.precision_",
    ],
)
def test_non_finite_arrays_are_refused(models, tmp_path, array):
    saved, _ = models
    folder = _copy(saved["lfhf"], tmp_path / "m")
    arrays = safetensors_numpy.load_file(str(folder / "weights.safetensors"))
    arrays[array] = arrays[array].copy()
    arrays[array].flat[0] = np.nan
    _write_weights(folder, arrays)
    with pytest.raises(ModelFileError, match="NaN or inf"):
        load_model(folder)


@pytest.mark.parametrize(
    ("array", "value", "match"),
    [
        ("scorer.columns_", [5], "columns_"),
        ("scorer.component_scale_", [0.0], "component_scale_"),
        ("network.validation_index_", [-1, -1], "validation_index_"),
    ],
)
def test_out_of_range_arrays_are_refused(models, tmp_path, array, value, match):
    saved, _ = models
    folder = _copy(saved["lfhf"], tmp_path / "m")
    arrays = safetensors_numpy.load_file(str(folder / "weights.safetensors"))
    arrays[array] = np.asarray(value, dtype=arrays[array].dtype)
    if array == "network.validation_index_":
        arrays["scorer.calibration_scores_"] = np.zeros(len(value))
    _write_weights(folder, arrays)
    with pytest.raises(ModelFileError, match=match):
        load_model(folder)


def test_the_unmutated_models_load_and_score_identically(models):
    saved, fitted = models
    for name in ("lfhf", "ocvae", "face"):
        clips = _face_clips(3, seed=1) if name == "face" else _clips(3, seed=1)
        loaded = load_model(saved[name])
        assert np.array_equal(loaded.score_samples(clips), fitted[name].score_samples(clips))


def test_the_limits_admit_the_default_networks():
    from lipanomaly import LFHFVAEDetector, OCVAEDetector
    from lipanomaly.nn.modules import OCVAE, DualVAE, count_parameters

    for cls in (LFHFVAEDetector, OCVAEDetector):
        p = cls().get_params()
        assert p["window"] <= limits.MAX_WINDOW
        assert max(p["n_layers"], p["decoder_layers"]) <= limits.MAX_NETWORK_DEPTH
    assert count_parameters(DualVAE(80)) < limits.MAX_NETWORK_PARAMETERS / 10
    assert count_parameters(OCVAE(80)) < limits.MAX_NETWORK_PARAMETERS / 10


def test_a_cached_state_with_nan_is_refused(tmp_path):
    """The network cache (``memory``) is read with the same finiteness check: a miss."""
    from lipanomaly.persistence.serialization import read_state, write_state

    write_state(tmp_path / "ok", {"a": 1.0}, {"w": np.ones(3)})
    assert read_state(tmp_path / "ok")[0] == {"a": 1.0}
    write_state(tmp_path / "nan", {"a": 1.0}, {"w": np.array([1.0, np.nan])})
    with pytest.raises(ModelFileError, match="NaN or inf"):
        read_state(tmp_path / "nan")
    (tmp_path / "ok" / "fitted.json").write_text('{"a": NaN}')
    with pytest.raises(ModelFileError, match="not a finite number"):
        read_state(tmp_path / "ok")
