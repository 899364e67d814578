"""What the ``ratedeck`` command sets up before any heavy import."""

from __future__ import annotations

import os

import pytest

from pipeline import cli


def _version(capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    return capsys.readouterr().out


def test_numpy_blas_runs_one_thread_unless_the_user_says(monkeypatch, capsys):
    # OpenBLAS threads spin after numpy's import and take CPU from the costing on 2 cores
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    assert "ratedeck" in _version(capsys)
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    _version(capsys)
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"
