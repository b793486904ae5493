"""Train the dual VAE on the real development clips and plot what it learned.

Reproduces ``docs/images/model_loss_curves.png``, ``docs/images/model_lf_hf.png`` and the
numbers quoted in ``docs/model.md``::

    .venv/bin/python docs/scripts/train_curves.py [--data DIR] [--out docs/images] [--threads 2]

Steps (defaults everywhere unless stated):

1. The real development clips (``load_development(label="real")``, 111 clips) go through
   :class:`lipanomaly.LipLandmarkExtractor` (head-normalised 40 lip points at 25 fps).
2. Split *by clip*: every fifth clip (in manifest order, from the second) is a validation
   clip, the others train; the first validation clip is also the held-out clip of the
   LF/HF figure (the network never trains on it).
3. Windows of 64 frames every 16 (:func:`lipanomaly.signal.windows.make_windows`), reshaped to
   ``(N, 64, 80)`` and standardised per feature with the training windows' mean and
   standard deviation (what the detector does).
4. :func:`lipanomaly.nn.train_dual_vae` with its defaults (60 epochs at most, early stopping
   with patience 10, KL annealed over 15 epochs, augmentation on), ``random_state=0``.
5. Figures: every loss term per epoch (training and validation; unweighted values), and the
   held-out clip's input, low-pass target and LF output, and HF target and HF output, in
   its window of most motion and its window of median motion, and the validation window
   (of any clip) of median relative error of the LF dynamics (the feature that moves most
   in each).
6. Numbers: each head's relative error on the held-out clip, the share of each output's
   power above the cut-off, and the LF head's dynamics (output and target about each
   window's mean) on the held-out clip, against a linear code of the same size (PCA of the
   low-pass training windows), and on all training and validation windows.
"""

import argparse
import json
import time
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from lipanomaly.io.datasets import load_development
from lipanomaly.io.extraction import LipLandmarkExtractor
from lipanomaly.signal.windows import make_windows

TERMS = ["rec_lf", "kl_lf", "rec_hf", "stft", "deriv", "kl_hf", "full", "decor", "jitter"]


def development_windows(data_dir=None, *, valid_every=5):
    """Real development clips -> standardised train / valid windows split by clip."""
    data = load_development(data_dir, label="real")
    clips = LipLandmarkExtractor().fit_transform(data.tracks)
    is_valid = (np.arange(len(clips)) % valid_every) == 1
    train_clips = [c for c, v in zip(clips, is_valid) if not v]
    valid_clips = [c for c, v in zip(clips, is_valid) if v]
    wt, _, _ = make_windows(train_clips)
    wv, vi, _ = make_windows(valid_clips)
    wt = wt.reshape(len(wt), wt.shape[1], -1)
    wv = wv.reshape(len(wv), wv.shape[1], -1)
    mean = wt.mean(axis=(0, 1))
    std = wt.std(axis=(0, 1))
    std[std < 1e-12] = 1.0
    return {
        "train": ((wt - mean) / std).astype(np.float32),
        "valid": ((wv - mean) / std).astype(np.float32),
        "valid_clip_index": vi,
        "valid_files": [f for f, v in zip(data.files, is_valid) if v],
        "n_train_clips": len(train_clips),
        "n_valid_clips": len(valid_clips),
    }


def lf_dynamics(rec):
    """The LF head's dynamics in ``reconstruct``'s output: (relative error, amplitude).

    Output and low-pass target are taken about each window's own mean, so a head that outputs
    only the window's mean shape has error 1 and amplitude 0.
    """
    est, target = (rec[k] - rec[k].mean(axis=1, keepdims=True) for k in ("x_lf", "x_lp"))
    err = float(np.mean((est - target) ** 2) / np.mean(target**2))
    return err, float(est.std() / target.std())


def pca_code(train_lp, k, *, noise_var=0.0):
    """The best linear code of ``k`` numbers per window, fitted to low-pass training windows.

    PCA of the flattened windows; returns ``reconstruct(windows_lp)``. With ``noise_var > 0``,
    probabilistic PCA's posterior mean (a linear Gaussian VAE with that decoder variance)
    shrinks component i by ``1 - noise_var / l_i``, ``l_i`` its variance.
    """
    flat = train_lp.reshape(len(train_lp), -1)
    mean = flat.mean(axis=0)
    _, sv, vt = np.linalg.svd(flat - mean, full_matrices=False)
    shrink = np.clip(1 - noise_var / (sv[:k] ** 2 / len(flat)), 0, None)

    def reconstruct(windows_lp):
        code = (windows_lp.reshape(len(windows_lp), -1) - mean) @ vt[:k].T
        return ((code * shrink) @ vt[:k] + mean).reshape(windows_lp.shape)

    return reconstruct


def plot_curves(history, path):
    fig, axes = plt.subplots(2, 5, figsize=(16, 6), constrained_layout=True)
    for ax, name in zip(axes.flat, ["loss", *TERMS]):
        ax.plot(history[f"train_{name}"], label="train")
        ax.plot(history[f"valid_{name}"], label="valid")
        ax.set_title("total (weighted)" if name == "loss" else name)
        ax.set_xlabel("epoch")
        if name in ("loss", "rec_lf", "rec_hf", "stft"):
            ax.set_yscale("log")
    axes.flat[0].legend()
    fig.suptitle("Dual VAE on the real development clips: every loss term per epoch")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_lf_hf(rec, windows, path, fs=25.0):
    """One column per (title, window): input, LF target and output; HF target and output."""
    t = np.arange(rec["x_lf"].shape[1]) / fs
    fig, axes = plt.subplots(
        2, len(windows), figsize=(18, 6), sharex=True, squeeze=False, constrained_layout=True
    )
    for col, (title, w) in enumerate(windows):
        x = rec["x_lp"][w] + rec["r_hf_target"][w]
        f = int(np.argmax(x.std(axis=0)))  # the feature that moves most in this window
        ax = axes[0, col]
        ax.plot(t, x[:, f], color="0.6", lw=1, label="input x")
        ax.plot(t, rec["x_lp"][w][:, f], "k--", lw=1.2, label="low-pass target x_LP")
        ax.plot(t, rec["x_lf"][w][:, f], "C0", lw=2, label="LF output x̂_LF")
        ax.set_title(f"{title}, feature {f}: slow trajectory")
        ax.legend(fontsize=8)
        ax = axes[1, col]
        ax.plot(t, rec["r_hf_target"][w][:, f], "k--", lw=1.2, label="target r_HF = x - x_LP")
        ax.plot(t, rec["r_hf"][w][:, f], "C3", lw=1.5, label="HF output r̂_HF")
        ax.set_title(f"{title}, feature {f}: fast detail")
        ax.set_xlabel("time (s)")
        ax.legend(fontsize=8)
    fig.suptitle("Held-out real clip: LF head = slow trajectory, HF head = fast detail")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--out", default="docs/images")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-epochs", type=int, default=60)
    parser.add_argument("--history", default="/tmp/lipanomaly_model_history.json")
    args = parser.parse_args()

    import torch

    from lipanomaly.nn import count_parameters, reconstruct, train_dual_vae
    from lipanomaly.signal.filters import lowpass

    torch.set_num_threads(args.threads)
    d = development_windows(args.data)
    print(
        f"train: {d['n_train_clips']} clips, {len(d['train'])} windows; "
        f"valid: {d['n_valid_clips']} clips, {len(d['valid'])} windows"
    )
    t0 = time.perf_counter()
    net = train_dual_vae(d["train"], d["valid"], max_epochs=args.max_epochs, random_state=0)
    wall = time.perf_counter() - t0
    hist = {
        key: [float(v) for v in net.history[:, key]]
        for key in ["train_loss", "valid_loss"]
        + [f"{s}_{n}" for s in ("train", "valid") for n in TERMS]
    }
    best = int(np.argmin(hist["valid_loss"]))
    print(
        f"parameters: {count_parameters(net.module_)}; epochs: {len(net.history)}; "
        f"best epoch: {best + 1}; wall: {wall:.0f} s on {args.threads} threads"
    )
    print("| term | train, epoch 1 | train, best | valid, epoch 1 | valid, best |")
    print("| --- | --- | --- | --- | --- |")
    for name in ["loss", *TERMS]:
        tr, va = hist[f"train_{name}"], hist[f"valid_{name}"]
        print(f"| {name} | {tr[0]:.4g} | {tr[best]:.4g} | {va[0]:.4g} | {va[best]:.4g} |")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot_curves(hist, out / "model_loss_curves.png")
    first_clip = d["valid_clip_index"] == 0
    rec = reconstruct(net, d["valid"][first_clip])
    # the window whose input moves most (the hardest for the LF bottleneck) and the window
    # of median motion (typical speech), both chosen by the input alone
    motion = (rec["x_lp"] + rec["r_hf_target"]).std(axis=(1, 2))
    order = np.argsort(motion)
    windows = [("most motion", int(order[-1])), ("median motion", int(order[len(order) // 2]))]
    # and, for the typical case, the validation window (any clip) whose LF head follows the
    # slow motion as well as in the median window: median relative error of the dynamics
    rec_valid = reconstruct(net, d["valid"])
    est, target = (
        rec_valid[k] - rec_valid[k].mean(axis=1, keepdims=True) for k in ("x_lf", "x_lp")
    )
    lf_err = ((est - target) ** 2).sum(axis=(1, 2)) / (target**2).sum(axis=(1, 2))
    median = int(np.argsort(lf_err)[len(lf_err) // 2])
    clip = d["valid_files"][d["valid_clip_index"][median]].split("__")[0]
    both = {k: np.concatenate([rec[k], rec_valid[k][median : median + 1]]) for k in rec}
    windows.append((f"median LF dynamics error ({clip})", len(rec["x_lf"])))
    typical = d["valid_files"][d["valid_clip_index"][median]]
    print(f"validation window of median LF dynamics error: {typical}")
    plot_lf_hf(both, windows, out / "model_lf_hf.png")
    # how much of each band each head carries on the held-out clip
    x = rec["x_lp"] + rec["r_hf_target"]
    for name, est, tgt in (("LF", "x_lf", "x_lp"), ("HF", "r_hf", "r_hf_target")):
        err = np.mean((rec[est] - rec[tgt]) ** 2) / np.mean(rec[tgt] ** 2)
        print(f"held-out clip {d['valid_files'][0]}: {name} relative error {err:.3f}")
    # spectral share above the cut-off of each output (slow vs fast)
    for name in ("x_lf", "r_hf"):
        spec = np.abs(np.fft.rfft(rec[name], axis=1)) ** 2
        freqs = np.fft.rfftfreq(rec[name].shape[1], d=1 / 25.0)
        share = spec[:, freqs > 4.0].sum() / spec[:, freqs > 0].sum()
        print(f"{name}: share of power above 4 Hz {share:.3f}")
    print(f"input: std {x.std():.3f}")
    # the held-out clip's dynamics, against the best linear code of the same size (PCA of
    # the low-pass training windows): what 32 numbers per window can carry at all
    k = net.module_.lf_posterior.out_features // 2
    code = pca_code(lowpass(d["train"].astype(np.float64), axis=1), k)
    pca = {"x_lf": code(rec["x_lp"]), "x_lp": rec["x_lp"]}
    print(
        f"held-out clip: LF dynamics relative error {lf_dynamics(rec)[0]:.3f} "
        f"(PCA with {k} components of the training windows: {lf_dynamics(pca)[0]:.3f})"
    )
    for split, r in (("train", reconstruct(net, d["train"])), ("valid", rec_valid)):
        err, amplitude = lf_dynamics(r)
        print(
            f"{split} windows: LF dynamics relative error {err:.3f}, "
            f"amplitude {amplitude:.3f} of the target's"
        )
    with open(args.history, "w") as fh:
        json.dump({"wall_s": wall, "threads": args.threads, **hist}, fh)


if __name__ == "__main__":
    main()
