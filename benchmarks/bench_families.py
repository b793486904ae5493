"""Leave-family-out quality of FaceMotionDetector, its ablations, baselines and confounds.

The protocol of issue 23, item 7, and of ``docs/quality.md``: the three development
collections (``load_development(collections=("landmarks", "wild", "modern"))``: 273 live
clips of many groups, 197 fakes of 26 generator families), dealt into folds by
:class:`lipanomaly.evaluation.protocol.FamilyFolds` (fakes by generator family, live clips by group;
a fold trains on no clip of its test families nor of its test groups), 5 folds for each of
two seeds (``random_state`` of the splitter and of every model), every clip scored once
per seed, out of fold.

- **Main detector**: ``FaceMotionDetector(random_state=seed)`` fitted on each fold's
  training clips, live and fake, with ``groups`` = the live clips' groups and the fakes'
  generator families (each live group and each fake family weighs as one); also under
  leave-one-family-out (``FamilyFolds(n_splits=None)``).
- **Baselines** on the same folds, one-class, fitted on the fold's live training clips only
  (with their groups, so that the networks' validation clips are whole groups):
  ``LFHFVAEDetector`` and ``OCVAEDetector`` on lip clips (``LipLandmarkExtractor()``), and
  ``LipMotionFeatures`` + ``OneClassSVM`` / ``IsolationForest``. Each network fold's scores
  and the LFHF per-clip components (``score_components``, of the fold's training and test
  clips) are kept in ``<cache>/folds``, so an interrupted run resumes.
- **Ablations** of the detector on the same folds: regions (lips / context / both),
  one-class against with fakes, training without ``modern/``, pseudo-spoofs of the fold's
  live training clips as extra negatives, the LFHF components stacked as features.
- **Confounds** on the same folds: a metadata-only model (fps, frame width and height, face
  width in pixels) through the detector's own scoring and through gradient boosting; the
  detector's AUC within strata of native frame rate and of face size; how well the
  features predict a 25 fps recording among live clips, with and without their low-pass.

Metrics (:func:`lipanomaly.evaluation.metrics.evaluate_scores`): per family the clip-level ROC AUC
(live = positive class) against all out-of-fold live clips, with a bootstrap 95 %
interval; the mean over families and over families of at least 4 clips, the worst of
those; the pooled AUC; the pooled APCER at each fold model's own threshold
(``decision_function >= 0``) and the BPCER of the live test clips (groups the fold never
trained on). Tables give the mean over seeds (intervals: the widest of the seeds').

Usage::

    nice -n 10 env OMP_NUM_THREADS=1 python benchmarks/bench_families.py        # everything
    python benchmarks/bench_families.py --parts main,lofo,confounds            # no networks

The networks take minutes per fold on 2 cores (20 fits); the rest takes minutes in all.
The results are printed (markdown) and written to ``<cache>/results.md``.
"""

import argparse
import functools
import hashlib
import os
import platform
import sys
import time
from pathlib import Path

import joblib
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lipanomaly.evaluation.protocol import FamilyFolds  # noqa: E402
from lipanomaly.io.datasets import load_development  # noqa: E402

COLLECTIONS = ("landmarks", "wild", "modern")
PARTS = ("main", "lofo", "baselines", "ablations", "confounds")
#: Families with at least this many fakes count in the "families with >= 4 clips" targets.
MIN_CLIPS = 4
#: Metadata columns of the confound baseline.
META = ("fps", "frame_width", "frame_height", "face_px")
#: Rows of a face clip that hold the 130 face points (the last two hold the head pose).
N_POINTS = 130


# -- data ---------------------------------------------------------------------------------------


@functools.cache
def source_hash():
    """A hash of the package's source: the clips and features cached follow its changes."""
    h = hashlib.sha1()
    for path in sorted((REPO / "lipanomaly").rglob("*.py")):
        h.update(path.relative_to(REPO).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def content_key(*parts):
    """A hash of arrays, lists of arrays and strings (what a cached fold was computed from)."""
    h = hashlib.sha1()
    for part in parts:
        for a in part if isinstance(part, list) else [part]:
            a = np.asarray(a)
            h.update(f"{a.dtype}{a.shape}".encode())
            h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def load_clips(cache):
    """The development set, its face clips and lip clips, and the features (cached, keyed
    by the files, the parameters and the package's source)."""
    from lipanomaly import LipLandmarkExtractor, LipMotionFeatures
    from lipanomaly.detectors.face import FaceMotionFeatures, face_extractor

    data = load_development(collections=COLLECTIONS)
    memory = joblib.Memory(os.path.join(cache, "clips"), verbose=0)
    files = (tuple(data.files), source_hash())

    @memory.cache
    def extract(files, params):
        return LipLandmarkExtractor(**params).fit_transform(data.tracks)

    face = extract(files, face_extractor().get_params())
    lips = extract(files, LipLandmarkExtractor().get_params())
    assert len(face) == len(lips) == len(data.y), "one clip per track expected"

    @memory.cache
    def face_features(files, params):
        return FaceMotionFeatures(**params).fit_transform(face)

    @memory.cache
    def lip_features(files, params):
        return LipMotionFeatures(**params).fit_transform(lips)

    feats = {
        "face": face_features(files, FaceMotionFeatures().get_params()),
        "face_raw": face_features(files, FaceMotionFeatures(lowpass=None).get_params()),
        "lips": lip_features(files, LipMotionFeatures().get_params()),
    }
    return data, face, lips, feats


def metadata(data):
    """(n_clips, 4): native fps, frame width and height, and the face's width in pixels.

    The face width is the median over frames of the FaceMesh box's width (all 478 points),
    in pixels of the video.
    """
    rows = []
    for t in data.tracks:
        x = np.asarray(t.landmarks)[:, :, 0]
        ok = np.isfinite(x).all(axis=1)
        width = (x[ok].max(axis=1) - x[ok].min(axis=1)) * t.width
        rows.append((t.fps, t.width, t.height, float(np.median(width))))
    return np.asarray(rows, dtype=np.float64)


def weight_groups(data):
    """The ``groups`` the detector is fitted with: live group, or the fake's family."""
    return np.where(data.y == 1, data.groups, data.generators)


# -- folds --------------------------------------------------------------------------------------


def make_folds(data, seed, n_splits=5):
    """``[(train, test), ...]`` of FamilyFolds, checked: no leak, every clip tested once."""
    y, groups, fam = data.y, data.groups, data.generators
    cv = FamilyFolds(fam, n_splits=n_splits, random_state=seed)
    folds = list(cv.split(np.zeros(len(y)), y, groups))
    tested = np.concatenate([test for _, test in folds])
    assert np.array_equal(np.sort(tested), np.arange(len(y))), "a clip is not tested once"
    for train, test in folds:
        assert not np.intersect1d(train, test).size
        assert not set(groups[train]) & set(groups[test]), "a test group is trained on"
        train_fams = set(fam[train][y[train] == -1])
        assert not train_fams & set(fam[test][y[test] == -1]), "a test family is trained on"
    return folds


def describe_folds(data, folds):
    """A markdown table of the folds: test families, live test clips, training clips."""
    y, fam, groups = data.y, data.generators, data.groups
    lines = [
        "| fold | test families (fakes) | live test clips (groups) | training clips: live "
        "(groups) / fakes (families) | left out (share a group with a test clip) |",
        "|---:|---|---:|---:|---:|",
    ]
    for k, (train, test) in enumerate(folds):
        fakes = test[y[test] == -1]
        names, counts = np.unique(fam[fakes], return_counts=True)
        fam_txt = ", ".join(f"{n} {c}" for n, c in zip(names, counts))
        live = test[y[test] == 1]
        tr_live, tr_fake = train[y[train] == 1], train[y[train] == -1]
        left = len(y) - len(train) - len(test)
        lines.append(
            f"| {k} | {fam_txt} | {len(live)} ({len(set(groups[live]))}) | "
            f"{len(tr_live)} ({len(set(groups[tr_live]))}) / {len(tr_fake)} "
            f"({len(set(fam[tr_fake]))}) | {left} |"
        )
    return "\n".join(lines)


# -- FaceMotionDetector on features --------------------------------------------------------------


def face_variant(
    data,
    F,
    folds,
    seed,
    *,
    names=None,
    one_class=False,
    train_mask=None,
    extra=None,
    **params,
):
    """Out-of-fold scores of ``FaceMotionDetector(random_state=seed, **params)`` fitted on
    features (``fit_features`` / ``score_features``).

    ``F``: an (n_clips, p) array, or a function ``fold -> array`` (stacked features that
    depend on the fold's model). ``one_class``: live training clips only. ``train_mask``:
    which clips may be trained on at all. ``extra``: a function ``(fold, train) -> (F, y,
    groups)`` of extra training clips (pseudo-spoofs).
    """
    from lipanomaly import FaceMotionDetector

    y, gw = data.y, weight_groups(data)
    scores, decision = np.full(len(y), np.nan), np.full(len(y), np.nan)
    for k, (train, test) in enumerate(folds):
        Fk = F(k) if callable(F) else F
        tr = train if train_mask is None else train[train_mask[train]]
        if one_class:
            tr = tr[y[tr] == 1]
        Ftr, ytr, gtr = Fk[tr], y[tr], gw[tr]
        if extra is not None:
            Fx, yx, gx = extra(k, tr)
            Ftr, ytr, gtr = np.vstack([Ftr, Fx]), np.r_[ytr, yx], np.r_[gtr, gx]
        det = FaceMotionDetector(random_state=seed, **params)
        det.fit_features(Ftr, ytr, groups=gtr, feature_names=names)
        s = det.score_features(Fk[test])
        scores[test], decision[test] = s, s - det.offset_
    return {"scores": scores, "decision": decision}


def face_main(data, face, folds, seed):
    """The main detector through its public clip path: ``fit(clips, y, groups)``."""
    from lipanomaly import FaceMotionDetector

    y, gw = data.y, weight_groups(data)
    scores, decision = np.full(len(y), np.nan), np.full(len(y), np.nan)
    for train, test in folds:
        det = FaceMotionDetector(random_state=seed)
        det.fit([face[i] for i in train], y[train], groups=gw[train])
        clips = [face[i] for i in test]
        scores[test] = det.score_samples(clips)
        decision[test] = det.decision_function(clips)
    return {"scores": scores, "decision": decision}


def region_columns(regions):
    from lipanomaly.detectors.face_motion import FEATURES, feature_names

    names = feature_names(regions)
    return [i for i, f in enumerate(FEATURES) if f[0] in names], names


# -- pseudo-spoofs of face clips -----------------------------------------------------------------


def face_spoofs(clips, random_state):
    """Pseudo-spoofs of face clips: the 130 face points and the two pose rows spoofed apart.

    :func:`lipanomaly.evaluation.spoofs.make_spoofs` is made for lip clips; a face clip's last two
    rows are the head pose (translation; roll and log scale), in other units than the points.
    Each kind is applied to the points as one shape and to the pose rows as another, with
    the same seed (so ``transplant`` takes points and pose from the same donor clip, and
    each part is rescaled to its own motion energy).
    """
    from lipanomaly.evaluation.spoofs import make_spoofs

    points, kinds = make_spoofs([c[:, :N_POINTS] for c in clips], random_state=random_state)
    pose, kinds_pose = make_spoofs([c[:, N_POINTS:] for c in clips], random_state=random_state)
    assert np.array_equal(kinds, kinds_pose)
    return [np.concatenate([a, b], axis=1) for a, b in zip(points, pose)], kinds


def spoof_features(data, face, folds, seed, cache):
    """Per fold: features of pseudo-spoofs of its live training clips, and their kinds."""
    from lipanomaly.detectors.face import FaceMotionFeatures

    folder = Path(cache) / "spoofs"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k, (train, _) in enumerate(folds):
        live = train[data.y[train] == 1]
        key = content_key(source_hash(), [face[i] for i in live], str(seed))
        path = folder / f"seed{seed}-fold{k}-{key[:12]}.npz"
        if not path.is_file():
            spoofs, kinds = face_spoofs([face[i] for i in live], random_state=seed)
            F = FaceMotionFeatures().fit_transform(spoofs)
            _save(path, F=F, kinds=kinds, source=live)
        with np.load(path) as z:
            out.append((z["F"], z["kinds"], z["source"]))
    return out


def check_spoofs(face, seed=0, n=12):
    """What the spoofs do to face clips: features finite, how far each kind moves them."""
    from lipanomaly.detectors.face import FaceMotionFeatures

    clips = [face[i] for i in range(n)]
    spoofs, kinds = face_spoofs(clips, random_state=seed)
    assert all(s.shape == clips[j % n].shape for j, s in enumerate(spoofs))
    F0 = FaceMotionFeatures().fit_transform(clips)
    F1 = FaceMotionFeatures().fit_transform(spoofs)
    scale = F0.std(axis=0) + 1e-12
    lines = [
        "| kind | features shifted by it, median / 90th percentile (SDs of the originals) |",
        "|---|---:|",
    ]
    for kind in dict.fromkeys(kinds.tolist()):
        d = np.abs(F1[kinds == kind] - F0) / scale
        lines.append(f"| {kind} | {np.median(d):.2f} / {np.percentile(d, 90):.2f} |")
    return "\n".join(lines)


# -- networks and hand-feature baselines ---------------------------------------------------------


def _save(path, **arrays):
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def network_folds(kind, data, lips, folds, seed, cache, only=None):
    """Per fold, out-of-fold scores of a one-class network trained on live training clips.

    ``kind``: ``"lfhf"`` (``LFHFVAEDetector``; its per-clip ``score_components`` of the
    fold's training and test clips are kept too) or ``"ocvae"`` (``OCVAEDetector``).
    Returns ``(scores, decision, components)``; components: a list per fold of
    ``(clip indices, {name: values})`` or None. ``only``: compute (and cache) these folds
    only, and return None (a second process sharing the work).
    """
    from lipanomaly import LFHFVAEDetector, OCVAEDetector

    y, groups = data.y, data.groups
    folder = Path(cache) / "folds"
    folder.mkdir(parents=True, exist_ok=True)
    scores, decision = np.full(len(y), np.nan), np.full(len(y), np.nan)
    components = []
    cls = LFHFVAEDetector if kind == "lfhf" else OCVAEDetector
    params = cls(random_state=seed).get_params()
    for k, (train, test) in enumerate(folds):
        if only is not None and k not in only:
            continue
        live = train[y[train] == 1]
        scored = np.union1d(train, test) if kind == "lfhf" else test
        # what the fold's results were computed from: a change of clips or folds recomputes
        # them (a change of the network code does not: clear <cache>/folds then)
        key = content_key(
            repr(sorted(params.items())),
            [lips[i] for i in live],
            groups[live],
            test,
            [lips[i] for i in scored],
        )
        path = folder / f"{kind}-seed{seed}-fold{k}.npz"
        if path.is_file():
            with np.load(path) as z:
                stale = "key" not in z.files or str(z["key"]) != key
            if stale:
                print(f"# {path.name}: computed from other clips or folds, again", file=sys.stderr)
                path.unlink()
        if not path.is_file():
            t0 = time.perf_counter()
            det = cls(**{**params, "memory": os.path.join(cache, "networks")})
            det.fit([lips[i] for i in live], groups=groups[live])
            t_fit = time.perf_counter() - t0
            arrays = {"test": test, "offset": np.float64(det.offset_), "key": np.array(key)}
            if kind == "lfhf":
                # the training clips (in-sample for the network) and the test clips
                comps = det.score_components([lips[i] for i in scored])
                arrays["index"] = scored
                arrays.update({f"c_{n}": v for n, v in comps.items()})
                s = comps["score"][np.searchsorted(scored, test)]
                check = det.score_samples([lips[i] for i in test[:3]])
                assert np.allclose(check, s[:3]), "score_components' score != score_samples"
            else:
                s = det.score_samples([lips[i] for i in test])
            arrays["scores"] = s
            _save(path, **arrays, t_fit=np.float64(t_fit))
            print(
                f"# {kind} seed {seed} fold {k}: {len(live)} live training clips, "
                f"{det.network_.n_epochs_} epochs at most, fit {t_fit:.0f} s, "
                f"all {time.perf_counter() - t0:.0f} s, load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
                flush=True,
            )
        with np.load(path) as z:
            scores[z["test"]] = z["scores"]
            decision[z["test"]] = z["scores"] - z["offset"]
            if kind == "lfhf":
                names = [n[2:] for n in z.files if n.startswith("c_")]
                components.append((z["index"], {n: z[f"c_{n}"] for n in names}))
    return {"scores": scores, "decision": decision}, (components or None)


def lfhf_stack(components, n):
    """Per fold: the (n_clips, p) matrix of LFHF components (NaN for clips not scored)."""
    names = sorted(components[0][1])
    out = []
    for idx, comps in components:
        M = np.full((n, len(names)), np.nan)
        M[idx] = np.column_stack([comps[c] for c in names])
        out.append(M)
    return out, names


def hand_baseline(key, data, L, folds, seed):
    """LipMotionFeatures (precomputed: the transformer is stateless) + StandardScaler +
    OneClassSVM / IsolationForest, fitted on each fold's live training clips."""
    from sklearn.ensemble import IsolationForest
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import OneClassSVM

    y = data.y
    scores, decision = np.full(len(y), np.nan), np.full(len(y), np.nan)
    for train, test in folds:
        final = (
            OneClassSVM(nu=0.2, gamma="scale")
            if key == "ocsvm"
            else IsolationForest(n_estimators=200, contamination=0.2, random_state=seed)
        )
        pipe = make_pipeline(StandardScaler(), final)
        pipe.fit(L[train[y[train] == 1]])
        scores[test] = pipe.score_samples(L[test])
        decision[test] = pipe.decision_function(L[test])
    return {"scores": scores, "decision": decision}


# -- confounds -----------------------------------------------------------------------------------


def class_weights(y, groups):
    """Each group weighs as one within its class, and both classes weigh the same."""
    keys = np.char.add(np.where(y == 1, "live:", "fake:"), groups.astype(str))
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    w = 1.0 / counts[inverse]
    for label in (1, -1):
        w[y == label] /= w[y == label].sum()
    return w * len(y) / w.sum()


def boosting(data, M, folds, seed):
    """Gradient boosting on features ``M`` (live vs fake, weighted as the detector is):
    out-of-fold log-odds of live; the decision is log-odds >= 0."""
    from sklearn.ensemble import GradientBoostingClassifier

    y, gw = data.y, weight_groups(data)
    scores = np.full(len(y), np.nan)
    for train, test in folds:
        gb = GradientBoostingClassifier(random_state=seed)
        gb.fit(M[train], y[train], sample_weight=class_weights(y[train], gw[train]))
        scores[test] = gb.decision_function(M[test])  # classes_ [-1, 1]: log-odds of live
    return {"scores": scores, "decision": scores.copy()}


def fps_probe(data, F, seed=0):
    """AUC of gradient boosting predicting a native 25 fps from the features, live clips
    only, out of fold over 5 folds of whole live groups."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    live = np.flatnonzero(data.y == 1)
    target = np.isclose(metadata_fps(data)[live], 25.0, atol=0.01).astype(int)
    p = np.full(len(live), np.nan)
    cv = GroupKFold(n_splits=5, shuffle=True, random_state=seed)
    for train, test in cv.split(live, groups=data.groups[live]):
        gb = GradientBoostingClassifier(random_state=seed).fit(F[live[train]], target[train])
        p[test] = gb.predict_proba(F[live[test]])[:, 1]
    return roc_auc_score(target, p), int(target.sum()), len(target)


def metadata_fps(data):
    return np.array([t.fps for t in data.tracks], dtype=np.float64)


def strata_aucs(data, res, strata):
    """AUC of live against fake within each stratum (a boolean mask per name)."""
    from lipanomaly.evaluation.metrics import roc_auc

    out = {}
    for name, mask in strata.items():
        y = data.y[mask]
        n_live, n_fake = int((y == 1).sum()), int((y == -1).sum())
        auc = roc_auc(y, res["scores"][mask]) if n_live and n_fake else float("nan")
        fams = len(set(data.generators[mask & (data.y == -1)]))
        out[name] = (auc, n_live, n_fake, fams)
    return out


# -- metrics and tables --------------------------------------------------------------------------


def metrics(data, res, n_boot, seed):
    """evaluate_scores of one run, with the family summaries of the protocol."""
    from lipanomaly.evaluation.metrics import evaluate_scores

    assert np.isfinite(res["scores"]).all(), "a clip was not scored"
    decision = res.get("decision")
    r = evaluate_scores(
        data.y,
        res["scores"],
        generators=data.generators,
        decision=decision,
        n_boot=n_boot,
        random_state=seed,
    )
    fam = r["per_family"]
    big = [f for f in fam if fam[f]["n"] >= MIN_CLIPS]
    r["mean_family"] = float(np.mean([fam[f]["auc"] for f in fam]))
    r["mean_big"] = float(np.mean([fam[f]["auc"] for f in big]))
    worst = min(big, key=lambda f: fam[f]["auc"])
    r["worst_big"] = (worst, fam[worst]["auc"])
    r["n_below"] = sum(fam[f]["auc"] < 0.75 for f in big)
    r["n_big"] = len(big)
    return r


def _ci(runs, key="auc"):
    """Mean over seeds [widest bootstrap interval of the seeds]; no interval without one."""
    mean = np.mean([r[key] for r in runs])
    lows = [r[f"{key}_ci"][0] for r in runs]
    if any(np.isnan(lows)):
        return f"{mean:.2f}"
    return f"{mean:.2f} [{min(lows):.2f}, {max(r[f'{key}_ci'][1] for r in runs):.2f}]"


def _rate(runs, key):
    values = [r[key] for r in runs]
    return "—" if any(np.isnan(values)) else f"{np.mean(values):.2f}"


def summary_table(rows, labels):
    """Per detector (mean over seeds): mean family AUC (per seed), mean and worst over the
    families of >= 4 clips, pooled AUC, pooled APCER and BPCER at the fitted threshold."""
    lines = [
        f"| detector | mean family AUC (per seed) | mean, families ≥ {MIN_CLIPS} clips | "
        f"worst family ≥ {MIN_CLIPS} clips | families ≥ {MIN_CLIPS} below 0.75 | "
        "pooled AUC [95 % CI] | APCER | BPCER |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for key, runs in rows.items():
        per_seed = ", ".join(f"{r['mean_family']:.2f}" for r in runs)
        worst = [r["worst_big"] for r in runs]
        if len({f for f, _ in worst}) == 1:
            worst_txt = f"{worst[0][0]} {np.mean([a for _, a in worst]):.2f}"
        else:
            worst_txt = " / ".join(f"{f} {a:.2f}" for f, a in worst)
        below = np.mean([r["n_below"] for r in runs])
        lines.append(
            f"| {labels[key]} | {np.mean([r['mean_family'] for r in runs]):.2f} ({per_seed}) | "
            f"{np.mean([r['mean_big'] for r in runs]):.2f} | {worst_txt} | "
            f"{below:g} of {runs[0]['n_big']} | {_ci(runs)} | {_rate(runs, 'apcer_pooled')} | "
            f"{_rate(runs, 'bpcer')} |"
        )
    return "\n".join(lines)


def family_table(rows, labels, data, *, intervals=True):
    """AUC per family (rows) and detector (columns), mean over seeds [widest interval]."""
    fams = sorted(
        set(data.generators[data.y == -1].tolist()),
        key=lambda f: (-int(np.sum(data.generators == f)), f.lower()),
    )
    lines = [
        "| family (fakes) | " + " | ".join(labels[k] for k in rows) + " |",
        "|---|" + "---:|" * len(rows),
    ]
    for f in fams:
        n = int(np.sum((data.generators == f) & (data.y == -1)))
        cells = []
        for runs in rows.values():
            fr = [r["per_family"][f] for r in runs]
            cells.append(_ci(fr) if intervals else f"{np.mean([x['auc'] for x in fr]):.2f}")
        lines.append(f"| {f} ({n}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- the run -------------------------------------------------------------------------------------


class Report:
    """Prints markdown and keeps it for ``<cache>/results.md``."""

    def __init__(self):
        self.parts = []

    def __call__(self, text=""):
        print(text, flush=True)
        self.parts.append(text)

    def write(self, path):
        path.write_text("\n".join(self.parts) + "\n")


# the ablations that read the LFHF network's components (run on --network-seeds)
NETWORK_ABLATIONS = ("stack", "lfhf_only")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1", help="seeds, comma-separated")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated, of {', '.join(PARTS)}"
    )
    parser.add_argument("--cache", default=str(REPO / ".cache" / "bench_families"))
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples for CIs")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument(
        "--networks",
        default="lfhf,ocvae",
        help="network baselines to run (two processes may share the work: --networks ocvae)",
    )
    parser.add_argument(
        "--network-folds",
        default=None,
        help="compute and cache these folds of the networks only, then stop (comma-separated)",
    )
    parser.add_argument(
        "--network-seeds",
        default=None,
        help="seeds of the network baselines and of the stacking ablation (default: --seeds); "
        "a network fold takes 10-15 min on one core",
    )
    args = parser.parse_args(argv)
    given = sys.argv[1:] if argv is None else list(argv)
    parts = [p for p in args.parts.split(",") if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    net_seeds = (
        seeds if args.network_seeds is None else [int(s) for s in args.network_seeds.split(",")]
    )
    only = None if args.network_folds is None else {int(k) for k in args.network_folds.split(",")}
    if not set(net_seeds) <= set(seeds):
        parser.error("--network-seeds must be among --seeds")
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    if "baselines" in parts or "ablations" in parts:
        import torch

        torch.set_num_threads(args.threads)
    out = Report()
    timings = {}
    load_start = os.getloadavg()
    t_all = t0 = time.perf_counter()
    data, face, lips, feats = load_clips(str(cache))
    timings["data, clips and features (cached after the first run)"] = time.perf_counter() - t0
    n = len(data.y)
    folds = {s: make_folds(data, s) for s in seeds}
    labels, rows = {}, {}

    def add(key, label, results, n_boot=args.n_boot, run_seeds=seeds):
        if list(run_seeds) != seeds:
            label = f"{label}, seed {', '.join(map(str, run_seeds))} only"
        labels[key] = label
        assert len(results) == len(run_seeds)
        rows[key] = [metrics(data, res, n_boot, s) for s, res in zip(run_seeds, results)]

    out("## Leave-family-out protocol (`benchmarks/bench_families.py`)\n")
    n_fake_fams = len(set(data.generators[data.y == -1]))
    out(
        f"{n} clips: {int((data.y == 1).sum())} live of {len(set(data.groups[data.y == 1]))} "
        f"groups, {int((data.y == -1).sum())} fakes of {n_fake_fams} families "
        f"({', '.join(COLLECTIONS)}).\n"
    )
    for s in seeds:
        out(f"### Folds, seed {s}\n")
        out(describe_folds(data, folds[s]))
        out()

    results = {}
    if "main" in parts:
        t0 = time.perf_counter()
        results["main"] = [face_main(data, face, folds[s], s) for s in seeds]
        add("main", "FaceMotionDetector, with fakes (5 folds)", results["main"])
        timings["main detector (fit on clips, 2 × 5 folds)"] = time.perf_counter() - t0
    if "lofo" in parts:
        t0 = time.perf_counter()
        lofo = {s: make_folds(data, s, n_splits=None) for s in seeds}
        res = [face_variant(data, feats["face"], lofo[s], s) for s in seeds]
        add("lofo", "FaceMotionDetector, leave one family out", res)
        timings[f"main detector, leave one family out (2 × {len(lofo[seeds[0]])} folds)"] = (
            time.perf_counter() - t0
        )
    networks = {}
    if "baselines" in parts or "ablations" in parts:
        t0 = time.perf_counter()
        kinds = args.networks.split(",") if "baselines" in parts else ["lfhf"]
        for kind in kinds:
            networks[kind] = [
                network_folds(kind, data, lips, folds[s], s, cache, only=only) for s in net_seeds
            ]
        timings["networks (cached folds count as 0)"] = time.perf_counter() - t0
        if only is not None:
            print(f"# folds {sorted(only)} of {kinds} computed and cached", file=sys.stderr)
            return
    if "baselines" in parts:
        t0 = time.perf_counter()
        for kind, label in (
            ("lfhf", "LFHFVAEDetector (one-class, lips)"),
            ("ocvae", "OCVAEDetector (one-class, lips)"),
        ):
            if kind in networks:
                add(kind, label, [r for r, _ in networks[kind]], run_seeds=net_seeds)
        for key, label in (
            ("ocsvm", "LipMotionFeatures + OneClassSVM"),
            ("iforest", "LipMotionFeatures + IsolationForest"),
        ):
            res = [hand_baseline(key, data, feats["lips"], folds[s], s) for s in seeds]
            add(key, label, res)
        timings["hand-feature baselines and metrics"] = time.perf_counter() - t0

    main_keys = [k for k in ("main", "lofo", "lfhf", "ocvae", "ocsvm", "iforest") if k in rows]
    if main_keys:
        out("### Main detector and baselines (mean over seeds)\n")
        out(summary_table({k: rows[k] for k in main_keys}, labels))
        out()
        out(family_table({k: rows[k] for k in main_keys}, labels, data))
        out()

    if "ablations" in parts:
        t0 = time.perf_counter()
        F = feats["face"]
        ab = {}
        for regions in ("both", "lips", "context"):
            cols, names = region_columns(regions)
            ab[f"regions_{regions}"] = (
                f"{regions}, with fakes",
                [face_variant(data, F[:, cols], folds[s], s, names=names) for s in seeds],
            )
        if "main" in results:
            for a, b in zip(results["main"], ab["regions_both"][1]):
                assert np.allclose(a["scores"], b["scores"]), "fit(clips) != fit_features(F)"
        ab["one_class"] = (
            "both, one-class (live clips only)",
            [face_variant(data, F, folds[s], s, one_class=True) for s in seeds],
        )
        not_modern = data.collections != "modern"
        ab["no_modern"] = (
            "both, with fakes, trained without modern/",
            [face_variant(data, F, folds[s], s, train_mask=not_modern) for s in seeds],
        )
        spoofs = {s: spoof_features(data, face, folds[s], s, cache) for s in seeds}

        def spoof_extra(s):
            def extra(k, tr):
                Fx, _, _ = spoofs[s][k]
                return Fx, -np.ones(len(Fx), int), np.full(len(Fx), "pseudo")

            return extra

        ab["spoofs"] = (
            "both, with fakes + pseudo-spoofs",
            [face_variant(data, F, folds[s], s, extra=spoof_extra(s)) for s in seeds],
        )
        ab["spoofs_only"] = (
            "both, live + pseudo-spoofs (no fakes)",
            [
                face_variant(data, F, folds[s], s, one_class=True, extra=spoof_extra(s))
                for s in seeds
            ],
        )
        from lipanomaly.detectors.face_motion import feature_names

        stacks = {}
        for s, (_, comps) in zip(net_seeds, networks["lfhf"]):
            stacks[s] = lfhf_stack(comps, n)
        cnames = stacks[net_seeds[0]][1]
        ab["stack"] = (
            "both + LFHF components, with fakes",
            [
                face_variant(
                    data,
                    lambda k, s=s: np.hstack([F, stacks[s][0][k]]),
                    folds[s],
                    s,
                    names=(*feature_names("both"), *(f"lfhf_{c}" for c in cnames)),
                )
                for s in net_seeds
            ],
        )
        ab["lfhf_only"] = (
            "LFHF components alone, with fakes",
            [
                face_variant(
                    data,
                    lambda k, s=s: stacks[s][0][k],
                    folds[s],
                    s,
                    names=tuple(f"lfhf_{c}" for c in cnames),
                )
                for s in net_seeds
            ],
        )
        for key, (label, res) in ab.items():
            run_seeds = net_seeds if key in NETWORK_ABLATIONS else seeds
            add(key, label, res, n_boot=0, run_seeds=run_seeds)
        timings["ablations (pseudo-spoof features cached after the first run)"] = (
            time.perf_counter() - t0
        )
        out("### Ablations of FaceMotionDetector (same folds, mean over seeds)\n")
        out(f"LFHF components stacked: {', '.join(cnames)}.\n")
        out(summary_table({k: rows[k] for k in ab}, labels))
        out()
        out(family_table({k: rows[k] for k in ab}, labels, data, intervals=False))
        out()
        out("Pseudo-spoofs of face clips (12 clips, seed 0): how far each kind moves them\n")
        out(check_spoofs(face))
        out()

    if "confounds" in parts:
        t0 = time.perf_counter()
        M = metadata(data)
        meta = {
            "meta_lr": (
                "metadata only, FaceMotionDetector's scoring",
                [face_variant(data, M, folds[s], s, names=META) for s in seeds],
            ),
            "meta_gb": (
                "metadata only, gradient boosting",
                [boosting(data, M, folds[s], s) for s in seeds],
            ),
        }
        for key, (label, res) in meta.items():
            add(key, label, res)
        out("### Confounds (same folds, mean over seeds)\n")
        live, fake = data.y == 1, data.y == -1
        fps25 = np.isclose(M[:, 0], 25.0, atol=0.01)
        square = M[:, 1] == M[:, 2]
        out("| clips | n | native 25 fps | square frame | median face width (px) |")
        out("|---|---:|---:|---:|---:|")
        for name, m in (("live", live), ("fake", fake)):
            out(
                f"| {name} | {m.sum()} | {fps25[m].mean():.2f} | {square[m].mean():.2f} | "
                f"{np.median(M[m, 3]):.0f} |"
            )
        out()
        out(summary_table({k: rows[k] for k in meta}, labels))
        out()
        edges = np.quantile(M[:, 3], [1 / 3, 2 / 3])
        strata = {
            "native 25 fps": fps25,
            "other frame rates": ~fps25,
            f"face < {edges[0]:.0f} px": M[:, 3] < edges[0],
            f"face {edges[0]:.0f} to {edges[1]:.0f} px": (M[:, 3] >= edges[0])
            & (M[:, 3] < edges[1]),
            f"face ≥ {edges[1]:.0f} px": M[:, 3] >= edges[1],
        }
        cols = [k for k in ("main", "meta_lr", "meta_gb") if k in results or k in meta]
        res_of = {"main": results.get("main"), **{k: v[1] for k, v in meta.items()}}
        out(
            "| stratum | live | fakes (families) | "
            + " | ".join(f"{labels[k]} AUC (per seed)" for k in cols)
            + " |"
        )
        out("|---|---:|---:|" + "---:|" * len(cols))
        per = {k: [strata_aucs(data, r, strata) for r in res_of[k]] for k in cols}
        for name in strata:
            _, n_live, n_fake, fams = per[cols[0]][0][name]
            cells = []
            for k in cols:
                aucs = [p[name][0] for p in per[k]]
                cells.append(f"{np.mean(aucs):.2f} ({', '.join(f'{a:.2f}' for a in aucs)})")
            out(f"| {name} | {n_live} | {n_fake} ({fams}) | " + " | ".join(cells) + " |")
        out()
        out("Native 25 fps among live clips, predicted from the features (gradient boosting, ")
        out("5 folds of whole live groups; AUC):\n")
        out("| features | AUC | live clips at 25 fps / all |")
        out("|---|---:|---:|")
        for key, label in (("face_raw", "no low-pass (`lowpass=None`)"), ("face", "default")):
            auc, n25, nl = fps_probe(data, feats[key])
            out(f"| {label} | {auc:.2f} | {n25} / {nl} |")
        out()
        timings["confounds"] = time.perf_counter() - t0

    from importlib.metadata import version

    out("### Run\n")
    out(
        f"Command: `nice -n 10 env OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '?')} "
        f"{' '.join(['python', 'benchmarks/bench_families.py', *given])}`; "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}; {platform.node()} ({os.cpu_count()} cores, "
        f"{platform.platform()}), Python {platform.python_version()}, torch "
        f"{version('torch')}, {args.threads} torch thread(s); seeds {seeds}; "
        f"load average at start {load_start[0]:.2f}, at the end {os.getloadavg()[0]:.2f}; "
        f"{(time.perf_counter() - t_all) / 60:.1f} min in all.\n"
    )
    out("| part | seconds |")
    out("|---|---:|")
    for name, t in timings.items():
        out(f"| {name} | {t:.0f} |")
    out.write(cache / "results.md")


if __name__ == "__main__":
    main()
