"""Detection quality on the development set, under the source-fold protocol.

Runs :class:`lipanomaly.LFHFVAEDetector` (default parameters but the training length), its
ablations and the baselines through :func:`lipanomaly.protocol.cross_val_scores` (5 folds by
recording source; fakes never trained on; paired fakes scored with their real input held
out; see ``docs/quality.md``) and prints one markdown table: per generator family the
clip-level ROC AUC with a bootstrap 95 % CI, the EER and the APCER at the detector's own
fitted threshold; over all fakes the AUC; the BPCER of the held-out real clips at that
threshold; and how many paired (real input, fake) clips are ordered correctly.

Ablations:

- score: each component alone (two-sided distance of one standardised component), the
  seed's linear combination ``S = DRS - dE + C``, errors relative to the motion energy;
- loss: each auxiliary training term switched off through its weight parameter (STFT,
  derivatives, decorrelation, jitter), and masked in-painting switched on (it is off by
  default, so "ablating" it means adding it).

Score ablations only change how a trained network is scored: with an int ``random_state``
the detector reuses the network trained for the default (same data, same network
parameters), so they cost scoring time only. Extracted lip sequences are cached with
joblib, trained networks in ``<cache>/lipanomaly_networks`` (the detectors' ``memory``), and
each variant's out-of-fold scores in ``<cache>/scores``: an interrupted run resumes.

Usage::

    python benchmarks/bench_quality.py                 # the full table (about an hour here)
    python benchmarks/bench_quality.py --quick         # smoke run: 2 epochs, few variants
    python benchmarks/bench_quality.py --only default,ocsvm
"""

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import joblib
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lipanomaly.datasets import load_development  # noqa: E402
from lipanomaly.protocol import (  # noqa: E402
    SourceFolds,
    check_no_leak,
    cross_val_scores,
    development_pairs,
)

#: (key, label, builder, parameters) of every row of the table, in order. Builder
#: "rescore:<base>": the trained networks and window components of the row ``<base>`` (see
#: BASES), scored with these parameters (they change only how components become a score).
RD, RR = "rescore:default", "rescore:relative"
VARIANTS = (
    ("default", "LFHFVAEDetector (default)", "detector", {}),
    # score ablations: the same trained network and components, scored otherwise
    ("all7", "score: all seven components (default before 2026-11-25)", RD, {"components": None}),
    ("drs", "score: DRS alone", RD, {"components": ("drs",)}),
    ("delta_e", "score: ΔE alone", RD, {"components": ("delta_e",)}),
    ("c", "score: C alone", RD, {"components": ("complexity",)}),
    ("rmse", "score: RMSE alone (OC extra)", RD, {"components": ("rmse",)}),
    ("latent", "score: latent RMSE alone (OC extra)", RD, {"components": ("latent_rmse",)}),
    ("e_smooth", "score: E_smooth alone", RD, {"components": ("e_smooth",)}),
    ("e_detail", "score: E_detail alone", RD, {"components": ("e_detail",)}),
    (
        "seed3",
        "score: two-sided on DRS, ΔE, C only",
        RD,
        {"components": ("drs", "delta_e", "complexity")},
    ),
    ("hf", "score: two-sided on E_detail, ΔE", RD, {"components": ("e_detail", "delta_e")}),
    ("drs_de", "score: two-sided on DRS, ΔE", RD, {"components": ("drs", "delta_e")}),
    (
        "drs_hf",
        "score: two-sided on DRS, E_detail, ΔE",
        RD,
        {"components": ("drs", "e_detail", "delta_e")},
    ),
    (
        "no_shape",
        "score: two-sided without E_smooth, RMSE, latent",
        RD,
        {"components": ("e_detail", "drs", "delta_e", "complexity")},
    ),
    ("linear", "score: linear S = DRS − ΔE + C (seed)", RD, {"combination": "linear"}),
    (
        "lin_de",
        "score: linear −ΔE alone (seed's sign, one-sided)",
        RD,
        {"combination": "linear", "alpha": 0.0, "beta": 1.0, "gamma": 0.0},
    ),
    ("median", "score: median over windows", RD, {"aggregation": "median"}),
    (
        "relative",
        "score: errors relative to motion (all seven)",
        "detector",
        {"relative_errors": True, "components": None},
    ),
    ("rel_drs", "score: relative, DRS alone", RR, {"components": ("drs",)}),
    (
        "rel_hf",
        "score: relative, two-sided on E_detail, ΔE",
        RR,
        {"components": ("e_detail", "delta_e")},
    ),
    # loss ablations: a network trained without the term
    (
        "no_stft",
        "loss: no STFT term (all seven)",
        "detector",
        {"stft_weight": 0.0, "components": None},
    ),
    (
        "no_deriv",
        "loss: no derivative term (all seven)",
        "detector",
        {"deriv_weight": 0.0, "components": None},
    ),
    (
        "no_decor",
        "loss: no decorrelation (all seven)",
        "detector",
        {"decor_weight": 0.0, "components": None},
    ),
    (
        "no_jitter",
        "loss: no jitter consistency (all seven)",
        "detector",
        {"jitter_weight": 0.0, "components": None},
    ),
    (
        "mask",
        "loss: + masked in-painting (0.1) (all seven)",
        "detector",
        {"mask_weight": 0.1, "components": None},
    ),
    # baselines
    ("ocvae1", "OCVAEDetector OC-FakeDect-1 (RMSE)", "ocvae", {"score": "rmse"}),
    ("ocvae2", "OCVAEDetector OC-FakeDect-2 (latent)", "ocvae", {"score": "latent"}),
    ("ocsvm", "LipMotionFeatures + OneClassSVM", "ocsvm", {}),
    ("iforest", "LipMotionFeatures + IsolationForest", "iforest", {}),
)


#: Detector rows whose per-fold components are kept for the "rescore:<base>" rows.
BASES = {"default": {}, "relative": {"relative_errors": True, "components": None}}


def build(builder, params, train):
    """A fresh estimator of one variant; ``train`` holds the networks' training settings."""
    if builder == "detector":
        from lipanomaly import LFHFVAEDetector

        return LFHFVAEDetector(**train, **params)
    if builder == "ocvae":
        from lipanomaly import OCVAEDetector

        return OCVAEDetector(**train, **params)
    from sklearn.ensemble import IsolationForest
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import OneClassSVM

    from lipanomaly import LipMotionFeatures

    final = (
        OneClassSVM(nu=0.2, gamma="scale")
        if builder == "ocsvm"
        else IsolationForest(n_estimators=200, contamination=0.2, random_state=0)
    )
    return make_pipeline(LipMotionFeatures(), StandardScaler(), final)


def load_clips(cache):
    """The development set's lip sequences (default extractor), cached with joblib."""
    from lipanomaly import LipLandmarkExtractor

    data = load_development()
    memory = joblib.Memory(os.path.join(cache, "clips"), verbose=0)

    @memory.cache
    def extract(files, params):
        return LipLandmarkExtractor(**params).fit_transform(data.tracks)

    ext = LipLandmarkExtractor()
    clips = extract(tuple(data.files), ext.get_params())
    return data, clips


def _score_path(cache, key, factory, config):
    params = repr(factory().get_params())
    blob = json.dumps({"key": key, "params": params, **config}, sort_keys=True)
    tag = hashlib.sha256(blob.encode()).hexdigest()[:16]
    return Path(cache) / "scores" / f"{key}-{tag}.npz"


def _load(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def run_variant(key, factory, clips, data, cv, cache, config):
    """Out-of-fold scores of one estimator, cached in ``<cache>/scores``."""
    path = _score_path(cache, key, factory, config)
    if path.is_file():
        return _load(path)
    t0 = time.perf_counter()
    res = cross_val_scores(factory(), clips, data.y, data.groups, cv=cv)
    out = {
        "scores": res.scores,
        "decision": res.decision,
        "fold": res.fold,
        "seconds": np.float64(time.perf_counter() - t0),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    return out


def _split_params(params):
    """(network transformer parameters, scorer parameters) of detector parameters."""
    from lipanomaly.components import LFHFComponents

    network = set(LFHFComponents().get_params())
    return (
        {k: v for k, v in params.items() if k in network},
        {k: v for k, v in params.items() if k not in network},
    )


def _save_components(path, **collections):
    """Per-clip component arrays, concatenated, with the number of windows of each clip."""
    arrays = {}
    for name, C in collections.items():
        arrays[name] = np.concatenate(C)
        arrays[f"{name}_lengths"] = np.array([len(a) for a in C])
    np.savez(path, **arrays)


def _load_components(path, *names):
    with np.load(path) as z:
        return [np.split(z[n], np.cumsum(z[f"{n}_lengths"])[:-1]) for n in names]


def run_detector(key, base_params, rescored, train_params, clips, data, cv, cache, config):
    """Out-of-fold scores of a detector and of the ``rescored`` scoring variants.

    The seam of the detector, in public API: per fold, its network transformer
    (:class:`lipanomaly.components.LFHFComponents`) is fitted once on the fold's live clips
    and computes the components of its validation clips and of the test clips; then the
    detector's :class:`lipanomaly.scorer.ComponentScorer` and one per variant of ``rescored``
    (``{key: scoring parameters}``) are fitted on the validation components and score the
    test components. Components are saved in ``<cache>/components`` for further study (and
    an interrupted run redoes only the scoring).
    """
    from lipanomaly.components import LFHFComponents
    from lipanomaly.scorer import ComponentScorer

    network_params, scorer_params = _split_params({**train_params, **base_params})
    variants = {key: scorer_params}
    variants.update({k: {**scorer_params, **p} for k, p in rescored.items()})
    tag = {"network": network_params, "format": 2}

    def factory(p):
        return lambda: ComponentScorer(**p)

    paths = {k: _score_path(cache, k, factory(p), {**config, **tag}) for k, p in variants.items()}
    if all(p.is_file() for p in paths.values()):
        return {k: _load(p) for k, p in paths.items()}
    y, groups = data.y, data.groups
    n = len(clips)
    out = {k: {"scores": np.full(n, np.nan), "decision": np.full(n, np.nan)} for k in paths}
    fold = np.full(n, -1)
    t0 = time.perf_counter()
    comp_dir = Path(cache) / "components" / paths[key].stem
    comp_dir.mkdir(parents=True, exist_ok=True)
    for k, (train, test) in enumerate(cv.split(clips, y, groups)):
        check_no_leak(train, test, y, groups)
        fold[test] = k
        saved = comp_dir / f"fold{k}.npz"
        if not saved.is_file():
            live = [clips[i] for i in train if y[i] == 1]
            network = LFHFComponents(**network_params).fit(live)
            _save_components(
                saved,
                valid=network.transform([live[i] for i in network.validation_index_]),
                test=network.transform([clips[i] for i in test]),
            )
            print(f"#   fold {k}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
        valid, tested = _load_components(saved, "valid", "test")
        for vkey, params in variants.items():
            scorer = ComponentScorer(**params).fit(valid)
            s = scorer.score_samples(tested)
            out[vkey]["scores"][test] = s
            out[vkey]["decision"][test] = s - scorer.offset_
    seconds = np.float64(time.perf_counter() - t0)
    for vkey, path in paths.items():
        out[vkey].update(fold=fold, seconds=seconds)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **out[vkey])
    return out


def _paired(scores, pairs):
    """How many (real input, fake made from it) pairs score the real clip higher."""
    good = sum(int(np.sum(scores[real] > scores[fakes])) for real, fakes in pairs)
    return good, sum(len(f) for _, f in pairs)


def table(results, labels, data, n_boot, seed):
    """One markdown table: per family AUC [CI] / EER / APCER; all fakes; BPCER; pairs."""
    from lipanomaly.evaluation import evaluate_scores

    y, gens = data.y, data.generators
    families = sorted(set(gens[y == -1].tolist()))
    pairs = development_pairs(data.files)
    head = ["detector", *families, "all fakes AUC [CI]", "BPCER", "pairs"]
    lines = [
        "| " + " | ".join(head) + " |",
        "| " + " | ".join(["---"] + ["---:"] * (len(head) - 1)) + " |",
    ]
    for key, res in results.items():
        r = evaluate_scores(
            y,
            res["scores"],
            generators=gens,
            decision=res["decision"],
            n_boot=n_boot,
            random_state=seed,
        )
        cells = [labels[key]]
        for fam in families:
            f = r["per_family"][fam]
            cells.append(
                f"{f['auc']:.2f} [{f['auc_ci'][0]:.2f}, {f['auc_ci'][1]:.2f}]"
                f" · {f['eer']:.2f} · {f['apcer']:.2f}"
            )
        good, total = _paired(res["scores"], pairs)
        cells += [
            f"{r['auc']:.2f} [{r['auc_ci'][0]:.2f}, {r['auc_ci'][1]:.2f}]",
            f"{r['bpcer']:.2f}",
            f"{good}/{total}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 epochs, 4 variants")
    parser.add_argument("--max-epochs", type=int, default=12, help="training epochs per fold")
    parser.add_argument("--only", default=None, help="comma-separated variant keys")
    parser.add_argument("--cache", default=str(REPO / ".cache" / "bench_quality"))
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for CIs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    args = parser.parse_args(argv)
    given = sys.argv[1:] if argv is None else list(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    epochs = 2 if args.quick else args.max_epochs
    cache = os.path.join(args.cache, "quick") if args.quick else args.cache
    train = {
        "max_epochs": epochs,
        "patience": max(2, epochs // 3),
        "kl_anneal_epochs": min(15, max(1, epochs // 2)),
        "random_state": args.seed,
        "memory": cache,
    }
    rows = list(VARIANTS)
    if args.quick:
        rows = [r for r in rows if r[0] in ("default", "drs", "ocvae1", "ocsvm")]
    if args.only:
        keep = set(args.only.split(","))
        rows = [r for r in rows if r[0] in keep]

    data, clips = load_clips(args.cache)
    cv = SourceFolds()
    config = {"epochs": epochs, "seed": args.seed, "n_clips": len(clips)}
    labels = {key: label for key, label, _, _ in VARIANTS}
    results = {}
    # score-only variants ride along with their base detector: one network per fold for all
    for base, base_params in BASES.items():
        rescored = {key: p for key, _, builder, p in rows if builder == f"rescore:{base}"}
        if rescored or any(r[0] == base for r in rows):
            t1 = time.perf_counter()
            results.update(
                run_detector(base, base_params, rescored, train, clips, data, cv, cache, config)
            )
            print(f"# {base} + rescored: {time.perf_counter() - t1:.0f} s", file=sys.stderr)
    for key, _, builder, params in rows:
        if key in results:
            continue
        t1 = time.perf_counter()
        factory = lambda b=builder, p=params: build(b, p, train)  # noqa: E731
        results[key] = run_variant(key, factory, clips, data, cv, cache, config)
        print(f"# {key}: {time.perf_counter() - t1:.0f} s", file=sys.stderr, flush=True)
    results = {r[0]: results[r[0]] for r in rows}
    computed = sum(float(results[k]["seconds"]) for k, _, b, _ in rows if not b.startswith("re"))

    print("## Detection quality (`benchmarks/bench_quality.py`)\n")
    print(
        f"Command: `{' '.join(['python', 'benchmarks/bench_quality.py', *given])}`; "
        f"{time.strftime('%Y-%m-%d')}; {platform.node()} ({os.cpu_count()} cores, "
        f"{platform.processor() or platform.machine()}), Python {platform.python_version()}; "
        f"training {epochs} epochs per fold, random_state={args.seed}; computing the rows "
        f"took {computed / 60:.0f} min (score-only rows share their base's networks).\n"
    )
    print(cv.describe(data.y, data.groups, data.generators))
    print()
    print(
        "Per family: AUC [bootstrap 95 % CI] · EER · APCER at the detector's fitted threshold; "
        "the family's fakes against every held-out real clip (out-of-fold scores of 5 "
        "source folds). BPCER: held-out real clips called spoofs at the fitted threshold. "
        "pairs: (real input, its fake) pairs with the real clip scored higher.\n"
    )
    print(table(results, labels, data, args.n_boot, args.seed))


if __name__ == "__main__":
    main()
