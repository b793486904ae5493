"""Figures and the HTML page of ``lipanomaly demo`` and of the ``score`` / ``evaluate`` commands.

matplotlib is used through :class:`matplotlib.figure.Figure` directly (no ``pyplot``), so that
nothing depends on a display or on the global figure state; every function writes PNG files
and returns their paths.
"""

import html
import os
from pathlib import Path

import numpy as np

__all__ = [
    "model_decomposition",
    "plot_clip",
    "plot_score_timeline",
    "write_demo_report",
    "write_evaluation_figures",
]


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


# -- one clip -----------------------------------------------------------------------------------


def model_decomposition(detector, clip):
    """The detector's low/high-frequency view of one clip, frame by frame.

    The clip is cut into the detector's windows; each is standardised as in the detector and
    passed through its network (in eval mode, ``z = mu``); the outputs of overlapping windows
    are averaged per frame and brought back to the clip's units.

    Parameters
    ----------
    detector : LFHFVAEDetector
        Fitted.
    clip : ndarray of shape (T, K, 2)
        A lip sequence with ``K = detector.n_points_``.

    Returns
    -------
    parts : dict of str to ndarray of shape (T, K, 2), float64
        ``x`` (the clip), ``low`` and ``high`` (its band split, the network's targets),
        ``x_lf`` (the LF head's slow trajectory) and ``r_hf`` (the HF head's fast detail).
    """
    clip = np.asarray(clip, dtype=np.float64)
    n_frames, k = clip.shape[:2]
    # the detector's own windowing, standardisation and network pass
    w, _, starts = detector._windows([clip])
    length = w.shape[1]
    rec = detector._reconstruct(detector._standardize(w))
    scale, mean = detector.window_scale_, detector.window_mean_
    parts = {
        "x_lf": rec["x_lf"] * scale + mean,
        "r_hf": rec["r_hf"] * scale,
        "low": rec["x_lp"] * scale + mean,
        "high": rec["r_hf_target"] * scale,
    }
    out = {"x": clip}
    count = np.zeros(n_frames)
    for name in parts:
        out[name] = np.zeros((n_frames, 2 * k))
    for i, s in enumerate(starts):
        span = min(length, n_frames - s)  # a mirror-padded short clip uses its own frames
        count[s : s + span] += 1
        for name, values in parts.items():
            out[name][s : s + span] += values[i, :span]
    for name in parts:
        out[name] = (out[name] / count[:, None]).reshape(n_frames, k, 2)
    return out


def _opening(x):
    """Vertical inner-lip opening, lower minus upper midpoint (linear: low + high add up)."""
    from .signal import LIP_INNER

    upper, lower = LIP_INNER
    return x[:, lower, 1] - x[:, upper, 1]


def plot_clip(path, *, title, parts, window_scores, starts, window, threshold, fs):
    """One clip: its LF/HF decomposition and its time-resolved score.

    Parameters
    ----------
    path : str or path-like
        PNG file to write.
    title : str
    parts : dict or None
        :func:`model_decomposition` of the clip; None draws the scores only.
    window_scores : array-like of shape (n_windows,)
        The clip's window scores (``score_windows``).
    starts : array-like of shape (n_windows,)
        First frame of each window.
    window : int
        Window length in frames.
    threshold : float
        The detector's ``offset_``.
    fs : float
        Frame rate of the clip.

    Returns
    -------
    path : pathlib.Path
    """
    from .evaluation import plot_window_scores

    rows = 3 if parts is not None else 1
    fig = _figure(8.5, 2.3 * rows + 0.4)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    if parts is not None:
        t = np.arange(len(parts["x"])) / fs
        ax = axes[0]
        ax.plot(t, _opening(parts["x"]), color="0.6", lw=1, label="input")
        ax.plot(t, _opening(parts["low"]), color="k", lw=1.5, label="low band (target)")
        ax.plot(t, _opening(parts["x_lf"]), color="#2166ac", lw=1.5, ls="--", label="LF head")
        ax.set_ylabel("mouth opening\n(head units)")
        ax.legend(loc="upper right", fontsize=7, ncol=3)
        ax.set_title("slow trajectory: the LF head reconstructs the low band", fontsize=9)
        ax = axes[1]
        ax.plot(t, _opening(parts["high"]), color="k", lw=1, label="high band (target)")
        ax.plot(t, _opening(parts["r_hf"]), color="#d6604d", lw=1, ls="--", label="HF head")
        ax.set_ylabel("fast detail\n(head units)")
        ax.legend(loc="upper right", fontsize=7, ncol=2)
        ax.set_title("fast detail: the HF head reconstructs the high band", fontsize=9)
    plot_window_scores(
        np.asarray(window_scores, dtype=float),
        np.asarray(starts),
        window=window,
        fs=fs,
        threshold=threshold,
        ax=axes[-1],
    )
    seconds = window / fs
    axes[-1].set_title(f"time-resolved score: one value per {seconds:.2f} s window", fontsize=9)
    axes[-1].set_xlabel("time (s, from the start of the analysed face segment)")
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_score_timeline(record, path, *, window=64, fs=25.0):
    """The figure of ``lipanomaly score --plot``: one clip's window scores over time.

    Parameters
    ----------
    record : dict
        One clip's result as printed by ``lipanomaly score --json`` (``path``, ``label``,
        ``score``, ``threshold``, ``windows``).
    path : str or path-like
        PNG file to write.
    window : int, default=64
        Window length of the detector, in frames.
    fs : float, default=25.0
        Analysis frame rate.

    Returns
    -------
    path : pathlib.Path
    """
    title = (
        f"{os.path.basename(record['path'])}: {record['label'].upper()} "
        f"(score {record['score']:.2f}, threshold {record['threshold']:.2f})"
    )
    return plot_clip(
        path,
        title=title,
        parts=None,
        window_scores=[w["score"] for w in record["windows"]],
        starts=[round(w["start_s"] * fs) for w in record["windows"]],
        window=window,
        threshold=record["threshold"],
        fs=fs,
    )


def write_evaluation_figures(
    folder, *, curves, y, scores, generators, threshold, prefix="", label=None
):
    """ROC curves of several detectors and the score distributions of one.

    Parameters
    ----------
    folder : str or path-like
        Where ``<prefix>roc.png`` and ``<prefix>scores.png`` go.
    curves : dict
        Detector name -> ``(y, scores)`` for :func:`lipanomaly.evaluation.plot_roc`.
    y, scores, generators, threshold
        Labels (+1 / -1), scores, attack families and threshold of the detector whose
        score distributions are drawn.
    prefix : str, default=""
        Prepended to the file names.
    label : str, optional
        Appended to the captions and the titles (what the curves are measured against).

    Returns
    -------
    paths : list of (caption, pathlib.Path)
    """
    from .evaluation import plot_roc, plot_score_distributions

    folder = Path(folder)
    suffix = f" {label}" if label else ""
    fig = _figure(6, 5.2)
    ax = plot_roc(curves, ax=fig.add_subplot())
    ax.set_title(f"ROC{suffix}", fontsize=9)
    roc = _save(fig, folder / f"{prefix}roc.png")
    fig = _figure(8, 4.2)
    ax = fig.add_subplot()
    plot_score_distributions(y, scores, generators=generators, threshold=threshold, ax=ax)
    ax.set_title(f"score distributions{suffix}", fontsize=9)
    dist = _save(fig, folder / f"{prefix}scores.png")
    return [
        (f"ROC curves{suffix}: APCER (fakes accepted) against 1 - BPCER (reals accepted).", roc),
        (f"Score distributions{suffix}, with the threshold.", dist),
    ]


# -- the demo report -----------------------------------------------------------------------------


_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead { background: #f0f0f0; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0 1.5em; }
code, pre { background: #f6f6f6; }
pre { padding: 0.6em; overflow-x: auto; }
.note { color: #555; font-size: 0.9em; }
"""


def write_demo_report(folder, *, sections, figures, title="lipanomaly demo"):
    """Write ``index.html`` into ``folder``: text sections, tables and figures.

    Parameters
    ----------
    folder : str or path-like
        The report folder (the figures are already in it).
    sections : list of (heading, html_body)
        Blocks of the page, in order; bodies are HTML (escape user text with
        :func:`html.escape`).
    figures : list of (caption, png_path)
        Figures shown after the sections, with paths relative to ``folder`` or absolute.
    title : str

    Returns
    -------
    path : pathlib.Path
        The HTML file.
    """
    folder = Path(folder)
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for heading, body in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>\n{body}")
    if figures:
        parts.append("<h2>Figures</h2>")
    for caption, png in figures:
        rel = os.path.relpath(png, folder) if os.path.isabs(png) else str(png)
        parts.append(
            f'<figure><img src="{html.escape(rel)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body>\n</html>\n"
    )
    path = folder / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
