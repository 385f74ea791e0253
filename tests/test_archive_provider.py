"""The hashicorp/archive stand-in's zip logic: deterministic bytes, excludes, sources, digests."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import zipfile
from pathlib import Path

import pytest

from support.archive_provider.archive import (
    ArchiveError,
    collect_entries,
    digests,
    is_excluded,
    parse_file_mode,
    write_zip,
)


def _tree(root: Path) -> Path:
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "handler.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    (root / "pkg" / "util.py").write_text("X = 1\n")
    (root / "pkg" / "__pycache__" / "util.cpython-312.pyc").write_bytes(b"\0bytecode")
    (root / "stray.pyc").write_bytes(b"\0bytecode")
    (root / "tests" / "test_handler.py").write_text("def test(): pass\n")
    return root


EXCLUDES = ["**/__pycache__", "**/*.pyc", "tests"]


def _zip_of(source: Path, output: Path, mode: str | None = "0644") -> bytes:
    write_zip(
        collect_entries(source_dir=str(source), excludes=EXCLUDES, output_file_mode=mode), output
    )
    return output.read_bytes()


def test_same_sources_give_identical_bytes_whatever_the_mtimes(tmp_path: Path) -> None:
    source = _tree(tmp_path / "src")
    first = _zip_of(source, tmp_path / "a.zip")
    for path in source.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    assert _zip_of(source, tmp_path / "b.zip") == first


def test_changed_source_changes_the_bytes(tmp_path: Path) -> None:
    source = _tree(tmp_path / "src")
    first = _zip_of(source, tmp_path / "a.zip")
    (source / "handler.py").write_text("# changed\n")
    assert _zip_of(source, tmp_path / "a.zip") != first


def test_excludes_drop_caches_bytecode_and_tests(tmp_path: Path) -> None:
    _zip_of(_tree(tmp_path / "src"), tmp_path / "a.zip")
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert archive.namelist() == ["handler.py", "pkg/util.py"]


def test_entries_are_sorted_with_fixed_date_and_mode(tmp_path: Path) -> None:
    source = _tree(tmp_path / "src")
    (source / "handler.py").chmod(0o700)
    _zip_of(source, tmp_path / "a.zip")
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        infos = archive.infolist()
    assert [info.filename for info in infos] == sorted(info.filename for info in infos)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {stat.S_IMODE(info.external_attr >> 16) for info in infos} == {0o644}


def test_without_file_mode_executables_keep_their_exec_bit(tmp_path: Path) -> None:
    source = _tree(tmp_path / "src")
    (source / "handler.py").chmod(0o700)
    _zip_of(source, tmp_path / "a.zip", mode=None)
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in archive.infolist()}
    assert modes == {"handler.py": 0o755, "pkg/util.py": 0o644}


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        ("__pycache__", True),
        ("pkg/__pycache__", True),
        ("pkg/mod.pyc", True),
        ("tests", True),
        ("pkg/tests", False),
        ("handler.py", False),
    ],
)
def test_exclude_patterns_follow_doublestar_globs(path: str, excluded: bool) -> None:
    assert is_excluded(path, EXCLUDES) is excluded


@pytest.mark.parametrize(("text", "mode"), [("0644", 0o644), ("0755", 0o755), ("420", 420)])
def test_file_mode_is_parsed_like_go(text: str, mode: int) -> None:
    assert parse_file_mode(text) == mode


def test_content_file_and_source_blocks_become_entries(tmp_path: Path) -> None:
    single = tmp_path / "one.txt"
    single.write_text("one")
    from_file = collect_entries(source_file=str(single))
    from_content = collect_entries(source_content="hi", source_content_filename="hi.txt")
    from_blocks = collect_entries(sources=[("b", "b.txt"), ("a", "a.txt")])
    assert [(e.name, e.content) for e in from_file] == [("one.txt", b"one")]
    assert [(e.name, e.content) for e in from_content] == [("hi.txt", b"hi")]
    write_zip(from_blocks, tmp_path / "blocks.zip")
    with zipfile.ZipFile(tmp_path / "blocks.zip") as archive:
        assert archive.namelist() == ["a.txt", "b.txt"]
        assert archive.read("b.txt") == b"b"


def test_exactly_one_source_is_required(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="exactly one"):
        collect_entries()
    with pytest.raises(ArchiveError, match="exactly one"):
        collect_entries(source_dir=str(tmp_path), source_content="x", source_content_filename="x")


def test_a_directory_with_nothing_left_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"\0")
    with pytest.raises(ArchiveError, match="empty"):
        collect_entries(source_dir=str(tmp_path), excludes=EXCLUDES)


def test_digests_match_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"alarm-to-slack")
    sums = digests(path)
    sha256 = hashlib.sha256(b"alarm-to-slack").digest()
    assert sums.output_size == 14
    assert sums.output_sha256 == sha256.hex()
    assert sums.output_base64sha256 == base64.b64encode(sha256).decode()
    assert sums.output_sha == hashlib.sha1(b"alarm-to-slack").hexdigest()  # noqa: S324
