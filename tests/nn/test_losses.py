"""Known answers for every loss term of SPEC section 3 (lipanomaly.nn.losses)."""

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lipanomaly.nn import losses as L  # noqa: E402

B, T, F = 3, 64, 6


@pytest.fixture
def x():
    g = torch.Generator().manual_seed(0)
    return torch.randn(B, T, F, generator=g)


@pytest.fixture
def e(x):
    g = torch.Generator().manual_seed(1)
    return torch.randn(x.shape, generator=g)


def test_kl_zero_at_standard_normal():
    assert L.kl_divergence(torch.zeros(4, 32), torch.zeros(4, 32)).item() == 0.0
    assert L.kl_divergence(torch.zeros(4, T, 64), torch.zeros(4, T, 64)).item() == 0.0


def test_kl_known_answer():
    # KL(N(mu, s^2) || N(0, 1)) = 0.5 (s^2 + mu^2 - 1 - log s^2), summed over dims
    mu = torch.full((2, 3), 2.0)
    logvar = torch.full((2, 3), np.log(0.5))
    expected = 3 * 0.5 * (0.5 + 4.0 - 1.0 - np.log(0.5))
    assert L.kl_divergence(mu, logvar).item() == pytest.approx(expected, rel=1e-6)
    # per-frame latents: averaged over batch and frames, summed over the latent axis
    assert L.kl_divergence(mu[:, None].expand(2, 5, 3), logvar[:, None].expand(2, 5, 3)).item() == (
        pytest.approx(expected, rel=1e-6)
    )


@pytest.mark.parametrize(
    "fn",
    [L.rec_lf_loss, L.rec_hf_loss, L.stft_loss, L.deriv_loss, L.full_loss, L.jitter_loss],
    ids=lambda f: f.__name__,
)
def test_zero_for_perfect_reconstruction_and_grows_with_error(fn, x, e):
    assert fn(x, x.clone()).item() == 0.0
    values = [fn(x + a * e, x).item() for a in (0.1, 0.5, 1.0, 2.0)]
    assert values[0] > 0
    assert all(b > a for a, b in itertools.pairwise(values))


def test_mse_and_l1_known_answers(x):
    assert L.rec_lf_loss(x + 0.5, x).item() == pytest.approx(0.25)
    assert L.rec_hf_loss(x - 2.0, x).item() == pytest.approx(4.0)
    assert L.full_loss(x + 0.5, x).item() == pytest.approx(0.5)
    assert L.jitter_loss(x, x).item() == 0.0


def test_deriv_loss_known_answer():
    # error = ramp of slope 1 in time: first difference 1, higher differences 0
    err = torch.arange(T, dtype=torch.float32)[None, :, None].expand(B, T, F)
    x = torch.zeros(B, T, F)
    assert L.deriv_loss(x + err, x, lambdas=(1.0, 0.5, 0.25)).item() == pytest.approx(1.0)
    # a constant offset has no derivative: the derivative loss ignores it
    assert L.deriv_loss(x + 3.0, x).item() == 0.0
    # alternating +-1: |diff| = 2, 4, 8 for orders 1, 2, 3
    alt = torch.tensor([(-1.0) ** t for t in range(T)])[None, :, None].expand(B, T, F)
    assert L.deriv_loss(alt, x, lambdas=(1.0, 0.5, 0.25)).item() == pytest.approx(2 + 2 + 2)


def test_stft_bin_weights_top_third():
    w = L.stft_bin_weights(9, high_weight=2.5)
    np.testing.assert_array_equal(w.numpy(), [1, 1, 1, 1, 1, 1, 2.5, 2.5, 2.5])
    assert (L.stft_bin_weights(10, high_weight=3.0).numpy() == 3.0).sum() == 4


def test_stft_loss_matches_numpy_reference(x, e):
    n_fft, hop, hw = 16, 4, 2.5
    err = (e * 0.3).numpy().astype(np.float64)
    win = np.hanning(n_fft + 1)[:-1]  # periodic Hann
    frames = np.stack([err[:, s : s + n_fft] for s in range(0, T - n_fft + 1, hop)], axis=1)
    spec = np.fft.rfft(frames * win[None, None, :, None], axis=2)  # (B, n_frames, bins, F)
    w = np.where(np.arange(9) >= 6, hw, 1.0)[None, None, :, None]
    expected = np.mean(w * np.abs(spec) ** 2)
    got = L.stft_loss(x + e * 0.3, x, n_fft=n_fft, hop=hop, high_weight=hw).item()
    assert got == pytest.approx(expected, rel=1e-5)


def test_stft_weighting_of_an_impulse():
    # an impulse has a flat magnitude spectrum in the frames that hold it, so the weighted
    # loss is the unweighted one times the mean bin weight: (6 * 1 + 3 * 2.5) / 9 = 1.5
    err = torch.zeros(1, T, 1)
    err[0, 30, 0] = 1.0
    zero = torch.zeros_like(err)
    weighted = L.stft_loss(err, zero, high_weight=2.5).item()
    flat = L.stft_loss(err, zero, high_weight=1.0).item()
    assert weighted / flat == pytest.approx(1.5, rel=1e-6)


def test_stft_loss_weights_high_frequencies_more():
    t = torch.arange(T, dtype=torch.float32)
    slow = torch.sin(2 * np.pi * 2.0 * t / 25.0)[None, :, None]  # 2 Hz, bin ~1.3
    fast = torch.sin(2 * np.pi * 11.0 * t / 25.0)[None, :, None]  # 11 Hz, bin ~7
    z = torch.zeros(1, T, 1)
    ratio_w = L.stft_loss(fast, z, high_weight=2.5) / L.stft_loss(slow, z, high_weight=2.5)
    ratio_1 = L.stft_loss(fast, z, high_weight=1.0) / L.stft_loss(slow, z, high_weight=1.0)
    assert (ratio_w / ratio_1).item() > 2.0


def test_decor_zero_for_zero_and_uncorrelated_inputs():
    assert L.decor_loss(torch.zeros(8, 32), torch.zeros(8, T, 64)).item() == 0.0
    # orthogonal +-1 codes: exactly uncorrelated across the batch
    h = torch.tensor([[1.0, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]])
    z_lf = h[:, 1:2]  # (4, 1)
    z_hf = h[:, None, 2:4].expand(4, T, 2)  # (4, T, 2)
    assert L.decor_loss(z_lf, z_hf).item() == pytest.approx(0.0, abs=1e-10)


def test_decor_ignores_collapsed_dimensions():
    # a latent dimension collapsed to (almost) a constant carries no information; scaled up
    # to unit variance by its own tiny std it would count as fully correlated and its
    # gradient would grow as 1 / std
    z_lf = torch.randn(16, 32)
    z_hf = torch.randn(16, T, 64)
    z_hf[..., 0] = 1e-6 * z_lf[:, None, 0]
    z_hf.requires_grad_()
    loss = L.decor_loss(z_lf, z_hf)
    loss.backward()
    assert loss.item() < 2e-3  # the chance level of independent latents
    assert z_hf.grad.abs().max() < 1e-3


def test_decor_one_for_identical_latents():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(16, 1, generator=g)
    assert L.decor_loss(z, z[:, None].expand(16, T, 1)).item() == pytest.approx(1.0, rel=1e-4)
    # mean over the (D_LF, D_HF) matrix: one correlated pair among 2 x 2 gives ~1/4
    z2 = torch.randn(16, 2, generator=g)
    z2[:, 0] = z[:, 0]
    zh = torch.stack([z[:, 0], torch.randn(16, generator=g)], dim=1)
    val = L.decor_loss(z2, zh[:, None].expand(16, T, 2)).item()
    assert 0.25 <= val < 0.5


def test_masked_loss_only_counts_masked_frames(x, e):
    mask = torch.zeros(B, T, dtype=torch.bool)
    mask[:, 10:20] = True
    x_hat = x.clone()
    x_hat[~mask] += 5.0  # errors outside the mask do not count
    assert L.masked_loss(x_hat, x, mask).item() == 0.0
    x_hat[mask] += 0.5
    assert L.masked_loss(x_hat, x, mask).item() == pytest.approx(0.25)
    assert L.masked_loss(x, x, torch.zeros(B, T, dtype=torch.bool)).item() == 0.0


def test_total_loss_weights_and_kl_normalisation():
    one = torch.tensor(1.0)
    terms = {name: one for name in L.LOSS_WEIGHTS_DEFAULT}
    # SPEC defaults: 1 + 0.5 + 0.5 + 0.3 + 0.2 + 0.1 + 0.1 (mask off) plus the KL terms
    # per reconstructed value: 6 / (L F) and 0.8 / F
    expected = 2.7 + 6.0 / (T * F) + 0.8 / F
    got = L.total_loss(terms, n_frames=T, n_features=F).item()
    assert got == pytest.approx(expected, rel=1e-6)
    no_kl = L.total_loss(terms, kl_scale=0.0, n_frames=T, n_features=F).item()
    assert no_kl == pytest.approx(2.7, rel=1e-6)
    only_mask = L.total_loss(
        terms, {k: 0.0 for k in terms} | {"mask": 2.0}, n_frames=T, n_features=F
    )
    assert only_mask.item() == pytest.approx(2.0)
    with pytest.raises(ValueError, match="unknown loss term"):
        L.total_loss(terms, {"rec_lff": 1.0}, n_frames=T, n_features=F)


def test_defaults_are_the_spec():
    assert L.LOSS_WEIGHTS_DEFAULT == {
        "rec_lf": 1.0,
        "kl_lf": 6.0,
        "rec_hf": 0.5,
        "stft": 0.5,
        "deriv": 0.3,
        "kl_hf": 0.8,
        "full": 0.2,
        "decor": 0.1,
        "jitter": 0.1,
        "mask": 0.0,
    }


def test_losses_are_differentiable(x, e):
    x_hat = (x + e).requires_grad_(True)
    z_lf = torch.randn(B, 4, requires_grad=True)
    z_hf = torch.randn(B, T, 5, requires_grad=True)
    total = (
        L.rec_lf_loss(x_hat, x)
        + L.stft_loss(x_hat, x)
        + L.deriv_loss(x_hat, x)
        + L.decor_loss(z_lf, z_hf)
    )
    total.backward()
    assert torch.isfinite(x_hat.grad).all() and x_hat.grad.abs().sum() > 0
    assert z_lf.grad.abs().sum() > 0


@pytest.mark.parametrize("n_bins", [1, 2, 5, 9, 17])
def test_stft_bin_weights_are_the_numpy_weights(n_bins):
    """One weighting: the loss's tensor is lipanomaly.signal.filters.stft_weights, default 2.5."""
    from lipanomaly.signal.filters import stft_weights

    np.testing.assert_array_equal(L.stft_bin_weights(n_bins).numpy(), stft_weights(n_bins))
    assert stft_weights(9)[-1] == 2.5
