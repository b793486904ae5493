"""Calibration under hostile references, and the validity of its p-values.

The pretrained model is calibrated (:func:`lipanomaly.calibrate`,
:func:`lipanomaly.scoring.calibration.calibrate_scorer`) on real clips of the bundled demo split
(the model never saw them) and of the development data:

0. **The bounds of a reference** (:data:`lipanomaly.limits.MIN_REFERENCE_MOTION`,
   :data:`lipanomaly.limits.MAX_REFERENCE_Z`): the lip motion
   (:func:`lipanomaly.scoring.calibration.reference_motion`) of the 260 live clips of the
   development data (``landmarks/`` and ``wild/``), and how far the median of each
   component the pretrained scorer reads lies from its centre, in its robust scales.
1. **Hostile single references.** One clip of someone not speaking (a real demo clip with its
   lip motion shrunk to 5 % about its mean shape) as the only reference, and ten still faces
   (ten real clips with their first frame held): how many of the 29 fakes of the
   development set (``landmarks/``) the calibrated model calls live.
2. **Poisoning.** ``n`` genuine references drawn at random from the 44 real demo clips, and
   one of the 13 demo fakes slipped in with them; the other 12 fakes are scored. Mean number
   of live fakes over ``--draws`` draws, with the genuine references alone and with the fake
   among them: for a fake drawn at random, and for the worst of the 13 (the one a hostile
   user would pick, chosen per draw).
3. **P-values after a re-fit.** ``n`` references and one more live clip drawn at random
   (without replacement) from the real clips of the development data: the clip's p-value
   among the calibrated model's calibration scores. ``P(p <= a)`` over ``--sims`` draws
   must stay at most ``a`` within its Monte-Carlo error (two standard errors shown).

Prints markdown tables and the command; run from the repository root::

    python benchmarks/bench_calibration.py            # about 2 minutes on 2 shared cores
"""

import argparse
import platform
import sys
import time

import numpy as np


def _live_fakes(model, X):
    """How many clips of X a fitted pipeline or detector calls live."""
    return int((model.predict(X) == 1).sum())


def reference_bounds(pipeline, tracks, read):
    """Markdown rows: the motion and the component medians (robust scales) of live clips."""
    from lipanomaly.limits import MAX_REFERENCE_Z, MIN_REFERENCE_MOTION
    from lipanomaly.scoring.calibration import reference_motion

    extractor, detector = pipeline[0], pipeline[-1]
    network, scorer = detector.network_, detector.scorer_
    clips = extractor.transform(tracks)
    motion = np.array(
        [reference_motion(c, window=network.window, stride=network.stride) for c in clips]
    )
    rows = [
        f"| quantity ({len(clips)} live clips) | min | 1 % | median | 99 % | max | bound |",
        "|---|---:|---:|---:|---:|---:|---:|",
        "| lip motion (inter-ocular distances) | "
        + " | ".join(f"{v:.4f}" for v in np.percentile(motion, [0, 1, 50, 99, 100]))
        + f" | >= {MIN_REFERENCE_MOTION:g} |",
    ]
    C = network.transform(clips, components=read)
    for name in read:
        j = scorer.component_names_.index(name)
        z = [
            (np.median(c[name]) - scorer.component_center_[j]) / scorer.component_scale_[j]
            for c in C
        ]
        rows.append(
            f"| {name} (robust scales) | "
            + " | ".join(f"{v:+.2f}" for v in np.percentile(z, [0, 1, 50, 99, 100]))
            + f" | within ±{MAX_REFERENCE_Z:g} |"
        )
    return rows


def hostile_references(pipeline, demo, dev_fakes):
    """Rows (case, live fakes uncalibrated, live fakes calibrated or the refusal)."""
    from lipanomaly import calibrate
    from lipanomaly.exceptions import InputError

    extractor = pipeline[0]
    reals = [t for t, y in zip(demo.tracks, demo.y) if y == 1]
    clips = extractor.transform(reals)
    fakes = extractor.transform(dev_fakes)
    detector = pipeline[-1]
    before = _live_fakes(detector, fakes)
    quiet = clips[0].mean(axis=0) + 0.05 * (clips[0] - clips[0].mean(axis=0))
    still = [np.repeat(c[:1], len(c), axis=0) for c in clips[:10]]
    rows = []
    for case, refs in (
        ("one reference, lip motion at 5 %", [quiet]),
        ("ten still-face references", still),
    ):
        try:
            after = str(_live_fakes(calibrate(detector, refs), fakes))
        except InputError as exc:
            after = f"refused: {str(exc)[:120]}..."
        rows.append((case, before, after))
    return rows, len(fakes)


def poisoning(scorer, reals, fakes, n, draws, seed):
    """Mean live fakes (of the len(fakes) - 1 others): genuine only, a random fake in, the
    worst fake in."""
    from lipanomaly.exceptions import InputError
    from lipanomaly.scoring.calibration import calibrate_scorer

    rng = np.random.default_rng([seed, n])
    genuine, random_in, worst_in, refused = [], [], [], 0

    def live(refs, test):
        s = calibrate_scorer(scorer, refs)
        return int((s.predict(test) == 1).sum())

    for _ in range(draws):
        refs = [reals[i] for i in rng.choice(len(reals), n, replace=False)]
        pick = int(rng.integers(len(fakes)))
        per_fake = []
        for f in range(len(fakes)):
            test = [c for k, c in enumerate(fakes) if k != f]
            try:
                per_fake.append((live(refs, test), live([*refs, fakes[f]], test)))
            except InputError:  # the fake is refused as a reference: no poisoning
                refused += 1
                per_fake.append((live(refs, test),) * 2)
        genuine.append(per_fake[pick][0])
        random_in.append(per_fake[pick][1])
        worst = max(range(len(fakes)), key=lambda f: per_fake[f][1] - per_fake[f][0])
        worst_in.append(per_fake[worst][1] - per_fake[worst][0])
    return {
        "genuine": float(np.mean(genuine)),
        "random": float(np.mean(random_in)),
        "worst_rise": float(np.mean(worst_in)),
        "refused": refused,
    }


def p_value_simulation(scorer, pool, n, sims, seed, alphas):
    """P(p <= a) of a live clip exchangeable with ``n`` references, over ``sims`` draws."""
    from lipanomaly.exceptions import InputError
    from lipanomaly.scoring.calibration import calibrate_scorer

    rng = np.random.default_rng([seed, n, 1])
    p = []
    for _ in range(sims):
        idx = rng.choice(len(pool), n + 1, replace=False)
        try:
            s = calibrate_scorer(scorer, [pool[i] for i in idx[:n]])
        except InputError:
            continue
        (value,) = s.p_values([pool[idx[n]]])
        p.append(value)
    p = np.asarray(p)
    return len(p), {a: float(np.mean(p <= a + 1e-12)) for a in alphas}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=20, help="poisoning draws")
    parser.add_argument("--sims", type=int, default=2000, help="p-value simulation draws")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    import lipanomaly
    from lipanomaly.io.datasets import load_demo, load_development

    t0 = time.perf_counter()
    pipeline = lipanomaly.load_pretrained("lfhf")
    extractor, detector = pipeline[0], pipeline[-1]
    read = detector.scorer_.components_read(detector.network_.component_names)
    demo = load_demo(split="demo")
    dev = load_development(collections=("landmarks", "wild"))
    dev_fakes = [
        t for t, y, c in zip(dev.tracks, dev.y, dev.collections) if y == -1 and c == "landmarks"
    ]

    print("### The bounds of a reference: the live clips of the development data\n")
    live = [t for t, y in zip(dev.tracks, dev.y) if y == 1]
    for row in reference_bounds(pipeline, live, read):
        print(row)
    print()
    rows, n_fakes = hostile_references(pipeline, demo, dev_fakes)
    print("### Hostile single references\n")
    print(f"| references | live fakes of {n_fakes}, uncalibrated | calibrated |")
    print("|---|---:|---|")
    for case, before, after in rows:
        print(f"| {case} | {before} | {after} |")

    def components(tracks):
        return detector.network_.transform(extractor.transform(tracks), components=read)

    reals = components([t for t, y in zip(demo.tracks, demo.y) if y == 1])
    fakes = components([t for t, y in zip(demo.tracks, demo.y) if y == -1])
    sizes = f"{len(reals)} real and {len(fakes)} fake demo clips"
    print(f"\n### Poisoning ({args.draws} draws; {sizes})\n")
    print(
        f"| n genuine | live fakes of {len(fakes) - 1}, genuine only | one random fake added "
        "| rise | worst fake added: rise | fakes refused as references |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for n in (3, 9):
        r = poisoning(detector.scorer_, reals, fakes, n, args.draws, args.seed)
        print(
            f"| {n} | {r['genuine']:.2f} | {r['random']:.2f} | {r['random'] - r['genuine']:+.2f} "
            f"| {r['worst_rise']:+.2f} | {r['refused']} of {args.draws * len(fakes)} |"
        )

    pool = components([t for t, y in zip(dev.tracks, dev.y) if y == 1])
    alphas = (1 / 11, 0.1, 0.2, 0.3, 0.5)
    print(f"\n### P-values of a live clip after calibration ({len(pool)} live development clips)\n")
    print("| n references | draws | " + " | ".join(f"P(p <= {a:.3f})" for a in alphas) + " |")
    print("|---:|---:|" + "---:|" * len(alphas))
    for n in (10, 20):
        m, probs = p_value_simulation(detector.scorer_, pool, n, args.sims, args.seed, alphas)
        cells = [f"{probs[a]:.3f} ± {2 * np.sqrt(a * (1 - a) / m):.3f}" for a in alphas]
        print(f"| {n} | {m} | " + " | ".join(cells) + " |")
    print(
        "\n(± two Monte-Carlo standard errors of an exactly valid p-value: "
        "2 sqrt(a (1 - a) / draws).)"
    )
    print(
        f"\n`python {' '.join(sys.argv)}`; lipanomaly {lipanomaly.__version__}, "
        f"{platform.node()} ({platform.machine()}, Python {platform.python_version()}), "
        f"{time.perf_counter() - t0:.0f} s"
    )


if __name__ == "__main__":
    main()
