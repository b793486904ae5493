"""The ``lipanomaly`` command: exit codes, outputs, one-line errors, in-process and as a process.

A small detector is trained once per session on real GRID clips of the development data and
saved as a pipeline folder; the commands score real development track files and videos with
it. ``fit`` itself is exercised on a few clips for one epoch.
"""

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from lipanomaly.app.cli import build_parser, main

pytestmark = pytest.mark.slow

GRID = ("bbaf2n", "brbk7n", "lbax4n", "lbbc2a", "lrwp9a", "lwbsza", "pwij3p", "sbia1a")


def _track(data_dir, name):
    return str(data_dir / "landmarks" / f"lipnet_grid_samples__{name}.mpg.npz")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, data_dir):
    """A small LFHFVAEDetector pipeline trained on 8 real GRID clips, saved as a folder."""
    from sklearn.pipeline import Pipeline

    from lipanomaly import LFHFVAEDetector, LipLandmarkExtractor
    from lipanomaly.persistence.pretrained import save_pipeline

    ext = LipLandmarkExtractor()
    clips = ext.transform([_track(data_dir, n) for n in GRID])
    det = LFHFVAEDetector(
        channels=8,
        n_layers=2,
        latent_lf=4,
        latent_hf=4,
        decoder_layers=1,
        max_epochs=2,
        n_jitter_draws=1,
        complexity="flatness",
        random_state=0,
    ).fit(clips)
    path = tmp_path_factory.mktemp("models") / "grid-model"
    save_pipeline(Pipeline([("extractor", ext), ("detector", det)]), path)
    return path


@pytest.fixture(scope="module")
def ocvae_dir(tmp_path_factory, data_dir):
    """A small OCVAEDetector pipeline (the OC-FakeDect baseline) on the same GRID clips."""
    from sklearn.pipeline import Pipeline

    from lipanomaly import LipLandmarkExtractor, OCVAEDetector
    from lipanomaly.persistence.pretrained import save_pipeline

    ext = LipLandmarkExtractor()
    clips = ext.transform([_track(data_dir, n) for n in GRID])
    det = OCVAEDetector(
        channels=8, n_layers=2, latent=4, decoder_layers=1, max_epochs=2, random_state=0
    ).fit(clips)
    path = tmp_path_factory.mktemp("models") / "grid-ocvae"
    save_pipeline(Pipeline([("extractor", ext), ("detector", det)]), path)
    return path


@pytest.fixture
def bad_npz(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_text("this is not a track file")
    return path


def _stderr_lines(capsys):
    return [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]


# -- usage --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [[], ["extract"], ["fit"], ["score"], ["calibrate"], ["evaluate"], ["demo"]]
)
def test_help_has_examples(command, capsys):
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: lipanomaly" in out and "examples:" in out


@pytest.mark.parametrize(
    "argv",
    [
        [],  # no subcommand
        ["bogus"],
        ["score"],  # no input
        ["fit", "a.npz"],  # no -o
        ["extract", "v.mp4", "-o", "out", "--jobs", "0"],
        ["evaluate", "--real", "r.npz"],  # no --fake
    ],
)
def test_bad_usage_exits_2(argv, capsys):
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_version(capsys):
    from lipanomaly import __version__

    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_global_options_before_or_after_the_subcommand():
    parser = build_parser()
    assert parser.parse_args(["--debug", "score", "x"]).debug is True
    assert parser.parse_args(["score", "x", "--debug"]).debug is True
    assert parser.parse_args(["score", "x"]).debug is False


# -- score -------------------------------------------------------------------------------------


def test_score_json_reports_every_file(model_dir, data_dir, bad_npz, tmp_path, capsys):
    missing = tmp_path / "missing.mp4"
    inputs = [_track(data_dir, "swiz3n"), str(bad_npz), _track(data_dir, "sbwe5n"), str(missing)]
    code = main(["score", "--model", str(model_dir), "--json", *inputs])
    captured = capsys.readouterr()
    assert code == 1  # some inputs failed ...
    records = json.loads(captured.out)  # ... but the others are scored: one JSON array
    assert [Path(r["path"]).name for r in records] == [
        "lipnet_grid_samples__swiz3n.mpg.npz",
        "lipnet_grid_samples__sbwe5n.mpg.npz",
    ]
    for r in records:
        assert {"path", "score", "decision", "label", "windows", "threshold"} <= set(r)
        assert r["label"] in ("live", "spoof")
        assert r["label"] == ("live" if r["decision"] >= 0 else "spoof")
        assert r["decision"] == pytest.approx(r["score"] - r["threshold"])
        # 75 frames at 25 fps: one 64-frame window at 0 and one aligned to the end (frame 11)
        assert [w["start_s"] for w in r["windows"]] == [0.0, 0.44]
        assert r["windows"][-1]["end_s"] == pytest.approx(3.0)
        assert np.mean([w["score"] for w in r["windows"]]) == pytest.approx(r["score"])
    errors = sorted(ln for ln in captured.err.splitlines() if ln.strip())
    assert len(errors) == 2  # one line per bad input, no traceback
    assert all(e.startswith("lipanomaly: error: ") for e in errors)
    assert str(bad_npz) in errors[0] and "cannot be read as an .npz track file" in errors[0]
    assert str(missing) in errors[1] and "no such file" in errors[1]
    assert "Traceback" not in captured.err


def test_score_matches_the_library(model_dir, data_dir, capsys):
    from lipanomaly.persistence.pretrained import load_pipeline

    path = _track(data_dir, "swiz3n")
    assert main(["score", "-m", str(model_dir), "--json", path]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    pipe = load_pipeline(model_dir)
    assert record["score"] == pytest.approx(pipe.score_samples([path])[0], rel=1e-12)
    assert record["threshold"] == pytest.approx(pipe[-1].offset_)
    assert record["n_frames"] == 75 and record["duration_s"] == 3.0


def test_score_with_a_saved_ocvae_detector(ocvae_dir, data_dir, tmp_path, capsys):
    """Any saved detector scores, the OC-FakeDect baseline too (it has no ``fs``)."""
    from lipanomaly.persistence.pretrained import load_pipeline

    path = _track(data_dir, "swiz3n")
    plots = tmp_path / "figures"
    assert main(["score", "-m", str(ocvae_dir), "--json", path, "--plot", str(plots)]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["score"] == pytest.approx(load_pipeline(ocvae_dir).score_samples([path])[0])
    assert [w["start_s"] for w in record["windows"]] == [0.0, 0.44]
    assert (plots / "lipnet_grid_samples__swiz3n.mpg.npz.png").is_file()
    # the demo too: its figures show the window scores (no LF/HF decomposition to draw)
    out = tmp_path / "report"
    assert main(["demo", "-m", str(ocvae_dir), "-o", str(out), "-q", "--no-baselines"]) == 0
    assert "OCVAEDetector" in capsys.readouterr().out
    assert list(out.glob("example_fake_*.png")) and list(out.glob("example_real*.png"))


def test_score_table_and_plots(model_dir, data_dir, tmp_path, capsys):
    plots = tmp_path / "figures"
    inputs = [_track(data_dir, "swiz3n"), _track(data_dir, "sbwe5n")]
    assert main(["score", "-m", str(model_dir), *inputs, "--plot", str(plots)]) == 0
    out = capsys.readouterr().out
    assert "verdict" in out and "threshold" in out
    assert out.count("LIVE") + out.count("SPOOF") == 2
    assert sorted(p.name for p in plots.iterdir()) == [
        "lipnet_grid_samples__sbwe5n.mpg.npz.png",
        "lipnet_grid_samples__swiz3n.mpg.npz.png",
    ]
    # the folder is not empty any more: no silent overwrite
    assert main(["score", "-m", str(model_dir), inputs[0], "--plot", str(plots)]) == 1
    assert "--force" in capsys.readouterr().err


def test_plots_never_fail_the_run(model_dir, data_dir, tmp_path, capsys):
    """A mathtext name, same names from two folders and an over-long name each get a figure;
    one that cannot be written is reported and the others are still written."""
    a, b, plots = tmp_path / "a", tmp_path / "b", tmp_path / "figures"
    for folder in (a, b):
        folder.mkdir()
    long_name = "L" * 240 + ".npz"
    for name, src, folder in (
        ("$1_$2.npz", "bbaf2n", a),
        ("x.npz", "brbk7n", a),
        ("x.npz", "lbax4n", b),
        (long_name, "lbbc2a", b),
        ("blocked.npz", "lrwp9a", b),
    ):
        shutil.copy(_track(data_dir, src), folder / name)
    (plots / "blocked.npz.png").mkdir(parents=True)  # a folder where a figure would go
    assert (
        main(["score", "-m", str(model_dir), str(a), str(b), "--plot", str(plots), "--force"]) == 1
    )
    err = _stderr_lines(capsys)
    (failed,) = [ln for ln in err if ln.startswith("lipanomaly: error:")]
    assert failed.startswith(f"lipanomaly: error: {b / 'blocked.npz'}: figure not written")
    assert "4 figure(s) written" in err[-1]
    names = sorted(p.name for p in plots.iterdir() if p.is_file())
    (long_png,) = [n for n in names if n.startswith("L" * 100)]
    assert len(long_png.encode()) <= 200
    assert sorted(set(names) - {long_png}) == ["$1_$2.npz.png", "x.npz.2.png", "x.npz.png"]
    assert all((plots / n).stat().st_size > 10_000 for n in names)


def test_a_truncated_video_is_an_error(model_dir, data_dir, tmp_path, capsys):
    data = (data_dir / "videos" / "video_8s_real.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.4)])
    assert main(["score", "-m", str(model_dir), "--json", str(cut)]) == 1
    (line,) = _stderr_lines(capsys)
    assert line.startswith(f"lipanomaly: error: {cut}: truncated or corrupt video")
    assert "203 frames, only 80 (39%)" in line


def test_score_a_folder(model_dir, data_dir, tmp_path, capsys):
    folder = tmp_path / "tracks"
    folder.mkdir()
    for name in GRID[:2]:
        shutil.copy(_track(data_dir, name), folder)
    (folder / "notes.txt").write_text("ignored: neither a video nor a track file")
    assert main(["score", "-m", str(model_dir), "--json", str(folder)]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_a_missing_model_is_one_line(tmp_path, data_dir, capsys):
    code = main(["score", "--model", str(tmp_path / "nope"), _track(data_dir, "swiz3n")])
    assert code == 1
    lines = _stderr_lines(capsys)
    assert len(lines) == 1 and "nope" in lines[0] and "no such model folder" in lines[0]


def test_debug_shows_the_traceback(tmp_path, data_dir, capsys):
    assert main(["--debug", "score", "-m", str(tmp_path / "nope"), _track(data_dir, "swiz3n")])
    assert "Traceback" in capsys.readouterr().err


# -- fit ---------------------------------------------------------------------------------------


def test_fit_writes_a_model_that_score_reads(data_dir, tmp_path, capsys):
    out = tmp_path / "model"
    inputs = [_track(data_dir, n) for n in GRID[:4]]
    fakes = [
        data_dir / "landmarks" / f"linly__{name}_results_example_answer.mp4.npz"
        for name in ("3d2c995", "8f13813")
    ]
    argv = ["fit", *inputs, *map(str, fakes), "-o", str(out), "--epochs", "1", "-q"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    # a one-class model never trains on fakes: one line for all of them
    assert f"left out 2 track files labelled fake, e.g. {fakes[0]}" in err
    assert err.count("labelled fake") == 1
    assert {"config.json", "weights.safetensors", "extractor.json"} <= {
        p.name for p in out.iterdir()
    }
    from lipanomaly.persistence.pretrained import load_pipeline

    det = load_pipeline(out)[-1]
    assert det.max_epochs == 1 and det.random_state == 0
    # never overwrite without --force
    assert main(["fit", *inputs, "-o", str(out), "--epochs", "1", "-q"]) == 1
    lines = _stderr_lines(capsys)
    assert len(lines) == 1 and str(out) in lines[0] and "--force" in lines[0]


def test_fit_into_a_folder_that_is_not_a_model_says_why_at_once(data_dir, tmp_path, capsys):
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"not a model file")
    for force in ([], ["--force"]):
        assert main(["fit", _track(data_dir, "swiz3n"), "-o", str(out), "-q", *force]) == 1
        (line,) = _stderr_lines(capsys)
        assert "not a lipanomaly model folder" in line and "holiday.jpg" in line
        assert "pass --force" not in line  # never offered where it is refused
    assert (out / "holiday.jpg").read_bytes() == b"not a model file"


def test_fit_stops_on_a_bad_input_unless_asked(data_dir, bad_npz, tmp_path, capsys):
    out = tmp_path / "model"
    assert main(["fit", _track(data_dir, "swiz3n"), str(bad_npz), "-o", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert str(bad_npz) in err and "--skip-errors" in err
    assert not out.exists()


# -- extract -----------------------------------------------------------------------------------


def test_extract_a_video_and_a_bad_one(data_dir, tmp_path, capsys):
    from lipanomaly.io.tracks import read_track

    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(b"\x00" * 1000)
    video = data_dir / "videos" / "bbaf2n.mpg"
    out = tmp_path / "tracks"
    assert main(["extract", str(video), str(bad), "-o", str(out), "-q"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and str(bad) in err[0]
    written = read_track(out / "bbaf2n.mpg.npz")
    reference = read_track(data_dir / "videos" / "bbaf2n.mpg.mp_lm.npz")
    assert written.n_frames == reference.n_frames == 75
    assert written.origin == "bbaf2n.mpg"
    # an existing track file is kept unless --force
    mtime = (out / "bbaf2n.mpg.npz").stat().st_mtime_ns
    assert main(["extract", str(video), "-o", str(out)]) == 0
    assert "exists already" in capsys.readouterr().err
    assert (out / "bbaf2n.mpg.npz").stat().st_mtime_ns == mtime


# -- evaluate ------------------------------------------------------------------------------------


def test_evaluate_real_and_fake_tracks(model_dir, data_dir, tmp_path, capsys):
    real = [_track(data_dir, n) for n in ("swiz3n", "sbwe5n", "id2_vcd_swwp2s")]
    fakes = sorted(str(p) for p in (data_dir / "landmarks").glob("linly__*.npz"))[:3]
    plots = tmp_path / "eval"
    argv = ["evaluate", "-m", str(model_dir), "--real", *real, "--fake", *fakes, "-q"]
    assert main([*argv, "--plot", str(plots)]) == 0
    out = capsys.readouterr().out
    assert "SadTalker" in out  # the generator family of the fake track files
    assert any(p.suffix == ".png" for p in plots.iterdir())
    assert main([*argv, "--json"]) == 0
    json.loads(capsys.readouterr().out)


# -- demo ----------------------------------------------------------------------------------------


def test_demo_writes_a_report(model_dir, tmp_path, capsys):
    import csv

    out = tmp_path / "report"
    assert main(["demo", "--model", str(model_dir), "-o", str(out), "-q"]) == 0
    stdout = capsys.readouterr().out
    expected = ["all fakes", "DreamTalk", "SadTalker", "StyleTalk", "LFHFVAEDetector"]
    expected += ["LipMotionFeatures + OneClassSVM", "AUC vs known set-ups", "BPCER new set-ups"]
    for text in expected:
        assert text in stdout
    page = (out / "index.html").read_text()
    pngs = ["known_roc.png", "new_roc.png", "known_scores.png", "new_scores.png"]
    examples = [p.name for p in out.glob("example_*.png")]
    assert any(e.startswith("example_fake_") for e in examples)
    assert any(e.startswith("example_real") for e in examples)
    for png in [*pngs, *examples]:
        assert (out / png).stat().st_size > 10_000 and png in page
    with open(out / "scores.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 57  # 14 + 30 unseen reals, 13 fakes
    assert sum(r["label"] == "fake" for r in rows) == 13
    # a previous report is replaced (make demo runs again), any other folder is left alone
    assert main(["demo", "--model", str(model_dir), "-o", str(out), "-q", "--no-baselines"]) == 0
    assert "LipMotionFeatures" not in capsys.readouterr().out
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("a user's file")
    assert main(["demo", "--model", str(model_dir), "-o", str(mine), "-q"]) == 1
    assert "--force" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "a user's file"


def test_demo_never_writes_through_a_link(model_dir, tmp_path, capsys):
    """A report folder gets the model folders' rule: one holding a symbolic link is refused
    before anything is computed, --force too, and the link's target is untouched."""
    target = tmp_path / "precious.txt"
    target.write_text("the user's file")
    out = tmp_path / "report"
    out.mkdir()
    (out / ".lipanomaly-report").write_text("a previous report\n")
    (out / "index.html").symlink_to(target)
    for force in ([], ["--force"]):
        assert main(["demo", "--model", str(model_dir), "-o", str(out), "-q", *force]) == 1
        (line,) = _stderr_lines(capsys)
        assert line.startswith(f"lipanomaly: error: {out}: holds symbolic links (index.html)")
    linked = tmp_path / "linked"
    linked.symlink_to(out)
    assert main(["demo", "--model", str(model_dir), "-o", str(linked), "-q"]) == 1
    assert "a symbolic link" in capsys.readouterr().err
    assert target.read_text() == "the user's file"


def test_report_files_replace_a_link_instead_of_following_it(tmp_path):
    """A link placed after the folder was checked is replaced, never written through."""
    from lipanomaly.app.report import prepare_report_folder, write_demo_report

    target = tmp_path / "precious.txt"
    target.write_text("the user's file")
    out = prepare_report_folder(tmp_path / "report")
    (out / "index.html").symlink_to(target)
    write_demo_report(out, sections=[("A", "<p>b</p>")], figures=[])
    assert target.read_text() == "the user's file"
    assert not (out / "index.html").is_symlink() and "<p>b</p>" in (out / "index.html").read_text()


# -- as a process -------------------------------------------------------------------------------


def _run(args, **kw):
    script = Path(sys.executable).with_name("lipanomaly")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "lipanomaly.app.cli"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd + args, capture_output=True, text=True, env=env, **kw)


def test_console_script(model_dir, data_dir, bad_npz):
    """The installed command, as a process: results on stdout, one error line on stderr."""
    good = _track(data_dir, "swiz3n")
    run = _run(["score", "-m", str(model_dir), "--json", good, str(bad_npz)])
    assert run.returncode == 1
    (record,) = json.loads(run.stdout)
    assert record["path"] == good and record["label"] in ("live", "spoof")
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(bad_npz) in lines[0] and "Traceback" not in run.stderr


# -- issue 15: usage messages, inputs, progress, the verdict's scale ------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "a.npz", "-o", "m", "--epochs", "0"], "epochs >= 1, got 0"),
        (["fit", "a.npz", "-o", "m", "--epochs", "-1"], "epochs >= 1, got -1"),
        (["fit", "a.npz", "-o", "m", "--threads", "0"], "threads >= 1, got 0"),
        (["score", "a.npz", "--jsn"], "unrecognized arguments: --jsn"),
        (["score", "a.npz", "--threshold", "nan"], "finite number"),
        (["score", "a.npz", "--contamination", "1.5"], "between 0 and 1"),
        (["score", "a.npz", "--threshold", "1", "--contamination", "0.1"], "not allowed with"),
    ],
)
def test_usage_errors_name_the_option_and_the_subcommand(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert f"usage: lipanomaly {argv[0]}" in err  # the subcommand's usage, not the top-level
    assert "cores" not in err


def test_a_wrong_path_is_answered_before_anything_heavy_loads(tmp_path):
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "from lipanomaly.app.cli import main\n"
        f"code = main(['score', {str(tmp_path / 'nope.npz')!r}])\n"
        "heavy = sorted(m for m in ('torch', 'sklearn', 'mediapipe', 'cv2', 'antropy')"
        " if m in sys.modules)\n"
        "print(code, heavy, time.perf_counter() - t)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.startswith("1 [] ")  # exit code 1, no heavy module imported
    assert "nope.npz: no such file or folder" in run.stderr


def test_a_model_without_a_network_scores_without_torch(data_dir, tmp_path, monkeypatch):
    """The cold start of a verdict that needs no network pays for no torch nor skorch."""
    from sklearn.pipeline import Pipeline

    from lipanomaly import LipLandmarkExtractor
    from lipanomaly.persistence import serialization
    from lipanomaly.persistence.pretrained import save_pipeline

    tests = Path(__file__).resolve().parent
    sys.path.insert(0, str(tests))
    try:
        from no_network import LipSpeedDetector
    finally:
        sys.path.remove(str(tests))
    monkeypatch.setitem(serialization._REGISTRY, "LipSpeedDetector", LipSpeedDetector)
    ext = LipLandmarkExtractor()
    det = LipSpeedDetector().fit(ext.transform([_track(data_dir, n) for n in GRID]))
    model = tmp_path / "speed-model"
    save_pipeline(Pipeline([("extractor", ext), ("detector", det)]), model)
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(tests)!r})\n"
        "from no_network import LipSpeedDetector\n"
        "import lipanomaly.persistence.serialization as s\n"
        "s._REGISTRY['LipSpeedDetector'] = LipSpeedDetector  # as a registered class\n"
        "from lipanomaly.app.cli import main\n"
        f"code = main(['score', '-m', {str(model)!r}, {_track(data_dir, 'swiz3n')!r}])\n"
        "heavy = [m for m in ('torch', 'skorch', 'antropy', 'cv2', 'mediapipe')"
        " if m in sys.modules]\n"
        "print(json.dumps([code, heavy]))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    *table, last = run.stdout.strip().splitlines()
    assert json.loads(last) == [0, []]  # scored, and no heavy module imported
    assert any("swiz3n" in line and ("LIVE" in line or "SPOOF" in line) for line in table)
    assert "the 20th percentile of the scores of its 8 real validation clips" in " ".join(table)


@pytest.mark.parametrize(("model", "needs_network"), [([], False), (["-m", "lfhf"], True)])
def test_the_pretrained_models_import_torch_only_for_the_network(data_dir, model, needs_network):
    """The default (face-motion) model's verdict pays for no torch; the lip VAE's does."""
    argv = ["score", *model, _track(data_dir, "swiz3n")]
    code = (
        "import json, sys\n"
        "from lipanomaly.app.cli import main\n"
        f"code = main({argv!r})\n"
        "print(json.dumps([code, [m for m in ('torch', 'skorch') if m in sys.modules]]))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    code, heavy = json.loads(run.stdout.strip().splitlines()[-1])
    assert code == 0 and heavy == (["torch", "skorch"] if needs_network else [])


def test_a_video_beside_its_track_file_is_one_clip(model_dir, data_dir, tmp_path, capsys):
    folder = tmp_path / "clips"
    folder.mkdir()
    (folder / "swiz3n.mpg").write_bytes(b"not read: its track file is")
    shutil.copy(_track(data_dir, "swiz3n"), folder / "swiz3n.mpg.mp_lm.npz")
    assert main(["score", "-m", str(model_dir), "--json", str(folder)]) == 0
    captured = capsys.readouterr()
    (record,) = json.loads(captured.out)
    assert record["path"].endswith("swiz3n.mpg.mp_lm.npz")
    assert "its track file swiz3n.mpg.mp_lm.npz is read instead" in captured.err


def test_score_gives_p_values_and_video_times(model_dir, data_dir, capsys):
    from lipanomaly.persistence.pretrained import load_pipeline
    from lipanomaly.scoring.formulas import conformal_p_values

    path = _track(data_dir, "swiz3n")
    assert main(["score", "-m", str(model_dir), "--json", path]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    pipe = load_pipeline(model_dir)
    det = pipe[-1]
    assert record["p_value"] == pytest.approx(det.p_values(pipe[0].transform([path]))[0])
    assert record["p_value"] == pytest.approx(
        conformal_p_values([record["score"]], det.validation_scores_)[0]
    )
    assert record["threshold_p_value"] == pytest.approx(
        conformal_p_values([det.offset_], det.validation_scores_)[0]
    )
    assert "validation clips" in record["threshold_note"]
    assert record["start_s"] == 0.0 and record["end_s"] == 3.0
    x0, y0, x1, y1 = record["face_box"]
    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    # the table says the same, with the threshold's meaning
    assert main(["score", "-m", str(model_dir), path]) == 0
    out = capsys.readouterr().out
    assert "p-value" in out and f"{record['p_value']:.2f}" in out and "validation clips" in out


def test_score_threshold_options(model_dir, data_dir, capsys):
    path = _track(data_dir, "swiz3n")
    assert main(["score", "-m", str(model_dir), "--json", path, "--threshold", "1e9"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["threshold"] == 1e9 and record["label"] == "spoof"
    assert "chosen by the user" in record["threshold_note"]
    assert main(["score", "-m", str(model_dir), "--json", path, "--contamination", "0.01"]) == 0
    (low,) = json.loads(capsys.readouterr().out)
    assert main(["score", "-m", str(model_dir), "--json", path, "--contamination", "0.5"]) == 0
    (high,) = json.loads(capsys.readouterr().out)
    assert low["threshold"] < high["threshold"]
    # a share of the validation clips is a percentile of them, not the user's own number
    assert "the 1st percentile of the scores of its" in low["threshold_note"]
    assert "the 50th percentile of the scores of its" in high["threshold_note"]
    assert "chosen by the user" not in low["threshold_note"] + high["threshold_note"]


def test_score_table_says_the_verdict_reads_the_mean_of_the_windows(model_dir, data_dir, capsys):
    assert main(["score", "-m", str(model_dir), _track(data_dir, "swiz3n")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "score: the mean of the clip's window scores" in out
    assert "whatever the share of its windows below the threshold (spoof windows)" in out


def test_calibrate_writes_a_model_and_score_reference_matches_it(
    model_dir, data_dir, tmp_path, capsys
):
    from lipanomaly import calibrate
    from lipanomaly.persistence.pretrained import load_pipeline

    refs = [_track(data_dir, n) for n in ("bbaf2n", "brbk7n")]
    suspect = _track(data_dir, "swiz3n")
    out = tmp_path / "mine"
    assert main(["calibrate", *refs, "-m", str(model_dir), "-o", str(out)]) == 0
    assert "calibrated on 2 reference clip(s): scoring re-centred" in capsys.readouterr().err
    expected = calibrate(load_pipeline(model_dir), refs).score_samples([suspect])[0]
    assert load_pipeline(out).score_samples([suspect])[0] == pytest.approx(expected)
    argv = ["score", "-m", str(model_dir), "--json", suspect]
    assert main([*argv, "--reference", refs[0], "--reference", refs[1]]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["score"] == pytest.approx(expected)
    # the destination is checked before anything is computed, and never overwritten
    assert main(["calibrate", *refs, "-m", str(model_dir), "-o", str(out)]) == 1
    assert "exists" in capsys.readouterr().err


def test_calibrate_warns_on_one_line_and_names_a_cut_frame(model_dir, data_dir, tmp_path, capsys):
    from lipanomaly.io.tracks import read_track, write_track

    ref = read_track(_track(data_dir, "bbaf2n"))
    ref.landmarks[0] = np.nan  # no face in the first frame: cut, not a gap
    path = tmp_path / "first_frame_missing.npz"
    write_track(path, ref)
    refs = [str(path), _track(data_dir, "brbk7n")]
    assert main(["calibrate", *refs, "-m", str(model_dir), "-o", str(tmp_path / "mine")]) == 0
    warned = [ln for ln in _stderr_lines(capsys) if "first_frame_missing" in ln]
    assert len(warned) == 1, warned
    assert warned[0].startswith("lipanomaly: warning: ")
    assert "no face in frame 0 (1 of 75), at the clip's start or end: cut" in warned[0]
    assert "ExtractionWarning" not in warned[0] and "interpolated" not in warned[0]


def _copy_pretrained(tmp_path):
    from lipanomaly.persistence.pretrained import PRETRAINED_MODELS

    return Path(shutil.copytree(PRETRAINED_MODELS["lfhf"], tmp_path / "model"))


def test_calibrate_reads_references_as_fit_does(data_dir, tmp_path, capsys):
    """Fakes are left out with a note, duplicates count once, and a missing reference stops
    the command before anything is written (unless --skip-errors)."""
    refs = [_track(data_dir, n) for n in GRID[:5]]
    copies = []
    for r in refs:  # the same five clips again, under other names
        copies.append(str(tmp_path / ("copy_" + Path(r).name)))
        shutil.copy(r, copies[-1])
    import dataclasses

    from lipanomaly.io.tracks import read_track, write_track

    # the same clip in a file of other bytes (another source text): counted once too
    track = read_track(refs[0])
    same = write_track(tmp_path / "relabelled.npz", dataclasses.replace(track, source="mine"))
    fake = str(data_dir / "landmarks" / "wav2lip_forks__kuwarkapur_result_voice.mp4.npz")
    out = tmp_path / "mine"
    assert main(["calibrate", *refs, *copies, same, fake, "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"{fake}: labelled fake; left out" in err
    assert err.count("counted once") == 6
    assert f"{same}: the same clip as {refs[0]}; counted once" in err
    assert "calibrated on 5 reference clip(s): scoring re-centred" in err  # not the re-fit
    missing = str(tmp_path / "missing.npz")
    out = tmp_path / "other"
    assert main(["calibrate", *refs, missing, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{missing}: no such file or folder" in err
    assert "nothing was calibrated" in err and not out.exists()
    assert main(["calibrate", *refs, missing, "-o", str(out), "--skip-errors"]) == 1
    assert "calibrated on 5 reference clip(s)" in capsys.readouterr().err and out.is_dir()


def test_a_still_reference_is_refused_by_name(data_dir, tmp_path, capsys):
    import dataclasses

    from lipanomaly.io.tracks import read_track, write_track

    refs = [_track(data_dir, n) for n in GRID[:3]]
    track = read_track(refs[0])
    held = np.repeat(track.landmarks[:1], len(track.landmarks), axis=0)  # a photo
    still = write_track(tmp_path / "still.npz", dataclasses.replace(track, landmarks=held))
    suspect = _track(data_dir, "swiz3n")
    argv = ["score", "-m", "lfhf", "--json", suspect, "--reference", still, "--reference", refs[1]]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing scored
    (line,) = [ln for ln in captured.err.splitlines() if still in ln]
    assert line.startswith(f"lipanomaly: error: {still}: cannot be a reference: a still face")
    assert "MIN_REFERENCE_MOTION" in line
    assert main([*argv, "--skip-errors"]) == 0
    captured = capsys.readouterr()
    assert f"{still}: left out of the calibration: a still face" in captured.err
    assert len(json.loads(captured.out)) == 1


def test_calibrate_in_place_keeps_the_notes(data_dir, tmp_path, capsys):
    model = _copy_pretrained(tmp_path)
    notice = (model / "DATA_NOTICE.md").read_bytes()
    training = json.loads((model / "TRAINING.json").read_text())
    refs = [_track(data_dir, n) for n in GRID[:3]]
    for _ in range(2):  # twice: the calibrations are recorded one after the other
        assert main(["calibrate", *refs, "-m", str(model), "-o", str(model), "--force"]) == 0
    assert "calibrated model saved" in capsys.readouterr().err
    assert (model / "DATA_NOTICE.md").read_bytes() == notice
    after = json.loads((model / "TRAINING.json").read_text())
    calibrations = after.pop("calibrations")
    assert after == training
    assert len(calibrations) == 2 and calibrations[0]["scoring"] == "re-centred"
    assert [r["file"] for r in calibrations[1]["references"]] == [Path(r).name for r in refs]
    # the pretrained model's notes reach a calibrated copy of it too
    assert main(["calibrate", *refs, "-o", str(tmp_path / "copy")]) == 0
    assert (tmp_path / "copy" / "DATA_NOTICE.md").read_bytes() == notice


def test_fit_says_its_threshold(data_dir, tmp_path, capsys):
    out = tmp_path / "model"
    inputs = [_track(data_dir, n) for n in GRID[:5]]
    assert main(["fit", *inputs, "-o", str(out), "--epochs", "1"]) == 0
    err = capsys.readouterr().err
    assert "at most 1 epochs (minutes on a CPU)" in err
    assert "trained 1 epochs" in err
    assert "threshold " in err and "real validation clips" in err
    assert "valid_loss" in err  # the epoch table, one line an epoch, reaches a log too
    assert "\x1b[" not in err  # no ANSI colour codes (nor batch bars) in a redirected log


class _Links(HTMLParser):
    """Every src and href of a page, and its tables."""

    def __init__(self):
        super().__init__()
        self.links, self.tables = [], 0

    def handle_starttag(self, tag, attrs):
        self.tables += tag == "table"
        self.links += [v for k, v in attrs if k in ("src", "href")]


def _check_page(page):
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    assert parser.links
    for link in parser.links:
        assert not Path(link).is_absolute() and "://" not in link, link
        assert (page.parent / link).is_file(), f"{page}: {link} does not resolve"
    return parser


def test_report_figures_load_from_any_output_folder(model_dir, tmp_path, monkeypatch, capsys):
    """The page links its figures relative to itself: they load from a relative -o, and
    after the folder is moved."""
    monkeypatch.chdir(tmp_path)
    args = ["demo", "--model", str(model_dir), "-q", "--no-baselines"]
    assert main([*args, "-o", "nested/report"]) == 0
    capsys.readouterr()
    parser = _check_page(tmp_path / "nested" / "report" / "index.html")
    assert parser.tables >= 1  # the results are an HTML table, not preformatted text
    examples = len(list((tmp_path / "nested" / "report").glob("example_*.png")))
    assert 2 <= examples <= 4  # each outcome of fakes and reals that occurs
    assert sum(link.endswith(".png") for link in parser.links) == 4 + examples
    shutil.move(tmp_path / "nested" / "report", tmp_path / "moved")
    _check_page(tmp_path / "moved" / "index.html")
    page = (tmp_path / "moved" / "index.html").read_text()
    assert "<pre>" not in page and "p-value" in page


# -- the face-motion detector with known fakes (issue 23) ----------------------------------

#: a small labelled folder: live clips of six recordings (landmarks/ and a packed wild/ clip)
#: and fakes of three families (one of them a packed modern/ file)
LABELLED = {
    "landmarks": (
        *(f"lipnet_grid_samples__{n}.mpg.npz" for n in GRID[:4]),
        "pcavs__Input__00002.mp4.npz",
        "pcavs__Input__00010.mp4.npz",
        "styletalk__source_video__Obama_clip1.mp4.npz",
        "styletalk__source_video__feifeili_clip1.mp4.npz",
        "linly__2b4e871_results_example_answer.mp4.npz",
        "linly__3d2c995_results_example_answer.mp4.npz",
        "hyperlips__fake_result__result_video1.mp4.npz",
    ),
    "wild": ("hdtf_rd_radio1_000_00.npz", "hdtf_wra_bobcorker_000_00.npz"),
    "modern": ("float__panels__sota02_FLOAT.mp4.npz", "sonic_jobs_00.npz"),
}


@pytest.fixture(scope="module")
def labelled_dir(tmp_path_factory, data_dir):
    folder = tmp_path_factory.mktemp("labelled")
    for collection, names in LABELLED.items():
        (folder / collection).mkdir()
        for name in names:
            shutil.copy(data_dir / collection / name, folder / collection / name)
    return folder


@pytest.fixture(scope="module")
def face_model(labelled_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("face") / "model"
    assert main(["fit", str(labelled_dir), "-r", "--with-fakes", "-o", str(out), "-q"]) == 0
    return out


def test_fit_with_fakes_learns_from_labelled_track_files(face_model, capsys):
    from lipanomaly import FaceMotionDetector
    from lipanomaly.persistence.pretrained import load_pipeline

    pipe = load_pipeline(face_model)
    det = pipe[-1]
    assert isinstance(det, FaceMotionDetector) and det.mode_ == "semi-supervised"
    assert (det.n_live_, det.n_fake_) == (10, 5)  # packed files read like track files
    assert pipe[0].points == "face" and pipe[0].pose


def test_score_a_face_model_json_and_table(face_model, labelled_dir, data_dir, capsys):
    inputs = [str(data_dir / "videos" / "bbaf2n.mpg"), str(labelled_dir / "modern")]
    assert main(["score", "-m", str(face_model), *inputs, "--json", "-q"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 3
    for r in records:  # the contract of 0.5, and what pushed the score
        assert {"path", "label", "score", "p_value", "threshold", "windows"} <= set(r)
        assert len(r["windows"]) == 1 and r["windows"][0]["score"] == r["score"]
        assert all(f["push"] < 0 for f in r["features"])
    assert main(["score", "-m", str(face_model), *inputs, "-q"]) == 0
    out = capsys.readouterr().out
    assert "pushed towards spoof by" in out and "cross" not in out.split("\n")[0]


def test_score_plot_of_a_face_model_draws_the_pushes(face_model, labelled_dir, tmp_path):
    figures = tmp_path / "figs"
    track = labelled_dir / "modern" / "sonic_jobs_00.npz"
    assert main(["score", "-m", str(face_model), str(track), "--plot", str(figures), "-q"]) == 0
    assert [p.name for p in figures.iterdir()] == ["sonic_jobs_00.npz.png"]


def test_with_fakes_needs_fakes_and_the_face_detector(labelled_dir, tmp_path, capsys):
    live = labelled_dir / "landmarks"
    only_live = tmp_path / "live"
    only_live.mkdir()
    for p in live.glob("lipnet*"):
        shutil.copy(p, only_live / p.name)
    assert main(["fit", str(only_live), "--with-fakes", "-o", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err
    assert "--with-fakes: none of the 4 input(s) is a track file labelled fake" in err
    assert not (tmp_path / "m").exists()
    args = ["fit", str(live), "--with-fakes", "--detector", "lfhf", "-o", str(tmp_path / "m")]
    assert main(args) == 1
    assert "lfhf is one-class" in capsys.readouterr().err


def test_pretrained_models_by_name(capsys, data_dir):
    track = _track(data_dir, GRID[0])
    assert main(["score", "-m", "lfhf", track, "--json", "-q"]) == 0
    (lfhf,) = json.loads(capsys.readouterr().out)
    assert main(["score", track, "--json", "-q"]) == 0  # the default: the face model
    (face,) = json.loads(capsys.readouterr().out)
    assert len(lfhf["windows"]) > 1 and "features" not in lfhf
    assert len(face["windows"]) == 1 and "features" in face


def test_calibrating_a_face_model_says_what_to_do(face_model, data_dir, tmp_path, capsys):
    refs = [_track(data_dir, n) for n in GRID[:3]]
    assert main(["calibrate", *refs, "-m", str(face_model), "-o", str(tmp_path / "c")]) == 1
    assert "fit it again with your genuine clips" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
