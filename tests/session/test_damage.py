"""Killed, cut short, corrupted, not a session, too new: read what is there, say so in one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from qtui.errors import ConfigError, QtuiError
from qtui.session import SessionWriter, load_session
from qtui.session.check import check_session
from qtui.session.schema import FORMAT, VERSION

CHILD = """
import sys
from qtui.session import SessionWriter
w = SessionWriter(sys.argv[1], flush_interval_s=3600)
for i in range(200):
    w.append("request", {"endpoint": "bf16", "request_id": str(i), "t_send": float(i)})
w.flush()
print("flushed", flush=True)
i = 200
while True:  # keeps appending (unflushed) until killed
    w.append("request", {"endpoint": "bf16", "request_id": str(i), "t_send": float(i)})
    i += 1
"""


def test_killed_writer_leaves_a_readable_journal(tmp_path: Path) -> None:
    path = tmp_path / "killed.qtsession"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "flushed"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    s = load_session(path)
    ids = s.frame("request")["request_id"].to_list()
    assert ids[:200] == [str(i) for i in range(200)]
    assert any("did not finish cleanly" in w for w in s.warnings)
    assert "readable with" in check_session(path)


def _journal(tmp_path: Path, n: int = 5) -> Path:
    path = tmp_path / "j.qtsession"
    w = SessionWriter(path)
    for i in range(n):
        w.append("client_second", {"endpoint": "a", "t": float(i), "rps": 1.0})
    w.close(finalise=False)
    return path


def test_cut_last_line_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b'"k":"footer"') + 6])  # cut inside the footer
    s = load_session(path)
    assert s.frame("client_second").height == 5
    assert any("cut off" in w for w in s.warnings)


def test_damaged_middle_lines_are_skipped(tmp_path: Path) -> None:
    path = _journal(tmp_path)
    lines = path.read_bytes().split(b"\n")
    lines[2] = b"\x00\x00\x00garbage{"
    path.write_bytes(b"\n".join(lines))
    s = load_session(path)
    assert s.frame("client_second").height == 4
    assert any("1 damaged line(s) skipped (first at line 3)" in w for w in s.warnings)


def test_truncated_finalised_file_keeps_the_members_before_the_cut(
    synth_path: Path, tmp_path: Path
) -> None:
    data = synth_path.read_bytes()
    with zipfile.ZipFile(synth_path) as z:
        req = z.getinfo("request.parquet")
    cut = tmp_path / "cut.qtsession"
    cut.write_bytes(data[: req.header_offset + 100])
    s = load_session(cut)
    assert "request" not in s.tables
    assert s.frame("client_second").height == 180
    assert s.profile is not None
    assert any("damaged" in w for w in s.warnings)


def test_corrupted_member_is_left_out_with_a_warning(synth_path: Path, tmp_path: Path) -> None:
    data = bytearray(synth_path.read_bytes())
    with zipfile.ZipFile(synth_path) as z:
        info = z.getinfo("gpu_sample.parquet")
    at = info.header_offset + 30 + len(info.filename) + 200
    data[at] ^= 0xFF
    bad = tmp_path / "bad.qtsession"
    bad.write_bytes(bytes(data))
    s = load_session(bad)
    assert "gpu_sample" not in s.tables and s.frame("request").height > 0
    assert any("gpu_sample.parquet is damaged" in w for w in s.warnings)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (b"hello world\n", "not a qtui session file"),
        (b'{"k":"request","endpoint":"a"}\n', "no qtui-session header"),
        (b'{"name": "x"}\n', "not a qtui session file"),
        (b'[profile]\nname="x"\n', "not a qtui session file"),
    ],
)
def test_not_a_session(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "x.qtsession"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=expected) as exc:
        load_session(path)
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_future_version_journal_names_the_versions(tmp_path: Path) -> None:
    path = tmp_path / "future.qtsession"
    header = {"k": "header", "format": FORMAT, "version": VERSION + 1, "qtui_version": "9.0.0"}
    path.write_text(json.dumps(header) + "\n")
    with pytest.raises(ConfigError) as exc:
        check_session(path)
    msg = str(exc.value)
    assert str(path) in msg and f"version {VERSION + 1}" in msg and "9.0.0" in msg
    assert f"(version {VERSION})" in msg


def test_future_version_container_and_foreign_zip(tmp_path: Path) -> None:
    path = tmp_path / "future.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("manifest.json", json.dumps({"format": FORMAT, "version": 99}))
    with pytest.raises(ConfigError, match="format version 99"):
        load_session(path)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(ConfigError, match=r"a zip without manifest\.json"):
        load_session(other)


def test_newer_qtui_same_format_reads_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "newer.qtsession"
    header = {"k": "header", "format": FORMAT, "version": VERSION, "qtui_version": "99.1.0"}
    path.write_text(json.dumps(header) + "\n" + json.dumps({"k": "footer"}) + "\n")
    s = load_session(path)
    assert any("written by qtui 99.1.0, newer than this qtui" in w for w in s.warnings)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_session(tmp_path / "nope.qtsession")
    with pytest.raises(ConfigError, match="is a directory"):
        load_session(tmp_path)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_full_disk_keeps_records_in_memory_and_says_so() -> None:
    w = SessionWriter("/dev/full", overwrite=True)
    w.append("request", {"endpoint": "a"})
    w.flush()
    assert w.error is not None and "cannot write session" in w.error
    with pytest.raises(QtuiError, match="could not be written"):
        w.close(finalise=False)
