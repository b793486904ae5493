"""Tune the linear score's weights alpha, beta, gamma with GridSearchCV.

``combination="linear"`` scores each window with ``S = alpha*DRS - beta*dE + gamma*C``. The
search below avoids the three traps of one-class models in ``GridSearchCV``
(docs/guide/tuning.md):

1. a *shuffled* ``StratifiedKFold`` (``cv=3`` would give unshuffled ``KFold``: folds of one
   class, NaN AUCs);
2. labels +1 live / -1 spoof, so that ``scoring="roc_auc"`` takes live as the positive class,
   as ``score_samples`` (higher = more live) does;
3. the detector trains on the ``y == +1`` clips of each training fold only.

Only the scoring changes between grid points, so with a ``memory`` folder the detector trains
one network per fold and every other grid point loads it, not one per grid point.

How long it runs: the full search trains four networks (one per fold, and the refit on all
the data) of 64 channels for up to 20 epochs each, then scores 81 fits; on a 2-core CPU that
is the better part of an hour (not timed end to end: ``benchmarks/bench_gridsearch.py``, a
comparable search with smaller networks and three of them, took 20 minutes; see
``docs/benchmarks.md``). ``LIPANOMALY_QUICK=1`` (used by the tests) shrinks the data, the
network and the grid: about a minute (42 s on the shared 2-core development VM).

Run: ``python examples/grid_search.py``
"""

import os
import tempfile

import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from lipanomaly import LFHFVAEDetector, LipLandmarkExtractor
from lipanomaly.io.datasets import load_demo

QUICK = os.environ.get("LIPANOMALY_QUICK") == "1"

data = load_demo()  # 95 real and 13 fake clips, y = +1 / -1
keep = np.arange(len(data.y))
if QUICK:  # every fake and 15 reals
    keep = np.r_[np.flatnonzero(data.y == 1)[::6][:15], np.flatnonzero(data.y == -1)]
X = LipLandmarkExtractor().transform([data.tracks[i] for i in keep])
y = data.y[keep]

detector = LFHFVAEDetector(
    combination="linear",
    channels=16 if QUICK else 64,
    max_epochs=2 if QUICK else 20,
    n_jitter_draws=1,
    random_state=0,
    memory=tempfile.mkdtemp(prefix="lipanomaly-networks-"),  # trained networks, reused
)
grid = {"alpha": [0.0, 1.0], "beta": [-1.0, 1.0], "gamma": [-1.0, 1.0]}
if not QUICK:
    grid = {"alpha": [0.0, 0.5, 1.0], "beta": [-1.0, 0.0, 1.0], "gamma": [-1.0, 0.0, 1.0]}
search = GridSearchCV(
    detector,
    grid,
    cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
    scoring="roc_auc",
)
search.fit(X, y)

print(f"best: {search.best_params_}, cross-validated AUC {search.best_score_:.3f}")
ranked = np.argsort(search.cv_results_["rank_test_score"])
for i in ranked[:5]:
    r = search.cv_results_
    print(f"  {r['params'][i]}  AUC {r['mean_test_score'][i]:.3f} +- {r['std_test_score'][i]:.3f}")
