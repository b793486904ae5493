"""``lipanomaly evaluate``: AUC, EER, APCER / BPCER of a model on real and fake inputs."""

import json

from ..common import check_new_path, load_model
from ..console import TRACK_EXTENSIONS, Failure, expand_inputs, extract_all

__all__ = ["run"]


def run(args, console):
    """Score the real and fake inputs; print (or write) the metrics and figures."""
    real_files = expand_inputs(args.real, console, recursive=args.recursive)
    fake_files = expand_inputs(args.fake, console, recursive=args.recursive)
    if not real_files or not fake_files:
        raise Failure("evaluate needs at least one real and one fake input")
    import numpy as np

    from ...evaluation import metrics as evaluation
    from ...io.tracks import read_track

    pipeline = load_model(args)
    good_real = extract_all(pipeline[0], real_files, console, n_jobs=args.jobs, desc="real")
    good_fake = extract_all(pipeline[0], fake_files, console, n_jobs=args.jobs, desc="fake")
    if not good_real or not good_fake:
        raise Failure("evaluate needs at least one real and one fake clip that can be read")
    families = []
    for path, _ in good_fake:
        family = args.family
        if family is None and path.lower().endswith(TRACK_EXTENSIONS):
            family = read_track(path).generator
        families.append(family or "fake")
    detector = pipeline[-1]
    clips = [r.clip for _, r in good_real] + [r.clip for _, r in good_fake]
    y = np.r_[np.ones(len(good_real), int), -np.ones(len(good_fake), int)]
    generators = np.array(["real"] * len(good_real) + families)
    scores = detector.score_samples(clips)
    result = evaluation.evaluate_scores(
        y, scores, generators=generators, threshold=float(detector.offset_), random_state=0
    )
    if args.json:
        console.out(json.dumps(result, indent=2, default=_jsonable))
    else:
        console.out(evaluation.format_table(result))
    if args.plot is not None:
        from ..report import write_evaluation_figures

        plot_dir = check_new_path(args.plot, args.force, "plot folder")
        written = write_evaluation_figures(
            plot_dir,
            curves={type(detector).__name__: (y, scores)},
            y=y,
            scores=scores,
            generators=generators,
            threshold=float(detector.offset_),
        )
        console.info(f"{len(written)} figure(s) written to {plot_dir}")
    return 0


def _jsonable(obj):
    """What json.dumps cannot write itself: numpy arrays and scalars."""
    return obj.tolist()
