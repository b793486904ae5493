"""The demo experiment of ``lipanomaly demo``: a detector on the bundled data, with baselines.

:func:`run_demo` scores the ``"demo"`` split of the bundled data
(:func:`lipanomaly.io.datasets.load_demo`: real clips of people the model never saw, from the
recording set-ups of its training clips and from new ones, and fakes of three generator
families) with a fitted extraction + detection pipeline and, optionally, quick
hand-crafted-feature baselines fitted on the same real training clips; every metric is
measured against each group of real clips. :func:`lipanomaly.app.report.write_demo_folder`
writes the report; the command prints :attr:`DemoResult.table`.
"""

from dataclasses import dataclass, field

import numpy as np

from ..exceptions import InputError
from .report import join_names

__all__ = ["DemoResult", "join_names", "run_demo", "train_pipeline"]


@dataclass
class DemoResult:
    """What :func:`run_demo` measured.

    Attributes
    ----------
    demo : lipanomaly.io.datasets.Dataset
        The demo split (files, labels, generator families, recording sources).
    X : list of ndarray of shape (T_i, K, 2)
        Its lip sequences.
    pipeline : sklearn.pipeline.Pipeline
        The fitted ``Pipeline(LipLandmarkExtractor, detector)`` that scored them.
    name : str
        The detector's class name: its key in ``results``.
    model_name : str
        How the report names the model ("the pretrained LFHFVAEDetector", ...).
    windows : list of structured ndarray
        Per clip, its windows' ``start``, ``stop`` and ``score`` (higher = more live): the
        detector's ``score_with_windows``.
    results : dict of str to (ndarray, float)
        Detector name -> (clip scores, threshold), the detector first, then the baselines.
    groups : dict of str to ndarray of bool
        ``"known set-ups"`` and ``"new set-ups"``: the real clips of each group.
    metrics : dict of (str, str) to dict
        ``(detector name, group)`` -> :func:`lipanomaly.evaluation.metrics.evaluate_scores` against
        that group's real clips and every fake.
    table : str
        The text table: per fake family and detector, AUC against each group, APCER (and,
        for all fakes, the worst family's), BPCER.
    table_rows : tuple of (header, rows, align)
        The same table as cells (the report writes it as HTML).
    starts_s : list of float
        Per clip, the time of its first frame in its video (seconds).
    """

    demo: object
    X: list
    pipeline: object
    name: str
    model_name: str
    windows: list
    results: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    table: str = ""
    table_rows: tuple = ()
    starts_s: list = field(default_factory=list)

    @property
    def detector(self):
        """The pipeline's detector."""
        return self.pipeline[-1]

    def summary(self):
        """One paragraph: how many clips of each kind were scored."""
        demo, known, new = self.demo, self.groups["known set-ups"], self.groups["new set-ups"]
        fakes = demo.y == -1
        return (
            f"lipanomaly demo: {int(known.sum())} real clips of people the model never saw, "
            f"recorded like its training clips ({join_names(demo.sources[known])}); "
            f"{int(new.sum())} real clips of new recording set-ups "
            f"({join_names(demo.sources[new])}); {int(fakes.sum())} fakes "
            f"({join_names(demo.generators[fakes])}).\n"
        )

    def legend(self):
        """How to read :attr:`table`."""
        from .report import threshold_rule

        _, threshold = self.results[self.name]
        promise = float(np.mean(self.detector.validation_scores_ < threshold))
        return (
            "AUC [95% bootstrap interval]: each fake family against the real clips of known or "
            "of new set-ups (1 = perfect ranking, 0.5 = chance). APCER: the share of the row's "
            "fakes called live (on 'all fakes': of every fake, pooled); worst family: the "
            "highest APCER of one family (ISO/IEC 30107-3's APCER). BPCER: the share of "
            "reals called spoof. All at each detector's own threshold; "
            f"{self.name}'s is {threshold_rule(self.detector)}: it calls {promise:.0%} of "
            "those spoof, the false alarms it promises on real clips recorded like them."
        )


def train_pipeline(*, random_state=0, max_epochs=None, verbose=0):
    """An LFHFVAEDetector pipeline trained now on the bundled real training clips.

    Parameters
    ----------
    random_state : int, default=0
    max_epochs : int or None, default=None
        None keeps the detector's default.
    verbose : int, default=0
        1 prints skorch's epoch table.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Fitted ``Pipeline([("extractor", ...), ("detector", LFHFVAEDetector)])``.
    """
    from sklearn.pipeline import Pipeline

    from ..detectors.lfhf import LFHFVAEDetector
    from ..io.datasets import load_demo
    from ..io.extraction import LipLandmarkExtractor

    params = {"random_state": random_state, "verbose": verbose}
    if max_epochs is not None:
        params["max_epochs"] = max_epochs
    extractor = LipLandmarkExtractor()
    X_train = extractor.transform(load_demo(split="train").tracks)
    detector = LFHFVAEDetector(**params).fit(X_train)
    return Pipeline([("extractor", extractor), ("detector", detector)])


def _baselines(seed):
    """Quick hand-crafted-feature baselines (seconds to fit)."""
    from sklearn.ensemble import IsolationForest
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import OneClassSVM

    from ..detectors.lip_features import LipMotionFeatures

    return {
        "LipMotionFeatures + OneClassSVM": make_pipeline(
            LipMotionFeatures(), StandardScaler(), OneClassSVM(nu=0.2, gamma="scale")
        ),
        "LipMotionFeatures + IsolationForest": make_pipeline(
            LipMotionFeatures(), IsolationForest(contamination=0.2, random_state=seed)
        ),
    }


def _scores_and_threshold(model, X):
    """(score_samples, threshold) of a detector or of a pipeline ending in one.

    For the package's detectors and for scikit-learn's ``OneClassSVM`` and
    ``IsolationForest``, ``decision_function = score_samples - offset_``.
    """
    scores = np.asarray(model.score_samples(X), dtype=np.float64)
    final = model[-1] if hasattr(model, "steps") else model
    return scores, float(np.ravel(final.offset_)[0])  # OneClassSVM.offset_ has shape (1,)


def _table(y, families, groups, results):
    """Per (fake family, detector): AUC and BPCER against each group of reals, APCER."""
    from ..evaluation.metrics import evaluate_scores
    from .report import text_table

    fakes = y == -1
    metrics = {}
    for name, (s, t) in results.items():
        for group, reals in groups.items():
            keep = reals | fakes
            metrics[name, group] = evaluate_scores(
                y[keep], s[keep], generators=families[keep], threshold=t, random_state=0
            )

    def auc(r):
        lo, hi = r["auc_ci"]
        return f"{r['auc']:.2f} [{lo:.2f}, {hi:.2f}]"

    def worst(r):
        """The family most often called live, and its APCER (the max over families)."""
        family = max(r["per_family"], key=lambda f: r["per_family"][f]["apcer"])
        return f"{r['per_family'][family]['apcer']:.2f} ({family})"

    names = list(groups)
    rows = []
    for fam in [None, *sorted(set(families[fakes]))]:
        for j, det in enumerate(results):
            parts = [
                metrics[det, g] if fam is None else metrics[det, g]["per_family"][fam]
                for g in names
            ]
            n_fake = metrics[det, names[0]]["n_spoof"] if fam is None else parts[0]["n"]
            # APCER does not depend on the reals: any group's result gives it
            apcer = parts[0]["apcer_pooled" if fam is None else "apcer"]
            rows.append(
                (
                    ("all fakes" if fam is None else fam) if j == 0 else "",
                    n_fake if j == 0 else "",
                    det,
                    *[auc(p) for p in parts],
                    f"{apcer:.2f}",
                    worst(parts[0]) if fam is None else "",
                    *[f"{metrics[det, g]['bpcer']:.2f}" for g in names],
                )
            )
    header = ["fakes", "n", "detector", *[f"AUC vs {g}" for g in names], "APCER"]
    header += ["worst family", *[f"BPCER {g}" for g in names]]
    align = ["<", ">", "<"] + [">"] * (len(header) - 3)
    return text_table(header, rows, align=align), (header, rows, align), metrics


def run_demo(pipeline, *, model_name, baselines=True, random_state=0):
    """Score the demo split with ``pipeline`` (and the baselines) and measure every detector.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        A fitted ``Pipeline(LipLandmarkExtractor, detector)``, the detector one of the
        package's (it has ``score_with_windows``).
    model_name : str
        How the report names the model.
    baselines : bool, default=True
        Also fit and score the hand-crafted-feature baselines on the bundled real training
        clips.
    random_state : int, default=0
        Seed of the IsolationForest baseline.

    Returns
    -------
    result : DemoResult
    """
    from ..io.datasets import load_demo
    from ..io.extraction import LipLandmarkExtractor

    train, demo = load_demo(split="train"), load_demo(split="demo")
    extractor, detector = pipeline[0], pipeline[-1]
    reports = extractor.transform_report(demo.tracks)
    bad = [r.error for r in reports if r.error is not None]
    if bad:
        raise InputError(f"the bundled demo data could not be read: {bad[0]}")
    X = [r.clip for r in reports]
    scores, windows = detector.score_with_windows(X)  # one pass of the network
    name = type(detector).__name__
    result = DemoResult(
        demo=demo,
        X=X,
        pipeline=pipeline,
        name=name,
        model_name=model_name,
        windows=windows,
        results={name: (scores, float(detector.offset_))},
        starts_s=[r.start_s for r in reports],
    )
    if baselines:  # lip-motion baselines: on lip clips, whatever the model reads
        lips = LipLandmarkExtractor()
        X_train, X_lips = lips.transform(train.tracks), lips.transform(demo.tracks)
        for base, model in _baselines(random_state).items():
            model.fit(X_train)
            result.results[base] = _scores_and_threshold(model, X_lips)
    # real clips of the recording sources the model was trained on (people it never saw),
    # and of new recording sources: false alarms differ, so every metric is given for both
    known = np.isin(demo.sources, np.unique(train.sources)) & (demo.y == 1)
    result.groups = {"known set-ups": known, "new set-ups": (demo.y == 1) & ~known}
    result.table, result.table_rows, result.metrics = _table(
        demo.y, demo.generators, result.groups, result.results
    )
    return result
