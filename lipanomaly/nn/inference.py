"""Inference with a trained network, and its state as numpy arrays (for saving without pickle).

Every function runs the module in eval mode without gradients (``z = mu``: deterministic),
in batches (memory stays flat), and returns float64 numpy arrays; the module's training
mode is restored afterwards.
"""

import numpy as np
import torch
from skorch import NeuralNet

from ..limits import DEFAULT_FPS
from ..signal.filters import DEFAULT_CUTOFF_HZ, lowpass
from .modules import DualVAE, build_module
from .training import check_windows, resolve_device

__all__ = [
    "encode",
    "module_from_state",
    "module_shapes",
    "module_state",
    "net_from_state",
    "reconstruct",
    "reconstruct_ocvae",
]


def _as_module(module):
    return module.module_ if hasattr(module, "module_") else module


def _batched(module, windows, batch_size, device, fn):
    """Run ``fn(module, x_batch)`` in eval mode without grad; restore the module's mode."""
    device = resolve_device(device)
    was_training = module.training
    module.to(device).eval()
    outs = []
    try:
        with torch.no_grad():
            for start in range(0, len(windows), batch_size):
                x = torch.from_numpy(windows[start : start + batch_size]).to(device)
                outs.append({k: v.cpu().numpy() for k, v in fn(module, x).items()})
    finally:
        module.train(was_training)
    return {k: np.concatenate([o[k] for o in outs]).astype(np.float64) for k in outs[0]}


def reconstruct(
    module,
    windows,
    *,
    fs=DEFAULT_FPS,
    cutoff=DEFAULT_CUTOFF_HZ,
    hf_only=False,
    batch_size=256,
    device="cpu",
):
    """Reconstruct windows with a trained dual VAE: eval mode, no grad, ``z = mu``.

    Parameters
    ----------
    module : DualVAE or skorch.NeuralNet
        The trained network (a net's ``module_`` is used).
    windows : array-like of shape (N, L, F)
        Standardised windows.
    fs, cutoff : float
        As in training: the targets are ``x_lp = lowpass(x)`` and ``r_hf_target = x - x_lp``.
    hf_only : bool, default=False
        Run only the encoder and the HF head (:meth:`DualVAE.forward_hf`), skipping the LF
        pooling and decoder, for callers that need ``r_hf`` alone (the ΔE jitter probe).
    batch_size : int, default=256
        Windows per forward pass (memory stays flat).
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where to run; the module is moved there.

    Returns
    -------
    out : dict of str to ndarray (float64)
        ``r_hf``, ``x_lp``, ``r_hf_target`` of shape (N, L, F) and, unless ``hf_only``,
        ``x_lf`` (N, L, F), ``mu_lf`` (N, latent_lf) and ``mu_hf`` (N, L, latent_hf).
    """
    module = _as_module(module)
    x = check_windows(windows, "windows")

    def step(m, xb):
        if hf_only:
            return {"r_hf": m.forward_hf(xb)}
        out = m(xb)
        return {"x_lf": out.x_lf, "r_hf": out.r_hf, "mu_lf": out.mu_lf, "mu_hf": out.mu_hf}

    result = _batched(module, x, batch_size, device, step)
    x_lp = lowpass(x, cutoff=cutoff, fs=fs, axis=1)
    result["x_lp"] = x_lp
    result["r_hf_target"] = x.astype(np.float64) - x_lp
    return result


def encode(module, windows, *, batch_size=256, device="cpu"):
    """Posterior means of windows (encoder and posterior layers only, no decoder).

    Parameters
    ----------
    module : DualVAE, OCVAE or skorch.NeuralNet
    windows : array-like of shape (N, L, F)
    batch_size : int, default=256
    device : {"cpu", "cuda", "auto"}, default="cpu"

    Returns
    -------
    out : dict of str to ndarray (float64)
        For a :class:`DualVAE`, ``mu_lf`` (N, latent_lf) and ``mu_hf`` (N, L, latent_hf);
        for an :class:`OCVAE`, ``mu`` (N, latent).
    """
    module = _as_module(module)
    x = check_windows(windows, "windows")

    def step(m, xb):
        if isinstance(m, DualVAE):
            mu_lf, mu_hf = m.encode(xb)
            return {"mu_lf": mu_lf, "mu_hf": mu_hf}
        return {"mu": m.encode(xb)}

    return _batched(module, x, batch_size, device, step)


def reconstruct_ocvae(module, windows, *, batch_size=256, device="cpu"):
    """Reconstruct windows with a trained OC-VAE and re-encode the reconstruction.

    Parameters
    ----------
    module : OCVAE or skorch.NeuralNet
    windows : array-like of shape (N, L, F)
    batch_size, device
        As in :func:`encode`.

    Returns
    -------
    out : dict of str to ndarray (float64)
        ``x_hat`` (N, L, F); ``mu`` (N, latent), the posterior mean of x; ``mu_rec``
        (N, latent), that of the reconstruction (OC-FakeDect-2).
    """
    module = _as_module(module)
    x = check_windows(windows, "windows")

    def step(m, xb):
        out = m(xb)
        return {"x_hat": out.x_hat, "mu": out.mu, "mu_rec": m.encode(out.x_hat)}

    return _batched(module, x, batch_size, device, step)


def module_state(module):
    """The module's state dict as float32 numpy arrays on CPU (for serialization)."""
    module = _as_module(module)
    return {k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


def module_shapes(n_features, *, module_kwargs=None, kind="dual"):
    """Name -> shape of the state dict :func:`module_from_state` expects, allocating nothing.

    The module is built on PyTorch's ``meta`` device (shapes without memory), so a
    configuration can be checked, and its weights counted, before the module is built.

    Parameters
    ----------
    n_features, module_kwargs, kind
        As in :func:`module_from_state`.

    Returns
    -------
    shapes : dict of str to tuple of int
        Every entry is float32.
    """
    with torch.device("meta"):
        module = build_module(kind, n_features, **(module_kwargs or {}))
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def module_from_state(arrays, *, n_features, module_kwargs=None, kind="dual"):
    """Rebuild a trained module on CPU, in eval mode, from :func:`module_state`'s arrays.

    Parameters
    ----------
    arrays : dict of str to ndarray
    n_features : int
    module_kwargs : dict or None
    kind : {"dual", "ocvae"}, default="dual"

    Returns
    -------
    module : DualVAE or OCVAE
    """
    module = build_module(kind, n_features, **(module_kwargs or {}))
    state = {k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()}
    module.load_state_dict(state, strict=True)
    return module.eval()


class _NoOptimizer:
    """The optimizer of a loaded network, which is never trained further.

    Building a torch optimizer imports ``torch._dynamo`` (about 1 s of a command's cold
    start); a loaded network only runs inference.
    """

    def __init__(self, params, **kwargs):
        self.param_groups = []


def net_from_state(arrays, *, n_features, module_kwargs=None, kind="dual"):
    """A skorch net around a module rebuilt by :func:`module_from_state` (CPU, eval mode).

    What a loaded (or cached) network is wrapped in, so that it has the ``module_`` of a
    trained one; its history is empty.

    Parameters
    ----------
    arrays, n_features, module_kwargs, kind
        As in :func:`module_from_state`.

    Returns
    -------
    net : skorch.NeuralNet
    """
    module = module_from_state(
        arrays, n_features=n_features, module_kwargs=module_kwargs, kind=kind
    )
    # an instantiated module is used as it is: initialize() keeps its weights
    net = NeuralNet(module=module, criterion=torch.nn.MSELoss, optimizer=_NoOptimizer, device="cpu")
    net.initialize()
    module.eval()
    return net
