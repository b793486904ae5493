"""What the ``lipanomaly`` command shows and reads: messages, progress bars, its inputs.

The command (:mod:`lipanomaly.app.cli`) prints results on stdout and everything else (progress,
notes, one line per failed input) on stderr; progress bars only on a terminal, so that a
redirected log holds lines, not bars. Finding the inputs imports nothing heavy: a mistyped
path is answered before a model or a video library loads.
"""

import contextlib
import sys
import warnings
from pathlib import Path

from ..limits import VIDEO_EXTENSIONS

__all__ = [
    "TRACK_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "Console",
    "Failure",
    "distinct_files",
    "expand_inputs",
    "extract_all",
    "leave_out_fakes",
    "named",
    "one_line",
]

PROG = "lipanomaly"
#: File name endings read as track files.
TRACK_EXTENSIONS = (".npz",)


class Failure(Exception):
    """An error to report on one line and exit with 1 (bad input, unreadable model ...)."""


def one_line(text):
    """``text`` with its white space (new lines too) collapsed to single spaces."""
    return " ".join(str(text).split())


def named(message, path):
    """``message``, prefixed with ``path`` unless it names it already."""
    message = one_line(message)
    return message if str(path) in message else f"{path}: {message}"


class Console:
    """Where messages go: results on stdout; progress, notes and errors on stderr.

    While a progress bar is drawn (:meth:`bar`), messages are written above it, never onto
    its line.
    """

    def __init__(self, quiet=False, debug=False):
        self.quiet = quiet
        self.debug = debug
        self.n_failed = 0
        self._bar = None

    def _err(self, text):
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def out(self, text=""):
        print(text, file=sys.stdout, flush=True)

    def info(self, text):
        if not self.quiet:
            self._err(text)

    def warn(self, text):
        self._err(f"{PROG}: warning: {one_line(text)}")

    def fail(self, text):
        """Report one failed input (the command goes on with the others)."""
        self.n_failed += 1
        self._err(f"{PROG}: error: {one_line(text)}")

    @contextlib.contextmanager
    def python_warnings(self):
        """Python warnings raised meanwhile, written as the command's one-line warnings.

        (Python's own format shows the script's path and a line of its source.) With
        ``debug``, the category and where the warning was raised are kept.
        """

        def show(message, category, filename, lineno, file=None, line=None):
            where = f" [{category.__name__}, {filename}:{lineno}]" if self.debug else ""
            self.warn(f"{message}{where}")

        with warnings.catch_warnings():
            warnings.showwarning = show
            yield

    @property
    def progress(self):
        """Whether to draw progress bars: on a terminal, unless --quiet."""
        return not self.quiet and sys.stderr.isatty()

    @contextlib.contextmanager
    def bar(self, total, desc, unit="file"):
        """A progress bar over ``total`` steps (``.update()`` each), closed at the end."""
        from tqdm import tqdm

        with tqdm(total=total, desc=desc, unit=unit, disable=not self.progress) as bar:
            self._bar = bar
            try:
                yield bar
            finally:
                self._bar = None


def _track_of(video, names):
    """The track file in ``names`` written for ``video`` (``<video name>.*npz``), or None."""
    prefix = video.name.lower() + "."
    for name in names:
        low = name.lower()
        if low.startswith(prefix) and low.endswith(TRACK_EXTENSIONS):
            return name
    return None


def _folder_files(folder, exts, recursive):
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.is_file() and p.name.lower().endswith(exts))


def expand_inputs(paths, console, *, tracks=True, recursive=False):
    """Files named on the command line, with folders replaced by the videos / tracks in them.

    In a folder, a video whose track file lies beside it (``clip.mp4`` and
    ``clip.mp4.npz``, or ``clip.mp4.mp_lm.npz``) is one clip: its track file is read (a
    note says so). Missing paths and empty folders are reported as failed inputs.

    Returns
    -------
    files : list of str
    """
    exts = VIDEO_EXTENSIONS + (TRACK_EXTENSIONS if tracks else ())
    files = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            inside = _folder_files(p, exts, recursive)
            if not inside:
                console.fail(
                    f"{p}: no video or track file in this folder (looked for files ending in "
                    f"{', '.join(exts)})"
                )
            by_folder = {}
            for f in inside:
                by_folder.setdefault(f.parent, []).append(f.name)
            replaced = []
            for f in inside:
                track = tracks and _track_of(f, by_folder[f.parent])
                if track and not f.name.lower().endswith(TRACK_EXTENSIONS):
                    replaced.append((f, track))
                    continue
                files.append(str(f))
            if len(replaced) == 1:
                ((f, track),) = replaced
                console.info(f"{f}: its track file {track} is read instead (same clip)")
            elif replaced:
                console.info(
                    f"{p}: {len(replaced)} videos have their track file beside them "
                    f"(e.g. {replaced[0][1]}): the track files are read instead (same clips)"
                )
        elif p.is_file():
            files.append(str(p))
        else:
            console.fail(f"{p}: no such file or folder")
    return files


def _extract_one(extractor, path, quiet_native=True):
    """Extract one input; return its report (``clip``, ``note``, ``error``, ``start_s`` ...)."""
    from sklearn.utils import Bunch

    from ..io.video import native_logs_silenced

    with warnings.catch_warnings(), native_logs_silenced(quiet_native):
        # third-party deprecation warnings are not the user's business; the extractor's own
        # notes come back as data
        warnings.simplefilter("ignore")
        try:
            (r,) = extractor.transform_report([path])
        except Exception as exc:  # a decoder crash must not stop the others
            return Bunch(clip=None, note=None, error=named(f"{type(exc).__name__}: {exc}", path))
    if r.error is not None:
        r.error = named(r.error, path)
    return r


def extract_all(extractor, files, console, *, n_jobs=1, desc="extracting"):
    """Lip sequences of ``files``, one at a time so that each bad file is reported alone.

    Returns
    -------
    good : list of (str, sklearn.utils.Bunch)
        The files that worked, in input order, with their extraction report (``clip``,
        ``start_s``, ``face_box``).
    """
    from joblib import Parallel, delayed
    from sklearn.base import clone

    single = clone(extractor).set_params(n_jobs=1, verbose=0)
    jobs = (delayed(_extract_one)(single, f, not console.debug) for f in files)
    good = []
    with console.bar(len(files), desc) as bar:
        results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
        for path, r in zip(files, results):
            if r.note is not None:
                console.warn(r.note)
            if r.error is not None:
                console.fail(r.error)
            else:
                good.append((path, r))
            bar.update()
    return good


def leave_out_fakes(files, console, why):
    """``files`` without the track files labelled fake, left out with one note for all.

    A track file that cannot be read is a failed input (reported, left out); videos carry
    no label and are kept.

    Parameters
    ----------
    files : list of str
    console : Console
    why : str
        Why fakes are left out, for the note (``"a one-class model trains on reals"``).

    Returns
    -------
    files : list of str
    """
    from ..exceptions import InputError
    from ..io.tracks import read_track

    kept, fakes = [], []
    for f in files:
        if f.lower().endswith(TRACK_EXTENSIONS):
            try:
                label = read_track(f).label
            except InputError as exc:
                console.fail(named(exc, f))
                continue
            if label == "fake":
                fakes.append(f)
                continue
        kept.append(f)
    if len(fakes) == 1:
        console.warn(f"{fakes[0]}: labelled fake; left out ({why})")
    elif fakes:  # a development folder holds dozens: one line, not one each
        console.warn(f"left out {len(fakes)} track files labelled fake, e.g. {fakes[0]} ({why})")
    return kept


def labelled_inputs(files, console):
    """The label, group and family of each input, for training with known fakes.

    A track file's ``label`` says live or fake (a video, or a track file without a label,
    is live); the group of a live clip is its ``source`` (the recording: held-out
    validation folds and the weight of a recording read it; the file itself without one),
    that of a fake its ``generator`` (each family weighs as one; ``"fake"`` without one). A
    track file that cannot be read is a failed input (reported, left out).

    Returns
    -------
    kept : list of str
    y : list of int
        +1 live, -1 fake.
    groups : list of str
    """
    from ..exceptions import InputError
    from ..io.tracks import read_track

    kept, y, groups = [], [], []
    for f in files:
        label, source, generator = None, None, None
        if f.lower().endswith(TRACK_EXTENSIONS):
            try:
                track = read_track(f)
            except InputError as exc:
                console.fail(named(exc, f))
                continue
            label, source, generator = track.label, track.source, track.generator
        kept.append(f)
        fake = label == "fake"
        y.append(-1 if fake else 1)
        groups.append((generator or "fake") if fake else (source or f))
    return kept, y, groups


def distinct_files(files, console):
    """``files`` with each content once: a file with the bytes of an earlier one is left out
    with a note.

    Returns
    -------
    files : list of (str, str)
        Each file kept and the SHA-256 of its content.
    """
    from ..io.files import file_sha256

    first, kept = {}, []
    for f in files:
        digest = file_sha256(f)
        if digest in first:
            console.warn(f"{f}: the same content as {first[digest]}; counted once")
            continue
        first[digest] = f
        kept.append((f, digest))
    return kept
