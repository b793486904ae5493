"""Every loss term of SPEC section 3, one function each, and their weighted total.

All terms take float tensors shaped like the network's outputs (windows ``(B, L, F)``) and
return a scalar tensor. Reconstruction terms are *means* over every value (not sums), so
their size does not depend on the window length or the number of lip points; the KL terms
are sums over latent dimensions (the usual per-sample KL), and :func:`total_loss` divides them
by the number of values each latent explains, so that a weight ``beta`` keeps its ELBO meaning
next to the per-value reconstruction means (see :func:`total_loss`).

==========  =========================================================================
term        definition
==========  =========================================================================
rec_lf      ``mean (x̂_LF - x_LP)²``, x_LP the low-pass target
kl_lf       ``KL(N(mu_LF, sigma²_LF) || N(0, I))`` per window
rec_hf      ``mean (r̂_HF - r_HF)²``, r_HF = x - x_LP
stft        ``mean_f w(f) |STFT(r̂_HF) - STFT(r_HF)|²``, top third of the bins weighted
deriv       ``sum_k lambda_k mean |∇ᵏ x̂ - ∇ᵏ x|``, k = 1, 2, 3 (velocity, acceleration, jerk)
kl_hf       ``KL(N(mu_t, sigma²_t) || N(0, I))`` per frame
full        ``mean |x̂ - x|``
decor       mean squared cross-correlation of z_LF (repeated over time) with z_HF
jitter      ``mean |r̂_HF(x') - r̂_HF(x)|``, x' a time-jittered copy of x
mask        ``mean (x̂ - x)²`` over frames hidden from the input (in-painting)
==========  =========================================================================
"""

import torch

from ..signal.filters import stft_weights
from .specs import DUAL, OCVAE

__all__ = [
    "DERIV_LAMBDAS_DEFAULT",
    "LOSS_WEIGHTS_DEFAULT",
    "OCVAE_LOSS_WEIGHTS_DEFAULT",
    "decor_loss",
    "deriv_loss",
    "full_loss",
    "jitter_loss",
    "kl_divergence",
    "latent_loss",
    "masked_loss",
    "rec_hf_loss",
    "rec_lf_loss",
    "stft_bin_weights",
    "stft_loss",
    "total_loss",
]

#: SPEC section 3 defaults; masked in-painting is off by default. Stated once, in
#: :data:`lipanomaly.nn.specs.DUAL` (read-only).
LOSS_WEIGHTS_DEFAULT = DUAL.loss_weights

#: Defaults of the OC-FakeDect-style baseline: reconstruction, KL (per value), and
#: OC-FakeDect-2's latent consistency ``||mu(x) - mu(x̂)||²`` (off: it is used for scoring).
#: Stated in :data:`lipanomaly.nn.specs.OCVAE`.
OCVAE_LOSS_WEIGHTS_DEFAULT = OCVAE.loss_weights

#: Default weights of the first, second and third temporal derivative in :func:`deriv_loss`.
DERIV_LAMBDAS_DEFAULT = (1.0, 0.5, 0.25)


def rec_lf_loss(x_lf, x_lp):
    """LF reconstruction: mean squared error of ``x̂_LF`` against the low-pass target.

    Parameters
    ----------
    x_lf : Tensor of shape (B, L, F)
        The LF head's output.
    x_lp : Tensor of shape (B, L, F)
        ``lowpass(x)`` along time.

    Returns
    -------
    loss : Tensor, scalar
    """
    return torch.mean((x_lf - x_lp) ** 2)


def rec_hf_loss(r_hf, r_target):
    """HF reconstruction: mean squared error of ``r̂_HF`` against ``r_HF = x - x_LP``.

    Parameters
    ----------
    r_hf, r_target : Tensor of shape (B, L, F)

    Returns
    -------
    loss : Tensor, scalar
    """
    return torch.mean((r_hf - r_target) ** 2)


def kl_divergence(mu, logvar):
    """KL divergence of ``N(mu, exp(logvar))`` from ``N(0, I)``, summed over the last axis.

    ``KL = 0.5 * sum_d (exp(logvar_d) + mu_d² - 1 - logvar_d)``, averaged over every other
    axis (the batch, and the frames for the per-frame HF latents). It is 0 exactly when
    ``mu = 0`` and ``logvar = 0``, and positive otherwise.

    Parameters
    ----------
    mu, logvar : Tensor of shape (B, D) or (B, L, D)

    Returns
    -------
    kl : Tensor, scalar
        Nats per latent vector.
    """
    kl = 0.5 * (torch.exp(logvar) + mu**2 - 1.0 - logvar)
    return kl.sum(dim=-1).mean()


def stft_bin_weights(n_bins, *, high_weight=2.5, device=None, dtype=torch.float32):
    """:func:`lipanomaly.signal.filters.stft_weights` as a tensor: 1, and ``high_weight`` on the
    top third.

    Parameters
    ----------
    n_bins : int
    high_weight : float, default=2.5

    Returns
    -------
    weights : Tensor of shape (n_bins,)
    """
    return torch.as_tensor(stft_weights(n_bins, top_weight=high_weight), dtype=dtype, device=device)


def _framed_rfft(x, n_fft, hop):
    """STFT along time of (B, L, F): Hann-windowed frames -> (B, n_frames, F, n_fft // 2 + 1)."""
    frames = x.unfold(1, n_fft, hop)  # (B, n_frames, F, n_fft)
    window = torch.hann_window(n_fft, periodic=True, device=x.device, dtype=x.dtype)
    return torch.fft.rfft(frames * window, dim=-1)


def stft_loss(r_hf, r_target, *, n_fft=16, hop=4, high_weight=2.5):
    """STFT-weighted HF loss: ``mean over frames, features, bins of w(f) |ΔS(f)|²``.

    ``S`` is the short-time Fourier transform along time of each feature (Hann windows of
    ``n_fft`` frames every ``hop`` frames, one-sided spectrum, no padding) and ``w`` weights
    the top third of the frequency bins ``high_weight`` times (:func:`stft_bin_weights`).
    Because the spectrum is linear, this equals the weighted spectrum of the error
    ``r̂_HF - r_HF``.

    Parameters
    ----------
    r_hf, r_target : Tensor of shape (B, L, F)
        ``L >= n_fft``.
    n_fft : int, default=16
        Frame length (0.64 s at 25 fps): 9 bins of 1.56 Hz.
    hop : int, default=4
    high_weight : float, default=2.5
        SPEC: 2 to 3.

    Returns
    -------
    loss : Tensor, scalar
    """
    spec = _framed_rfft(r_hf - r_target, n_fft, hop)
    w = stft_bin_weights(spec.shape[-1], high_weight=high_weight, device=spec.device)
    return torch.mean(w * (spec.real**2 + spec.imag**2))


def deriv_loss(x_hat, x, *, lambdas=DERIV_LAMBDAS_DEFAULT):
    """Temporal-derivative loss: ``sum_k lambda_k mean |∇ᵏ x̂ - ∇ᵏ x|``, k = 1, 2, 3.

    ``∇`` is the first difference along time; the third order (jerk) reacts to consonant
    closures and bursts.

    Parameters
    ----------
    x_hat, x : Tensor of shape (B, L, F)
        The full reconstruction and the input.
    lambdas : sequence of 3 float, default=(1.0, 0.5, 0.25)
        λ1, λ2, λ3. Higher differences amplify noise (the variance of the k-th difference of
        white noise grows as C(2k, k): 2, 6, 20), hence the decreasing defaults.

    Returns
    -------
    loss : Tensor, scalar
    """
    err = x_hat - x
    loss = err.new_zeros(())
    for lam in lambdas:
        err = torch.diff(err, dim=1)
        if lam:
            loss = loss + lam * err.abs().mean()
    return loss


def full_loss(x_hat, x):
    """Coupling term: ``mean |x̂ - x|`` with ``x̂ = x̂_LF + r̂_HF``.

    Parameters
    ----------
    x_hat, x : Tensor of shape (B, L, F)

    Returns
    -------
    loss : Tensor, scalar
    """
    return torch.mean(torch.abs(x_hat - x))


def decor_loss(z_lf, z_hf, *, eps=1e-3):
    """Decorrelation of the two latents: mean squared cross-correlation.

    ``z_LF`` (one vector per window) is upsampled over time by repetition, each of the
    ``B * L`` (frame) samples pairs it with that frame's ``z_HF``, every dimension is
    standardised over those samples and ``C = Z_LFᵀ Z_HF / (B L)`` is the
    ``(D_LF, D_HF)`` cross-correlation matrix. The loss is ``||C||_F² / (D_LF D_HF)``: the
    mean instead of the sum of the squared entries, so the weight does not depend on the
    latent sizes. 0 for uncorrelated latents; a constant dimension counts as uncorrelated.

    Parameters
    ----------
    z_lf : Tensor of shape (B, D_LF)
    z_hf : Tensor of shape (B, L, D_HF)
    eps : float, default=1e-3
        Floor of the standard deviations. Dividing by a vanishing one (a collapsed
        dimension, constant up to rounding noise) would blow that noise up to unit variance
        and its gradient by ``1 / std``.

    Returns
    -------
    loss : Tensor, scalar
    """
    b, length, d_hf = z_hf.shape
    a = z_lf[:, None, :].expand(b, length, z_lf.shape[-1]).reshape(b * length, -1)
    c = z_hf.reshape(b * length, d_hf)
    a = (a - a.mean(0)) / a.std(0, unbiased=False).clamp_min(eps)
    c = (c - c.mean(0)) / c.std(0, unbiased=False).clamp_min(eps)
    corr = a.T @ c / (b * length)
    return torch.mean(corr**2)


def jitter_loss(r_hf_jittered, r_hf):
    """Jitter consistency: ``mean |r̂_HF(x') - r̂_HF(x)|``, x' a time-jittered copy of x.

    x' has ±1-frame time warps and 5 to 10 % dropped frames
    (:func:`lipanomaly.signal.augment.time_jitter`): on real clips the HF detail the model gives
    should not hinge on such micro-jitter.

    Parameters
    ----------
    r_hf_jittered, r_hf : Tensor of shape (B, L, F)

    Returns
    -------
    loss : Tensor, scalar
    """
    return torch.mean(torch.abs(r_hf_jittered - r_hf))


def masked_loss(x_hat, x, mask):
    """Masked temporal in-painting: mean squared error on the masked frames only.

    Parameters
    ----------
    x_hat : Tensor of shape (B, L, F)
        Reconstruction from an input whose masked frames were hidden.
    x : Tensor of shape (B, L, F)
        The unmasked input.
    mask : Tensor of shape (B, L), bool
        True on the hidden frames.

    Returns
    -------
    loss : Tensor, scalar
        0 when no frame is masked.
    """
    m = mask[..., None].to(x.dtype)
    n = m.sum() * x.shape[-1]
    return ((x_hat - x) ** 2 * m).sum() / n.clamp_min(1.0)


def latent_loss(mu, mu_rec):
    """OC-FakeDect-2 latent consistency: ``mean (mu(x) - mu(x̂))²``.

    Parameters
    ----------
    mu, mu_rec : Tensor of shape (B, D)
        Posterior means of the input and of its reconstruction (re-encoded).

    Returns
    -------
    loss : Tensor, scalar
    """
    return torch.mean((mu - mu_rec) ** 2)


def total_loss(
    terms, weights=None, *, kl_scale=1.0, n_frames, n_features, defaults=LOSS_WEIGHTS_DEFAULT
):
    """Weighted sum of the loss terms (SPEC section 3).

    ``total = sum_name weights[name] * terms[name]``, except that the KL terms are first made
    per reconstructed value and multiplied by the annealing factor:
    ``kl_lf / (L F)`` (one LF latent explains a window of ``L F`` values) and
    ``kl_hf / F`` (one HF latent explains a frame of ``F`` values), both times ``kl_scale``
    (the OC-VAE's window-level ``kl`` is treated like ``kl_lf``).
    With reconstruction means, this is ``beta`` times the KL of a per-value ELBO: beta 6 is
    a strong bottleneck, beta 0.8 a weak one, as SPEC wants.

    Parameters
    ----------
    terms : dict of str to Tensor
        Values of the terms named in :data:`LOSS_WEIGHTS_DEFAULT`; missing terms count 0.
    weights : dict or None, default=None
        Merged over ``defaults``.
    kl_scale : float, default=1.0
        KL annealing factor in [0, 1].
    n_frames, n_features : int
        L and F of the windows.
    defaults : dict, default=LOSS_WEIGHTS_DEFAULT
        The terms and their default weights (:data:`OCVAE_LOSS_WEIGHTS_DEFAULT` for the
        baseline).

    Returns
    -------
    total : Tensor, scalar
    """
    w = {**defaults, **(weights or {})}
    unknown = (set(w) | set(terms)) - set(defaults)
    if unknown:
        raise ValueError(
            f"unknown loss term(s) {sorted(unknown)}; the terms are {sorted(defaults)}"
        )
    per_window = kl_scale / (n_frames * n_features)
    scale = {"kl_lf": per_window, "kl": per_window, "kl_hf": kl_scale / n_features}
    total = None
    for name, value in terms.items():
        if not w.get(name):
            continue
        contribution = w[name] * scale.get(name, 1.0) * value
        total = contribution if total is None else total + contribution
    if total is None:
        return next(iter(terms.values())).new_zeros(())
    return total
