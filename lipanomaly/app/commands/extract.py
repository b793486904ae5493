"""``lipanomaly extract``: FaceMesh over videos, one track file per video."""

import warnings
from pathlib import Path

from ...exceptions import InputError
from ..console import named, one_line

__all__ = ["run"]


def run(args, console):
    """Write a track file per video of the inputs (files or folders); one line per failure."""
    from ...io.extraction import ExtractionWarning, extract_folder, extract_videos
    from ...io.tracks import read_track
    from ...io.video import native_logs_silenced

    out_dir = Path(args.output)
    settings = {
        "overwrite": args.force,
        "n_jobs": args.jobs,
        "errors": "skip",  # the failures come back as data: one line each
        "verbose": int(console.progress),
    }
    files = []
    results = []
    with warnings.catch_warnings(), native_logs_silenced(not console.debug):
        warnings.simplefilter("ignore", ExtractionWarning)
        for raw in args.inputs:
            p = Path(raw)
            if p.is_dir():
                try:
                    results.append(extract_folder(p, out_dir, recursive=args.recursive, **settings))
                except InputError as exc:  # no video in the folder
                    console.fail(one_line(exc))
            elif p.is_file():
                files.append(p)
            else:
                console.fail(f"{p}: no such file or folder")
        if files:
            outs = [out_dir / (p.name + ".npz") for p in files]
            results.append(extract_videos(files, outs, **settings))
    n_ok = 0
    for result in results:
        for video, track, status in zip(result.videos, result.tracks, result.status):
            if status == "failed":
                console.fail(named(result.errors[video], video))
            elif status == "existing":
                console.warn(f"{track}: exists already, {video} skipped (pass --force to redo it)")
            else:
                n_ok += 1
                found = float(read_track(track).face_found.mean())
                console.info(f"{video} -> {track} (face in {found:.0%} of frames)")
    console.info(f"{n_ok} track file(s) written to {out_dir}")
    return 0
