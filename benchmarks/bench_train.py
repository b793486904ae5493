"""Training cost of the dual VAE: skorch against a plain PyTorch loop, and a default run.

Run::

    .venv/bin/python benchmarks/bench_train.py [--data DIR] [--threads 2] [--repeats 5]
                                               [--windows 256] [--skip-full]
                                               [--fit-threads 1] [--skip-throughput]
                                               [--skip-threads]

1. **Throughput.** The same :class:`~lipanomaly.nn.DualVAE` (same initial weights), the same
   windows, batch 16 (the default), the same objective
   (:func:`lipanomaly.nn.vae_objective`, every default term including the extra jitter pass),
   AdamW lr 1e-3, no augmentation, no validation;
   one epoch through the skorch net that :func:`~lipanomaly.nn.train_dual_vae` builds
   (``partial_fit``: callbacks, history, per-term recording included) against one epoch of
   a hand-written loop. The two alternate ``--repeats`` times in one process; the table gives
   the median windows per second of each and the skorch overhead.
2. **Torch threads on shared cores.** The same training step (plain loop, batch 16) timed
   with one and with two torch threads, alternating ``--repeats`` times in one process: the
   median seconds per step of each, and the load average, which says how busy the cores
   were. Every one of the network's many small operations waits for all of torch's threads.
3. **Default training run on the full corpus, as users run it.** Every clip of both
   development collections (``landmarks/`` + ``wild/``: 306 track files, 260 real) written
   as track files into a temporary folder, then ``lipanomaly fit FOLDER -o MODEL --seed 0
   --threads N`` as a process (the fakes left out by the command, its extraction, training,
   threshold and saving included): wall time, CPU time (user + system) and peak memory of
   the process, and the epochs the command reports.

Prints markdown tables and the machine.
"""

import argparse
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from lipanomaly.io.datasets import load_development
from lipanomaly.io.extraction import LipLandmarkExtractor
from lipanomaly.io.tracks import write_track
from lipanomaly.nn import MAX_GRAD_NORM, DualVAE, WindowDataset, train_dual_vae, vae_objective
from lipanomaly.signal.windows import make_windows


def development_windows(data_dir=None, valid_every=5):
    data = load_development(data_dir, label="real")
    clips = LipLandmarkExtractor().fit_transform(data.tracks)
    is_valid = (np.arange(len(clips)) % valid_every) == 1
    wt, _, _ = make_windows([c for c, v in zip(clips, is_valid) if not v])
    wv, _, _ = make_windows([c for c, v in zip(clips, is_valid) if v])
    wt = wt.reshape(len(wt), wt.shape[1], -1)
    wv = wv.reshape(len(wv), wv.shape[1], -1)
    mean, std = wt.mean(axis=(0, 1)), wt.std(axis=(0, 1))
    std[std < 1e-12] = 1.0
    return ((wt - mean) / std).astype(np.float32), ((wv - mean) / std).astype(np.float32)


def plain_epoch(module, optimizer, loader, rng):
    module.train()
    for x, x_lp in loader:
        out = module(x)
        total, _ = vae_objective(module, out, x, x_lp, rng=rng)
        optimizer.zero_grad()
        total.backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), MAX_GRAD_NORM)
        optimizer.step()


def throughput(train, repeats, batch_size=16):
    ds = WindowDataset(train, fs=25.0, cutoff=4.0)
    # the skorch path, warmed up by its first epoch
    net = train_dual_vae(train, None, max_epochs=1, augment=False, batch_size=batch_size)
    # the plain path: the same architecture from the same seed
    torch.manual_seed(0)
    module = DualVAE(train.shape[2])
    optimizer = torch.optim.AdamW(module.parameters(), lr=1e-3)
    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=True)
    rng = np.random.default_rng(0)
    plain_epoch(module, optimizer, loader, rng)  # warm-up
    t_skorch, t_plain = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        net.partial_fit(ds, y=None, epochs=1)
        t_skorch.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        plain_epoch(module, optimizer, loader, rng)
        t_plain.append(time.perf_counter() - t0)
    n = len(train)
    return n / statistics.median(t_skorch), n / statistics.median(t_plain), t_skorch, t_plain


def thread_table(args, windows=128):
    """Seconds per training step at 1 and 2 torch threads, alternating (part 2)."""
    train, _ = development_windows(args.data)
    loader = torch.utils.data.DataLoader(
        WindowDataset(train[:windows], fs=25.0, cutoff=4.0), batch_size=16, shuffle=False
    )
    torch.manual_seed(0)
    module = DualVAE(train.shape[2])
    optimizer = torch.optim.AdamW(module.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    plain_epoch(module, optimizer, loader, rng)  # warm-up
    per_step = {1: [], 2: []}
    for _ in range(args.repeats):
        for n in per_step:
            torch.set_num_threads(n)
            t0 = time.perf_counter()
            plain_epoch(module, optimizer, loader, rng)
            per_step[n].append((time.perf_counter() - t0) / len(loader))
    torch.set_num_threads(args.threads)
    one, two = (statistics.median(per_step[n]) for n in (1, 2))
    print(f"\nOne training step (batch 16), median of {args.repeats}, alternating:\n")
    print("| torch threads | s/step | per repeat |\n| --- | ---: | --- |")
    for n, med in ((1, one), (2, two)):
        print(f"| {n} | {med:.3f} | {', '.join(f'{t:.3f}' for t in per_step[n])} |")
    print(f"\ntwo threads / one thread: {two / one:.2f}; load average {os.getloadavg()[0]:.2f}")


def command_training(data_dir, threads):
    """``lipanomaly fit`` of every development track file, as a process: what it costs."""
    data = load_development(data_dir, collections=("landmarks", "wild"))
    script = Path(sys.executable).with_name("lipanomaly")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "lipanomaly.app.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "tracks"
        for k, track in enumerate(data.tracks):
            write_track(folder / f"{k:03d}_{Path(track.path).name}", track)
        argv = [*cli, "fit", str(folder), "-o", str(Path(tmp) / "model")]
        argv += ["--seed", "0", "--threads", str(threads)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        run = subprocess.run(argv, capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    clips = re.search(r"training on (\d+) real clip", run.stderr).group(1)
    epochs, best = re.search(r"trained (\d+) epochs; weights of epoch (\d+)", run.stderr).groups()
    return {
        "files": len(data.tracks),
        "clips": int(clips),
        "epochs": int(epochs),
        "best": int(best),
        "wall": wall,
        "cpu": cpu,
        "peak_gb": after.ru_maxrss / 2**20,  # KiB on Linux
        "command": " ".join(["lipanomaly", *argv[len(cli) :]]),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--windows", type=int, default=256)
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-threads", action="store_true")
    parser.add_argument("--fit-threads", type=int, default=1, help="lipanomaly fit --threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{args.threads} torch threads, python {platform.python_version()}, load average "
        f"{os.getloadavg()[0]:.2f} at the start"
    )
    if not args.skip_throughput:
        throughput_table(args)
    if not args.skip_threads:
        thread_table(args)
    if args.skip_full:
        return
    r = command_training(args.data, args.fit_threads)
    print(f"\nThe command on the full corpus: `{r['command']}`\n")
    print("| files | real clips | epochs | best epoch | wall (s) | CPU (s) | s/epoch | peak GiB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| {r['files']} | {r['clips']} | {r['epochs']} | {r['best']} | {r['wall']:.0f} "
        f"| {r['cpu']:.0f} | {r['wall'] / r['epochs']:.1f} | {r['peak_gb']:.2f} |"
    )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


def throughput_table(args):
    """skorch against a plain PyTorch loop: windows per second (part 1)."""
    train, _ = development_windows(args.data)
    sub = train[: args.windows]
    w_skorch, w_plain, ts, tp = throughput(sub, args.repeats)
    print(f"\nThroughput, {len(sub)} windows (64 x 80), batch 16, median of {args.repeats}:\n")
    print("| path | windows/s | epoch times (s) |")
    print("| --- | --- | --- |")
    for name, rate, times in (
        ("skorch (`train_dual_vae`'s net)", w_skorch, ts),
        ("plain PyTorch loop", w_plain, tp),
    ):
        print(f"| {name} | {rate:.1f} | {', '.join(f'{t:.2f}' for t in times)} |")
    print(f"\nskorch overhead: {100 * (w_plain / w_skorch - 1):+.1f} % time per window")


if __name__ == "__main__":
    main()
