"""Score a video with the pretrained detector: verdict, score and time-resolved window scores.

``lipanomaly.load_pretrained()`` returns a fitted ``Pipeline(LipLandmarkExtractor,
LFHFVAEDetector)`` that takes video files (MediaPipe FaceMesh runs on every frame; needs the
``video`` extra) and track files directly.

Run: ``python examples/score_video.py my_video.mp4`` (without an argument it scores a GRID
corpus video of the development data, when ``../shared/data`` or ``$LIPANOMALY_DATA`` has it).
"""

import sys

import lipanomaly
from lipanomaly.datasets import default_data_dir

if len(sys.argv) > 1:
    video = sys.argv[1]
else:
    video = str(default_data_dir() / "videos" / "bbaf2n.mpg")

pipeline = lipanomaly.load_pretrained()
extractor, detector = pipeline[0], pipeline[-1]

clip = extractor.transform([video])[0]  # (T, 40, 2) lip sequence at 25 fps
score = detector.score_samples([clip])[0]
verdict = "LIVE" if detector.predict([clip])[0] == 1 else "SPOOF"
print(f"{video}: {verdict} (score {score:.3f}, threshold {detector.offset_:.3f})")

# one score per 64-frame window (2.56 s, every 16 frames): where in the clip it looks odd
fps = extractor.fps  # the clips' frame rate: the extractor resamples to it
for w in detector.score_windows([clip]):
    t0 = w["start"] / fps
    flag = "" if w["score"] >= detector.offset_ else "  <- below threshold"
    print(f"  {t0:5.2f}-{t0 + detector.window / fps:5.2f} s  {w['score']:7.3f}{flag}")
