"""The detector next to the baselines users would pick instead, on the same clips.

- ``LFHFVAEDetector``: the pretrained dual VAE (``lipanomaly.load_pretrained("lfhf")``);
- ``OCVAEDetector``: the one-class VAE of OC-FakeDect on lip windows (trained here);
- ``LipMotionFeatures`` + ``OneClassSVM`` and + ``IsolationForest``: hand-crafted lip-motion
  features with scikit-learn's outlier detectors.

Every model is fitted on the same real clips (the "train" split of the bundled data, the
pretrained model's training set) and scored on real clips of four recording sources none of
them saw and on fakes of three generator families. All share one interface: ``fit`` on real
clips, ``score_samples`` higher = more live, ``predict`` +1 / -1.

``LIPANOMALY_QUICK=1`` (used by the tests) trains the OC-VAE on fewer clips for fewer epochs.

Run: ``python examples/baselines.py``
"""

import os

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

import lipanomaly
from lipanomaly import LipMotionFeatures, OCVAEDetector
from lipanomaly.io.datasets import load_demo

QUICK = os.environ.get("LIPANOMALY_QUICK") == "1"

pretrained = lipanomaly.load_pretrained("lfhf")
extractor = pretrained[0]  # the extraction the pretrained model was trained with
train, test = load_demo(split="train"), load_demo(split="demo")
X_train = extractor.transform(train.tracks)
X_test = extractor.transform(test.tracks)

models = {
    "LFHFVAEDetector (pretrained)": pretrained[-1],
    "OCVAEDetector": OCVAEDetector(
        channels=32 if QUICK else 128, max_epochs=2 if QUICK else 30, random_state=0
    ),
    "features + OneClassSVM": make_pipeline(
        LipMotionFeatures(), StandardScaler(), OneClassSVM(nu=0.2)
    ),
    "features + IsolationForest": make_pipeline(
        LipMotionFeatures(), IsolationForest(contamination=0.2, random_state=0)
    ),
}
families = sorted(set(test.generators[test.y == -1]))
print(f"{'model':30s} {'all':>6s}" + "".join(f" {f:>10s}" for f in families) + "  BPCER")
for name, model in models.items():
    if name != "LFHFVAEDetector (pretrained)":
        model.fit(X_train[:12] if QUICK and "VAE" in name else X_train)
    # score minus the model's own threshold, for every model: higher = more live, < 0 spoof
    # (one pass: the AUC reads its ranking, the BPCER its sign)
    decision = model.decision_function(X_test)
    row = f"{name:30s} {roc_auc_score(test.y, decision):6.3f}"
    for family in families:
        keep = (test.y == 1) | (test.generators == family)
        row += f" {roc_auc_score(test.y[keep], decision[keep]):10.3f}"
    bpcer = np.mean(decision[test.y == 1] < 0)  # reals called spoof at the model's threshold
    print(f"{row}  {bpcer:5.2f}")
print(
    "\nAUC of each fake family against all unseen reals (1 = perfect, 0.5 = chance); BPCER: "
    "reals called spoof at each model's own threshold."
)
