"""A whole pipeline: lip landmarks, the dual VAE detector, scores and decisions.

Trains ``Pipeline(LipLandmarkExtractor, LFHFVAEDetector)`` on real clips only (the "train"
split of the data bundled in the package), then scores real clips of recording sources it
never saw and fakes of three generator families, and prints what its threshold means, the
AUC and the error rates at that threshold.

The network here is smaller (64 channels) than the default, and trains for at most 25 epochs:
about three minutes on a 2-core CPU (``docs/benchmarks.md``, examples); ``LIPANOMALY_QUICK=1``
(used by the tests) shrinks it further. ``lipanomaly.load_pretrained()`` gives a fully
trained one.

Run: ``python examples/pipeline.py``
"""

import os

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from lipanomaly import LFHFVAEDetector, LipLandmarkExtractor
from lipanomaly.app.report import threshold_rule
from lipanomaly.io.datasets import load_demo

QUICK = os.environ.get("LIPANOMALY_QUICK") == "1"

train = load_demo(split="train")  # real clips only: a one-class detector never sees fakes
test = load_demo(split="demo")  # unseen real sources + fakes (y: +1 live, -1 spoof)

detector = make_pipeline(
    LipLandmarkExtractor(),  # Track objects, track files or videos -> (T, 40, 2) lip sequences
    LFHFVAEDetector(
        channels=16 if QUICK else 64,
        max_epochs=2 if QUICK else 25,
        n_jitter_draws=1 if QUICK else 3,
        random_state=0,
    ),
)
detector.fit(train.tracks[:12] if QUICK else train.tracks)

scores = detector.score_samples(test.tracks)  # higher = more live
labels = detector.predict(test.tracks)  # +1 live, -1 spoof
# the verdict's scale: a share of real validation clips is called spoof by construction
valid = detector[-1].validation_scores_
print(
    f"threshold {detector[-1].offset_:.3f}: {threshold_rule(detector[-1])}; it calls "
    f"{np.mean(valid < detector[-1].offset_):.0%} of them spoof (false alarms by design)"
)
print(f"AUC, all fakes: {roc_auc_score(test.y, scores):.3f}")  # +1 (live) is the positive class
for family in np.unique(test.generators[test.y == -1]):
    keep = (test.y == 1) | (test.generators == family)
    apcer = np.mean(labels[test.generators == family] == 1)
    print(f"  {family:10s} AUC {roc_auc_score(test.y[keep], scores[keep]):.3f}  APCER {apcer:.2f}")
print(f"APCER, all fakes pooled (fakes called live): {np.mean(labels[test.y == -1] == 1):.2f}")
print(f"BPCER (reals called spoof): {np.mean(labels[test.y == 1] == -1):.2f}")
