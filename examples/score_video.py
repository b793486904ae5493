"""Score videos with the pretrained detector: what a verdict means, then verdicts both ways.

``lipanomaly.load_pretrained()`` returns a fitted ``Pipeline(extractor, detector)`` (the
default: the face-motion detector; ``load_pretrained("lfhf")`` the lip-motion VAE) that
takes video files (MediaPipe FaceMesh runs on every frame; needs the ``video`` extra) and
track files directly.

A verdict has a scale. The threshold is the 20th percentile of the scores of the model's real
validation clips, so it calls about one real clip in five SPOOF even on recordings like
those, and more on recordings unlike them (docs/quality.md); each clip's p-value says how
unusual its score is among those real clips. The script prints that first, then scores a
real video and its Wav2Lip lip-sync fake, and a real GRID corpus clip that the model calls
SPOOF: a false alarm. For each clip it says what pushed its score down (a whole-clip model)
or where in the clip it looks odd (a window model).

Run: ``python examples/score_video.py [my_video.mp4 ...]`` (without arguments it scores
three videos of the development data, when ``../shared/data`` or ``$LIPANOMALY_DATA`` has
it). Scoring three short videos takes seconds (``docs/benchmarks.md``, examples).
``LIPANOMALY_QUICK=1`` (used by the tests) reads the FaceMesh track files saved beside the
default videos instead: the same clips, without running MediaPipe.
"""

import os
import sys
import textwrap

import lipanomaly
from lipanomaly.app.report import threshold_note
from lipanomaly.io.datasets import default_data_dir

if len(sys.argv) > 1:
    videos = {path: "yours" for path in sys.argv[1:]}
else:
    folder = default_data_dir() / "videos"
    videos = {
        str(folder / "video_8s_real.mp4"): "real",
        str(folder / "result_voice_wav2lip.mp4"): "fake, Wav2Lip lip-sync of the one above",
        str(folder / "lrwp9a.mpg"): "real, GRID corpus",
    }

pipeline = lipanomaly.load_pretrained()
extractor, detector = pipeline[0], pipeline[-1]

# what a verdict means, before any verdict
print(textwrap.fill(f"threshold {detector.offset_:.3f}: {threshold_note(detector)}", 100))
print()

quick = os.environ.get("LIPANOMALY_QUICK") == "1" and len(sys.argv) == 1
inputs = [f"{v}.mp_lm.npz" if quick else v for v in videos]
clips = extractor.transform(inputs)  # (T, 40, 2) lip sequences at 25 fps
# one pass of the network: each clip's score (higher = more live) and its window scores
scores, windows = detector.score_with_windows(clips)
# the share of real validation clips scoring as low, from the scores just computed
p_values = detector.p_values_of(scores)
window = getattr(detector, "window", None)  # a window model's frames per window
for i, (video, truth) in enumerate(videos.items()):
    verdict = "LIVE" if scores[i] >= detector.offset_ else "SPOOF"
    print(f"{video} ({truth}): {verdict} (score {scores[i]:.3f}, p-value {p_values[i]:.2f})")
    if window is None:  # one score for the whole clip: the features that lowered it most
        (pushes,) = detector.explain([clips[i]], n_top=2)
        for f in pushes:
            print(f"  pushed towards spoof by {f['feature']} ({f['push']:+.2f} score units)")
        continue
    # one score per window (every stride frames): where in the clip it looks odd; the
    # verdict reads their mean, not how many fall below the threshold
    for w in windows[i]:
        t0 = w["start"] / extractor.fps
        flag = "" if w["score"] >= detector.offset_ else "  <- below threshold"
        print(f"  {t0:5.2f}-{t0 + window / extractor.fps:5.2f} s  {w['score']:7.3f}{flag}")
print()
print(
    textwrap.fill(
        "A real clip called SPOOF is one of the false alarms that the threshold promises; a "
        "fake called LIVE is a miss. Neither verdict is proof: read it with its p-value.",
        100,
    )
)
