"""GridSearchCV over the scoring parameters of LFHFVAEDetector reuses the trained networks.

A 3 x 3 x 3 grid over ``alpha``, ``beta``, ``gamma`` (linear combination) with 3 folds is
81 fits, but the network depends only on the training fold, so only 3 networks are
trained: the detector's ``memory`` (a folder; safetensors + JSON) keeps each trained network
under a key made of every parameter that training reads, the data and the seed, and every
other fit loads it, computes the components of its validation and test clips, and only
recombines and re-thresholds. Nothing is kept in the process between fits. The script
measures, in one run:

- the three fits alone: one fit per training fold, networks trained from scratch;
- the whole grid search (``refit=False``, so that it does the same three trainings), with an
  empty ``memory`` folder.

Data: real development clips (every second real clip) and the fakes, labelled +1 live /
-1 spoof, cut to 192 frames; a small network trained for a few epochs so that it runs in a
few minutes. The SPEC section 6 traps are avoided: shuffled ``StratifiedKFold``,
``scoring="roc_auc"`` with +1 = live, the detector trains on ``y == +1`` only.

Run from the repository root::

    python benchmarks/bench_gridsearch.py
"""

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()

    import torch
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from lipanomaly.detectors.lfhf import LFHFVAEDetector
    from lipanomaly.io.datasets import load_development
    from lipanomaly.io.extraction import LipLandmarkExtractor

    torch.set_num_threads(args.threads)
    dev = load_development()
    clips = [c[:192] for c in LipLandmarkExtractor().transform(dev.tracks)]
    keep = [i for i in range(len(clips)) if dev.y[i] == -1 or i % 2 == 0]
    X = [clips[i] for i in keep]
    y = dev.y[keep]
    detector = LFHFVAEDetector(
        combination="linear",
        channels=32,
        n_layers=3,
        decoder_layers=2,
        max_epochs=args.epochs,
        patience=args.epochs,
        kl_anneal_epochs=2,
        random_state=0,
    )
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    grid = {"alpha": [0.5, 1.0, 2.0], "beta": [0.5, 1.0, 2.0], "gamma": [-1.0, 0.0, 1.0]}

    # 1. the three fits alone (from scratch, no memory)
    t = time.perf_counter()
    fold_fit = []
    for train, _ in cv.split(X, y):
        t0 = time.perf_counter()
        det = LFHFVAEDetector(**detector.get_params()).fit([X[i] for i in train], y[train])
        assert not det.network_.network_from_cache_
        fold_fit.append(time.perf_counter() - t0)
    three_fits = time.perf_counter() - t

    # 2. the grid search, with an empty memory folder
    with tempfile.TemporaryDirectory() as memory:
        t = time.perf_counter()
        search = GridSearchCV(
            detector.set_params(memory=memory),
            grid,
            cv=cv,
            scoring="roc_auc",
            refit=False,
            n_jobs=1,
        )
        search.fit(X, y)
        grid_s = time.perf_counter() - t
        n_trained = len(list(Path(memory, "lipanomaly_networks").iterdir()))
    n_fits = len(search.cv_results_["params"]) * cv.get_n_splits()
    auc = search.cv_results_["mean_test_score"]

    print(f"# bench_gridsearch: {platform.node()}, torch {torch.__version__}, ")
    print(f"{args.threads} torch threads, python {sys.version.split()[0]}")
    print(f"command: python benchmarks/bench_gridsearch.py --epochs {args.epochs}\n")
    print(f"data: {int((y == 1).sum())} real + {int((y == -1).sum())} fake clips (<= 192 frames)")
    print(f"best params {search.best_params_}, mean ROC AUC {auc.max():.3f}")
    print(f"(range over the grid {auc.min():.3f} to {auc.max():.3f}; small network, few epochs)\n")
    print("| what | fits | networks trained | seconds | ratio to the 3 fits |")
    print("|---|---|---|---|---|")
    print(f"| 3 fits alone (one per fold) | 3 | 3 | {three_fits:.1f} | 1.00 |")
    print(
        f"| GridSearchCV 3x3x3, cv=3, refit=False | {n_fits} | {n_trained} | {grid_s:.1f} | "
        f"{grid_s / three_fits:.2f} |"
    )
    print(f"\nfit seconds per fold: {', '.join(f'{s:.1f}' for s in fold_fit)}")
    print(f"grid-search overhead per extra fit: {(grid_s - three_fits) / (n_fits - 3):.3f} s")


if __name__ == "__main__":
    main()
