"""The PyTorch part of lipanomaly: the dual LF/HF VAE, its losses and its skorch training.

Its modules import torch and skorch (never scikit-learn directly), except :mod:`.specs`,
what the estimators know of each network without torch. The names below are imported on
first access, so ``lipanomaly.nn.specs`` does not import torch. The network sees standardised
windows of shape ``(N, L, F)`` float32.

- :class:`DualVAE` (SPEC section 2) and :class:`OCVAE` (the OC-FakeDect-style baseline);
- the loss terms of SPEC section 3 in :mod:`lipanomaly.nn.losses`, with
  :data:`LOSS_WEIGHTS_DEFAULT`;
- :func:`train_network` (SPEC section 4; :func:`train_dual_vae` / :func:`train_ocvae` for one
  kind) returning a fitted skorch net, :func:`reconstruct` / :func:`reconstruct_ocvae` /
  :func:`encode` for inference (``z = mu``), and :func:`module_state` /
  :func:`module_from_state` / :func:`net_from_state` for saving without pickle.
"""

from .._lazy import attach

# public name -> module that defines it; imported on first access (PEP 562)
_LAZY = {
    "DERIV_LAMBDAS_DEFAULT": "losses",
    "DualVAE": "modules",
    "DualVAEOutput": "modules",
    "LOSS_WEIGHTS_DEFAULT": "losses",
    "MAX_GRAD_NORM": "training",
    "OCVAE": "modules",
    "OCVAEOutput": "modules",
    "OCVAE_LOSS_WEIGHTS_DEFAULT": "losses",
    "TCNEncoder": "modules",
    "WindowDataset": "training",
    "count_parameters": "modules",
    "decor_loss": "losses",
    "deriv_loss": "losses",
    "encode": "inference",
    "full_loss": "losses",
    "jitter_loss": "losses",
    "kl_divergence": "losses",
    "latent_loss": "losses",
    "masked_loss": "losses",
    "module_from_state": "inference",
    "module_state": "inference",
    "net_from_state": "inference",
    "rec_hf_loss": "losses",
    "rec_lf_loss": "losses",
    "reconstruct": "inference",
    "reconstruct_ocvae": "inference",
    "resolve_device": "training",
    "stft_bin_weights": "losses",
    "stft_loss": "losses",
    "torch_threads": "training",
    "total_loss": "losses",
    "train_dual_vae": "training",
    "train_network": "training",
    "train_ocvae": "training",
    "vae_objective": "training",
}

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


__getattr__, __dir__ = attach(__name__, _LAZY)
