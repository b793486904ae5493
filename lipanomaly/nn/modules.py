"""The networks: the dual LF/HF VAE of SPEC section 2 and the OC-FakeDect-style one-class VAE.

Shapes: a batch of windows is ``(B, L, F)`` (batch, frames, features = 2 x lip points), the
layout the detector hands over; convolutions run on ``(B, C, L)`` internally.

All convolutions are non-causal ("same" padding, centred kernels): the model reconstructs a
whole window it has seen, it does not forecast, so a frame may use its future.
"""

import itertools
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from .specs import network_spec

__all__ = [
    "OCVAE",
    "DualVAE",
    "DualVAEOutput",
    "OCVAEOutput",
    "TCNEncoder",
    "build_module",
    "count_parameters",
    "module_class",
]


def count_parameters(module):
    """Number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


class _ResidualBlock(nn.Module):
    """Two dilated convolutions on a linear residual path (Bai et al., 2018, non-causal).

    ``out = skip(x) + conv2(drop(GELU(conv1(x))))``; ``skip`` is a 1x1 convolution when the
    channel count changes, the identity otherwise. No activation follows the sum, so a stack
    of blocks keeps a linear path from input to output: the LF head then extrapolates to
    people and mouth openings it never saw far better than with Bai et al.'s
    ``GELU(... + skip(x))`` (relative error of its dynamics on held-out clips 0.79 -> 0.48,
    docs/model.md).
    """

    def __init__(self, c_in, c_out, *, kernel_size, dilation, dropout):
        super().__init__()
        total = dilation * (kernel_size - 1)  # frames of padding that keep the length
        # odd kernels: centred (the convolutions pad); even kernels: one frame more after
        # than before, padded explicitly
        pad = total // 2 if kernel_size % 2 else 0
        self.pad = (
            nn.Identity()
            if kernel_size % 2
            else nn.ConstantPad1d((total // 2, total - total // 2), 0.0)
        )
        self.conv1 = nn.Conv1d(c_in, c_out, kernel_size, dilation=dilation, padding=pad)
        self.conv2 = nn.Conv1d(c_out, c_out, kernel_size, dilation=dilation, padding=pad)
        self.drop = nn.Dropout(dropout)
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x):
        h = self.drop(F.gelu(self.conv1(self.pad(x))))
        return self.skip(x) + self.conv2(self.pad(h))


def _tcn(channels, *, kernel_size, dropout):
    """Stack of residual blocks; ``channels[i] -> channels[i + 1]`` with dilation ``2**i``."""
    return nn.Sequential(
        *[
            _ResidualBlock(c_in, c_out, kernel_size=kernel_size, dilation=2**i, dropout=dropout)
            for i, (c_in, c_out) in enumerate(itertools.pairwise(channels))
        ]
    )


class TCNEncoder(nn.Module):
    """Shared dilated TCN: ``(B, L, F)`` windows to per-frame embeddings ``h_t`` ``(B, L, C)``.

    ``n_layers`` residual blocks with dilations 1, 2, 4, 8, ...; the first block has
    ``channels // 2`` channels (at least 1) and the others ``channels`` (64 -> 128 at the
    defaults); a final 1x1 convolution gives the ``channels``-d embedding of each frame.
    With kernel 3 and 4 blocks the receptive field is 61 frames: each ``h_t`` sees (almost)
    the whole window.

    Parameters
    ----------
    n_features : int
        F, features per frame.
    channels : int, default=128
    n_layers : int, default=4
    kernel_size : int, default=3
        Odd kernels are centred; an even kernel has one more frame of padding after the
        frame than before.
    dropout : float, default=0.1
    """

    def __init__(self, n_features, *, channels=128, n_layers=4, kernel_size=3, dropout=0.1):
        super().__init__()
        widths = [n_features, max(channels // 2, 1)] + [channels] * (n_layers - 1)
        self.tcn = _tcn(widths, kernel_size=kernel_size, dropout=dropout)
        self.out = nn.Conv1d(widths[-1], channels, 1)

    def forward(self, x):
        """``x`` (B, L, F) -> ``h`` (B, L, C)."""
        return self.out(self.tcn(x.transpose(1, 2))).transpose(1, 2)


class _AttentionPool(nn.Module):
    """Mean pooling and attention pooling within segments of the window: (B, L, C) -> (B, 2C).

    The encoder's convolutions are translation-equivariant, so one attention average over
    the whole window says what its motion is like but hardly *when* it happens, and a window
    latent built from it can only give the decoder the mean shape: our first LF head, pooled
    that way, output a nearly flat line. Here the window is cut into ``segments`` consecutive
    parts of equal length; each has its own additive attention over its frames (uniform at
    first, learning which frames matter), and a linear layer maps the plain mean and the
    ``segments`` attention averages, in order, to ``2C``.
    """

    def __init__(self, channels, *, segments=8, hidden=64):
        super().__init__()
        self.segments = segments
        self.score = nn.Sequential(
            nn.Linear(channels, hidden), nn.Tanh(), nn.Linear(hidden, segments)
        )
        self.out = nn.Linear((segments + 1) * channels, 2 * channels)

    def forward(self, h):
        b, length, _ = h.shape
        if length < self.segments:
            raise ValueError(f"windows of {length} frames cannot fill {self.segments} segments")
        segment = torch.arange(length, device=h.device) * self.segments // length
        outside = segment[:, None] != torch.arange(self.segments, device=h.device)[None]
        attn = torch.softmax(self.score(h).masked_fill(outside, float("-inf")), dim=1)
        pooled = torch.einsum("bls,blc->bsc", attn, h).reshape(b, -1)
        return self.out(torch.cat([h.mean(dim=1), pooled], dim=-1))


class _WindowDecoder(nn.Module):
    """Decode one latent vector per window into a trajectory ``(B, L, F)``.

    ``z`` is mapped linearly to a coarse sequence of ``positions`` vectors of ``channels``
    (each position its own function of ``z``), interpolated linearly to
    ``ceil(L / stride)`` positions and refined by a small TCN; with ``stride > 1`` the result
    is upsampled linearly to ``L`` frames, which keeps the output slow (SPEC's optional
    stride-2 LF decoder). Any window length works.
    """

    def __init__(
        self, latent, n_features, *, channels, n_layers, kernel_size, dropout, stride, positions
    ):
        super().__init__()
        self.stride = stride
        self.channels = channels
        self.positions = positions
        self.inp = nn.Linear(latent, channels * positions)
        self.tcn = _tcn([channels] * (n_layers + 1), kernel_size=kernel_size, dropout=dropout)
        self.out = nn.Conv1d(channels, n_features, 1)

    def forward(self, z, length):
        h = self.inp(z).view(len(z), self.channels, self.positions)
        h = F.interpolate(h, size=-(-length // self.stride), mode="linear", align_corners=True)
        y = self.out(self.tcn(h))
        if self.stride > 1:
            y = F.interpolate(y, size=length, mode="linear", align_corners=True)
        return y.transpose(1, 2)


class _FrameDecoder(nn.Module):
    """Decode per-frame latents ``(B, L, D)`` into ``(B, L, F)`` with a small TCN."""

    def __init__(self, latent, n_features, *, channels, n_layers, kernel_size, dropout):
        super().__init__()
        self.inp = nn.Conv1d(latent, channels, 1)
        self.tcn = _tcn([channels] * (n_layers + 1), kernel_size=kernel_size, dropout=dropout)
        self.out = nn.Conv1d(channels, n_features, 1)

    def forward(self, z):
        return self.out(self.tcn(self.inp(z.transpose(1, 2)))).transpose(1, 2)


def _reparameterise(mu, logvar, sample):
    # z = mu + sigma * eps in training; z = mu at inference so scores are deterministic
    if not sample:
        return mu
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


class DualVAEOutput(NamedTuple):
    """What :class:`DualVAE` returns; every tensor is float32 on the input's device.

    Attributes
    ----------
    x_lf : Tensor of shape (B, L, F)
        Reconstruction of the slow (low-pass) trajectory.
    r_hf : Tensor of shape (B, L, F)
        Reconstruction of the high-band residual; ``x_hat = x_lf + r_hf``.
    mu_lf, logvar_lf : Tensor of shape (B, latent_lf)
        Posterior of the clip-level (window-level) LF latent.
    mu_hf, logvar_hf : Tensor of shape (B, L, latent_hf)
        Posterior of the per-frame HF latents.
    z_lf : Tensor of shape (B, latent_lf)
    z_hf : Tensor of shape (B, L, latent_hf)
        The latents the decoders used: samples in training mode, the means in eval mode.
    """

    x_lf: torch.Tensor
    r_hf: torch.Tensor
    mu_lf: torch.Tensor
    logvar_lf: torch.Tensor
    mu_hf: torch.Tensor
    logvar_hf: torch.Tensor
    z_lf: torch.Tensor
    z_hf: torch.Tensor

    @property
    def x_hat(self):
        """The full reconstruction ``x_lf + r_hf``, shape (B, L, F)."""
        return self.x_lf + self.r_hf


class DualVAE(nn.Module):
    """Shared TCN encoder with a low-frequency and a high-frequency VAE head (SPEC section 2).

    - Encoder: :class:`TCNEncoder` (4 residual blocks, dilations 1, 2, 4, 8, channels
      64 -> 128), one ``channels``-d embedding ``h_t`` per frame.
    - LF head: mean + attention pooling of ``h_t`` (attention within each of
      ``lf_segments`` segments of the window) -> ``channels`` -> ``mu_LF``, ``log sigma²_LF``
      (``latent_lf`` dims); ``z_LF`` is mapped linearly to ``lf_positions`` coarse positions
      and a small TCN decodes them, at ``1 / lf_stride`` of the frame rate, into ``x̂_LF``.
      The decoder sees nothing of the window but ``z_LF``, so fast detail cannot pass.
    - HF head: each ``h_t`` -> ``mu_t``, ``log sigma²_t`` (``latent_hf`` dims); a small TCN
      decodes ``z_HF`` into the high-band residual ``r̂_HF``.

    Output ``x̂ = x̂_LF + r̂_HF``. In training mode z is sampled (reparameterisation), in eval
    mode ``z = mu``, so inference is deterministic.

    Parameters
    ----------
    n_features : int
        F, features per frame (80 for 40 lip points x 2).
    channels : int, default=128
        Width of the encoder (its first block has half) and of the decoders.
    n_layers : int, default=4
        Residual blocks of the encoder (dilations ``1 .. 2**(n_layers-1)``).
    kernel_size : int, default=3
        Kernel size of every temporal convolution (odd: centred).
    latent_lf : int, default=32
        Size of the window-level LF latent.
    latent_hf : int, default=64
        Size of the per-frame HF latent.
    decoder_layers : int, default=4
        Residual blocks of each decoder.
    lf_stride : int, default=2
        The LF decoder runs at ``1 / lf_stride`` of the frame rate and is upsampled linearly.
    lf_segments : int, default=8
        Segments of the window, each with its own attention, in the LF pooling.
    lf_positions : int, default=32
        Coarse positions the LF decoder maps ``z_LF`` to (interpolated to the window).
    dropout : float, default=0.1
    hf_scale : array-like of shape (F,) or None, default=None
        Standard deviation of the high-band residual per feature (None: 1). The HF decoder
        works in these units and its output is multiplied by them, so the HF head sees a
        unit-scale target although the band above the cut-off holds only about 1 % of the
        variance of standardised lip windows. :func:`~lipanomaly.nn.train_dual_vae` measures
        it on the training windows; it is a buffer, saved with the state dict.

    Examples
    --------
    >>> import torch
    >>> model = DualVAE(80).eval()
    >>> out = model(torch.zeros(2, 64, 80))
    >>> tuple(out.x_lf.shape), tuple(out.mu_lf.shape), tuple(out.mu_hf.shape)
    ((2, 64, 80), (2, 32), (2, 64, 64))
    """

    def __init__(
        self,
        n_features,
        *,
        channels=128,
        n_layers=4,
        kernel_size=3,
        latent_lf=32,
        latent_hf=64,
        decoder_layers=4,
        lf_stride=2,
        lf_segments=8,
        lf_positions=32,
        dropout=0.1,
        hf_scale=None,
    ):
        super().__init__()
        self.n_features = n_features
        scale = torch.ones(n_features) if hf_scale is None else torch.as_tensor(hf_scale)
        self.register_buffer("hf_scale", scale.to(torch.float32).reshape(n_features).clone())
        conv = {"channels": channels, "kernel_size": kernel_size, "dropout": dropout}
        self.encoder = TCNEncoder(n_features, n_layers=n_layers, **conv)
        self.pool = _AttentionPool(channels, segments=lf_segments)
        self.lf_hidden = nn.Sequential(nn.Linear(2 * channels, channels), nn.GELU())
        self.lf_posterior = nn.Linear(channels, 2 * latent_lf)
        self.lf_decoder = _WindowDecoder(
            latent_lf,
            n_features,
            n_layers=decoder_layers,
            stride=lf_stride,
            positions=lf_positions,
            **conv,
        )
        self.hf_posterior = nn.Linear(channels, 2 * latent_hf)
        self.hf_decoder = _FrameDecoder(latent_hf, n_features, n_layers=decoder_layers, **conv)

    def _posteriors(self, x):
        h = self.encoder(x)
        mu_lf, logvar_lf = self.lf_posterior(self.lf_hidden(self.pool(h))).chunk(2, dim=-1)
        mu_hf, logvar_hf = self.hf_posterior(h).chunk(2, dim=-1)
        return mu_lf, logvar_lf, mu_hf, logvar_hf

    def encode(self, x):
        """Posterior means: ``x`` (B, L, F) -> ``mu_lf`` (B, D_LF), ``mu_hf`` (B, L, D_HF)."""
        mu_lf, _, mu_hf, _ = self._posteriors(x)
        return mu_lf, mu_hf

    def forward_hf(self, x):
        """Only the HF branch: ``x`` (B, L, F) -> ``r̂_HF`` (B, L, F).

        The same as ``forward(x).r_hf`` (z sampled in training mode, the mean in eval mode)
        without the LF pooling and decoder: what the jitter-consistency term needs.
        """
        mu_hf, logvar_hf = self.hf_posterior(self.encoder(x)).chunk(2, dim=-1)
        return self.hf_decoder(_reparameterise(mu_hf, logvar_hf, self.training)) * self.hf_scale

    def forward(self, x):
        """``x`` (B, L, F) float32 -> :class:`DualVAEOutput`."""
        mu_lf, logvar_lf, mu_hf, logvar_hf = self._posteriors(x)
        z_lf = _reparameterise(mu_lf, logvar_lf, self.training)
        z_hf = _reparameterise(mu_hf, logvar_hf, self.training)
        x_lf = self.lf_decoder(z_lf, x.shape[1])
        r_hf = self.hf_decoder(z_hf) * self.hf_scale
        return DualVAEOutput(x_lf, r_hf, mu_lf, logvar_lf, mu_hf, logvar_hf, z_lf, z_hf)


class OCVAEOutput(NamedTuple):
    """What :class:`OCVAE` returns.

    Attributes
    ----------
    x_hat : Tensor of shape (B, L, F)
        Reconstruction of the whole window.
    mu, logvar : Tensor of shape (B, latent)
        Posterior of the window latent.
    z : Tensor of shape (B, latent)
        Sample in training mode, ``mu`` in eval mode.
    """

    x_hat: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor


class OCVAE(nn.Module):
    """One-class VAE in the manner of OC-FakeDect (Khalid & Woo, 2020), for lip windows.

    OC-FakeDect trains a convolutional VAE on real face images only and scores the
    reconstruction error; OC-FakeDect-2 re-encodes the reconstruction with the same encoder
    and scores the distance between ``mu(x)`` and ``mu(x̂)``. Adapted to lip windows: the
    image CNN becomes the same kind of dilated TCN as :class:`DualVAE`'s encoder, pooled
    (mean + attention, as the LF head) into one latent per window, and a decoder like the LF
    head's (``positions`` coarse positions, a TCN, full frame rate) reconstructs the whole
    window (no band split). :meth:`encode` gives ``mu`` for the OC-FakeDect-2 re-encoding.

    Parameters
    ----------
    n_features : int
    channels : int, default=128
    n_layers : int, default=4
    kernel_size : int, default=3
    latent : int, default=64
    decoder_layers : int, default=4
    segments : int, default=8
        Segments of the window, each with its own attention, in the pooling.
    positions : int, default=32
        Coarse positions the decoder maps ``z`` to.
    dropout : float, default=0.1

    References
    ----------
    H. Khalid and S. S. Woo, "OC-FakeDect: Classifying Deepfakes Using One-class Variational
    Autoencoder", CVPR Workshops, 2020.
    """

    def __init__(
        self,
        n_features,
        *,
        channels=128,
        n_layers=4,
        kernel_size=3,
        latent=64,
        decoder_layers=4,
        segments=8,
        positions=32,
        dropout=0.1,
    ):
        super().__init__()
        self.n_features = n_features
        conv = {"channels": channels, "kernel_size": kernel_size, "dropout": dropout}
        self.encoder = TCNEncoder(n_features, n_layers=n_layers, **conv)
        self.pool = _AttentionPool(channels, segments=segments)
        self.hidden = nn.Sequential(nn.Linear(2 * channels, channels), nn.GELU())
        self.posterior = nn.Linear(channels, 2 * latent)
        self.decoder = _WindowDecoder(
            latent, n_features, n_layers=decoder_layers, stride=1, positions=positions, **conv
        )

    def _posterior(self, x):
        return self.posterior(self.hidden(self.pool(self.encoder(x)))).chunk(2, dim=-1)

    def encode(self, x):
        """Posterior mean: ``x`` (B, L, F) -> ``mu`` (B, latent)."""
        return self._posterior(x)[0]

    def forward(self, x):
        """``x`` (B, L, F) float32 -> :class:`OCVAEOutput`."""
        mu, logvar = self._posterior(x)
        z = _reparameterise(mu, logvar, self.training)
        return OCVAEOutput(self.decoder(z, x.shape[1]), mu, logvar, z)


def build_module(kind, n_features, **module_kwargs):
    """A new module of the network ``kind`` (of :func:`module_class`).

    Parameters
    ----------
    kind : str
        A network of :data:`lipanomaly.nn.specs.NETWORKS`.
    n_features : int
    **module_kwargs
        Keyword arguments of the module class.

    Returns
    -------
    module : torch.nn.Module
    """
    return module_class(kind)(int(n_features), **module_kwargs)


def module_class(kind):
    """The module class of the network ``kind``: its spec names it.

    Parameters
    ----------
    kind : str
        A network of :data:`lipanomaly.nn.specs.NETWORKS`.

    Returns
    -------
    cls : type
    """
    return globals()[network_spec(kind).module]
