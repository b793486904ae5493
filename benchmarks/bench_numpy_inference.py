"""Could the command score without torch? The pretrained dual VAE's inference in numpy, measured.

Issue 21 asks whether a verdict that needs the network could run it without torch: worth
taking only if the scores stay identical to 1e-6 and the command's cold start halves. This
script measures both, without changing the package:

1. **Exactness.** The eval-mode forward pass of :class:`lipanomaly.nn.DualVAE` (``z = mu``;
   what the scores read: ``x_lf``, ``r_hf``) written in numpy (float64) from the weights of
   the model folder, against torch (``lipanomaly.nn.reconstruct``) on every window of every
   real development clip; then the clip scores of the pretrained detector computed from
   each, through the package's own scoring (``lipanomaly.scoring.formulas``, the detector's
   ``scorer_``): the largest differences.
2. **Cold start.** Fresh processes, median of ``--repeats``: ``lipanomaly score -m lfhf
   TRACK.npz``
   against a process that does what a torch-free command would add to the bare
   ``import sklearn.pipeline`` (the model folder's weights read, the track file read, the
   forward pass of as many windows as the clip gives, numpy's BLAS on one thread as the
   command runs it), and that bare import. The scoring arithmetic around the network (a few
   milliseconds) is left out of that process.

Run from the repository root::

    python benchmarks/bench_numpy_inference.py [--repeats 5]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "lipanomaly" / "pretrained" / "lfhf"  # the pretrained dual VAE
DATA = Path(os.environ.get("LIPANOMALY_DATA", REPO.parent / "shared" / "data"))
TRACK = DATA / "landmarks" / "dreamtalk__real_mead__M030_front_angry_level3_001.mp4.npz"


# -- the network in numpy ------------------------------------------------------------------


def _erf(x):
    from scipy.special import erf

    return erf(x)


def _gelu(x):
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


def _conv(x, w, b, dilation=1):
    """``torch.nn.Conv1d`` of ``x`` (B, C_in, L) with "same" padding: (B, C_out, L)."""
    k = w.shape[2]
    total = dilation * (k - 1)
    left = total // 2
    xp = np.pad(x, ((0, 0), (0, 0), (left, total - left)))
    length = x.shape[2]
    out = b[None, :, None].astype(np.float64).repeat(length, axis=2)
    for j in range(k):
        out = out + np.matmul(w[:, :, j], xp[:, :, j * dilation : j * dilation + length])
    return out


def _tcn(x, p, prefix):
    """The residual blocks ``prefix.0``, ``prefix.1``, ... (dilations 1, 2, 4, ...)."""
    i = 0
    while f"{prefix}.{i}.conv1.weight" in p:
        q = f"{prefix}.{i}."
        d = 2**i
        h = _gelu(_conv(x, p[q + "conv1.weight"], p[q + "conv1.bias"], d))
        skip = _conv(x, p[q + "skip.weight"], p[q + "skip.bias"]) if q + "skip.weight" in p else x
        x = skip + _conv(h, p[q + "conv2.weight"], p[q + "conv2.bias"], d)
        i += 1
    return x


def _linear(x, p, name):
    return x @ p[name + ".weight"].T + p[name + ".bias"]


def _interpolate(x, size):
    """``F.interpolate(x, size, mode="linear", align_corners=True)`` of (B, C, L_in)."""
    n = x.shape[2]
    if size == 1 or n == 1:
        return x[:, :, :1].repeat(size, axis=2)
    pos = np.arange(size) * ((n - 1) / (size - 1))
    i0 = np.minimum(np.floor(pos).astype(int), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    w = pos - i0
    return x[:, :, i0] * (1 - w) + x[:, :, i1] * w


def numpy_forward(p, x, lf_stride):
    """``x_lf`` and ``r_hf`` (B, L, F) of standardised windows ``x`` (B, L, F), eval mode."""
    b, length, _ = x.shape
    h = _tcn(x.transpose(0, 2, 1), p, "encoder.tcn")
    h = _conv(h, p["encoder.out.weight"], p["encoder.out.bias"]).transpose(0, 2, 1)
    # LF head: mean and segment-wise attention pooling, posterior mean, window decoder
    segments = p["pool.score.2.weight"].shape[0]
    segment = np.arange(length) * segments // length
    outside = segment[:, None] != np.arange(segments)[None]
    score = _linear(np.tanh(_linear(h, p, "pool.score.0")), p, "pool.score.2")
    score = np.where(outside, -np.inf, score)
    attn = np.exp(score - score.max(axis=1, keepdims=True))
    attn /= attn.sum(axis=1, keepdims=True)
    pooled = np.einsum("bls,blc->bsc", attn, h).reshape(b, -1)
    g = _linear(np.concatenate([h.mean(axis=1), pooled], axis=-1), p, "pool.out")
    g = _gelu(_linear(g, p, "lf_hidden.0"))
    latent_lf = p["lf_posterior.weight"].shape[0] // 2
    mu_lf = _linear(g, p, "lf_posterior")[:, :latent_lf]
    channels = p["lf_decoder.out.weight"].shape[1]
    y = _linear(mu_lf, p, "lf_decoder.inp").reshape(b, channels, -1)
    y = _interpolate(y, -(-length // lf_stride))
    y = _conv(_tcn(y, p, "lf_decoder.tcn"), p["lf_decoder.out.weight"], p["lf_decoder.out.bias"])
    if lf_stride > 1:
        y = _interpolate(y, length)
    x_lf = y.transpose(0, 2, 1)
    # HF head: per-frame posterior mean, frame decoder, in units of the high band's scale
    latent_hf = p["hf_posterior.weight"].shape[0] // 2
    mu_hf = _linear(h, p, "hf_posterior")[:, :, :latent_hf]
    z = _conv(mu_hf.transpose(0, 2, 1), p["hf_decoder.inp.weight"], p["hf_decoder.inp.bias"])
    z = _tcn(z, p, "hf_decoder.tcn")
    r_hf = _conv(z, p["hf_decoder.out.weight"], p["hf_decoder.out.bias"]).transpose(0, 2, 1)
    return x_lf, r_hf * p["hf_scale"]


def load_numpy_model(folder=MODEL):
    """The network's weights (float64, ``module.`` names) and the scoring state of a folder."""
    from safetensors.numpy import load_file

    arrays = load_file(str(Path(folder) / "weights.safetensors"))
    config = json.loads((Path(folder) / "config.json").read_text())
    prefix = "network.module."
    weights = {k[len(prefix) :]: v.astype(np.float64) for k, v in arrays.items() if prefix in k}
    return weights, arrays, config


def numpy_scores(detector, weights, clips):
    """The clip scores of ``detector`` with its network run by :func:`numpy_forward`."""
    from lipanomaly.scoring import formulas
    from lipanomaly.signal.filters import DEFAULT_CUTOFF_HZ, lowpass
    from lipanomaly.signal.windows import make_windows

    network = detector.network_
    cutoff = DEFAULT_CUTOFF_HZ if network.cutoff is None else network.cutoff
    names = detector.scorer_.needed_components() or network.component_names
    C = []
    for clip in clips:
        w, _, starts = make_windows([clip], length=network.window, stride=network.stride)
        x = network.standardize(w.reshape(len(w), w.shape[1], -1))  # float32, as torch's
        x_lf, r_hf = numpy_forward(weights, x.astype(np.float64), network.lf_stride)
        x_lp = lowpass(x, cutoff=cutoff, fs=network.fs, axis=1)
        comps = formulas.reconstruction_errors(x, x_lf, x.astype(np.float64) - x_lp, r_hf)
        rec = np.empty(len(w), dtype=[("start", np.int64)] + [(n, np.float64) for n in names])
        rec["start"] = starts
        for n in names:
            rec[n] = comps[n]
        C.append(rec)
    return detector.scorer_.score_samples(C)


# -- the measurements -----------------------------------------------------------------------


def exactness():
    """Largest differences, numpy against torch, over the real development clips."""
    import lipanomaly
    from lipanomaly.io.datasets import load_development
    from lipanomaly.nn import reconstruct

    pipe = lipanomaly.load_pretrained("lfhf")
    detector, network = pipe[-1], pipe[-1].network_
    weights, _, _ = load_numpy_model()
    clips = pipe[0].transform(load_development(label="real").tracks)
    windows = np.concatenate(
        [network.standardize(w.reshape(len(w), w.shape[1], -1)) for w in _windows(network, clips)]
    )
    torch_out = reconstruct(network.net_, windows)
    x_lf, r_hf = numpy_forward(weights, windows.astype(np.float64), network.lf_stride)
    scores_torch = detector.score_samples(clips)
    scores_numpy = numpy_scores(detector, weights, clips)
    return {
        "clips": len(clips),
        "windows": len(windows),
        "x_lf": float(np.abs(x_lf - torch_out["x_lf"]).max()),
        "r_hf": float(np.abs(r_hf - torch_out["r_hf"]).max()),
        "x_lf_scale": float(np.abs(torch_out["x_lf"]).max()),
        "score": float(np.abs(scores_numpy - scores_torch).max()),
        "score_scale": float(np.abs(scores_torch).max()),
    }


def _windows(network, clips):
    from lipanomaly.signal.windows import make_windows

    for clip in clips:
        yield make_windows([clip], length=network.window, stride=network.stride)[0]


_NUMPY_PROCESS = """
import sys
sys.path.insert(0, {bench!r})
import numpy as np
import sklearn.pipeline
from threadpoolctl import threadpool_limits
from bench_numpy_inference import load_numpy_model, numpy_forward
from lipanomaly.io.tracks import read_track
# BLAS single-threaded, as the command runs it (lipanomaly.app.cli.main)
with threadpool_limits(limits=1, user_api="blas"):
    weights, arrays, config = load_numpy_model()
    n = read_track({track!r}).n_frames
    # the forward pass of as many windows as the clip gives (stride 16), at their shape
    x = np.zeros((max(1, -(-(n - 64) // 16) + 1), 64, 80))
    numpy_forward(weights, x, config["params"]["lf_stride"])
"""


def wall(argv, repeats):
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls), walls


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f} at the start"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    r = exactness()
    print(f"Exactness on {r['clips']} real development clips ({r['windows']} windows):\n")
    print("| quantity | largest difference, numpy - torch | largest value |")
    print("| --- | ---: | ---: |")
    print(f"| x_lf | {r['x_lf']:.2e} | {r['x_lf_scale']:.2f} |")
    print(f"| r_hf | {r['r_hf']:.2e} | |")
    print(f"| clip score | {r['score']:.2e} | {r['score_scale']:.2f} |")
    script = Path(sys.executable).with_name("lipanomaly")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "lipanomaly.app.cli"]
    py = [sys.executable, "-c"]
    code = _NUMPY_PROCESS.format(bench=str(Path(__file__).parent), track=str(TRACK))
    rows = {
        "python -c pass": wall([*py, "pass"], args.repeats),
        "bare import sklearn.pipeline": wall([*py, "import sklearn.pipeline"], args.repeats),
        "numpy path: imports, model, track, forward pass": wall([*py, code], args.repeats),
        "lipanomaly score -m lfhf TRACK.npz (torch)": wall(
            [*cli, "score", "-m", "lfhf", str(TRACK)], args.repeats
        ),
    }
    print(f"\nCold start, fresh processes, median of {args.repeats}:\n")
    print("| what | median wall (s) | runs |\n| --- | ---: | --- |")
    for k, (med, runs) in rows.items():
        print(f"| {k} | {med:.2f} | {', '.join(f'{t:.2f}' for t in runs)} |")
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
