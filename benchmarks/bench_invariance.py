"""Does the pretrained face-motion model read the motion, or how the clip was filmed?

Issue 23 asks that the same clip, rescaled in pixels, re-encoded at another frame rate or
cropped, keep its verdict and move its score by a documented bound. Two measurements:

1. **Real videos** (``../shared/data/videos``: the GRID sentences, carphone, a talking-head
   video and its Wav2Lip lip-sync fake, ``single_face``): each video is written again with
   OpenCV (``mp4v``) as it is (the control: what re-encoding alone does), at half and at
   double size, at 30 fps (frames repeated where 30 fps falls between two 25 fps frames, as
   a video converter does), at two thirds of its frame rate (frames dropped), and cropped to
   the middle 70 % of the frame (the face larger in it); MediaPipe runs on every variant
   and the pretrained model scores it. Reported: the change of the score against the
   original video's, in score units (the model's scores of live validation clips span
   about -8 to 6; its threshold is about -0.5), and how many verdicts change.
2. **Every development clip**, re-timed without re-running MediaPipe (nearest frame at
   24, 30 and 15 fps, as a converter would do to the video): the same two numbers over 470
   clips.

Usage::

    python benchmarks/bench_invariance.py            # ~3 min on 2 cores
    python benchmarks/bench_invariance.py --quick    # two videos, no development clips
"""

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import lipanomaly  # noqa: E402
from lipanomaly.detectors.face_motion import MIN_SECONDS  # noqa: E402
from lipanomaly.io.datasets import default_data_dir, load_development  # noqa: E402
from lipanomaly.io.extraction import ExtractionWarning  # noqa: E402
from lipanomaly.io.tracks import Track  # noqa: E402

VIDEOS = (
    "bbaf2n.mpg",
    "brbk7n.mpg",
    "lbax4n.mpg",
    "lbbc2a.mpg",
    "lrwp9a.mpg",
    "lwbsza.mpg",
    "pwij3p.mpg",
    "sbia1a.mpg",
    "sbwe5n.mpg",
    "swiz3n.mpg",
    "id2_vcd_swwp2s.mpg",
    "carphone_pristine.mp4",
    "video_8s_real.mp4",
    "result_voice_wav2lip.mp4",
    "single_face.mp4",
)


def _frames(path):
    import cv2

    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames, fps


def _write(path, frames, fps):
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def retime(n_frames, fps, new_fps):
    """Which source frame each frame of a ``new_fps`` copy shows (the nearest earlier one)."""
    n_out = int(np.floor(n_frames / fps * new_fps))
    return np.minimum((np.arange(n_out) / new_fps * fps + 1e-9).astype(int), n_frames - 1)


def variants(frames, fps):
    """(name, frames, fps) of every way of filming the same clip again."""
    import cv2

    h, w = frames[0].shape[:2]

    def resized(s):
        size = (int(round(w * s / 2) * 2), int(round(h * s / 2) * 2))
        return [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]

    y0, x0 = int(0.15 * h), int(0.15 * w)
    return [
        ("re-encoded", frames, fps),
        ("half size", resized(0.5), fps),
        ("double size", resized(2.0), fps),
        ("30 fps", [frames[i] for i in retime(len(frames), fps, 30.0)], 30.0),
        ("2/3 frame rate", [frames[i] for i in retime(len(frames), fps, fps * 2 / 3)], fps * 2 / 3),
        ("cropped 70 %", [f[y0 : h - y0, x0 : w - x0] for f in frames], fps),
    ]


def measure_videos(pipeline, names, data):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            src = data / "videos" / name
            frames, fps = _frames(src)
            base = pipeline.score_samples([str(src)])[0]
            for label, vf, vfps in variants(frames, fps):
                stem = "".join(c if c.isalnum() else "_" for c in label)  # "2/3" is no folder
                out = _write(Path(tmp) / f"{stem}_{name}.mp4", vf, vfps)
                try:
                    s = pipeline.score_samples([str(out)])[0]
                except lipanomaly.LipAnomalyError as exc:
                    rows.append((name, label, base, np.nan, str(exc)[:60]))
                    continue
                rows.append((name, label, base, s, ""))
    return rows


def measure_tracks(pipeline):
    data = load_development(collections=("landmarks", "wild", "modern"))
    # re-timed to 15 fps a clip of the features' minimum 2 s may come out a frame short
    tracks = [t for t in data.tracks if t.n_frames / t.fps >= MIN_SECONDS + 0.2]
    base = pipeline.score_samples(tracks)
    offset = pipeline[-1].offset_
    out = {}
    for new_fps in (24.0, 30.0, 15.0):
        moved = []
        for t in tracks:
            idx = retime(t.n_frames, t.fps, new_fps)
            moved.append(Track(t.landmarks[idx], fps=new_fps, width=t.width, height=t.height))
        s = pipeline.score_samples(moved)
        out[new_fps] = (np.abs(s - base), np.mean((s >= offset) != (base >= offset)))
    return out, len(base)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two videos, no development clips")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ExtractionWarning)
    t0 = time.perf_counter()
    data = default_data_dir()
    pipeline = lipanomaly.load_pretrained()
    offset = pipeline[-1].offset_
    names = VIDEOS[:2] if args.quick else VIDEOS
    rows = measure_videos(pipeline, names, data)
    print("## The same video filmed again (MediaPipe on every variant)\n")
    print(f"pretrained face model, threshold {offset:.3f}\n")
    print("| variant | videos | median abs. score change | largest | verdicts changed |")
    print("| --- | --- | --- | --- | --- |")
    labels = list(dict.fromkeys(r[1] for r in rows))
    for label in labels:
        sel = [r for r in rows if r[1] == label and np.isfinite(r[3])]
        if not sel:
            print(f"| {label} | 0 | - | - | - |")
            continue
        d = np.abs([r[3] - r[2] for r in sel])
        flips = sum((r[3] >= offset) != (r[2] >= offset) for r in sel)
        print(
            f"| {label} | {len(sel)} | {np.median(d):.3f} | {d.max():.3f} | {flips} of {len(sel)} |"
        )
    failed = [r for r in rows if not np.isfinite(r[3])]
    for r in failed:
        print(f"\n{r[0]} {r[1]}: no score ({r[4]})")
    print("\nper video (original score, then each variant's):\n")
    for name in names:
        sel = [r for r in rows if r[0] == name]
        print(f"- {name}: {sel[0][2]:+.2f} -> " + ", ".join(f"{r[1]} {r[3]:+.2f}" for r in sel))
    if not args.quick:
        res, n = measure_tracks(pipeline)
        print(f"\n## Every development clip re-timed ({n} clips, no MediaPipe)\n")
        print("| re-timed to | median abs. score change | 95th percentile | verdicts changed |")
        print("| --- | --- | --- | --- |")
        for fps, (d, flips) in res.items():
            print(
                f"| {fps:g} fps | {np.median(d):.3f} | {np.percentile(d, 95):.3f} | "
                f"{100 * flips:.1f} % |"
            )
    load = os.getloadavg()
    print(
        f"\n{platform.machine()}, {os.cpu_count()} CPUs, load {load[0]:.1f}; "
        f"`python benchmarks/bench_invariance.py{' --quick' if args.quick else ''}`, "
        f"{time.perf_counter() - t0:.0f} s; lipanomaly {lipanomaly.__version__}"
    )


if __name__ == "__main__":
    main()
