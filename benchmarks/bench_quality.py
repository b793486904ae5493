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
import copy
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
from lipanomaly.windows import aggregate  # noqa: E402

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


def _score_fold(variants, tst, test, out):
    """Score a fold's test windows with every calibrated variant (the detector's own code)."""
    for vkey, v in variants.items():
        s = aggregate(v._window_scores(tst[0]), tst[1], len(test), how=v.aggregation)
        out[vkey]["scores"][test] = s
        out[vkey]["decision"][test] = s - v.offset_


def run_detector(key, factory, rescored, clips, data, cv, cache, config):
    """Out-of-fold scores of a detector and of the ``rescored`` scoring variants.

    The detector is fitted once per fold; the raw window components it computes for its
    live validation clips (while calibrating) and for the test clips are kept, and every
    variant of ``rescored`` (``{key: (factory, parameters)}``, parameters that only change
    how components become a score) is calibrated and scored from them with the detector's
    own code. Components are saved in ``<cache>/components`` for further study.
    """
    paths = {key: _score_path(cache, key, factory, config)}
    paths.update({k: _score_path(cache, k, f, config) for k, (f, _) in rescored.items()})
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
        if saved.is_file():  # components of an earlier run: only the scoring is redone
            with np.load(saved) as z:
                val = (z["valid_components"], z["valid_clip_index"], None)
                tst = (z["test_components"], z["test_clip_index"])
            variants = {}
            for vkey, (vfactory, _) in {key: (factory, {}), **rescored}.items():
                v = vfactory()
                v._check_extra_params()
                v._components_all = lambda cl, val=val: val
                v._calibrate([None] * int(val[1].max() + 1))
                variants[vkey] = v
            _score_fold(variants, tst, test, out)
            continue
        est = factory()
        recorded = []
        compute = est._components_all

        def record(cl, compute=compute, recorded=recorded):
            result = compute(cl)
            recorded.append(result)
            return result

        est._components_all = record  # keeps the validation components of _calibrate
        est.fit([clips[i] for i in train], y[train])
        val = recorded[-1]
        tst = est._components_all([clips[i] for i in test])
        np.savez(
            comp_dir / f"fold{k}.npz",
            test=test,
            train=train,
            validation_index=est.validation_index_,
            valid_components=val[0],
            valid_clip_index=val[1],
            test_components=tst[0],
            test_clip_index=tst[1],
            columns=np.array(est._component_names),
        )
        variants = {key: est}
        for vkey, (_, params) in rescored.items():
            v = copy.copy(est)  # shares the trained network (read only)
            v.set_params(**params)
            v._check_extra_params()
            v._components_all = lambda cl, val=val: val
            v._calibrate([None] * int(val[1].max() + 1))
            variants[vkey] = v
        _score_fold(variants, tst, test, out)
        print(f"#   fold {k}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
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
    # score-only variants ride along with their base detector: one fit per fold for all
    for base, base_params in BASES.items():
        rescored = {
            key: (lambda p={**base_params, **params}: build("detector", p, train), params)
            for key, _, builder, params in rows
            if builder == f"rescore:{base}"
        }
        if rescored or any(r[0] == base for r in rows):
            t1 = time.perf_counter()
            factory = lambda p=base_params: build("detector", p, train)  # noqa: E731
            results.update(run_detector(base, factory, rescored, clips, data, cv, cache, config))
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
