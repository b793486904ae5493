"""Training through skorch on real development windows (lipanomaly.nn.training)."""

import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from skorch.callbacks import Callback  # noqa: E402

from lipanomaly.exceptions import InputError, TrainingError  # noqa: E402
from lipanomaly.nn import (  # noqa: E402
    MAX_GRAD_NORM,
    OCVAE,
    DualVAE,
    encode,
    module_from_state,
    module_state,
    reconstruct,
    reconstruct_ocvae,
    torch_threads,
    train_dual_vae,
    train_ocvae,
)

pytestmark = pytest.mark.slow

TINY = {"channels": 16, "decoder_layers": 1, "latent_lf": 8, "latent_hf": 8}


@pytest.fixture(scope="module")
def windows(development):
    """Standardised windows of 8 real development clips: 6 train clips, 2 valid clips."""
    from lipanomaly.io.extraction import LipLandmarkExtractor
    from lipanomaly.signal.windows import make_windows

    real = [t for t, y in zip(development.tracks, development.y) if y == 1]
    clips = LipLandmarkExtractor().fit_transform(real[::14][:8])
    wt, _, _ = make_windows(clips[:6], stride=32)
    wv, _, _ = make_windows(clips[6:], stride=32)
    wt = wt.reshape(len(wt), 64, -1)
    wv = wv.reshape(len(wv), 64, -1)
    mean, std = wt.mean(axis=(0, 1)), wt.std(axis=(0, 1))
    return ((wt - mean) / std).astype(np.float32), ((wv - mean) / std).astype(np.float32)


def _fit(windows, **kwargs):
    train, valid = windows
    params = {"module_kwargs": TINY, "max_epochs": 6, "kl_anneal_epochs": 2, "random_state": 0}
    return train_dual_vae(train, valid, **(params | kwargs))


def test_losses_fall_on_real_windows(windows):
    net = _fit(windows, max_epochs=8, patience=8)
    h = net.history
    assert len(h) == 8
    train = h[:, "train_loss"]
    assert train[-1] < train[0]
    assert min(h[:, "valid_loss"]) < h[0, "valid_loss"]
    for term in ("rec_lf", "rec_hf", "full", "deriv", "stft"):
        assert h[-1, f"train_{term}"] < h[0, f"train_{term}"], term
    # every term of SPEC section 3 is recorded per epoch (jitter is on by default, mask off)
    for term in ("rec_lf", "kl_lf", "rec_hf", "stft", "deriv", "kl_hf", "full", "decor", "jitter"):
        assert np.isfinite(h[:, f"valid_{term}"]).all()
    assert "train_mask" not in h[-1]
    # KL annealed 0 -> 1 over the first two epochs
    np.testing.assert_allclose(h[:, "kl_scale"][:4], [0.0, 0.5, 1.0, 1.0])
    assert isinstance(net.module_, DualVAE) and not net.module_.training
    assert dict(net.callbacks_)["grad_clip"].gradient_clip_value == MAX_GRAD_NORM
    # the HF head works in units of the high band's scale, measured on the training windows
    from lipanomaly.signal.filters import lowpass

    train = windows[0]
    band_std = (train - lowpass(train, axis=1)).std(axis=(0, 1))
    np.testing.assert_allclose(net.module_.hf_scale.numpy(), band_std, rtol=1e-4)


def test_same_random_state_gives_bit_identical_weights(windows):
    a = module_state(_fit(windows, max_epochs=2))
    b = module_state(_fit(windows, max_epochs=2))
    c = module_state(_fit(windows, max_epochs=2, random_state=1))
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)


def test_global_rng_state_is_left_alone(windows):
    torch.manual_seed(1234)
    np.random.seed(99)  # noqa: NPY002 (the legacy global state is what must stay untouched)
    before_torch = torch.get_rng_state()
    before_np = np.random.get_state()[1].copy()  # noqa: NPY002
    _fit(windows, max_epochs=1)
    assert torch.equal(torch.get_rng_state(), before_torch)
    assert np.array_equal(np.random.get_state()[1], before_np)  # noqa: NPY002


class _Snapshots(Callback):
    """Keep the weights after every epoch; from epoch 3 on, wreck training with a huge lr."""

    def __init__(self):
        self.states = []

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) >= 3:
            for group in net.optimizer_.param_groups:
                group["lr"] = 0.05

    def on_epoch_end(self, net, **kwargs):
        self.states.append(module_state(net))


def test_early_stopping_restores_the_best_weights(windows):
    snaps = _Snapshots()
    net = _fit(windows, max_epochs=12, patience=3, callbacks=[("snaps", snaps)])
    valid = np.asarray(net.history[:, "valid_loss"])
    best = int(np.argmin(valid))
    assert len(net.history) < 12  # stopped early
    assert best < len(valid) - 1  # the last epoch was worse: restoring matters
    final = module_state(net)
    assert all(np.array_equal(final[k], snaps.states[best][k]) for k in final)
    assert not all(np.array_equal(final[k], snaps.states[-1][k]) for k in final)


def test_reconstruct_is_batched_deterministic_float64(windows):
    net = _fit(windows, max_epochs=1)
    valid = windows[1]
    a = reconstruct(net, valid, batch_size=3)
    b = reconstruct(net.module_, valid, batch_size=256)
    assert set(a) == {"x_lf", "r_hf", "mu_lf", "mu_hf", "x_lp", "r_hf_target"}
    for k in a:
        assert a[k].dtype == np.float64
        np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-6)
    n = len(valid)
    assert a["x_lf"].shape == a["r_hf"].shape == valid.shape
    assert a["mu_lf"].shape == (n, 8) and a["mu_hf"].shape == (n, 64, 8)
    np.testing.assert_allclose(a["x_lp"] + a["r_hf_target"], valid, atol=1e-6)
    assert not net.module_.training


def test_hf_only_and_encode_match_the_full_pass(windows):
    net = _fit(windows, max_epochs=1)
    valid = windows[1]
    full = reconstruct(net, valid)
    hf = reconstruct(net, valid, hf_only=True, batch_size=5)
    assert set(hf) == {"r_hf", "x_lp", "r_hf_target"}
    np.testing.assert_allclose(hf["r_hf"], full["r_hf"], rtol=1e-5, atol=1e-6)
    mu = encode(net, valid, batch_size=5)
    assert set(mu) == {"mu_lf", "mu_hf"}
    for k in mu:
        assert mu[k].dtype == np.float64
        np.testing.assert_allclose(mu[k], full[k], rtol=1e-5, atol=1e-6)
    with pytest.raises(InputError, match="windows"):
        encode(net, valid[0])


def test_module_state_round_trip(windows):
    net = _fit(windows, max_epochs=1)
    arrays = module_state(net)
    assert all(isinstance(v, np.ndarray) for v in arrays.values())
    module = module_from_state(arrays, n_features=windows[0].shape[2], module_kwargs=TINY)
    a = reconstruct(net, windows[1])
    b = reconstruct(module, windows[1])
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_masked_inpainting_term_trains(windows):
    net = _fit(windows, max_epochs=3, loss_weights={"mask": 0.5, "jitter": 0.0})
    h = net.history
    assert "train_mask" in h[-1] and "train_jitter" not in h[-1]
    assert h[-1, "train_mask"] < h[0, "train_mask"]


def test_verbose(windows, capsys):
    _fit(windows, max_epochs=1, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    _fit(windows, max_epochs=1, verbose=1)
    captured = capsys.readouterr()
    assert "valid_loss" in captured.out
    assert "train_rec_lf" not in captured.out  # the terms stay in history, not the table
    # captured output is a log, not a terminal: no colour codes, no batch bar
    assert "\x1b[" not in captured.out and captured.err == ""


def test_verbose_colours_on_a_terminal(windows, capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    _fit(windows, max_epochs=1, verbose=1)
    assert "\x1b[" in capsys.readouterr().out  # skorch marks the best epoch's losses


def test_torch_threads_are_set_meanwhile_and_restored():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(2):
        assert torch.get_num_threads() == 2
        raise RuntimeError("restored on errors too")
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before


def test_bad_input(windows):
    train, valid = windows
    with pytest.raises(InputError, match="valid_windows"):
        train_dual_vae(train, valid[:, :32], max_epochs=1)
    with pytest.raises(InputError, match=r"\(n_windows, L, F\)"):
        train_dual_vae(train[0], valid, max_epochs=1)
    with pytest.raises(InputError, match="unknown term"):
        train_dual_vae(train, valid, loss_weights={"rec_lff": 1.0})
    with pytest.raises(InputError, match="NaN"):
        bad = train.copy()
        bad[0, 0, 0] = np.nan
        train_dual_vae(bad, valid)
    with pytest.raises(InputError, match="Nyquist"):
        train_dual_vae(train, valid, cutoff=20.0)
    with pytest.raises(InputError, match="device"):
        train_dual_vae(train, valid, device="tpu")


def test_divergence_is_a_clear_error(windows):
    # a learning rate far too large drives the loss to NaN / inf within a few batches
    with pytest.raises(TrainingError, match=r"diverged.*lower the learning rate \(lr=1e\+06\)"):
        _fit(windows, lr=1e6, max_epochs=3)


def test_ocvae_trains_with_the_same_machinery(windows):
    train, valid = windows
    net = train_ocvae(
        train,
        valid,
        module_kwargs={"channels": 16, "decoder_layers": 1, "latent": 8},
        max_epochs=5,
        kl_anneal_epochs=2,
        loss_weights={"latent": 0.1},
    )
    assert isinstance(net.module_, OCVAE)
    h = net.history
    assert h[-1, "train_rec"] < h[0, "train_rec"]
    assert {"train_kl", "valid_latent"} <= set(h[-1])
    out = reconstruct_ocvae(net, valid)
    assert out["x_hat"].shape == valid.shape and out["x_hat"].dtype == np.float64
    assert out["mu"].shape == out["mu_rec"].shape == (len(valid), 8)
