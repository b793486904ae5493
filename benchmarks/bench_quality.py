"""Detection quality on both development collections, under the group-fold protocol.

The protocol of ``docs/quality.md``: ``landmarks/`` + ``wild/`` (260 real clips of 87 groups
— recording sources, people —, 46 fakes of 13 generator families), 5 folds by group
(:class:`lipanomaly.evaluation.protocol.SourceFolds`: fakes sit in the fold of their real input, no
fake is ever trained on), every clip scored out of fold, for several training seeds.

Per fold and seed, one network (:class:`lipanomaly.scoring.components.LFHFComponents`, the
detector's defaults) is trained on the fold's live clips with their groups, so that its
validation clips are whole groups it never trained on; it computes every component of its
validation clips and of the fold's test clips, which are kept in ``<cache>/components``.
Every scoring row then fits a :class:`lipanomaly.scoring.scorer.ComponentScorer` on the validation
components and scores the test components (no retraining: scorings cost seconds). The
baselines (LipMotionFeatures + OneClassSVM / IsolationForest) run on the same folds.

Printed (markdown): per generator family the clip-level ROC AUC (mean over seeds) with the
widest bootstrap 95 % interval of the seeds, the APCER at the fitted threshold; over all
fakes the AUC; the BPCER of held-out real clips (groups never trained on) at the fitted
threshold; the paired real/fake clips (same person and recording) ordered right. Then the
``calibrated`` protocol (``--calibrated``): each test group with more than k real clips
calibrates the scorer on k of its reals (k = 1, 3, 5, rotating;
:func:`lipanomaly.scoring.calibration.calibrate_scorer`) and scores its other reals and its fakes.
And the pseudo-spoof proxy (``--spoofs``): the rank correlation over the scoring rows of
the AUC of held-out reals against their pseudo-spoofs (:mod:`lipanomaly.evaluation.spoofs`) with the
real-fake AUC.

Usage::

    python benchmarks/bench_quality.py --seeds 0,1            # networks: ~15 min per seed
    python benchmarks/bench_quality.py --seeds 0,1 --calibrated --spoofs
    python benchmarks/bench_quality.py --seeds 0 --train-on landmarks   # ablation of breadth
    python benchmarks/bench_quality.py --seeds 0 --validation clips     # ablation of groups
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import joblib
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lipanomaly.evaluation.protocol import (  # noqa: E402
    SourceFolds,
    check_no_leak,
    development_pairs,
    source_pairs,
)
from lipanomaly.io.datasets import load_development  # noqa: E402

DEFAULT = {}  # the ComponentScorer's own defaults
_SEVEN = ("e_smooth", "e_detail", "drs", "delta_e", "complexity", "rmse", "latent_rmse")

#: (key, label, ComponentScorer parameters) of every scoring row, in order.
SCORINGS = (
    ("default", "default: E_smooth low, E_smooth_rel high, E_detail_rel high", DEFAULT),
    ("drs", "DRS two-sided (default of 0.4)", {"components": ("drs",), "sides": "both"}),
    ("all7", "all seven two-sided (default of 0.2)", {"components": _SEVEN, "sides": "both"}),
    ("all10", "all ten two-sided", {"components": None, "sides": "both"}),
    (
        "default_2s",
        "default's components, two-sided",
        {"components": ("e_smooth", "e_smooth_rel", "e_detail_rel"), "sides": "both"},
    ),
    (
        "rmse_sided",
        "RMSE low, RMSE_rel high",
        {"components": ("rmse", "rmse_rel"), "sides": ("low", "high")},
    ),
    (
        "rmse_lat_sided",
        "RMSE, latent low, RMSE_rel, E_detail_rel high",
        {
            "components": ("rmse", "latent_rmse", "rmse_rel", "e_detail_rel"),
            "sides": ("low", "low", "high", "high"),
        },
    ),
    (
        "abs_only",
        "E_smooth low (absolute error only)",
        {"components": ("e_smooth",), "sides": "low"},
    ),
    (
        "rel_only",
        "E_smooth_rel, E_detail_rel high (relative errors only)",
        {"components": ("e_smooth_rel", "e_detail_rel"), "sides": "high"},
    ),
    ("hf2s", "E_detail, ΔE two-sided", {"components": ("e_detail", "delta_e"), "sides": "both"}),
    ("linear", "linear S = DRS − ΔE + C (seed)", {"combination": "linear"}),
    ("median", "default, median over windows", {"aggregation": "median"}),
)
#: One-component scorings, both sides apart: the population of the proxy's rank correlation.
SINGLE = tuple(
    (f"{c}:{side}", f"{c} {side}", {"components": (c,), "sides": side})
    for c in (*_SEVEN, "e_smooth_rel", "e_detail_rel", "rmse_rel")
    for side in ("low", "high")
)
BASELINES = ("ocsvm", "iforest")


def load_clips(cache):
    """Both collections and their lip sequences (default extractor), cached with joblib."""
    from lipanomaly import LipLandmarkExtractor

    data = load_development(collections=("landmarks", "wild"))
    memory = joblib.Memory(os.path.join(cache, "clips"), verbose=0)

    @memory.cache
    def extract(files, params):
        return LipLandmarkExtractor(**params).fit_transform(data.tracks)

    return data, extract(tuple(data.files), LipLandmarkExtractor().get_params())


def _save(path, **collections):
    """Per-clip component arrays, concatenated, with the number of windows of each clip."""
    arrays = {}
    for name, C in collections.items():
        arrays[name] = np.concatenate(C)
        arrays[f"{name}_lengths"] = np.array([len(a) for a in C])
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _load(path, *names):
    with np.load(path) as z:
        return [np.split(z[n], np.cumsum(z[f"{n}_lengths"])[:-1]) for n in names]


def fold_components(data, clips, cv, seed, cache, *, train_on, validation):
    """Per fold: (test indices, validation components, test components), trained if need be."""
    from lipanomaly.scoring.components import LFHFComponents

    y, groups = data.y, data.groups
    tag = f"seed{seed}-train_{train_on}-valid_{validation}"
    folder = Path(cache) / "components" / tag
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k, (train, test) in enumerate(cv.split(clips, y, groups)):
        check_no_leak(train, test, y, groups)
        if train_on != "all":
            train = train[data.collections[train] == train_on]
        path = folder / f"fold{k}.npz"
        if not path.is_file():
            t0 = time.perf_counter()
            network = LFHFComponents(random_state=seed, memory=os.path.join(cache, "networks"))
            g = groups[train] if validation == "groups" else None
            network.fit([clips[i] for i in train], groups=g)
            valid = [clips[train[i]] for i in network.validation_index_]
            _save(
                path,
                valid=network.transform(valid),
                test=network.transform([clips[i] for i in test]),
            )
            print(
                f"# {tag} fold {k}: {len(train)} live clips, {network.n_epochs_} epochs at "
                f"most, {time.perf_counter() - t0:.0f} s",
                file=sys.stderr,
                flush=True,
            )
        valid, tested = _load(path, "valid", "test")
        out.append((test, valid, tested))
    return out


def spoof_components(data, clips, cv, seed, cache, strength=0.5):
    """Per fold: the components of pseudo-spoofs of its real test clips, and their kinds.

    The fold's network is loaded from ``<cache>/networks`` (trained by
    :func:`fold_components`, same data, parameters and seed).
    """
    from lipanomaly.evaluation.spoofs import make_spoofs
    from lipanomaly.scoring.components import LFHFComponents

    y, groups = data.y, data.groups
    folder = Path(cache) / "components" / f"seed{seed}-train_all-valid_groups"
    out = []
    for k, (train, test) in enumerate(cv.split(clips, y, groups)):
        path = folder / f"fold{k}_spoofs.npz"
        real = test[y[test] == 1]
        spoofs, kinds = make_spoofs([clips[i] for i in real], strength=strength, random_state=0)
        if not path.is_file():
            network = LFHFComponents(random_state=seed, memory=os.path.join(cache, "networks"))
            network.fit([clips[i] for i in train], groups=groups[train])
            if not network.network_from_cache_:
                print(f"# fold {k}: network not in the cache, trained again", file=sys.stderr)
            _save(path, spoofs=network.transform(spoofs))
        (C,) = _load(path, "spoofs")
        out.append((real, np.asarray(kinds), C))
    return out


def spoof_proxy(data, runs, spoofs, scorings, real_auc):
    """Rank correlation over scorings of the pseudo-spoof AUC with the real-fake AUC."""
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    from lipanomaly.scoring.scorer import ComponentScorer

    proxy = {}
    for key, _, params in scorings:
        aucs = {}
        for seed, folds in runs.items():
            for (test, valid, tested), (real, kinds, C) in zip(folds, spoofs[seed]):
                scorer = ComponentScorer(**params).fit(valid)
                s_real = scorer.score_samples([tested[i] for i in np.searchsorted(test, real)])
                s_spoof = scorer.score_samples(C)
                for kind in ("all", *np.unique(kinds)):
                    sel = np.ones(len(kinds), bool) if kind == "all" else kinds == kind
                    labels = np.r_[np.ones(len(s_real)), np.zeros(sel.sum())]
                    auc = roc_auc_score(labels, np.r_[s_real, s_spoof[sel]])
                    aucs.setdefault(kind, []).append(auc)
        proxy[key] = {kind: float(np.mean(v)) for kind, v in aucs.items()}
    keys = [k for k, _, _ in scorings]
    real = [real_auc[k] for k in keys]
    best_real = keys[int(np.argmax(real))]
    lines = [
        "| pseudo-spoofs | Spearman ρ with real-fake AUC | p | chosen by proxy | its real AUC |"
    ]
    lines.append("|---|---:|---:|---|---:|")
    for kind in proxy[keys[0]]:
        p = [proxy[k][kind] for k in keys]
        rho, pval = spearmanr(p, real)
        chosen = keys[int(np.argmax(p))]
        lines.append(f"| {kind} | {rho:.2f} | {pval:.3f} | {chosen} | {real_auc[chosen]:.2f} |")
    lines.append(
        f"\nBest scoring by real-fake AUC: {best_real} ({real_auc[best_real]:.2f}); "
        f"{len(keys)} scorings."
    )
    return "\n".join(lines), proxy


def rescore(folds, n, params):
    """Out-of-fold scores and decisions of one scoring over the saved components."""
    from lipanomaly.scoring.scorer import ComponentScorer

    scores, decision = np.full(n, np.nan), np.full(n, np.nan)
    for test, valid, tested in folds:
        scorer = ComponentScorer(**params).fit(valid)
        s = scorer.score_samples(tested)
        scores[test], decision[test] = s, s - scorer.offset_
    return {"scores": scores, "decision": decision}


def baseline(key, data, clips, cv):
    """Out-of-fold scores of a LipMotionFeatures baseline on the same folds."""
    from sklearn.ensemble import IsolationForest
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import OneClassSVM

    from lipanomaly import LipMotionFeatures
    from lipanomaly.evaluation.protocol import cross_val_scores

    final = (
        OneClassSVM(nu=0.2, gamma="scale")
        if key == "ocsvm"
        else IsolationForest(n_estimators=200, contamination=0.2, random_state=0)
    )
    pipe = make_pipeline(LipMotionFeatures(), StandardScaler(), final)
    res = cross_val_scores(pipe, clips, data.y, data.groups, cv=cv)
    return {"scores": res.scores, "decision": res.decision}


def pairs(data):
    """(real clips, fakes made from them) of one recording: landmarks/ by file, wild/ by source."""
    out = [([real], fakes) for real, fakes in development_pairs(data.files)]
    wild = data.collections == "wild"
    out += [(r, f) for r, f in source_pairs(data.y, data.sources) if wild[r].all()]
    return out


def metrics(data, res, n_boot, seed):
    """evaluate_scores of one run, plus the ordered pairs."""
    from lipanomaly.evaluation.metrics import evaluate_scores

    r = evaluate_scores(
        data.y,
        res["scores"],
        generators=data.generators,
        decision=res["decision"],
        n_boot=n_boot,
        random_state=seed,
    )
    # APCER over all fakes pooled (evaluate_scores' "apcer" is ISO's worst family)
    r["apcer_all"] = float(np.mean(res["decision"][data.y == -1] >= 0))
    s = res["scores"]
    good = total = 0
    for real, fakes in pairs(data):
        good += int(np.sum(s[np.asarray(real)][:, None] > s[np.asarray(fakes)][None, :]))
        total += np.size(real) * np.size(fakes)
    r["pairs"] = (good, total)
    return r


def _cell(values, lows, highs):
    return f"{np.mean(values):.2f} [{min(lows):.2f}, {max(highs):.2f}]"


def _auc_cell(runs):
    """Mean AUC over seeds [widest bootstrap interval of the seeds]."""
    return _cell(
        [r["auc"] for r in runs], [r["auc_ci"][0] for r in runs], [r["auc_ci"][1] for r in runs]
    )


def table(rows, labels, families, counts):
    """Two markdown tables (seed means): a summary, and the AUC per family with intervals."""
    lines = [
        "| scoring | all fakes AUC [95 % CI] | per seed | APCER | BPCER | pairs |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, runs in rows.items():
        good = np.mean([r["pairs"][0] for r in runs])
        lines.append(
            f"| {labels[key]} | {_auc_cell(runs)} | "
            + ", ".join(f"{r['auc']:.2f}" for r in runs)
            + f" | {np.mean([r['apcer_all'] for r in runs]):.2f}"
            f" | {np.mean([r['bpcer'] for r in runs]):.2f} | {good:.1f}/{runs[0]['pairs'][1]} |"
        )
    head = [f"{f} ({counts[f]})" for f in families]
    lines += ["", "| scoring | " + " | ".join(head) + " |", "|---|" + "---:|" * len(families)]
    for key, runs in rows.items():
        cells = [_auc_cell([r["per_family"][f] for r in runs]) for f in families]
        lines.append(f"| {labels[key]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def family_medians(data, folds, names=("e_smooth", "e_smooth_rel", "e_detail_rel")):
    """Median per family (and over real clips) of each clip's median standardised component.

    Components are standardised with each fold's validation windows (median, IQR / 1.349),
    as the scorer does: 0 is the live median, the sign says on which side a family lies.
    """
    from lipanomaly.scoring.formulas import fit_robust_scale

    z = np.full((len(data.y), len(names)), np.nan)
    for test, valid, tested in folds:
        center, scale = fit_robust_scale(
            np.column_stack([np.concatenate([a[n] for a in valid]) for n in names])
        )
        for i, a in zip(test, tested):
            z[i] = np.median((np.column_stack([a[n] for n in names]) - center) / scale, axis=0)
    family = np.where(data.y == 1, "real", data.generators)
    lines = ["| clips | n | " + " | ".join(names) + " |", "|---|---:|" + "---:|" * len(names)]
    for f in ["real", *sorted(set(family.tolist()) - {"real"})]:
        m = family == f
        cells = " | ".join(f"{np.median(z[m, j]):+.2f}" for j in range(len(names)))
        lines.append(f"| {f} | {m.sum()} | {cells} |")
    return "\n".join(lines)


def _rates(live, fake):
    """AUC, APCER and BPCER of (score, decision) pairs of live clips and fakes."""
    from sklearn.metrics import roc_auc_score

    live, fake = np.asarray(live), np.asarray(fake)
    labels = np.r_[np.ones(len(live)), np.zeros(len(fake))]
    return {
        "auc": roc_auc_score(labels, np.r_[live[:, 0], fake[:, 0]]),
        "apcer": float(np.mean(fake[:, 1] >= 0)),
        "bpcer": float(np.mean(live[:, 1] < 0)),
        "n_live": len(live),
        "n_fake": len(fake),
    }


def calibrated(data, folds, ks, priors=(3.0, 0.0), params=DEFAULT):
    """The calibrated protocol over saved components, by k and prior, with the uncalibrated
    scorer on the same clips: rows ``{(k, prior): rates}``, prior None = not calibrated. A
    rotation whose references calibration refuses is left out of every row."""
    from lipanomaly.exceptions import InputError
    from lipanomaly.scoring.calibration import calibrate_scorer
    from lipanomaly.scoring.scorer import ComponentScorer

    y, groups = data.y, data.groups
    rows = {}
    for k in ks:
        scored = {p: ([], []) for p in (None, *priors)}
        for test, valid, tested in folds:
            base = ComponentScorer(**params).fit(valid)
            for g in np.unique(groups[test]):
                reals = np.flatnonzero((groups[test] == g) & (y[test] == 1))
                fakes = [tested[i] for i in np.flatnonzero((groups[test] == g) & (y[test] == -1))]
                if len(reals) < k + 1:
                    continue
                # rotate: each real of the group is scored by references that exclude it
                for r in range(len(reals)):
                    refs = [tested[i] for i in np.roll(reals, -r)[1 : k + 1]]
                    try:
                        scorers = {
                            p: base if p is None else calibrate_scorer(base, refs, prior_clips=p)
                            for p in scored
                        }
                    except InputError:  # a reference calibration refuses: rotation left out
                        continue
                    for prior, (live, fake) in scored.items():
                        scorer = scorers[prior]
                        s = scorer.score_samples([tested[reals[r]]])[0]
                        live.append((s, s - scorer.offset_))
                        if r == 0 and fakes:
                            sf = scorer.score_samples(fakes)
                            fake.extend(zip(sf, sf - scorer.offset_))
        for prior, (live, fake) in scored.items():
            if fake:
                rows[k, prior] = _rates(live, fake)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1", help="training seeds, comma-separated")
    parser.add_argument("--train-on", default="all", choices=("all", "landmarks"))
    parser.add_argument("--validation", default="groups", choices=("groups", "clips"))
    parser.add_argument("--calibrated", action="store_true", help="the calibrated protocol")
    parser.add_argument("--spoofs", action="store_true", help="the pseudo-spoof proxy")
    parser.add_argument("--cache", default=str(REPO / ".cache" / "bench_quality"))
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for CIs")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args(argv)
    given = sys.argv[1:] if argv is None else list(argv)
    import torch

    torch.set_num_threads(args.threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    t0 = time.perf_counter()
    data, clips = load_clips(args.cache)
    cv = SourceFolds()
    runs = {
        seed: fold_components(
            data, clips, cv, seed, args.cache, train_on=args.train_on, validation=args.validation
        )
        for seed in seeds
    }
    n = len(clips)
    labels = {key: label for key, label, _ in SCORINGS + SINGLE}
    rows = {
        key: [metrics(data, rescore(runs[s], n, params), args.n_boot, s) for s in seeds]
        for key, _, params in SCORINGS
    }
    if args.train_on == "all" and args.validation == "groups":
        labels.update(
            {
                "ocsvm": "LipMotionFeatures + OneClassSVM",
                "iforest": "LipMotionFeatures + IsolationForest",
            }
        )
        for key in BASELINES:
            rows[key] = [metrics(data, baseline(key, data, clips, cv), args.n_boot, 0)]
    families = sorted(set(data.generators[data.y == -1].tolist()))

    print("## Detection quality (`benchmarks/bench_quality.py`)\n")
    print(
        f"Command: `{' '.join(['python', 'benchmarks/bench_quality.py', *given])}`; "
        f"{time.strftime('%Y-%m-%d')}; {platform.node()} ({os.cpu_count()} cores, "
        f"{platform.processor() or platform.machine()}), Python {platform.python_version()}, "
        f"torch {torch.__version__}; seeds {seeds}; networks trained on "
        f"{args.train_on} live clips of each fold, validation by {args.validation}; "
        f"{(time.perf_counter() - t0) / 60:.0f} min (cached networks count as 0).\n"
    )
    print(cv.describe(data.y, data.groups, data.generators))
    print()
    counts = {f: int(np.sum(data.generators[data.y == -1] == f)) for f in families}
    print(table(rows, labels, families, counts))
    print(f"\n### Where each family lies (seed {seeds[0]}; median standardised component)\n")
    print(family_medians(data, runs[seeds[0]]))
    if args.spoofs:
        spoofs = {s: spoof_components(data, clips, cv, s, args.cache) for s in seeds}
        population = SCORINGS + SINGLE
        # the scoring rows' AUCs are in the table already; the single components' are not
        real_auc = {key: float(np.mean([r["auc"] for r in rows[key]])) for key, _, _ in SCORINGS}
        for key, _, p in SINGLE:
            real_auc[key] = float(
                np.mean([metrics(data, rescore(runs[s], n, p), 0, s)["auc"] for s in seeds])
            )
        text, _ = spoof_proxy(data, runs, spoofs, population, real_auc)
        print("\n### Pseudo-spoof proxy (strength 0.5; mean AUC over folds and seeds)\n")
        print(text)
    if args.calibrated:
        print("\n### Calibrated protocol (default scoring)\n")
        print(
            "Each test group with more than k real clips: each of its real clips is scored "
            "by a scorer calibrated on k other reals of the group (rotating), its fakes by "
            "the first; 'none' is the uncalibrated scorer on the same clips.\n"
        )
        print(
            "| k | calibration | seed | AUC | APCER | BPCER | live scored | fakes scored |\n"
            "|---:|---|---:|---:|---:|---:|---:|---:|"
        )
        for seed in seeds:
            for (k, prior), r in calibrated(data, runs[seed], (1, 3, 5)).items():
                how = "none" if prior is None else f"re-centred, prior_clips={prior:g}"
                print(
                    f"| {k} | {how} | {seed} | {r['auc']:.2f} | {r['apcer']:.2f} "
                    f"| {r['bpcer']:.2f} | {r['n_live']} | {r['n_fake']} |"
                )


if __name__ == "__main__":
    main()
