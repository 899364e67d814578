"""The CLI's last resort: an OSError no layer turned into a RatedeckError (a full disk, a
read-only folder) is one line naming the file, exit 1; the traceback only with --debug."""

from __future__ import annotations

import errno
import os

import pytest

from pipeline import cli
from pipeline.commands import diff


def _fails_with(exc: OSError):
    def run(_args, _settings) -> int:
        raise exc

    return run


@pytest.fixture
def no_settings_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RATEDECK_CONFIG", raising=False)


def test_an_os_error_is_one_line_naming_the_file(no_settings_file, monkeypatch, capsys):
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "data/raw/x.csv")
    monkeypatch.setattr(diff, "run", _fails_with(full))
    assert cli.main(["diff"]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", "ratedeck: error: data/raw/x.csv: No space left on device\n")


def test_an_os_error_from_polars_is_worded_like_the_others(no_settings_file, monkeypatch, capsys):
    # polars' OSErrors carry neither errno nor strerror: only "<text> (os error N): <path>"
    polars_style = PermissionError("Permission denied (os error 13): /ro/.x.csv.tmp")
    monkeypatch.setattr(diff, "run", _fails_with(polars_style))
    assert cli.main(["diff"]) == 1
    assert capsys.readouterr().err == "ratedeck: error: /ro/.x.csv.tmp: Permission denied\n"


def test_debug_shows_the_traceback(no_settings_file, monkeypatch):
    monkeypatch.setattr(diff, "run", _fails_with(OSError(errno.EROFS, "Read-only", "/ro/x")))
    with pytest.raises(OSError, match="Read-only"):
        cli.main(["diff", "--debug"])


def test_a_broken_pipe_is_still_a_quiet_exit_0(no_settings_file, monkeypatch):
    monkeypatch.setattr(diff, "run", _fails_with(BrokenPipeError(errno.EPIPE, "Broken pipe")))
    monkeypatch.setattr(os, "dup2", lambda *_: None)  # keep pytest's stdout
    assert cli.main(["diff"]) == 0
