"""Figures, tables and the HTML report of ``lipanomaly demo`` and of ``score`` / ``evaluate``.

matplotlib is used through :class:`matplotlib.figure.Figure` directly (no ``pyplot``), so that
nothing depends on a display or on the global figure state; every function writes PNG files
and returns their paths.
"""

import csv
import hashlib
import html
import io
import os
import textwrap
from pathlib import Path

import numpy as np

from ..exceptions import InputError
from ..io.files import publish_file
from ..limits import DEFAULT_FPS

__all__ = [
    "REPORT_MARK",
    "figure_names",
    "html_table",
    "join_names",
    "plot_clip",
    "plot_score_timeline",
    "prepare_report_folder",
    "score_record",
    "score_table",
    "text_table",
    "threshold_note",
    "threshold_rule",
    "write_demo_folder",
    "write_demo_report",
    "write_evaluation_figures",
]

#: The file that marks a folder as a report of ``lipanomaly demo`` (the next run replaces it).
REPORT_MARK = ".lipanomaly-report"


def join_names(values):
    """Sorted distinct values as one comma-separated string (sources, families).

    >>> join_names(["b", "a", "b"])
    'a, b'
    """
    return ", ".join(sorted({str(v) for v in values}))


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(fig, path):
    """Render ``fig`` as PNG, then publish it: a link at ``path`` is replaced, not followed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return _write(path, buf.getvalue())


def _write(path, data):
    """Write ``data`` (bytes or text) to ``path`` atomically, never through a link."""
    data = data.encode("utf-8") if isinstance(data, str) else data
    publish_file(path, lambda fh: fh.write(data))
    return Path(path)


#: Longest figure file name written, in bytes (file systems allow 255).
_MAX_NAME_BYTES = 200


def figure_names(paths, suffix=".png"):
    """One distinct, short file name per input for its figure: ``<file name><suffix>``.

    Inputs of the same file name (from different folders; compared without case, as some
    file systems do) get ``.2``, ``.3`` ... in input order; a name longer than 200 bytes is
    cut and ends with 8 hex digits of the input's path, so that it stays distinct.

    Parameters
    ----------
    paths : sequence of str or path-like
        The inputs.
    suffix : str, default=".png"

    Returns
    -------
    names : list of str
    """
    names, seen = [], set()
    for p in paths:
        base = os.path.basename(os.fspath(p)) or "figure"
        if len((base + suffix).encode()) > _MAX_NAME_BYTES:
            tag = hashlib.sha256(os.fspath(p).encode()).hexdigest()[:8]
            cut = base.encode()[: _MAX_NAME_BYTES - len(suffix) - 24].decode(errors="ignore")
            base = f"{cut}...{tag}"
        name, k = base + suffix, 1
        while name.lower() in seen:
            k += 1
            name = f"{base}.{k}{suffix}"
        seen.add(name.lower())
        names.append(name)
    return names


def text_table(header, rows, *, align=None):
    """A plain-text table: columns padded to their widest cell, numbers right-aligned.

    Parameters
    ----------
    header : sequence
    rows : sequence of sequence
    align : sequence of {"<", ">"} or None, default=None
        Per column; None aligns the first column left and the others right.

    Returns
    -------
    table : str
    """
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    align = align or ["<"] + [">"] * (len(header) - 1)
    lines = []
    for j, row in enumerate(cells):
        lines.append("  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths)).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def html_table(header, rows, *, align=None):
    """:func:`text_table`'s table (same parameters) as an HTML ``<table>``, cells escaped."""
    align = align or ["<"] + [">"] * (len(header) - 1)
    style = {"<": "left", ">": "right"}

    def cells(row, tag):
        return "".join(
            f'<{tag} style="text-align:{style[a]}">{html.escape(str(c))}</{tag}>'
            for c, a in zip(row, align)
        )

    body = "\n".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows)
    head = f"<thead><tr>{cells(header, 'th')}</tr></thead>"
    return f"<table>\n{head}\n<tbody>\n{body}\n</tbody>\n</table>"


# -- one clip -----------------------------------------------------------------------------------


def _opening(x):
    """Vertical inner-lip opening, lower minus upper midpoint (linear: low + high add up)."""
    from ..signal.filters import LIP_INNER

    upper, lower = LIP_INNER
    return x[:, lower, 1] - x[:, upper, 1]


def plot_clip(path, *, title, parts, window_scores, starts, window, threshold, fs, t0=0.0):
    """One clip: its LF/HF decomposition and its time-resolved score.

    Parameters
    ----------
    path : str or path-like
        PNG file to write.
    title : str
    parts : dict or None
        The network's decomposition of the clip
        (:meth:`lipanomaly.scoring.components.LFHFComponents.decompose`); None draws the scores
        only.
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
    t0 : float, default=0.0
        Start of the clip in its video, in seconds: the time axis is the video's.

    Returns
    -------
    path : pathlib.Path
    """
    from ..evaluation.metrics import plain_label, plot_window_scores

    rows = 3 if parts is not None else 1
    fig = _figure(8.5, 2.3 * rows + 0.4)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    if parts is not None:
        t = t0 + np.arange(len(parts["x"])) / fs
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
        t0=t0,
    )
    seconds = window / fs
    axes[-1].set_title(f"time-resolved score: one value per {seconds:.2f} s window", fontsize=9)
    axes[-1].set_xlabel("time in the video (s)")
    fig.suptitle(plain_label(textwrap.fill(title, 110)), fontsize=9)
    return _save(fig, path)


def score_record(
    path,
    n_frames,
    score,
    threshold,
    windows,
    *,
    fps=DEFAULT_FPS,
    p_value=None,
    start_s=0.0,
    face_box=None,
    features=None,
):
    """One clip's result as ``lipanomaly score --json`` prints it.

    Parameters
    ----------
    path : str or path-like
        The input.
    n_frames : int
        Frames of its lip sequence.
    score, threshold : float
        Its ``score_samples`` and the threshold it is judged by (the detector's
        ``offset_`` unless chosen otherwise).
    windows : structured ndarray
        Its windows (fields ``start``, ``stop``, ``score``), from the detector's
        ``score_with_windows``.
    fps : float, default=25.0
        Frame rate of the lip sequence, for times in seconds.
    p_value : float or None, default=None
        Its conformal p-value among the detector's real validation clips (the detector's
        ``p_values_of``).
    start_s : float, default=0.0
        Time of the clip's first frame in its video (the extractor's ``start_s``).
    face_box : tuple of float or None, default=None
        The followed face's box in the frame (the extractor's ``face_box``).
    features : list of dict or None, default=None
        The features that pushed the score towards spoof the most (a face-motion
        detector's ``explain``); left out of the record when None.

    Returns
    -------
    record : dict
        ``path``, ``label`` ("live" or "spoof"), ``prediction`` (+1 / -1), ``score``,
        ``p_value``, ``decision`` (``score - threshold``, in score units), ``threshold``,
        ``n_frames``, ``start_s`` and ``end_s`` (the analysed face segment, in seconds of
        the video), ``duration_s``, ``face_box`` (``[x0, y0, x1, y1]``, fractions of the
        frame) and ``windows`` (``start_s``, ``end_s`` in seconds of the video, ``score``;
        one window, the whole clip, for a detector that scores whole clips), and
        ``features`` when given.
    """
    d = float(score) - float(threshold)  # decision_function
    t0 = float(start_s or 0.0)
    extra = {} if features is None else {"features": features}
    return {
        "path": str(path),
        "label": "live" if d >= 0 else "spoof",
        "prediction": 1 if d >= 0 else -1,
        "score": float(score),
        "p_value": None if p_value is None else float(p_value),
        "decision": d,
        "threshold": float(threshold),
        "n_frames": int(n_frames),
        "start_s": round(t0, 3),
        "end_s": round(t0 + n_frames / fps, 3),
        "duration_s": round(n_frames / fps, 3),
        "face_box": None if face_box is None else [round(float(v), 3) for v in face_box],
        "windows": [
            {
                "start_s": round(t0 + int(a) / fps, 3),
                "end_s": round(t0 + int(b) / fps, 3),
                "score": float(v),
            }
            for a, b, v in windows
        ],
        **extra,
    }


def score_table(records):
    """The table of ``lipanomaly score``: one row per clip, times in seconds of the video.

    Parameters
    ----------
    records : list of dict
        :func:`score_record`'s.

    Returns
    -------
    table : str
    """

    def p(r):
        return "" if r["p_value"] is None else f"{r['p_value']:.2f}"

    rows = [
        (
            r["path"],
            r["label"].upper(),
            f"{r['score']:.3f}",
            p(r),
            f"{r['decision']:+.3f}",
            f"{r['start_s']:.1f}-{r['end_s']:.1f}",
            f"{sum(w['score'] < r['threshold'] for w in r['windows'])}/{len(r['windows'])}",
        )
        for r in records
    ]
    header = ["file", "verdict", "score", "p-value", "margin", "face (s)", "spoof windows"]
    if all("features" in r for r in records):  # a whole-clip detector: what pushed it down
        header[-1] = "pushed towards spoof by"
        rows = [
            (*row[:-1], ", ".join(f["feature"] for f in r["features"][:2]) or "-")
            for row, r in zip(rows, records)
        ]
    return text_table(header, rows)


def plot_feature_pushes(record, path):
    """The figure of ``lipanomaly score --plot`` for a face-motion model: the features that
    pushed the clip's score towards spoof, and by how much.

    Parameters
    ----------
    record : dict
        One clip's result with ``features`` (:func:`score_record`).
    path : str or path-like
        PNG file to write.

    Returns
    -------
    path : pathlib.Path
    """
    from ..evaluation.metrics import plain_label

    feats = record.get("features") or []
    fig = _figure(7.5, 1.2 + 0.45 * max(len(feats), 1))
    ax = fig.subplots()
    names = [plain_label(f["feature"]) for f in feats]
    ax.barh(range(len(feats)), [f["push"] for f in feats], color="#d6604d")
    ax.set_yticks(range(len(feats)), names)
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("push on the score (score units; negative = towards spoof)")
    if not feats:
        ax.text(0.5, 0.5, "no feature pushed towards spoof", ha="center", transform=ax.transAxes)
    p = "" if record.get("p_value") is None else f", p-value {record['p_value']:.2f}"
    ax.set_title(
        plain_label(
            f"{os.path.basename(record['path'])}: {record['label'].upper()} "
            f"(score {record['score']:.2f}{p}, threshold {record['threshold']:.2f})"
        ),
        fontsize=9,
    )
    return _save(fig, path)


def plot_score_timeline(record, path, *, window=64, fs=DEFAULT_FPS):
    """The figure of ``lipanomaly score --plot``: one clip's window scores over video time.

    Parameters
    ----------
    record : dict
        One clip's result as printed by ``lipanomaly score --json`` (:func:`score_record`).
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
    p = "" if record.get("p_value") is None else f", p-value {record['p_value']:.2f}"
    title = (
        f"{os.path.basename(record['path'])}: {record['label'].upper()} "
        f"(score {record['score']:.2f}{p}, threshold {record['threshold']:.2f})"
    )
    t0 = record.get("start_s", 0.0)
    return plot_clip(
        path,
        title=title,
        parts=None,
        window_scores=[w["score"] for w in record["windows"]],
        starts=[round((w["start_s"] - t0) * fs) for w in record["windows"]],
        window=window,
        threshold=record["threshold"],
        fs=fs,
        t0=t0,
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
        Detector name -> ``(y, scores)`` for :func:`lipanomaly.evaluation.metrics.plot_roc`.
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
    from ..evaluation.metrics import plot_roc, plot_score_distributions

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
        Figures shown after the sections: files inside ``folder``, their paths absolute or
        relative to the current directory (as ``folder / name`` gives them). The page
        links them relative to itself, so that it shows them wherever the folder goes.
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
        rel = Path(os.path.relpath(os.path.abspath(png), os.path.abspath(folder))).as_posix()
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
    return _write(folder / "index.html", page)


def prepare_report_folder(path, *, force=False):
    """The demo's report folder: new, empty, or a previous demo report (replaced).

    A folder holding anything else is left alone unless ``force``, so that ``make demo``
    can run again and again without ever replacing a user's files. As a model folder, a
    report folder is never written through a symbolic link: a folder that is one, or that
    holds one, is refused (``force`` too), and every file is written under a temporary
    name and renamed into place.

    Parameters
    ----------
    path : str or path-like
    force : bool, default=False

    Returns
    -------
    path : pathlib.Path
        Created if needed, and marked as a report (:data:`REPORT_MARK`).

    Raises
    ------
    InputError
        If the folder holds something else and ``force`` is False, or is or holds a
        symbolic link.
    """
    path = Path(path)
    if path.is_symlink():
        raise InputError(
            f"{path}: a symbolic link; a report is never written through one: choose another "
            "folder with -o"
        )
    if path.is_dir():
        links = sorted(e.name for e in os.scandir(path) if e.is_symlink())
        if links:
            raise InputError(
                f"{path}: holds symbolic links ({', '.join(links[:5])}); a report is never "
                "written through one: remove them, or choose another folder with -o"
            )
    if path.exists():
        previous = (path / REPORT_MARK).is_file()
        empty = path.is_dir() and not any(path.iterdir())
        if not (previous or empty or force):
            raise InputError(
                f"{path}: exists and is not a lipanomaly demo report; pass --force to write "
                "into it, or choose another folder with -o"
            )
    path.mkdir(parents=True, exist_ok=True)
    _write(path / REPORT_MARK, "written by `lipanomaly demo`; the next run replaces it\n")
    return path


def _percentile(fraction):
    """A fraction as an ordinal percentile: 0.05 is the "5th", 0.01 the "1st percentile"."""
    value = round(100 * fraction, 6)
    suffix = "th"
    if value == int(value) and int(value) % 100 not in (11, 12, 13):
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(int(value) % 10, "th")
    return f"{value:g}{suffix} percentile"


def threshold_rule(detector, *, contamination=None):
    """How a detector's threshold is set, in words (its scale: which validation clips).

    Parameters
    ----------
    detector : fitted detector
        With ``validation_scores_``, and a ``scorer_`` (the package's composed detectors)
        or itself with the parameters ``threshold`` (optional), ``contamination``,
        ``iqr_factor``.
    contamination : float or None, default=None
        A share of the validation clips chosen instead of the detector's own rule.

    Returns
    -------
    rule : str
        E.g. "the 20th percentile of the scores of its 51 real validation clips".
    """
    n = len(detector.validation_scores_)
    # the package's composed detectors keep the rule in their scorer; others in themselves
    rule_of = getattr(detector, "scorer_", detector)
    if contamination is None and getattr(rule_of, "threshold", "quantile") != "quantile":
        rule = f"Tukey's fence (Q1 - {rule_of.iqr_factor:g} IQR) of the scores"
    else:
        share = rule_of.contamination if contamination is None else contamination
        rule = f"the {_percentile(share)} of the scores"
    rule = f"{rule} of its {n} real validation clips"
    if not hasattr(detector, "scorer_"):  # a whole-clip detector's validation scores
        rule += " (each scored by a model fitted without its recording)"
    return rule


def threshold_note(detector, threshold=None, *, contamination=None):
    """How the threshold was set, from how many clips, and the p-value it is.

    Parameters
    ----------
    detector : fitted detector
        With ``validation_scores_`` (the real validation clips) and ``p_values_of``, as
        the package's detectors; without ``validation_scores_`` the note names ``offset_``.
    threshold : float or None, default=None
        A threshold chosen otherwise (``lipanomaly score --threshold``); None is the
        detector's ``offset_``.
    contamination : float or None, default=None
        The share of real validation clips that ``threshold`` was chosen to call spoof
        (``lipanomaly score --contamination``): the note names that percentile.

    Returns
    -------
    note : str
        One or two sentences.
    """
    valid = getattr(detector, "validation_scores_", None)
    if valid is None:
        return "its offset_."
    valid = np.asarray(valid, dtype=float)
    n = len(valid)
    if threshold is None:
        threshold = float(detector.offset_)
        how = threshold_rule(detector)
    elif contamination is not None:
        how = threshold_rule(detector, contamination=contamination)
    else:
        how = f"chosen by the user; the model has {n} real validation clips"
    below = int((valid < threshold).sum())
    (p,) = detector.p_values_of([threshold])
    return (
        f"{how} (range {valid.min():.2f} to {valid.max():.2f}); it calls {below} of them "
        f"spoof, and its p-value is {p:.2f}. A clip's p-value is (1 + k) / ({n} + 1), k the "
        f"validation clips scoring at most the clip: a live clip like them gets p <= a with "
        f"probability at most a, and no p-value is below {1 / (n + 1):.2g}."
        + (" With so few clips the threshold moves with every unusual one." if n < 20 else "")
    )


def _demo_figures(out, result, fps):
    """ROC and score figures per group of reals, and the median fake and real clip."""
    demo = result.demo
    scores, threshold = result.results[result.name]
    figures = []
    fakes = demo.y == -1
    for group, reals in result.groups.items():
        keep = reals | fakes
        figures += write_evaluation_figures(
            out,
            curves={name: (demo.y[keep], r[0][keep]) for name, r in result.results.items()},
            y=demo.y[keep],
            scores=scores[keep],
            generators=demo.generators[keep],
            threshold=threshold,
            prefix=group.split()[0] + "_",
            label=f"against the real clips of {group}",
        )
    network = getattr(result.detector, "network_", None)
    # both outcomes for each class, each the clip of median score among its kind, and why
    p_values = result.detector.p_values_of(scores)
    live = scores >= threshold
    aggregation = getattr(getattr(result.detector, "scorer_", None), "aggregation", "mean")
    kinds = (
        ("fake_caught", (demo.y == -1) & ~live, "fake clip called SPOOF (caught)"),
        ("fake_missed", (demo.y == -1) & live, "fake clip called LIVE (missed)"),
        ("real", (demo.y == 1) & live, "real clip called LIVE"),
        ("real_false_alarm", (demo.y == 1) & ~live, "real clip called SPOOF (a false alarm)"),
    )
    for name, mask, what in kinds:
        idx = np.flatnonzero(mask)
        if not len(idx):
            continue
        i = int(idx[np.argsort(scores[idx])[len(idx) // 2]])
        title = (
            f"{what}: {demo.files[i]} ({demo.generators[i]}, {demo.sources[i]}), score "
            f"{scores[i]:.2f} {'>=' if live[i] else '<'} threshold {threshold:.2f}, p-value "
            f"{p_values[i]:.2f}"
        )
        scale = (
            f"a p-value of {p_values[i]:.2f} means that about {p_values[i]:.0%} of real "
            "validation clips score as low."
        )
        if network is None:  # a whole-clip detector: the features that pushed its score
            why = f"One score for the whole clip (the features that pushed it are drawn); {scale}"
            (features,) = result.detector.explain([result.X[i]])
            record = {"path": demo.files[i], "label": "live" if live[i] else "spoof"}
            record.update(score=scores[i], threshold=threshold, p_value=float(p_values[i]))
            png = plot_feature_pushes({**record, "features": features}, out / f"example_{name}.png")
        else:
            w = result.windows[i]["score"]
            why = (
                f"Its score is the {aggregation} of its {len(w)} window scores, "
                f"{int((w < threshold).sum())} of them below the threshold; {scale}"
            )
            png = plot_clip(
                out / f"example_{name}.png",
                title=title,
                parts=network.decompose(result.X[i]) if hasattr(network, "decompose") else None,
                window_scores=w,
                starts=result.windows[i]["start"],
                window=network.window,
                threshold=threshold,
                fs=fps,
                t0=result.starts_s[i] if result.starts_s else 0.0,
            )
        figures.append((f"One {what} (the median score of those {len(idx)}): {title}. {why}", png))
    return figures


def _demo_files(out, result):
    """``metrics.md`` (every metric of every detector) and ``scores.csv`` (every clip)."""
    from ..evaluation.metrics import format_table

    demo, names = result.demo, list(result.results)
    tables = [
        f"## {det}, against the real clips of {group}\n\n{format_table(r)}\n"
        for (det, group), r in result.metrics.items()
    ]
    _write(out / "metrics.md", "# Metrics of every detector\n\n" + "\n".join(tables))
    with io.StringIO(newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        header = ["file", "label", "family", "source"]
        header += [f"score: {n}" for n in names] + [f"threshold: {n}" for n in names]
        writer.writerow(header)
        for i, f in enumerate(demo.files):
            writer.writerow(
                [
                    f,
                    "real" if demo.y[i] == 1 else "fake",
                    demo.generators[i],
                    demo.sources[i],
                    *[f"{result.results[n][0][i]:.6g}" for n in names],
                    *[f"{result.results[n][1]:.6g}" for n in names],
                ]
            )
        _write(out / "scores.csv", fh.getvalue())


def write_demo_folder(out, result, *, fps=DEFAULT_FPS):
    """The demo's report folder: figures, per-clip scores (CSV), metrics and index.html.

    Parameters
    ----------
    out : str or path-like
        The folder (see :func:`prepare_report_folder`).
    result : lipanomaly.app.demo.DemoResult
        What :func:`lipanomaly.app.demo.run_demo` measured.
    fps : float, default=25.0
        Frame rate of the clips (the extractor's), for the time axes.

    Returns
    -------
    path : pathlib.Path
        The HTML page.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = _demo_figures(out, result, fps)
    _demo_files(out, result)
    demo, known, new = result.demo, result.groups["known set-ups"], result.groups["new set-ups"]
    threshold = result.results[result.name][1]
    model_name = result.model_name
    intro = (
        f"<p><b>{html.escape(model_name[0].upper() + model_name[1:])}</b> scored the demo split of "
        "the data bundled in the package (<code>lipanomaly/data/DATA_NOTICE.md</code>): "
        f"{int(known.sum())} real clips of people it never saw, recorded like its training "
        f"clips ({html.escape(join_names(demo.sources[known]))}: <i>known set-ups</i>), "
        f"{int(new.sum())} real clips of recording sources it never saw "
        f"({html.escape(join_names(demo.sources[new]))}: <i>new set-ups</i>), and "
        f"{int((demo.y == -1).sum())} fakes of "
        f"{html.escape(join_names(demo.generators[demo.y == -1]))}. Every metric is given "
        "against each group of real clips: the gap between the two is what a change of "
        "camera, resolution or speaking style costs. The baselines are fitted on the same "
        "real training clips as the pretrained model.</p>"
        f"<p>The detector's threshold is {threshold:.3f}: "
        f"{html.escape(threshold_note(result.detector))}</p>"
        "<p class='note'>Score: higher = more live; a clip is a spoof when its score is "
        "below the detector's threshold. APCER: share of fakes called live; BPCER: share "
        "of reals called spoof. The sets are small: read differences of a few clips as "
        "noise.</p>"
    )
    sections = [
        ("What was run", intro),
        (
            "Results per generator family",
            html_table(*result.table_rows[:2], align=result.table_rows[2])
            + f"<p class='note'>{html.escape(result.legend())}</p>",
        ),
        (
            "Files",
            "<p><a href='scores.csv'>scores.csv</a>: every clip's score under every "
            "detector, with the thresholds; <a href='metrics.md'>metrics.md</a>: every "
            "metric with bootstrap confidence intervals (ISO/IEC 30107-3 rates, BPCER at "
            "APCER 5 % and 10 %).</p>",
        ),
    ]
    return write_demo_report(out, sections=sections, figures=figures)
