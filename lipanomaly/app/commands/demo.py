"""``lipanomaly demo``: the bundled demo clips scored, a table and a report."""

import contextlib
import sys

from ..common import frame_rate, load_model

__all__ = ["run"]


def run(args, console):
    """Score the demo clips (with a model trained now under ``--train``); write the report."""
    import time

    from ..demo import run_demo, train_pipeline
    from ..report import prepare_report_folder, write_demo_folder

    t0 = time.perf_counter()
    out = prepare_report_folder(args.output, force=args.force)
    if args.train:
        console.info("training LFHFVAEDetector on the bundled real clips (minutes) ...")
        with contextlib.redirect_stdout(sys.stderr):  # skorch's epoch table: not a result
            # one line an epoch (a log gets no colours nor batch bars)
            verbose = int(not console.quiet)
            pipeline = train_pipeline(
                random_state=args.seed, max_epochs=args.epochs, verbose=verbose
            )
        model_name = f"an LFHFVAEDetector trained now (random_state={args.seed})"
    else:
        pipeline = load_model(args)
        model_name = (
            f"the pretrained {type(pipeline[-1]).__name__}"
            if args.model is None
            else f"the {type(pipeline[-1]).__name__} of {args.model}"
        )
    console.info(f"scoring the demo clips with {model_name} ...")
    result = run_demo(
        pipeline,
        model_name=model_name,
        baselines=not args.no_baselines,
        random_state=args.seed,
    )
    console.out(result.summary())
    console.out(result.table)
    console.out("\n" + result.legend())
    write_demo_folder(out, result, fps=frame_rate(pipeline))
    console.out(f"\nreport: {out / 'index.html'} ({time.perf_counter() - t0:.0f} s)")
    return 0
