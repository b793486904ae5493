"""Lip-motion spectrum of the real and fake development clips: the basis of the default cut-off.

Reproduces ``docs/images/spectrum_real_vs_fake.png`` and prints the tables quoted in
``docs/bandsplit.md``::

    .venv/bin/python docs/scripts/plot_spectrum.py [--data DIR] [--out docs/images] [--extractor]

``--extractor`` replaces steps 1 to 3 below by :class:`lipanomaly.LipLandmarkExtractor` (its
own head normalisation, gap handling and resampling) and prints the tables only.

For every development clip (``lipanomaly.io.datasets.load_development``):

1. Missing frames (NaN rows) are filled by linear interpolation; clips with more than 10 % of
   frames missing are left out (the script says how many).
2. Head normalisation, kept simple and self-contained so that this analysis does not depend on
   the extractor: FaceMesh x, y are turned into pixels, then every frame is translated to the
   midpoint of the outer eye corners (FaceMesh 33 and 263), rotated so that the eye line is
   horizontal and scaled by the inter-ocular distance. The eyes do not move with the jaw, so
   lip and jaw motion remain and head translation, roll and size are removed.
3. Resampling to 25 fps with :func:`scipy.signal.resample_poly` (anti-aliased), the rate ratio
   approximated to within 0.2 %.
4. Two motion signals: the mouth opening (inner-lip midpoints FaceMesh 13 / 14,
   :func:`lipanomaly.signal.filters.mouth_opening`) and the clip's principal lip-motion component
   (the projection on the first principal axis of its 40 lip points x 2 coordinates).
5. Welch power spectral density (Hann segments of 64 frames = 2.56 s, 50 % overlap, linear
   detrend; a clip shorter than 64 frames gives one shorter zero-padded segment on the same
   frequency grid), normalised per clip to unit power above 0 Hz, so that the figure compares
   spectral *shapes*, not how much people move.

The median and the quartiles over clips are drawn per class; the tables give, for candidate
cut-offs, the median share of motion power above the cut-off per class and the rank AUC of that
share (real vs fake; 0.5 = no difference).
"""

import argparse
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy import signal as sps

from lipanomaly.io.datasets import load_development
from lipanomaly.signal.filters import FACEMESH_LIPS, mouth_opening

FS = 25.0
NPERSEG = 64
EYE_OUTER = (33, 263)
CANDIDATES = (2.0, 3.0, 4.0, 5.0, 6.0)


def fill_gaps(lm):
    """Linearly interpolate NaN frames of a (T, P, 2) array; None if > 10 % are missing."""
    ok = np.isfinite(lm).all(axis=(1, 2))
    if ok.mean() < 0.9:
        return None
    if ok.all():
        return lm
    t = np.arange(len(lm))
    flat = lm.reshape(len(lm), -1).copy()
    for j in range(flat.shape[1]):
        flat[~ok, j] = np.interp(t[~ok], t[ok], flat[ok, j])
    return flat.reshape(lm.shape)


def normalise(track):
    """(T, 40, 2) lips in eye coordinates: origin between the eyes, eye line = x axis, IOD = 1."""
    lm = fill_gaps(np.asarray(track.landmarks[..., :2], dtype=np.float64))
    if lm is None:
        return None
    lm = lm * np.array([track.width, track.height], dtype=np.float64)
    left, right = lm[:, EYE_OUTER[0]], lm[:, EYE_OUTER[1]]
    centre = (left + right) / 2
    axis = right - left
    iod = np.linalg.norm(axis, axis=1)
    cos, sin = axis[:, 0] / iod, axis[:, 1] / iod
    lips = lm[:, list(FACEMESH_LIPS)] - centre[:, None]
    rot = np.stack(
        [
            cos[:, None] * lips[..., 0] + sin[:, None] * lips[..., 1],
            -sin[:, None] * lips[..., 0] + cos[:, None] * lips[..., 1],
        ],
        axis=-1,
    )
    return rot / iod[:, None, None]


def resample(x, fps):
    """Resample along axis 0 from ``fps`` to 25 fps (anti-aliased polyphase)."""
    ratio = Fraction(FS / fps).limit_denominator(60)
    if ratio == 1:
        return x
    return sps.resample_poly(x, ratio.numerator, ratio.denominator, axis=0, padtype="line")


def motion_signals(lips):
    """Mouth opening and principal lip-motion component, each of shape (T,)."""
    opening = mouth_opening(lips)
    flat = lips.reshape(len(lips), -1)
    flat = flat - flat.mean(axis=0)
    _, _, vt = np.linalg.svd(flat, full_matrices=False)
    return opening, flat @ vt[0]


def psd(sig):
    """Unit-power Welch PSD (DC left out) on a grid of NPERSEG // 2 + 1 bins at 25 fps."""
    # clips shorter than a segment: one shorter segment, zero-padded onto the same grid
    n = min(NPERSEG, len(sig))
    freqs, p = sps.welch(sig, fs=FS, nperseg=n, nfft=NPERSEG, detrend="linear")
    return freqs[1:], p[1:] / p[1:].sum()


def rank_auc(pos, neg):
    """P(pos > neg) + 0.5 P(tie): the Mann-Whitney AUC."""
    pos, neg = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float((pos > neg).mean() + 0.5 * (pos == neg).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="development data folder")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "images"))
    parser.add_argument(
        "--extractor", action="store_true", help="normalise with LipLandmarkExtractor; no figure"
    )
    args = parser.parse_args(argv)

    dev = load_development(args.data)
    if args.extractor:
        from lipanomaly.io.extraction import LipLandmarkExtractor

        extracted = LipLandmarkExtractor(fps=FS).fit_transform(dev.tracks)
    spectra = {"real": {"opening": [], "pc1": []}, "fake": {"opening": [], "pc1": []}}
    skipped = []
    freqs = None
    for i, (track, label) in enumerate(zip(dev.tracks, dev.y)):
        if args.extractor:
            lips = extracted[i]
        else:
            lips = normalise(track)
            if lips is None:
                skipped.append(track.name)
                continue
            lips = resample(lips, track.fps)
        cls = "real" if label == 1 else "fake"
        for key, sig in zip(("opening", "pc1"), motion_signals(lips)):
            freqs, p = psd(sig)
            spectra[cls][key].append(p)
    for cls in spectra:
        for key in spectra[cls]:
            spectra[cls][key] = np.array(spectra[cls][key])
    n_real, n_fake = len(spectra["real"]["opening"]), len(spectra["fake"]["opening"])
    print(f"clips used: {n_real} real, {n_fake} fake; left out ({len(skipped)}): {skipped}")
    print(f"Welch: {NPERSEG}-frame Hann segments at {FS:g} fps, {FS / NPERSEG:.3f} Hz bins\n")

    names = {"opening": "mouth opening", "pc1": "principal lip-motion component"}
    for key in ("opening", "pc1"):
        real, fake = spectra["real"][key], spectra["fake"][key]
        print(f"### {names[key]}\n")
        print(
            "| cut-off (Hz) | power above, real (median) | power above, fake (median) "
            "| AUC real vs fake of that share |"
        )
        print("| --- | --- | --- | --- |")
        for c in CANDIDATES:
            above_r = real[:, freqs > c].sum(axis=1)
            above_f = fake[:, freqs > c].sum(axis=1)
            print(
                f"| {c:g} | {np.median(above_r):.3f} | {np.median(above_f):.3f} "
                f"| {rank_auc(above_r, above_f):.2f} |"
            )
        cum_r = np.median(np.cumsum(real, axis=1), axis=0)
        peak_r = freqs[np.argmax(np.median(real, axis=0))]
        peak_f = freqs[np.argmax(np.median(fake, axis=0))]
        f50 = freqs[np.searchsorted(cum_r, 0.5)]
        f80 = freqs[np.searchsorted(cum_r, 0.8)]
        print(
            f"\nmedian-spectrum peak: real {peak_r:.2f} Hz, fake {peak_f:.2f} Hz; "
            f"real: half the power below {f50:.2f} Hz, 80 % below {f80:.2f} Hz\n"
        )

    if args.extractor:
        return 0

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), constrained_layout=True)
    colours = {"real": "tab:blue", "fake": "tab:red"}
    for ax, key in zip(axes[:2], ("opening", "pc1")):
        for cls in ("real", "fake"):
            s = spectra[cls][key]
            q1, med, q3 = np.percentile(s, [25, 50, 75], axis=0)
            ax.semilogy(freqs, med, color=colours[cls], label=f"{cls} (n={len(s)}) median")
            ax.fill_between(freqs, q1, q3, color=colours[cls], alpha=0.2, label=f"{cls} IQR")
        ax.set_title(f"{names[key]}: Welch PSD (unit power per clip)")
        ax.set_xlabel("frequency (Hz), 25 fps")
        ax.set_ylabel("share of motion power per bin")
    ax = axes[2]
    for key, style in (("opening", "-"), ("pc1", "--")):
        for cls in ("real", "fake"):
            cum = np.median(np.cumsum(spectra[cls][key], axis=1), axis=0)
            ax.plot(freqs, cum, style, color=colours[cls], label=f"{cls}, {names[key]}")
    ax.set_title("cumulative share of motion power (median)")
    ax.set_xlabel("frequency (Hz), 25 fps")
    ax.set_ylim(0, 1.01)
    from lipanomaly.signal.filters import DEFAULT_CUTOFF_HZ

    for a in axes:
        a.axvline(DEFAULT_CUTOFF_HZ, color="k", lw=1, ls=":")
        a.grid(alpha=0.3)
        a.set_xlim(0, FS / 2)
    axes[0].legend(fontsize=8)
    axes[2].legend(fontsize=8, loc="lower right")
    fig.suptitle(
        f"Lip-motion spectrum of the development clips at 25 fps (dotted: default cut-off "
        f"{DEFAULT_CUTOFF_HZ:g} Hz)"
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "spectrum_real_vs_fake.png"
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
