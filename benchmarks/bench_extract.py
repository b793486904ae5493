"""Extraction: FaceMesh agreement with the reference tracks, and frames per second.

Three parts, each printing a markdown table:

1. ``--reference``: for every video of ``<data>/videos``, the FaceMesh points that
   :func:`lipanomaly.io.video.read_video_track` extracts against the reference
   ``<video>.mp_lm.npz`` beside it (frame count, face-found rate, point distance);
2. timing (default): frames per second of bare "OpenCV decode + FaceMesh.process" and of the
   whole :class:`~lipanomaly.LipLandmarkExtractor` (decode, FaceMesh, landmark copy, head
   normalisation, gaps, resampling) over the same videos, interleaved in one run, median
   of ``--repeats``; and the extractor with ``n_jobs=2``;
3. ``--figure DIR``: the raw vs normalised lips picture of ``docs/extraction.md``.

Run: ``.venv/bin/python benchmarks/bench_extract.py [--reference] [--repeats 3]``
(``--only-reference`` skips the timing).
"""

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from lipanomaly import LipLandmarkExtractor
from lipanomaly.io.datasets import default_data_dir
from lipanomaly.io.extraction import ExtractionWarning
from lipanomaly.io.tracks import read_track


def _videos(data_dir):
    folder = Path(data_dir) / "videos"
    return sorted(p for p in folder.iterdir() if p.suffix in (".mp4", ".mpg", ".mov", ".avi"))


def bare_facemesh(videos):
    """Decode every frame with OpenCV and pass it to FaceMesh: nothing else. Returns frames."""
    import cv2
    import mediapipe as mp

    from lipanomaly.io.video import FACEMESH_SETTINGS

    n = 0
    for path in videos:
        cap = cv2.VideoCapture(str(path))
        with mp.solutions.face_mesh.FaceMesh(**FACEMESH_SETTINGS) as mesh:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                mesh.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
                n += 1
        cap.release()
    return n


def reference_table(videos):
    from lipanomaly.io.video import read_video_track

    rows = [
        "| video | size | fps | frames (ours / ref) | face found (ours / ref) "
        "| frames where face-found differs | median / max point distance (px) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    all_d = []
    for path in videos:
        ours = read_video_track(path)
        ref = read_track(f"{path}.mp_lm.npz")
        n_ok = ours.n_frames == ref.n_frames
        both = ours.face_found & ref.face_found if n_ok else np.zeros(0, bool)
        px = np.array([ours.width, ours.height])
        d = np.linalg.norm((ours.landmarks[both] - ref.landmarks[both]) * px, axis=-1).ravel()
        all_d.append(d)
        differ = int((ours.face_found != ref.face_found).sum()) if n_ok else "n/a"
        rows.append(
            f"| {path.name} | {ours.width}x{ours.height} | {ours.fps:.2f} "
            f"| {ours.n_frames} / {ref.n_frames} | {ours.face_found.mean():.1%} / "
            f"{ref.face_found.mean():.1%} | {differ} "
            f"| {np.median(d) if d.size else 0:.3g} / {d.max() if d.size else 0:.3g} |"
        )
    d = np.concatenate(all_d)
    rows.append(
        f"\nAll {len(videos)} videos, {d.size // 478} face frames: median point distance "
        f"{np.median(d):.3g} px, max {d.max():.3g} px."
    )
    return "\n".join(rows)


def _clock(func, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    func(*args)
    return time.perf_counter() - wall, time.process_time() - cpu


def timing_table(videos, repeats):
    """Bare FaceMesh vs the extractor, interleaved video by video; then n_jobs=2.

    The dev machine is shared, so the two serial pipelines alternate on every video (which
    runs first alternates too) and both wall-clock and process CPU time are recorded: CPU
    time is what other processes disturb least. ``n_jobs=2`` is judged by wall time against
    the serial extractor's wall time of the same repeat.
    """
    serial = LipLandmarkExtractor(verbose=0)
    parallel = LipLandmarkExtractor(n_jobs=2, verbose=0)
    bare_facemesh(videos[:1])  # warm-up: load the model once
    parallel.transform(videos[:2])  # warm-up: start the two worker processes
    n_frames = bare_facemesh(videos)
    runs = {"bare": bare_facemesh, "extractor": lambda v: serial.transform(v)}
    wall = {k: [] for k in [*runs, "extractor n_jobs=2"]}
    cpu = {k: [] for k in runs}
    for r in range(repeats):
        totals = {k: np.zeros(2) for k in runs}
        for i, video in enumerate(videos):
            order = list(runs) if (r + i) % 2 == 0 else list(runs)[::-1]
            for k in order:
                totals[k] += _clock(runs[k], [video])
        for k in runs:
            wall[k].append(totals[k][0])
            cpu[k].append(totals[k][1])
        wall["extractor n_jobs=2"].append(_clock(parallel.transform, videos)[0])
    med_wall = {k: statistics.median(v) for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    rows = [
        f"{len(videos)} videos, {n_frames} frames; median of {repeats} repeats; the two serial "
        "pipelines alternate video by video.",
        "",
        "| pipeline | wall s | frames/s (wall) | CPU s | frames/s (CPU) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for k, t in med_wall.items():
        c = med_cpu.get(k)
        cpu_cols = f"{c:.2f} | {n_frames / c:.0f}" if c else "n/a (workers) | n/a"
        rows.append(f"| {k} | {t:.2f} | {n_frames / t:.0f} | {cpu_cols} |")

    speedups = np.divide(wall["extractor"], wall["extractor n_jobs=2"])

    def ratios(times):
        return ", ".join(f"{e / b - 1:+.1%}" for b, e in zip(times["bare"], times["extractor"]))

    rows += [
        "",
        f"Extractor over bare FaceMesh: CPU time {med_cpu['extractor'] / med_cpu['bare'] - 1:+.1%}"
        f" (per repeat {ratios(cpu)}), wall time "
        f"{med_wall['extractor'] / med_wall['bare'] - 1:+.1%} (per repeat {ratios(wall)}).",
        "Speed-up with n_jobs=2 (wall, serial extractor / n_jobs=2, per repeat): "
        + ", ".join(f"{x:.2f}x" for x in speedups)
        + f"; median {statistics.median(speedups):.2f}x.",
    ]
    return "\n".join(rows)


def figure(data_dir, out_dir, name="video_8s_real.mp4"):
    """Raw (pixels) vs normalised (inter-ocular units) lips of one real clip."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lipanomaly.io.landmarks import LIPS_INNER, LIPS_OUTER, normalize_head

    video = Path(data_dir) / "videos" / name
    lips = LipLandmarkExtractor(points="outer+inner", fps=None).transform([video])[0]
    track = read_track(f"{video}.mp_lm.npz")  # the same points (tests check it), with pixels
    raw = track.landmarks[:, list(LIPS_OUTER + LIPS_INNER)] * [track.width, track.height]
    np.testing.assert_allclose(
        normalize_head(track.landmarks, track.width, track.height, LIPS_OUTER + LIPS_INNER),
        lips,
    )
    frames = np.linspace(0, len(lips) - 1, 8).astype(int)
    colors = plt.cm.viridis(np.linspace(0, 1, len(frames)))
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5))
    n_out = len(LIPS_OUTER)
    for ax, data, title in [
        (axes[0, 0], raw, f"raw FaceMesh lips, pixels ({track.width}x{track.height})"),
        (axes[0, 1], lips, "normalised lips (inter-ocular units)"),
    ]:
        for f, c in zip(frames, colors):
            for ring in (data[f, :n_out], data[f, n_out:]):
                closed = np.vstack([ring, ring[:1]])
                ax.plot(closed[:, 0], closed[:, 1], color=c, lw=1)
        ax.set_title(title)
        ax.set_aspect("equal")
        ax.invert_yaxis()
    t = np.arange(len(lips)) / track.fps
    for ax, data, unit in [(axes[1, 0], raw, "px"), (axes[1, 1], lips, "inter-ocular")]:
        centre = data.mean(axis=1)
        ax.plot(t, centre[:, 0] - centre[:, 0].mean(), label="centroid x")
        ax.plot(t, centre[:, 1] - centre[:, 1].mean(), label="centroid y")
        # inner-lip opening: 13 (upper) to 14 (lower)
        up, low = LIPS_INNER.index(13) + n_out, LIPS_INNER.index(14) + n_out
        ax.plot(t, data[:, low, 1] - data[:, up, 1], label="opening 13-14", color="k", lw=0.8)
        ax.set_xlabel("time (s)")
        ax.set_ylabel(unit)
        ax.legend(fontsize=8)
    axes[1, 0].set_title("head motion dominates the raw centroid")
    axes[1, 1].set_title("after normalisation, lip motion remains")
    fig.suptitle(f"{name}: 8 frames spread over {len(lips) / track.fps:.1f} s (colour = time)")
    fig.tight_layout()
    out = Path(out_dir) / "extraction_raw_vs_normalised.png"
    fig.savefig(out, dpi=90)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="data folder (default: ../shared/data)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference", action="store_true", help="also the reference table")
    parser.add_argument("--only-reference", action="store_true", help="skip the timing")
    parser.add_argument("--figure", metavar="DIR", help="write the docs picture to DIR")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=ExtractionWarning)  # face_noface, hamilton
    warnings.filterwarnings("ignore", message="SymbolDatabase.GetPrototype")
    data_dir = Path(args.data) if args.data else default_data_dir()
    videos = _videos(data_dir)
    import cv2
    import mediapipe

    print(f"# bench_extract: {' '.join(sys.argv)}")
    print(f"# mediapipe {mediapipe.__version__}, OpenCV {cv2.__version__}")
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.node()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
        f"Python {platform.python_version()}\n"
    )
    if args.reference or args.only_reference:
        print(reference_table(videos), "\n")
    if not args.only_reference:
        print(timing_table(videos, args.repeats), "\n")
    if args.figure:
        print(f"figure: {figure(data_dir, args.figure)}")


if __name__ == "__main__":
    main()
