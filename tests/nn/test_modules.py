"""The networks of lipanomaly.nn.modules: shapes, size, determinism, bottlenecks."""

import pytest

torch = pytest.importorskip("torch")

from lipanomaly.exceptions import InputError  # noqa: E402
from lipanomaly.nn import OCVAE, DualVAE, DualVAEOutput, TCNEncoder, count_parameters  # noqa: E402
from lipanomaly.nn.modules import build_module, module_class  # noqa: E402
from lipanomaly.nn.specs import NETWORKS, network_spec  # noqa: E402


def test_default_parameter_count_is_in_spec_range():
    # SPEC section 2: about 1.2 to 1.8 M parameters with the defaults (40 lip points x 2)
    n = count_parameters(DualVAE(80))
    assert 1_200_000 <= n <= 1_800_000, n


def test_encoder_widths_and_receptive_field():
    enc = TCNEncoder(80)
    blocks = list(enc.tcn)
    assert [b.conv1.out_channels for b in blocks] == [64, 128, 128, 128]
    assert [b.conv1.dilation[0] for b in blocks] == [1, 2, 4, 8]
    # two convolutions of kernel 3 per block reach 2 * (1 + 2 + 4 + 8) = 30 frames each
    # side (a receptive field of 61 frames): a change at frame 40 moves frames 10 to 63 only
    enc.eval()
    x = torch.zeros(1, 64, 80)
    base = enc(x)
    x[0, 40] = 1.0
    changed = ((enc(x) - base).abs().sum(dim=-1)[0] > 0).numpy()
    assert changed[10:].all() and not changed[:10].any()


def test_residual_path_is_linear():
    # no activation follows a block's sum: with the convolution branches silenced, a block
    # of equal widths is the identity and the whole encoder an affine map of its input
    enc = TCNEncoder(8, channels=8, n_layers=3).eval()
    with torch.no_grad():
        for block in enc.tcn:
            block.conv2.weight.zero_()
            block.conv2.bias.zero_()
    x, y = torch.randn(2, 2, 20, 8)
    assert torch.equal(enc.tcn[2](x.transpose(1, 2)), x.transpose(1, 2))
    zero = enc(torch.zeros_like(x))
    torch.testing.assert_close(enc(x + y) - zero, (enc(x) - zero) + (enc(y) - zero))


def test_forward_shapes_and_eval_is_deterministic():
    model = DualVAE(10, channels=16, decoder_layers=2)
    x = torch.randn(3, 48, 10)
    model.eval()
    out = model(x)
    assert isinstance(out, DualVAEOutput)
    assert out.x_lf.shape == out.r_hf.shape == (3, 48, 10)
    assert out.mu_lf.shape == out.logvar_lf.shape == out.z_lf.shape == (3, 32)
    assert out.mu_hf.shape == out.logvar_hf.shape == out.z_hf.shape == (3, 48, 64)
    assert out.x_lf.dtype == torch.float32
    # eval mode: z = mu, so two passes agree exactly
    assert torch.equal(out.z_lf, out.mu_lf) and torch.equal(out.z_hf, out.mu_hf)
    assert torch.equal(model(x).x_hat, out.x_hat)
    assert torch.equal(out.x_hat, out.x_lf + out.r_hf)
    assert torch.equal(model.forward_hf(x), out.r_hf)
    mu_lf, mu_hf = model.encode(x)
    assert torch.equal(mu_lf, out.mu_lf) and torch.equal(mu_hf, out.mu_hf)


def test_hf_scale_multiplies_the_hf_output():
    torch.manual_seed(0)
    a = DualVAE(10, channels=16, decoder_layers=2).eval()
    b = DualVAE(10, channels=16, decoder_layers=2, hf_scale=[2.0] * 10).eval()
    b.load_state_dict({**a.state_dict(), "hf_scale": torch.full((10,), 2.0)})
    x = torch.randn(2, 32, 10)
    assert torch.allclose(b(x).r_hf, 2 * a(x).r_hf)
    assert torch.equal(b(x).x_lf, a(x).x_lf)
    assert "hf_scale" in b.state_dict()  # saved with the weights


def test_training_mode_samples_z():
    torch.manual_seed(0)
    model = DualVAE(10, channels=16, decoder_layers=2, dropout=0.0).train()
    out = model(torch.randn(2, 32, 10))
    assert not torch.equal(out.z_lf, out.mu_lf)
    assert not torch.equal(out.z_hf, out.mu_hf)


def test_lf_decoder_sees_only_the_window_latent():
    # the LF output is a function of z_LF alone: windows with the same z_LF decode alike
    model = DualVAE(10, channels=16, decoder_layers=2).eval()
    z = torch.randn(1, 32)
    a = model.lf_decoder(z, 64)
    b = model.lf_decoder(z.clone(), 64)
    assert torch.equal(a, b)
    # and any window length works (coarse positions interpolated, stride-2 upsampling)
    assert model.lf_decoder(z, 50).shape == (1, 50, 10)


def test_lf_pooling_knows_when_an_event_happens():
    # a plain mean (or one attention average) of shifted copies of a pulse is the same; the
    # segment attention of the LF pooling tells them apart, and needs a frame per segment
    torch.manual_seed(0)
    model = DualVAE(10, channels=16, decoder_layers=2).eval()
    h = torch.zeros(2, 64, 16)
    h[0, 20], h[1, 44] = 1.0, 1.0
    assert torch.equal(h[0].mean(0), h[1].mean(0))
    g = model.pool(h)
    assert g.shape == (2, 32)
    assert not torch.allclose(g[0], g[1], atol=1e-3)
    with pytest.raises(ValueError, match="7 frames cannot fill 8 segments"):
        model.pool(torch.zeros(1, 7, 16))


def test_ocvae_shapes_and_reencoding():
    model = OCVAE(10, channels=16, decoder_layers=2, latent=8).eval()
    x = torch.randn(3, 64, 10)
    out = model(x)
    assert out.x_hat.shape == (3, 64, 10)
    assert out.mu.shape == out.logvar.shape == out.z.shape == (3, 8)
    assert torch.equal(out.z, out.mu)
    assert model.encode(out.x_hat).shape == (3, 8)  # OC-FakeDect-2 re-encoding
    assert 500_000 < count_parameters(OCVAE(80)) < 1_800_000


@pytest.mark.parametrize("kind", sorted(NETWORKS))
def test_every_network_is_stated_by_its_spec(kind):
    spec = network_spec(kind)
    module = build_module(kind, 12)
    assert type(module) is module_class(kind) and type(module).__name__ == spec.module
    assert set(spec.recorded_terms) <= set(spec.loss_weights)
    # the terms outside recorded_terms are computed only when weighted
    zero = spec.resolve_loss_weights(dict.fromkeys(spec.loss_weights, 0.0))
    assert spec.active_terms(zero) == list(spec.recorded_terms)
    every = spec.resolve_loss_weights(dict.fromkeys(spec.loss_weights, 1.0))
    assert sorted(spec.active_terms(every)) == sorted(spec.loss_weights)


def test_an_unknown_network_is_named():
    with pytest.raises(InputError, match=r"kind must be one of \['dual', 'ocvae'\]"):
        build_module("gan", 12)
