"""What the face-motion detector costs: training from the command, scoring, the cold start.

The cost targets of issue 23, item 8, each measured as users run it, in one run:

1. **Training**: ``lipanomaly fit landmarks wild modern -r --with-fakes -o MODEL`` on the
   whole development set (470 track files; the fakes become known anomalies), a fresh
   process: wall time, CPU time and peak memory (target: at most 5 minutes on 2 cores).
2. **Scoring after extraction**: ``FaceMotionDetector.score_samples`` of the 470 face clips
   (``face_extractor()`` output, already in memory) by the pretrained default model, the
   median of ``--repeats`` passes, in clips per second (target: at least 200), and the share
   of it spent on the motion features; the same split over two processes (joblib); the
   features alone with numpy's BLAS on one thread and on two.
3. **Cold start**: ``lipanomaly score TRACK.npz`` with the default model (a fresh process,
   no network, so torch is never imported) against a bare process importing what any
   model needs (scikit-learn and scipy), median of ``--repeats`` (target: at most 1.5 s).

Run from the repository root (the development data beside it, or ``LIPANOMALY_DATA``)::

    python benchmarks/bench_face_cost.py --repeats 5     # about 3 minutes on 2 shared cores
"""

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LIPANOMALY_DATA", REPO.parent / "shared" / "data"))
COLLECTIONS = ("landmarks", "wild", "modern")
TRACK = DATA / "landmarks" / "dreamtalk__real_mead__M030_front_angry_level3_001.mp4.npz"


def command():
    script = Path(sys.executable).with_name("lipanomaly")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lipanomaly.app.cli"]


def run(argv):
    """Wall and CPU seconds (user + system of the child) and the child's peak RSS (MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(map(str, argv))} failed:\n{done.stderr}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu, after.ru_maxrss / 1024


def training():
    with tempfile.TemporaryDirectory() as tmp:
        argv = [
            *command(),
            "fit",
            *(str(DATA / c) for c in COLLECTIONS),
            "-r",
            "--with-fakes",
            "-o",
            str(Path(tmp) / "model"),
            "--quiet",
        ]
        return run(argv)


def scoring(repeats):
    import numpy as np
    from joblib import Parallel, delayed
    from threadpoolctl import threadpool_limits

    from lipanomaly import load_pretrained
    from lipanomaly.detectors.face import face_extractor
    from lipanomaly.detectors.face_motion import face_motion_features
    from lipanomaly.io.datasets import load_development

    data = load_development(DATA, collections=COLLECTIONS)
    clips = face_extractor().fit_transform(data.tracks)
    detector = load_pretrained("face").steps[-1][1]
    features = detector.features()  # the FaceMotionFeatures it computes
    t_all, t_feat, t_two = [], [], []
    halves = [list(clips[i::2]) for i in range(2)]
    for _ in range(repeats):
        t = time.perf_counter()
        scores = detector.score_samples(clips)
        t_all.append(time.perf_counter() - t)
        t = time.perf_counter()
        features.fit_transform(clips)
        t_feat.append(time.perf_counter() - t)
        # the same scores on both cores: half of the clips to each of two processes
        t = time.perf_counter()
        Parallel(n_jobs=2)(delayed(detector.score_samples)(h) for h in halves)
        t_two.append(time.perf_counter() - t)
    assert np.isfinite(scores).all()
    # why transform holds BLAS to one thread: the features clip by clip, at one and two
    t_blas = {1: [], 2: []}
    for _ in range(repeats):
        for n_threads, times in t_blas.items():
            with threadpool_limits(limits=n_threads, user_api="blas"):
                t = time.perf_counter()
                for clip in clips:
                    face_motion_features(clip)
                times.append(time.perf_counter() - t)
    frames = sum(len(c) for c in clips)
    medians = (statistics.median(t) for t in (t_all, t_feat, t_two, t_blas[1], t_blas[2]))
    return (len(clips), frames, *medians)


def cold_start(repeats):
    bare = [sys.executable, "-c", "import sklearn.linear_model, scipy.signal"]
    score = [*command(), "score", str(TRACK)]
    rows = {}
    for name, argv in (("bare imports: scikit-learn, scipy", bare), ("score TRACK", score)):
        rows[name] = statistics.median(run(argv)[0] for _ in range(repeats))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    stamp = time.strftime("%Y-%m-%d %H:%M %Z")

    fit_wall, fit_cpu, fit_rss = training()
    n, frames, t_score, t_feat, t_two, t_one_blas, t_two_blas = scoring(args.repeats)
    cold = cold_start(args.repeats)

    print(f"`python benchmarks/bench_face_cost.py --repeats {args.repeats}`, {stamp}, ")
    print(
        f"{platform.node()} ({os.cpu_count()} cores), Python {platform.python_version()}; "
        f"load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end.\n"
    )
    print("| what | measured | target |")
    print("|---|---:|---:|")
    print(
        f"| `lipanomaly fit landmarks wild modern -r --with-fakes` (470 clips) | "
        f"{fit_wall:.0f} s wall, {fit_cpu:.0f} s CPU, {fit_rss:.0f} MB peak | ≤ 300 s |"
    )
    print(
        f"| `score_samples`, {n} clips ({frames / n / 25:.1f} s each at 25 fps), median | "
        f"{n / t_score:.0f} clips/s ({t_feat / t_score:.0%} in the features) | ≥ 200 clips/s |"
    )
    print(
        f"| the same on two processes (`joblib`, half of the clips each), median | "
        f"{n / t_two:.0f} clips/s | ≥ 200 clips/s |"
    )
    print(
        f"| the features alone, BLAS on one thread / on two threads, median | "
        f"{n / t_one_blas:.0f} / {n / t_two_blas:.0f} clips/s | |"
    )
    bare, score = cold["bare imports: scikit-learn, scipy"], cold["score TRACK"]
    print(
        f"| cold `lipanomaly score TRACK.npz` (default model), median | {score:.2f} s "
        f"({score / bare:.2f} × the bare imports' {bare:.2f} s) | ≤ 1.5 s |"
    )


if __name__ == "__main__":
    main()
