"""The network transformers on real clips: output records, the split, the memory key, edges.

Tiny networks (a few thousand parameters, one or two epochs): the API and the determinism
are tested here, the quality in ``tests/test_quality.py``.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from tiny import LFHF, OCVAE

from lipanomaly.detectors.ocvae import OCVAEComponents
from lipanomaly.exceptions import InputError
from lipanomaly.scoring import formulas
from lipanomaly.scoring.components import LFHFComponents

pytestmark = pytest.mark.slow

TINY, OC_TINY = LFHF, OCVAE


@pytest.fixture(scope="module")
def network(lips):
    return LFHFComponents(**TINY).fit(lips["train"])


def _weights(transformer):
    return {k: v.detach().clone() for k, v in transformer.net_.module_.state_dict().items()}


def _same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    return wa.keys() == wb.keys() and all(bool((wa[k] == wb[k]).all()) for k in wa)


def test_transform_gives_one_record_array_per_clip(network, lips):
    X = [*lips["test"][:3], lips["test"][3][:20]]  # the last one mirror-padded to 32 frames
    C = network.transform(X)
    assert isinstance(C, list) and len(C) == 4
    assert C[0].dtype.names == ("start", *formulas.COMPONENTS)
    assert C[0].dtype["start"] == np.int64
    assert all(C[0].dtype[n] == np.float64 for n in formulas.COMPONENTS)
    n = len(X[0])
    expected = list(range(0, n - 32 + 1, 16))
    expected += [n - 32] if expected[-1] != n - 32 else []
    np.testing.assert_array_equal(C[0]["start"], expected)
    np.testing.assert_array_equal(C[3]["start"], [0])
    # a subset computes only those, with the same values
    drs = network.transform(X, components=["drs"])
    assert drs[0].dtype.names == ("start", "drs")
    for a, b in zip(drs, C):
        np.testing.assert_array_equal(a["drs"], b["drs"])
    with pytest.raises(InputError, match="components must be a non-empty subset"):
        network.transform(X, components=("jerk",))


def test_relative_errors_are_per_unit_of_motion(network, lips):
    """``<error>_rel`` is the error over the motion energy of the network's input window."""
    clip = lips["test"][0]
    (C,) = network.transform([clip])
    w, _, _ = network._windows([clip])
    energy = formulas.motion_energy(network.standardize(w)) + 1e-6
    for name in formulas.RELATIVE:
        np.testing.assert_allclose(C[f"{name}_rel"], C[name] / energy, rtol=1e-6)


@pytest.mark.parametrize(
    ("n_windows", "max_steps", "epochs"),
    [(160, None, 20), (160, 3000, 20), (1600, 3000, 20), (16000, 3000, 3), (16000, 1, 1)],
)
def test_max_steps_bounds_the_epochs(n_windows, max_steps, epochs):
    # batch_size 16: 10, 100 and 1000 steps per epoch
    assert LFHFComponents(max_epochs=20, max_steps=max_steps)._epochs(n_windows) == epochs


def test_fit_records_the_epochs_it_allowed(network, lips):
    assert network.n_epochs_ == TINY["max_epochs"]
    few = clone(network).set_params(max_steps=1).fit(lips["train"])
    assert few.n_epochs_ == 1 and len(few.net_.history) == 1


def test_standardisation_and_its_inverse(network, lips):
    w = np.stack([c[:32].reshape(32, -1) for c in lips["test"][:3]])
    z = network.standardize(w)
    assert z.dtype == np.float32
    np.testing.assert_allclose(network.inverse_standardize(z), w, atol=1e-5)
    np.testing.assert_allclose(
        network.inverse_standardize(z[1:] - z[:1], offset=False), w[1:] - w[:1], atol=1e-5
    )


def test_decompose_in_the_clip_s_units(network, lips):
    clip = lips["test"][0]
    parts = network.decompose(clip)
    assert set(parts) == {"x", "low", "high", "x_lf", "r_hf"}
    assert all(p.shape == clip.shape for p in parts.values())
    # the band split of every window, averaged over the windows: low + high is the clip
    np.testing.assert_allclose(parts["low"] + parts["high"], clip, atol=1e-5)
    assert np.abs(parts["x_lf"] - parts["low"]).mean() < np.abs(parts["low"]).mean()
    assert not hasattr(OCVAEComponents, "decompose")  # no band split to show


def test_validation_holds_out_whole_groups(lips):
    train = lips["train"]
    groups = np.arange(len(train)) % 4  # 4 "recordings"
    net = LFHFComponents(**TINY).fit(train, groups=groups)
    valid = net.validation_index_
    held = set(groups[valid])
    assert len(held) == 1  # round(0.2 * 4) = 1 group
    assert set(np.flatnonzero(np.isin(groups, list(held)))) == set(valid)
    # with labels, the groups of the live clips count; one group falls back to the clip split
    single = LFHFComponents(**TINY).fit(train, groups=np.zeros(len(train)))
    plain = LFHFComponents(**TINY).fit(train)
    np.testing.assert_array_equal(single.validation_index_, plain.validation_index_)
    assert _same_weights(single, plain)
    with pytest.raises(InputError, match="groups: expected one label per clip"):
        LFHFComponents(**TINY).fit(train, groups=groups[:-1])


def test_every_training_parameter_is_in_the_memory_key(lips):
    """Derived from get_params: a parameter is in the key unless it is explicitly excluded."""
    live = lips["train"]
    base = LFHFComponents(**TINY)
    key = base._network_key(live, None, 0)
    for name, value in base.get_params().items():
        other = _another_value(name, value)
        changed = clone(base).set_params(**{name: other})._network_key(live, None, 0)
        if name in LFHFComponents._not_training:
            assert changed == key, name
        else:
            assert changed != key, name
    assert base._network_key(live[1:], None, 0) != key  # the data
    assert base._network_key(live, np.arange(len(live)) % 2, 0) != key  # the groups
    oc = OCVAEComponents(**OC_TINY)
    for name, value in oc.get_params().items():
        changed = clone(oc).set_params(**{name: _another_value(name, value)})
        same = changed._network_key(live, None, 0) == oc._network_key(live, None, 0)
        assert same == (name in OCVAEComponents._not_training), name


def _another_value(name, value):
    """A valid value other than ``value`` for a parameter of the network transformers."""
    others = {
        "complexity": "flatness",
        "device": "cuda",
        "jitter_drop_rate": (0.01, 0.02),
        "memory": "/tmp/elsewhere",
        "cutoff": 3.0,
        "random_state": 1,
        "validation_fraction": 0.3,
        "dropout": 0.2,
    }
    if name in others:
        return others[name]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    return value * 2 if value else 0.5


@pytest.mark.parametrize(
    "change",
    [
        {"complexity": "flatness"},
        {"n_jitter_draws": 1},
        {"jitter_max_shift": 2.0},
        {"jitter_drop_rate": (0.01, 0.02)},
        {"verbose": 1},
        {"memory": "MEMORY"},
    ],
)
def test_parameters_left_out_of_the_key_do_not_change_the_network(network, lips, change, tmp_path):
    name = next(iter(change))
    assert name in LFHFComponents._not_training
    if name == "memory":
        change = {"memory": str(tmp_path)}
    other = clone(network).set_params(**change).fit(lips["train"])
    assert _same_weights(other, network)


def test_memory_reuses_and_survives_a_damaged_entry(lips, tmp_path):
    first = LFHFComponents(**TINY, memory=tmp_path).fit(lips["train"])
    assert not first.network_from_cache_
    (entry,) = (tmp_path / "lipanomaly_networks").iterdir()
    assert sorted(p.name for p in entry.iterdir()) == ["fitted.json", "weights.safetensors"]
    second = clone(first).fit(lips["train"])
    assert second.network_from_cache_ and _same_weights(first, second)
    np.testing.assert_array_equal(second.validation_index_, first.validation_index_)
    (entry / "weights.safetensors").write_bytes(b"damaged")
    with pytest.warns(UserWarning, match="cannot be loaded"):
        third = clone(first).fit(lips["train"])
    assert not third.network_from_cache_ and _same_weights(first, third)


# Every value the constraints accept trains; the values below them are refused up front.
EDGES = [
    {"n_layers": 1},
    {"channels": 1},
    {"kernel_size": 1},
    {"kernel_size": 2},
    {"kernel_size": 4, "n_layers": 3},
    {"window": 16, "stride": 1},
    {"lf_stride": 40},
    {"latent_lf": 1, "latent_hf": 1},
    {"decoder_layers": 1, "dropout": 0.0},
    {"batch_size": 1, "kl_anneal_epochs": 0},
    {"validation_fraction": 0.99},
]


@pytest.mark.parametrize("edge", EDGES, ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items()))
def test_accepted_edge_values_train(lips, edge):
    params = {**TINY, "max_epochs": 1, **edge}
    net = LFHFComponents(**params).fit(lips["train"][:4])
    C = net.transform(lips["test"][:1])
    assert np.isfinite(C[0][list(formulas.COMPONENTS)].tolist()).all()


@pytest.mark.parametrize(
    "edge",
    [{"window": 8}, {"n_layers": 1, "channels": 1, "kernel_size": 2}, {"latent": 1}],
    ids=str,
)
def test_ocvae_accepted_edge_values_train(lips, edge):
    params = {**OC_TINY, "max_epochs": 1, **edge}
    net = OCVAEComponents(**params).fit(lips["train"][:4])
    assert np.isfinite(net.transform(lips["test"][:1])[0]["rmse"]).all()


@pytest.mark.parametrize(
    ("cls", "edge"),
    [
        (LFHFComponents, {"window": 15}),  # shorter than the STFT loss's frame
        (LFHFComponents, {"channels": 0}),
        (LFHFComponents, {"kernel_size": 0}),
        (LFHFComponents, {"n_layers": 0}),
        (LFHFComponents, {"lf_stride": 0}),
        (LFHFComponents, {"dropout": 1.0}),
        (OCVAEComponents, {"window": 7}),  # fewer frames than the pooling's segments
        (OCVAEComponents, {"latent": 0}),
    ],
    ids=str,
)
def test_values_below_the_edges_are_refused(lips, cls, edge):
    with pytest.raises(InvalidParameterError, match=next(iter(edge))):
        cls(**edge).fit(lips["train"][:4])


def test_relational_parameters_are_checked_before_training(lips):
    with pytest.raises(InputError, match="Nyquist"):
        LFHFComponents(fs=6.0).fit(lips["train"][:4])
    with pytest.raises(InputError, match="MIN_CUTOFF_FRACTION"):  # was scipy's LinAlgError
        LFHFComponents(cutoff=1e-300).fit(lips["train"][:4])
    with pytest.raises(InputError, match="jitter_drop_rate"):
        LFHFComponents(jitter_drop_rate=(0.2, 0.1)).fit(lips["train"][:4])


def test_fit_validation_components_are_those_of_the_held_out_clips(network, lips):
    fresh = LFHFComponents(**TINY)
    C = fresh.fit_validation_components(lips["train"], components=("e_smooth", "drs"))
    np.testing.assert_array_equal(fresh.validation_index_, network.validation_index_)
    valid = [lips["train"][i] for i in fresh.validation_index_]
    expected = network.transform(valid, components=("e_smooth", "drs"))
    assert len(C) == len(valid) and C[0].dtype.names == ("start", "e_smooth", "drs")
    for got, want in zip(C, expected):
        np.testing.assert_array_equal(got, want)  # the same seed: the same network
