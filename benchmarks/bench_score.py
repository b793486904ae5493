"""Scoring throughput and memory of LFHFVAEDetector.score_samples (all components, and default).

1. Throughput: windows per second of ``score_samples`` on 48 real development clips, with
   torch limited to ``--threads`` threads, for the default network size and a small one:
   with all ten components (one forward pass, one pass of the encoder and HF head over
   the jittered windows for ΔE, one encoder pass to re-encode the reconstruction for
   ``latent_rmse``, sample entropy), with DRS alone (the default of 0.4) and with the
   default score (both one forward pass). The
   score cost does not depend on training, so the networks are trained for one epoch only.
2. Memory: peak resident memory (``ru_maxrss``) and the peak of Python/numpy allocations
   (``tracemalloc``) while scoring 1,000 and then 10,000 clips of 64 frames (float32 input,
   built from real clips). Scoring is batched, so the peak must not grow with the number of
   clips.

Prints markdown tables and the command; run from the repository root::

    python benchmarks/bench_score.py            # about 10 minutes on 2 shared cores
"""

import argparse
import platform
import resource
import sys
import time
import tracemalloc

import numpy as np


def _real_clips(n_clips=None):
    from lipanomaly.io.datasets import load_development
    from lipanomaly.io.extraction import LipLandmarkExtractor

    dev = load_development(label="real")
    clips = LipLandmarkExtractor().transform(dev.tracks)
    return clips if n_clips is None else clips[:n_clips]


def throughput(clips, params, *, repeats):
    from lipanomaly.detectors.lfhf import LFHFVAEDetector
    from lipanomaly.nn import count_parameters

    det = LFHFVAEDetector(**params, max_epochs=1, random_state=0).fit(clips[:12])
    test = clips[12:]
    n_windows = len(det.score_windows(test))  # also warms up (numba compiles sample entropy)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        det.score_samples(test)
        times.append(time.perf_counter() - t)
    n_params = count_parameters(det.network_.net_.module_)
    return n_params, n_windows, float(np.median(times))


def memory(clips, params):
    from lipanomaly.detectors.lfhf import LFHFVAEDetector

    det = LFHFVAEDetector(**params, components=None, max_epochs=1, random_state=0)
    det.fit(clips[:12])
    # 64-frame float32 clips (one window each) cut from the real clips, cycled
    pieces = [c[s : s + 64] for c in clips for s in range(0, len(c) - 63, 64)]
    rows = []
    for n in (1_000, 10_000):
        X = np.stack([pieces[i % len(pieces)] for i in range(n)]).astype(np.float32)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        t = time.perf_counter()
        s = det.score_samples(X)
        dt = time.perf_counter() - t
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert s.shape == (n,) and np.isfinite(s).all()
        rows.append((n, X.nbytes / 2**20, peak / 2**20, rss1 / 2**10, (rss1 - rss0) / 2**10, dt))
        del X
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    clips = _real_clips(60)  # 12 to fit on, 48 to score
    configs = {
        "default (channels=128, 4+4 layers)": {},
        "small (channels=32, 2+2 layers)": dict(channels=32, n_layers=2, decoder_layers=2),
    }
    print(f"# bench_score: {platform.node()} {platform.processor() or platform.machine()}, ")
    print(
        f"torch {torch.__version__}, {args.threads} torch threads, python {sys.version.split()[0]}"
    )
    print(f"command: python benchmarks/bench_score.py --threads {args.threads}\n")
    # score_samples computes only the components its score reads: all ten with
    # components=None, one forward pass for DRS and for the default
    from lipanomaly.scoring.scorer import ComponentScorer

    default = ComponentScorer().components
    scorings = [("all ten", None, 3), ("all ten", None, 1), ("DRS", ("drs",), 3)]
    scorings.append(("default", default, 3))
    print(
        "| network | parameters | components | n_jitter_draws | windows | seconds (median) "
        "| windows/s |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, params in configs.items() if not args.skip_throughput else ():
        for label, components, draws in scorings:
            n_params, n_windows, sec = throughput(
                clips,
                {**params, "components": components, "n_jitter_draws": draws},
                repeats=args.repeats,
            )
            print(
                f"| {name} | {n_params:,} | {label} | {draws} | {n_windows} | {sec:.2f} | "
                f"{n_windows / sec:.0f} |",
                flush=True,
            )
    if args.skip_memory:
        return
    print("\nMemory while scoring (small network, n_jitter_draws=3, 64-frame float32 clips):\n")
    print(
        "| clips | input (MiB) | tracemalloc peak (MiB) | peak RSS (MiB) | "
        "peak RSS growth (MiB) | seconds |"
    )
    print("|---|---|---|---|---|---|")
    for n, inp, peak, rss, growth, dt in memory(clips, configs["small (channels=32, 2+2 layers)"]):
        print(f"| {n:,} | {inp:.0f} | {peak:.1f} | {rss:.0f} | {growth:.0f} | {dt:.0f} |")


if __name__ == "__main__":
    main()
