"""Writing where the kernel says no: ``cost --out`` and ``sql --out`` in a read-only folder or
on a full disk, ``cdr import`` with a full landing zone. Each is one line naming the file or
folder and the cause, no traceback, and leaves no temporary file behind (the CLI runs in its
own mount namespace, as in test_cli_data_dir_errors)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.cli_errors import UNSHARE, namespaces_work, read_only, tiny_tmpfs, under_mount
from support.lookup_warehouse import standard_data_dir

pytestmark = [
    pytest.mark.skipif(
        not namespaces_work(), reason="needs unprivileged user and mount namespaces (unshare)"
    ),
    pytest.mark.slow,  # the CLI in a subprocess
]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return standard_data_dir(tmp_path / "data")


@pytest.fixture
def calls(tmp_path: Path) -> Path:
    path = tmp_path / "calls.csv"
    path.write_text("number,duration\n" + "4420123,61\n" * 5000)  # costed: about 400 KB
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path


def under_mount_then(mount: str, after: str) -> tuple[str, ...]:
    """As ``under_mount``, then ``after`` (a shell command) in the same namespace; the CLI's
    exit code stands."""
    return (*UNSHARE, "sh", "-c", f'{mount} && "$@"; code=$?; {after}; exit $code', "sh")


def one_error_line(result) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("command", "named"),
    [
        ("cost", "{out}: cannot write"),  # the file costing writes
        ("sql", "--out {out}: cannot write"),  # the option the analyst gave
    ],
)
def test_writing_into_a_read_only_folder(
    ratedeck, tmp_path, data_dir, calls, folder, command, named
):
    out = folder / "x.csv"
    what = str(calls) if command == "cost" else "select 1"
    result = ratedeck(
        command,
        what,
        "--out",
        str(out),
        cwd=tmp_path,
        prefix=under_mount(read_only(folder)),
        RATEDECK_DATA_DIR=str(data_dir),
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert one_error_line(result) == (
        f"ratedeck: error: {named.format(out=out)}: Read-only file system"
    )


def test_cost_onto_a_full_disk_keeps_the_earlier_output(
    ratedeck, tmp_path, data_dir, calls, folder
):
    out = folder / "x.csv"
    mount = f"{tiny_tmpfs(folder, '64k')} && echo earlier output > {out}"
    result = ratedeck(
        "cost",
        str(calls),
        "--out",
        str(out),
        "--batch-rows",
        "500",
        cwd=tmp_path,
        # the folder is listed inside the namespace: the tmpfs goes with it
        prefix=under_mount_then(mount, f"ls -A {folder}; cat {out}"),
        RATEDECK_DATA_DIR=str(data_dir),
    )
    assert result.returncode == 2
    assert one_error_line(result) == (
        f"ratedeck: error: {out}: cannot write: No space left on device"
    )
    assert result.stdout.splitlines() == ["x.csv", "earlier output"]  # no temporary file left


def test_cdr_import_into_a_full_landing_zone(ratedeck, tmp_path, data_dir):
    master = Path(__file__).parents[2] / "fixtures" / "cdr" / "Master.csv"
    lines = master.read_text().splitlines(keepends=True)
    big = tmp_path / "Master.csv"
    big.write_text("".join(lines * (200_000 // len("".join(lines)) + 1)))  # > the tmpfs
    raw = data_dir / "raw"
    raw.mkdir()
    result = ratedeck(
        "cdr",
        "import",
        str(big),
        cwd=tmp_path,
        prefix=under_mount(tiny_tmpfs(raw, "64k")),
        RATEDECK_DATA_DIR=str(data_dir),
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert one_error_line(result) == (
        f"ratedeck: error: {raw.resolve()}/cdr/asterisk: cannot write there: No space left on "
        "device"
    )
