"""The PyTorch part of lipanomaly: the dual LF/HF VAE, its losses and its skorch training.

Imports torch and skorch (never scikit-learn directly); ``import lipanomaly`` does not import
this subpackage. The network sees standardised windows of shape ``(N, L, F)`` float32.

- :class:`DualVAE` (SPEC section 2) and :class:`OCVAE` (the OC-FakeDect-style baseline);
- the loss terms of SPEC section 3 in :mod:`lipanomaly.nn.losses`, with
  :data:`LOSS_WEIGHTS_DEFAULT`;
- :func:`train_network` (SPEC section 4; :func:`train_dual_vae` / :func:`train_ocvae` for one
  kind) returning a fitted skorch net, :func:`reconstruct` / :func:`reconstruct_ocvae` /
  :func:`encode` for inference (``z = mu``), and :func:`module_state` /
  :func:`module_from_state` / :func:`net_from_state` for saving without pickle.
"""

from .inference import (
    encode,
    module_from_state,
    module_state,
    net_from_state,
    reconstruct,
    reconstruct_ocvae,
)
from .losses import (
    DERIV_LAMBDAS_DEFAULT,
    LOSS_WEIGHTS_DEFAULT,
    OCVAE_LOSS_WEIGHTS_DEFAULT,
    decor_loss,
    deriv_loss,
    full_loss,
    jitter_loss,
    kl_divergence,
    latent_loss,
    masked_loss,
    rec_hf_loss,
    rec_lf_loss,
    stft_bin_weights,
    stft_loss,
    total_loss,
)
from .modules import OCVAE, DualVAE, DualVAEOutput, OCVAEOutput, TCNEncoder, count_parameters
from .training import (
    MAX_GRAD_NORM,
    WindowDataset,
    resolve_device,
    torch_threads,
    train_dual_vae,
    train_network,
    train_ocvae,
    vae_objective,
)

__all__ = [
    "DERIV_LAMBDAS_DEFAULT",
    "LOSS_WEIGHTS_DEFAULT",
    "MAX_GRAD_NORM",
    "OCVAE",
    "OCVAE_LOSS_WEIGHTS_DEFAULT",
    "DualVAE",
    "DualVAEOutput",
    "OCVAEOutput",
    "TCNEncoder",
    "WindowDataset",
    "count_parameters",
    "decor_loss",
    "deriv_loss",
    "encode",
    "full_loss",
    "jitter_loss",
    "kl_divergence",
    "latent_loss",
    "masked_loss",
    "module_from_state",
    "module_state",
    "net_from_state",
    "rec_hf_loss",
    "rec_lf_loss",
    "reconstruct",
    "reconstruct_ocvae",
    "resolve_device",
    "stft_bin_weights",
    "stft_loss",
    "torch_threads",
    "total_loss",
    "train_dual_vae",
    "train_network",
    "train_ocvae",
    "vae_objective",
]
