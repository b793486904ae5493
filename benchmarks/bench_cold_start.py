"""What a user waits for: the command's cold start, and what a video or a long clip adds.

Every timing is the wall time of a fresh process (``subprocess``), the median of
``--repeats`` runs, all in one run so that the ratios compare like with like:

1. ``lipanomaly --version``; ``lipanomaly score`` of a path that does not exist (answered
   before anything heavy loads); ``lipanomaly score TRACK.npz`` with the default pretrained
   model (the face-motion detector, no network) and with ``-m lfhf`` (the dual VAE): the
   cold start of a real answer (Python, the model, one clip), each against the bare
   imports it cannot avoid: scikit-learn (any model is a scikit-learn pipeline) and, for
   the network, torch and skorch. What is left of the VAE's cold start without the torch
   and skorch imports bounds what a torch-free inference of the network could reach.
2. A video: ``lipanomaly score VIDEO`` against the same process doing nothing but decoding
   the video and running FaceMesh (``lipanomaly.io.video.read_video_track``, imports included)
   minus an empty Python's start. The criterion: the video's score costs the track's cold
   start plus at most 1.1 x that bare decode + FaceMesh.
3. A long clip (a development track tiled to about five minutes): what ``lipanomaly score``
   adds to the cold start for it, against ``score_samples`` of the same clip through the
   Python API in a warm process.

Prints markdown tables and the command; run from the repository root::

    python benchmarks/bench_cold_start.py --repeats 3     # about 5 minutes on 2 shared cores
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
TRACK = DATA / "landmarks" / "dreamtalk__real_mead__M030_front_angry_level3_001.mp4.npz"
VIDEO = DATA / "videos" / "video_8s_real.mp4"
LONG_SOURCE = DATA / "landmarks" / "liveportrait__driving__d6.mp4.npz"


def _command():
    script = Path(sys.executable).with_name("lipanomaly")
    return [str(script)] if script.exists() else [sys.executable, "-m", "lipanomaly.app.cli"]


def wall(argv, repeats):
    """Median wall and CPU time (user + system, of the process) of ``argv`` run ``repeats``
    times, each a fresh process."""
    walls, cpus = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    name = " ".join(Path(a).name for a in argv)[:90]
    print(f"  {name}: wall {walls}, cpu {cpus}", file=sys.stderr, flush=True)
    return statistics.median(walls), statistics.median(cpus)


def long_track(folder, minutes=5.0):
    """A track file of about ``minutes`` of real lip motion: a development track, tiled."""
    import numpy as np

    from lipanomaly.io.tracks import Track, read_track, write_track

    src = read_track(LONG_SOURCE)
    reps = int(np.ceil(minutes * 60 * src.fps / len(src.landmarks)))
    lm = np.concatenate([src.landmarks] * reps)
    path = Path(folder) / "long_clip.npz"
    write_track(path, Track(lm, fps=src.fps, width=src.width, height=src.height))
    return path, len(lm) / src.fps


def api_seconds(path, repeats):
    """Warm ``score_samples`` of one track file through the Python API (model loaded):
    median wall and CPU time."""
    import lipanomaly

    pipe = lipanomaly.load_pretrained()
    pipe.score_samples([str(path)])  # warm-up
    walls, cpus = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        pipe.score_samples([str(path)])
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cli, py, n = _command(), [sys.executable], args.repeats
    rows = {}
    rows["python -c pass"] = wall([*py, "-c", "pass"], n)
    rows["lipanomaly --version"] = wall([*cli, "--version"], n)
    rows["lipanomaly score missing.npz"] = wall([*cli, "score", "missing.npz"], n)
    rows["bare imports: scikit-learn"] = wall([*py, "-c", "import sklearn.pipeline"], n)
    rows["bare imports: scikit-learn, torch, skorch"] = wall(
        [*py, "-c", "import sklearn.pipeline, torch, skorch"], n
    )
    rows["lipanomaly score TRACK.npz"] = wall([*cli, "score", str(TRACK)], n)
    rows["lipanomaly score -m lfhf TRACK.npz"] = wall([*cli, "score", "-m", "lfhf", str(TRACK)], n)
    code = f"from lipanomaly.io.video import read_video_track; read_video_track({str(VIDEO)!r})"
    decode_only = [*py, "-c", code]
    rows["decode + FaceMesh of VIDEO (process)"] = wall(decode_only, n)
    rows["lipanomaly score VIDEO"] = wall([*cli, "score", str(VIDEO)], n)
    with tempfile.TemporaryDirectory() as tmp:
        path, seconds = long_track(tmp)
        rows[f"lipanomaly score LONG.npz ({seconds / 60:.1f} min clip)"] = wall(
            [*cli, "score", str(path)], n
        )
        api = api_seconds(path, n)
    long_key = next(k for k in rows if k.startswith("lipanomaly score LONG"))

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f} at the end"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    print("| what | median wall (s) | median CPU (s) |\n| --- | ---: | ---: |")
    for k, (w, c) in rows.items():
        print(f"| {k} | {w:.2f} | {c:.2f} |")
    print(
        f"| API `score_samples` of the long clip, warm (in process) | {api[0]:.2f} | {api[1]:.2f} |"
    )
    print("\n| ratio | wall | CPU |\n| --- | ---: | ---: |")
    cold = rows["lipanomaly score TRACK.npz"]
    vae = rows["lipanomaly score -m lfhf TRACK.npz"]
    empty = rows["python -c pass"]
    bare = rows["bare imports: scikit-learn, torch, skorch"]
    sk = rows["bare imports: scikit-learn"]
    # the VAE's cold start less what importing torch and skorch costs: a torch-free
    # inference of the network could not go below it
    for name, value in (
        ("score TRACK (default) / bare imports (scikit-learn)", [cold[j] / sk[j] for j in (0, 1)]),
        (
            "score -m lfhf TRACK / bare imports (scikit-learn, torch, skorch)",
            [vae[j] / bare[j] for j in (0, 1)],
        ),
        (
            "(score -m lfhf TRACK - torch and skorch imports) / score -m lfhf TRACK",
            [(vae[j] - (bare[j] - sk[j])) / vae[j] for j in (0, 1)],
        ),
    ):
        print(f"| {name} | {value[0]:.2f} | {value[1]:.2f} |")
    video = rows["lipanomaly score VIDEO"]
    decode = rows["decode + FaceMesh of VIDEO (process)"]
    long_ = rows[long_key]
    r_video = [(video[j] - cold[j]) / (decode[j] - empty[j]) for j in (0, 1)]
    r_long = [(long_[j] - cold[j]) / api[j] for j in (0, 1)]
    print(
        f"| (score VIDEO - score TRACK) / (bare decode + FaceMesh - empty Python) "
        f"| {r_video[0]:.2f} | {r_video[1]:.2f} |"
    )
    print(
        f"| (score LONG - score TRACK) / API score_samples(LONG) | {r_long[0]:.2f} "
        f"| {r_long[1]:.2f} |"
    )


if __name__ == "__main__":
    main()
