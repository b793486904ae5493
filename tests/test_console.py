"""The command's console: messages around progress bars, the inputs it reads."""

import pytest

from lipanomaly.app.console import Console, expand_inputs


class _Terminal(Console):
    progress = True  # as on a terminal


def test_progress_bar_ends_at_n_and_messages_have_their_own_lines(capsys):
    console = _Terminal()
    with console.bar(3, "scoring") as bar:
        for k in range(3):
            console.warn(f"note {k}")
            bar.update()
    err = capsys.readouterr().err
    assert "3/3" in err
    for k in range(3):
        assert f"\nlipanomaly: warning: note {k}\n" in "\n" + err.replace("\r", "\n")


def test_no_bar_off_a_terminal(capsys):
    console = Console()
    with console.bar(2, "scoring") as bar:
        bar.update(2)
    assert capsys.readouterr().err == ""


def test_expand_inputs(tmp_path, capsys):
    (tmp_path / "a.mp4").write_bytes(b"")
    (tmp_path / "a.mp4.npz").write_bytes(b"")
    (tmp_path / "b.MOV").write_bytes(b"")
    (tmp_path / "c.mpg.mp_lm.npz").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("")
    empty = tmp_path / "empty"
    empty.mkdir()
    console = Console()
    files = expand_inputs([tmp_path, tmp_path / "nope.npz", empty], console)
    assert [f.rsplit("/", 1)[-1] for f in files] == ["a.mp4.npz", "b.MOV", "c.mpg.mp_lm.npz"]
    assert console.n_failed == 2
    err = capsys.readouterr().err
    assert "a.mp4: its track file a.mp4.npz is read instead" in err
    assert "nope.npz: no such file or folder" in err and "empty: no video" in err
    # the extensions it looked for as a list a person reads, not a Python tuple
    assert "looked for files ending in .mp4, .avi," in err and ".npz)" in err
    assert "('" not in err


def test_many_videos_beside_their_track_files_are_one_line(tmp_path, capsys):
    for k in range(5):
        (tmp_path / f"v{k}.mp4").write_bytes(b"")
        (tmp_path / f"v{k}.mp4.mp_lm.npz").write_bytes(b"")
    files = expand_inputs([tmp_path], Console())
    assert len(files) == 5 and all(f.endswith(".mp_lm.npz") for f in files)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"{tmp_path}: 5 videos have their track file beside them (e.g. v0.mp4.mp_lm.npz): "
        "the track files are read instead (same clips)"
    ]


def test_python_warnings_become_one_line_warnings(capsys):
    import warnings

    console = Console()
    with console.python_warnings():
        warnings.warn("clip.npz: no face in frame 0", UserWarning, stacklevel=1)
    assert capsys.readouterr().err == "lipanomaly: warning: clip.npz: no face in frame 0\n"
    console = Console(debug=True)
    with console.python_warnings():
        warnings.warn("again", UserWarning, stacklevel=1)
    err = capsys.readouterr().err
    assert err.startswith("lipanomaly: warning: again [UserWarning, ") and "test_console.py:" in err


@pytest.mark.parametrize("tracks", [True, False])
def test_expand_inputs_without_tracks_keeps_the_videos(tmp_path, tracks):
    (tmp_path / "a.mp4").write_bytes(b"")
    (tmp_path / "a.mp4.npz").write_bytes(b"")
    files = expand_inputs([tmp_path], Console(), tracks=tracks)
    assert [f.rsplit("/", 1)[-1] for f in files] == (["a.mp4.npz"] if tracks else ["a.mp4"])
