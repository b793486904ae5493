"""Training through skorch (SPEC section 4): one loop for both networks.

One private :class:`skorch.NeuralNet` subclass trains both networks: its ``get_loss`` computes
every term of :mod:`lipanomaly.nn.losses`, records each one in ``net.history``
(``train_<term>`` and ``valid_<term>`` per epoch) and returns the weighted total. Around it:

- AdamW (lr 1e-3) with cosine decay of the learning rate over ``max_epochs``
  (skorch ``LRScheduler`` + ``CosineAnnealingLR``);
- KL annealing: the KL weights grow linearly from 0 to their targets over the first
  ``kl_anneal_epochs`` epochs (a callback). The validation loss always uses the target
  weights, so early stopping compares epochs on one objective;
- training windows are augmented anew every epoch (:func:`lipanomaly.signal.augment.augment`: speed,
  ±1-frame time jitter, frame drops, weak noise), seeded by ``(random_state, epoch)``;
  validation windows never are. The low-pass target is recomputed from the augmented window;
- validation windows come from the caller (split by clip: never by window) through
  skorch's ``predefined_split``; ``EarlyStopping(load_best=True)`` restores the weights of the
  best validation epoch;
- seeding inside ``torch.random.fork_rng``: the same ``random_state`` gives bit-identical
  weights on CPU and torch's global RNG is left as it was.
"""

import contextlib
import re
import sys

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import (
    Callback,
    EarlyStopping,
    GradientNormClipping,
    LRScheduler,
    PassthroughScoring,
    ProgressBar,
)
from skorch.helper import predefined_split
from torch.optim.lr_scheduler import CosineAnnealingLR

from ..exceptions import InputError, TrainingError
from ..limits import DEFAULT_FPS
from ..signal.augment import augment as _augment
from ..signal.augment import time_jitter
from ..signal.filters import DEFAULT_CUTOFF_HZ, lowpass
from . import losses
from .modules import module_class
from .specs import network_spec

__all__ = [
    "MAX_GRAD_NORM",
    "WindowDataset",
    "resolve_device",
    "torch_threads",
    "train_dual_vae",
    "train_network",
    "train_ocvae",
    "vae_objective",
]

#: Largest gradient norm of a training step (skorch's ``GradientNormClipping``, callback
#: ``"grad_clip"``: ``callbacks__grad_clip__gradient_clip_value=None`` turns it off).
MAX_GRAD_NORM = 10.0


@contextlib.contextmanager
def torch_threads(n):
    """torch's CPU threads set to ``n`` meanwhile, restored afterwards (None: left as is).

    Training is bit-reproducible for one thread count only (multi-threaded reductions add
    in another order). Each of the network's many small operations waits for all of torch's
    threads, so on cores that other work shares one descheduled thread stalls the others
    (``docs/benchmarks.md``, training): one thread is the robust choice there.
    """
    before = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def resolve_device(device):
    """``"cpu"``, ``"cuda"`` (or ``"cuda:N"``) or ``"auto"`` (CUDA when available) -> str."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not isinstance(device, str) or not (device == "cpu" or device.startswith("cuda")):
        raise InputError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto', got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"device={device!r} but CUDA is not available; use 'cpu' or 'auto'")
    return device


_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


def _print_plain_off_terminal(text):
    """``print``, without skorch's colour codes when stdout is not a terminal (a log)."""
    if not sys.stdout.isatty():
        text = _ANSI_CODE.sub("", text)
    print(text)


def check_windows(windows, name, n_features=None, length=None):
    """``windows`` as a float32 array of shape ``(n_windows, L, F)``, checked.

    Parameters
    ----------
    windows : array-like of shape (n_windows, L, F)
    name : str
        How the windows are named in an error.
    n_features, length : int or None, default=None
        The ``F`` and ``L`` they must have (None: any).

    Returns
    -------
    windows : ndarray of shape (n_windows, L, F), float32

    Raises
    ------
    InputError
        If they are not numeric windows of that shape, or hold NaN or inf.
    """
    arr = np.asarray(windows)
    if arr.ndim != 3 or arr.dtype.kind not in "fiu":
        raise InputError(
            f"{name} must be a numeric array of shape (n_windows, L, F), "
            f"got shape {arr.shape} and dtype {arr.dtype}"
        )
    if arr.shape[0] == 0:
        raise InputError(f"{name} holds no window")
    if n_features is not None and (arr.shape[2] != n_features or arr.shape[1] != length):
        raise InputError(
            f"{name} must have L={length} frames and F={n_features} features like the "
            f"training windows, got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise InputError(f"{name} holds NaN or infinite values")
    return np.ascontiguousarray(arr, dtype=np.float32)


def _lowpass_windows(windows, fs, cutoff):
    return lowpass(windows, cutoff=cutoff, fs=fs, axis=1).astype(np.float32)


class WindowDataset(torch.utils.data.Dataset):
    """Windows ``(N, L, F)`` with their low-pass targets; optionally re-augmented per epoch.

    What :func:`train_network` trains on (and a plain PyTorch loop can use too). Items are
    ``(x, x_lp)`` float32 tensors of shape (L, F).

    Parameters
    ----------
    windows : ndarray of shape (N, L, F), float32
    fs, cutoff : float
        The low-pass target ``x_lp = lowpass(x)``.
    augment : bool, default=False
        Draw new augmented windows in :meth:`set_epoch` (seeded by ``(seed, epoch)``).
    seed : int, default=0
    """

    def __init__(self, windows, *, fs, cutoff, augment=False, seed=0):
        self.base = windows
        self.fs, self.cutoff, self.augment, self.seed = fs, cutoff, augment, seed
        self.x = windows
        self.x_lp = _lowpass_windows(windows, fs, cutoff)

    def set_epoch(self, epoch):
        """Draw this epoch's augmentation (a no-op without augmentation)."""
        if not self.augment:
            return
        rng = np.random.default_rng([self.seed, epoch, 0])
        self.x = _augment(self.base, rng)
        self.x_lp = _lowpass_windows(self.x, self.fs, self.cutoff)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return torch.from_numpy(self.x[i]), torch.from_numpy(self.x_lp[i])


class _EpochSetup(Callback):
    """Per epoch: KL annealing factor, this epoch's augmentation, and fresh jitter RNGs."""

    def __init__(self, kl_anneal_epochs, seed):
        self.kl_anneal_epochs = kl_anneal_epochs
        self.seed = seed

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        epoch = len(net.history) - 1  # skorch has already opened this epoch's row
        if self.kl_anneal_epochs > 0:
            net.kl_scale_ = min(1.0, epoch / self.kl_anneal_epochs)
        else:
            net.kl_scale_ = 1.0
        net.history.record("kl_scale", net.kl_scale_)
        if hasattr(dataset_train, "set_epoch"):
            dataset_train.set_epoch(epoch)
        net.train_rng_ = np.random.default_rng([self.seed, epoch, 1])
        # the same draws every epoch, so validation losses are comparable across epochs
        net.valid_rng_ = np.random.default_rng([self.seed, 0, 2])


def _random_mask(x, rng, runs):
    """Hide ``n_runs`` random runs of ``low..high`` frames per window: a (B, L) bool mask."""
    n_runs, low, high = runs
    b, length = x.shape[:2]
    mask = np.zeros((b, length), dtype=bool)
    for i in range(b):
        for _ in range(n_runs):
            run = int(rng.integers(low, high + 1))
            start = int(rng.integers(0, max(length - run, 0) + 1))
            mask[i, start : start + run] = True
    return torch.from_numpy(mask).to(x.device)


def vae_objective(
    module,
    out,
    x,
    x_lp,
    *,
    objective="dual",
    loss_weights=None,
    kl_scale=1.0,
    rng=None,
    deriv_lambdas=losses.DERIV_LAMBDAS_DEFAULT,
    stft_high_weight=2.5,
    mask_runs=(2, 4, 8),
):
    """Every loss term for one batch and their weighted total (what ``get_loss`` returns).

    Kept outside skorch so that a plain PyTorch loop computes exactly the same objective
    (``benchmarks/bench_train.py`` compares the two).

    Parameters
    ----------
    module : DualVAE or OCVAE
        For the extra passes: the jittered input (L_jitter), the masked input (in-painting)
        and, for the OC-VAE, the re-encoding of the reconstruction.
    out : DualVAEOutput or OCVAEOutput
        ``module(x)``.
    x, x_lp : Tensor of shape (B, L, F)
        Input windows and their low-pass target.
    objective : {"dual", "ocvae"}, default="dual"
    loss_weights : dict or None
        Merged over :data:`LOSS_WEIGHTS_DEFAULT` (or :data:`OCVAE_LOSS_WEIGHTS_DEFAULT`).
        Terms with weight 0 that need an extra pass (jitter, mask, latent) are skipped.
    kl_scale : float, default=1.0
        KL annealing factor.
    rng : numpy.random.Generator or None
        Draws the time jitter and the masks (None: a generator seeded with 0).
    deriv_lambdas, stft_high_weight, mask_runs
        Settings of :func:`deriv_loss`, :func:`stft_loss` and the masks
        (``(n_runs, shortest, longest)`` runs of frames per window).

    Returns
    -------
    total : Tensor, scalar
    terms : dict of str to Tensor
        The unweighted terms.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    if objective == "dual":
        defaults = losses.LOSS_WEIGHTS_DEFAULT
        weights = {**defaults, **(loss_weights or {})}
        r_target = x - x_lp
        x_hat = out.x_hat
        # the HF terms are measured in units of the band's own scale (module.hf_scale)
        s = module.hf_scale
        r_hat_s, r_target_s = out.r_hf / s, r_target / s
        terms = {
            "rec_lf": losses.rec_lf_loss(out.x_lf, x_lp),
            "kl_lf": losses.kl_divergence(out.mu_lf, out.logvar_lf),
            "rec_hf": losses.rec_hf_loss(r_hat_s, r_target_s),
            "stft": losses.stft_loss(r_hat_s, r_target_s, high_weight=stft_high_weight),
            "deriv": losses.deriv_loss(x_hat, x, lambdas=deriv_lambdas),
            "kl_hf": losses.kl_divergence(out.mu_hf, out.logvar_hf),
            "full": losses.full_loss(x_hat, x),
            "decor": losses.decor_loss(out.mu_lf, out.mu_hf),
        }
        if weights["jitter"]:
            xj = torch.from_numpy(time_jitter(x.detach().cpu().numpy(), rng)).to(x.device)
            terms["jitter"] = losses.jitter_loss(module.forward_hf(xj) / s, r_hat_s)
        if weights["mask"]:
            mask = _random_mask(x, rng, mask_runs)
            out_m = module(x.masked_fill(mask[..., None], 0.0))
            terms["mask"] = losses.masked_loss(out_m.x_hat, x, mask)
    elif objective == "ocvae":
        defaults = losses.OCVAE_LOSS_WEIGHTS_DEFAULT
        weights = {**defaults, **(loss_weights or {})}
        terms = {
            "rec": torch.mean((out.x_hat - x) ** 2),
            "kl": losses.kl_divergence(out.mu, out.logvar),
        }
        if weights["latent"]:
            # OC-FakeDect-2: re-encode the reconstruction with the same encoder
            terms["latent"] = losses.latent_loss(out.mu, module.encode(out.x_hat))
    else:
        raise ValueError(f"objective must be 'dual' or 'ocvae', got {objective!r}")
    total = losses.total_loss(
        terms,
        weights,
        kl_scale=kl_scale,
        n_frames=x.shape[1],
        n_features=x.shape[2],
        defaults=defaults,
    )
    return total, terms


class _VAENet(NeuralNet):
    """skorch net whose ``get_loss`` is :func:`vae_objective` (private: built by train_*)."""

    def __init__(
        self,
        module,
        *args,
        objective="dual",
        loss_weights=None,
        deriv_lambdas=losses.DERIV_LAMBDAS_DEFAULT,
        stft_high_weight=2.5,
        mask_runs=(2, 4, 8),
        **kwargs,
    ):
        # the criterion is unused: get_loss computes the objective
        super().__init__(module, *args, criterion=torch.nn.MSELoss, **kwargs)
        self.objective = objective
        self.loss_weights = loss_weights
        self.deriv_lambdas = deriv_lambdas
        self.stft_high_weight = stft_high_weight
        self.mask_runs = mask_runs

    def get_loss(self, y_pred, y_true, X=None, training=False):
        x = X.to(self.device)
        x_lp = y_true.to(self.device)
        # validation always uses the target KL weights: one objective across epochs
        kl_scale = getattr(self, "kl_scale_", 1.0) if training else 1.0
        rng_name = "train_rng_" if training else "valid_rng_"
        if not hasattr(self, rng_name):
            setattr(self, rng_name, np.random.default_rng(0))
        total, terms = vae_objective(
            self.module_,
            y_pred,
            x,
            x_lp,
            objective=self.objective,
            loss_weights=self.loss_weights,
            kl_scale=kl_scale,
            rng=getattr(self, rng_name),
            deriv_lambdas=self.deriv_lambdas,
            stft_high_weight=self.stft_high_weight,
            mask_runs=self.mask_runs,
        )
        if training and not torch.isfinite(total):
            # stop before the optimiser writes NaN into the weights; a silent NaN run would
            # leave early stopping to restore some early epoch without a word
            raise TrainingError(
                f"training diverged: the loss became {total.item()} in epoch "
                f"{len(self.history)}; lower the learning rate (lr={self.lr:g})"
            )
        prefix = "train" if training else "valid"
        for name, value in terms.items():
            self.history.record_batch(f"{prefix}_{name}", value.item())
        return total


def train_network(
    kind,
    train_windows,
    valid_windows,
    *,
    loss_weights=None,
    module_kwargs=None,
    fs=DEFAULT_FPS,
    cutoff=DEFAULT_CUTOFF_HZ,
    max_epochs=60,
    batch_size=16,
    lr=1e-3,
    kl_anneal_epochs=15,
    patience=10,
    augment=True,
    random_state=0,
    device="cpu",
    verbose=0,
    **net_kwargs,
):
    """Train a network of ``kind`` on (standardised) real windows with skorch.

    The one training loop of both networks (see the module docstring);
    :func:`train_dual_vae` and :func:`train_ocvae` are this function for one ``kind``.

    Parameters
    ----------
    kind : {"dual", "ocvae"}
        :class:`~lipanomaly.nn.DualVAE` (objective of SPEC section 3) or
        :class:`~lipanomaly.nn.OCVAE` (``rec + beta KL (+ latent)``: the mean squared
        reconstruction error of the whole window, the KL of the window latent, per value,
        and, with a positive ``loss_weights["latent"]``, OC-FakeDect-2's
        ``||mu(x) - mu(x̂)||²``).
    train_windows : array-like of shape (n_windows, L, F)
        Standardised training windows of real clips (float32 is used).
    valid_windows : array-like of shape (n_valid, L, F) or None
        Validation windows from clips *disjoint* from the training clips (split by clip,
        never by window). None trains without validation: early stopping then watches the
        training loss.
    loss_weights : dict or None, default=None
        Weights merged over :data:`~lipanomaly.nn.LOSS_WEIGHTS_DEFAULT` (or
        :data:`~lipanomaly.nn.OCVAE_LOSS_WEIGHTS_DEFAULT`).
    module_kwargs : dict or None, default=None
        Keyword arguments of the module (besides ``n_features``).
    fs : float, default=25.0
        Frame rate of the windows, for the low-pass target of the dual VAE.
    cutoff : float, default=lipanomaly.signal.filters.DEFAULT_CUTOFF_HZ
        Low-pass cut-off in Hz: ``x_LP = lowpass(x)``, ``r_HF = x - x_LP``.
    max_epochs : int, default=60
    batch_size : int, default=16
    lr : float, default=1e-3
        AdamW learning rate, decayed with a cosine over ``max_epochs``. Gradients are clipped
        at norm :data:`MAX_GRAD_NORM`; if the loss still diverges (NaN or infinite),
        :class:`~lipanomaly.TrainingError` is raised.
    kl_anneal_epochs : int, default=15
        Epochs over which the KL weights grow linearly from 0 to their targets; 0 disables.
    patience : int, default=10
        Early stopping: epochs without improvement of the validation loss.
    augment : bool, default=True
        Augment training windows (SPEC section 4), anew every epoch.
    random_state : int or None, default=0
        Seeds weights, batch order, dropout, sampling and augmentation. The same value gives
        bit-identical weights on CPU; torch's global RNG is restored afterwards.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Resolved here ("auto": CUDA when available).
    verbose : int, default=0
        0 is silent; 1 prints skorch's epoch table on stdout (its colour codes only on a
        terminal) and, when stderr is a terminal, a progress bar over each epoch's batches.
    **net_kwargs
        Passed to the skorch net (e.g. ``optimizer__weight_decay=0.05``); ``callbacks``
        (a list of skorch callbacks or ``(name, callback)`` pairs) are added to the ones
        above and run before early stopping.

    Returns
    -------
    net : skorch.NeuralNet
        Fitted, with the best validation weights restored and the module in eval mode.
        ``net.module_`` is the module; ``net.history`` holds per epoch ``train_loss``,
        ``valid_loss``, ``kl_scale`` and ``train_<term>`` / ``valid_<term>`` for every
        active loss term (unweighted values).
    """
    spec = network_spec(kind)
    loss_weights = spec.resolve_loss_weights(loss_weights)  # every term, checked
    term_names = spec.active_terms(loss_weights)
    train = check_windows(train_windows, "train_windows")
    n_frames, n_features = train.shape[1:]
    valid = None
    if valid_windows is not None:
        valid = check_windows(valid_windows, "valid_windows", n_features, n_frames)
    for name, value, low in (
        ("max_epochs", max_epochs, 1),
        ("batch_size", batch_size, 1),
        ("kl_anneal_epochs", kl_anneal_epochs, 0),
        ("patience", patience, 1),
    ):
        if not isinstance(value, int | np.integer) or value < low:
            raise InputError(f"{name} must be an integer >= {low}, got {value!r}")
    if not (np.isfinite(fs) and fs > 0 and np.isfinite(cutoff) and 0 < cutoff < fs / 2):
        raise InputError(
            f"cutoff must lie between 0 and the Nyquist frequency fs / 2 = {fs / 2:g} Hz, "
            f"got cutoff={cutoff!r} with fs={fs!r}"
        )
    if random_state is None:
        random_state = int(np.random.SeedSequence().entropy % 2**32)
    if not isinstance(random_state, int | np.integer) or random_state < 0:
        raise InputError(f"random_state must be a non-negative int or None, got {random_state!r}")
    seed = int(random_state)
    device = resolve_device(device)

    ds_train = WindowDataset(train, fs=fs, cutoff=cutoff, augment=augment, seed=seed)
    if kind == "dual":
        # scale of the high band per feature, from the (unaugmented) training windows
        hf_std = (ds_train.x - ds_train.x_lp).std(axis=(0, 1)).astype(np.float64)
        floor = max(float(hf_std.max()) * 1e-3, 1e-8)
        module_kwargs = {"hf_scale": np.maximum(hf_std, floor).tolist(), **(module_kwargs or {})}
    ds_valid = None if valid is None else WindowDataset(valid, fs=fs, cutoff=cutoff)
    monitor = "valid_loss" if ds_valid is not None else "train_loss"
    callbacks = [
        ("epoch_setup", _EpochSetup(kl_anneal_epochs, seed)),
        ("lr_scheduler", LRScheduler(policy=CosineAnnealingLR, T_max=max_epochs)),
        # without normalisation layers a rare bad batch can throw the weights far off and,
        # through Adam's moments, blow up the next epoch: clip the gradient's norm
        ("grad_clip", GradientNormClipping(MAX_GRAD_NORM)),
    ]
    for name in term_names:
        callbacks.append((f"train_{name}", PassthroughScoring(f"train_{name}", on_train=True)))
        if ds_valid is not None:
            callbacks.append((f"valid_{name}", PassthroughScoring(f"valid_{name}")))
    # the caller's callbacks run before early stopping, which ends the last epoch
    callbacks.extend(net_kwargs.pop("callbacks", None) or [])
    # the epoch table shows the totals; the terms are in net.history
    net_kwargs.setdefault(
        "callbacks__print_log__keys_ignored",
        [f"{split}_{name}" for split in ("train", "valid") for name in term_names],
    )
    callbacks.append(
        ("early_stopping", EarlyStopping(monitor=monitor, patience=patience, load_best=True))
    )
    if verbose:
        # a log file gets one plain line per epoch; a terminal also gets the batch bar
        net_kwargs.setdefault("callbacks__print_log__sink", _print_plain_off_terminal)
        if sys.stderr.isatty():
            callbacks.append(("progress_bar", ProgressBar()))

    net = _VAENet(
        module_class(kind),
        objective=kind,
        loss_weights=loss_weights,
        module__n_features=int(n_features),
        **{f"module__{k}": v for k, v in (module_kwargs or {}).items()},
        optimizer=torch.optim.AdamW,
        lr=lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        iterator_train__shuffle=True,
        train_split=None if ds_valid is None else predefined_split(ds_valid),
        callbacks=callbacks,
        device=device,
        verbose=int(verbose),
        **net_kwargs,
    )
    fork_devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=fork_devices):
        torch.manual_seed(seed)
        net.fit(ds_train, y=None)
    net.module_.eval()
    return net


def train_dual_vae(train_windows, valid_windows, **kwargs):
    """Train a :class:`~lipanomaly.nn.DualVAE`: ``train_network("dual", ...)``.

    Parameters
    ----------
    train_windows, valid_windows : array-like of shape (n_windows, L, F)
        See :func:`train_network`.
    **kwargs
        Every keyword argument of :func:`train_network`.

    Returns
    -------
    net : skorch.NeuralNet
        ``net.module_`` is the :class:`DualVAE`.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.random.default_rng(0).standard_normal((8, 64, 4)).astype("float32")
    >>> net = train_dual_vae(w[:6], w[6:], max_epochs=1, module_kwargs={"channels": 8})
    >>> len(net.history)
    1
    """
    return train_network("dual", train_windows, valid_windows, **kwargs)


def train_ocvae(train_windows, valid_windows, **kwargs):
    """Train an :class:`~lipanomaly.nn.OCVAE` (OC-FakeDect): ``train_network("ocvae", ...)``.

    Parameters
    ----------
    train_windows, valid_windows : array-like of shape (n_windows, L, F)
        See :func:`train_network`.
    **kwargs
        Every keyword argument of :func:`train_network` (``fs`` and ``cutoff`` only set the
        unused low-pass target: the OC-VAE has no band split).

    Returns
    -------
    net : skorch.NeuralNet
        ``net.module_`` is the :class:`OCVAE`.
    """
    return train_network("ocvae", train_windows, valid_windows, **kwargs)
