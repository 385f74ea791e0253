"""Deterministic zip writing and digests for the archive_file stand-in (pure, no Terraform)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# The zip format cannot store dates before 1980; a fixed date makes the bytes independent of mtimes.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
DEFAULT_FILE_MODE = 0o644
DEFAULT_EXECUTABLE_MODE = 0o755


class ArchiveError(ValueError):
    """A configuration or filesystem problem, reported to Terraform as a diagnostic."""


@dataclass(frozen=True)
class Entry:
    """One file to store: its name inside the archive, its bytes and its permission bits."""

    name: str
    content: bytes
    mode: int


@dataclass(frozen=True)
class Digests:
    """The computed attributes of archive_file, named as the real provider names them."""

    output_size: int
    output_md5: str
    output_sha: str
    output_sha256: str
    output_base64sha256: str
    output_sha512: str
    output_base64sha512: str


def parse_file_mode(text: str | None) -> int | None:
    """Parse `output_file_mode` as Go's strconv.ParseUint(s, 0, 32) does: "0644" is octal."""
    if text is None or text == "":
        return None
    value = text.strip()
    try:
        if value.lower().startswith("0x"):
            mode = int(value[2:], 16)
        elif value.lower().startswith("0o"):
            mode = int(value[2:], 8)
        elif value.lower().startswith("0b"):
            mode = int(value[2:], 2)
        elif value.startswith("0") and len(value) > 1:
            mode = int(value[1:], 8)
        else:
            mode = int(value, 10)
    except ValueError as exc:
        raise ArchiveError(f"output_file_mode {text!r} is not a valid number") from exc
    if not 0 <= mode <= 0o7777:
        raise ArchiveError(f"output_file_mode {text!r} is out of range")
    return mode


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a doublestar glob (as the real provider's `excludes` use) into a regex."""
    out: list[str] = []
    i = 0
    pattern = pattern.replace(os.sep, "/").strip("/")
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("(?:/.*)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(pattern[i]))
                i += 1
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def is_excluded(relative_path: str, excludes: Iterable[str]) -> bool:
    """True when a slash-separated path relative to source_dir matches one of the patterns."""
    return any(_glob_regex(pattern).match(relative_path) for pattern in excludes)


def _mode_of(path: Path, forced: int | None) -> int:
    if forced is not None:
        return forced
    executable = path.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return DEFAULT_EXECUTABLE_MODE if executable else DEFAULT_FILE_MODE


def collect_dir(
    source_dir: Path,
    excludes: Sequence[str] = (),
    *,
    file_mode: int | None = None,
    exclude_symlink_directories: bool = False,
) -> list[Entry]:
    """Every regular file under source_dir not excluded, named relative to it with "/"."""
    if not source_dir.is_dir():
        raise ArchiveError(f"source_dir {str(source_dir)!r} is not a directory")
    entries: list[Entry] = []
    for root, dirs, files in os.walk(source_dir, followlinks=not exclude_symlink_directories):
        root_path = Path(root)
        rel_root = root_path.relative_to(source_dir).as_posix()
        prefix = "" if rel_root == "." else rel_root + "/"
        kept_dirs = []
        for name in dirs:
            if is_excluded(prefix + name, excludes):
                continue
            if exclude_symlink_directories and (root_path / name).is_symlink():
                continue
            kept_dirs.append(name)
        dirs[:] = sorted(kept_dirs)
        for name in sorted(files):
            rel = prefix + name
            path = root_path / name
            if is_excluded(rel, excludes) or not path.is_file():
                continue
            entries.append(Entry(rel, path.read_bytes(), _mode_of(path, file_mode)))
    if not entries:
        # As the real provider: an empty archive is an error, not a silent empty zip.
        raise ArchiveError(f"archive has not been created as it would be empty: {source_dir}")
    return entries


def collect_entries(
    *,
    source_dir: str | None = None,
    source_file: str | None = None,
    source_content: str | None = None,
    source_content_filename: str | None = None,
    sources: Sequence[tuple[str, str]] = (),
    excludes: Sequence[str] = (),
    output_file_mode: str | None = None,
    exclude_symlink_directories: bool = False,
) -> list[Entry]:
    """Resolve the one configured source (dir, file, content or `source` blocks) into entries."""
    file_mode = parse_file_mode(output_file_mode)
    given = [
        name
        for name, present in (
            ("source_dir", source_dir is not None),
            ("source_file", source_file is not None),
            ("source_content", source_content is not None),
            ("source", bool(sources)),
        )
        if present
    ]
    if len(given) != 1:
        raise ArchiveError(
            "exactly one of source_dir, source_file, source_content or source blocks must be set"
            f" (got {', '.join(given) or 'none'})"
        )
    mode = file_mode if file_mode is not None else DEFAULT_FILE_MODE
    if source_dir is not None:
        return collect_dir(
            Path(source_dir),
            excludes,
            file_mode=file_mode,
            exclude_symlink_directories=exclude_symlink_directories,
        )
    if source_file is not None:
        path = Path(source_file)
        if not path.is_file():
            raise ArchiveError(f"source_file {source_file!r} is not a file")
        return [Entry(path.name, path.read_bytes(), _mode_of(path, file_mode))]
    if source_content is not None:
        if not source_content_filename:
            raise ArchiveError("source_content_filename is required with source_content")
        return [Entry(source_content_filename, source_content.encode(), mode)]
    return [Entry(filename, content.encode(), mode) for content, filename in sources]


def write_zip(entries: Iterable[Entry], output_path: Path) -> None:
    """Write a byte-for-byte reproducible zip: sorted names, fixed dates, fixed modes.

    The file is written next to its destination and renamed into place, so a reader never
    sees a half-written archive even when two module instances build the same path.
    """
    ordered = sorted(entries, key=lambda entry: entry.name)
    names = [entry.name for entry in ordered]
    if len(set(names)) != len(names):
        raise ArchiveError("duplicate file names in archive")
    output_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = output_path.with_name(f".{output_path.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for entry in ordered:
                info = zipfile.ZipInfo(entry.name, date_time=FIXED_DATE_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # Unix, so external_attr carries the permission bits
                info.external_attr = (stat.S_IFREG | entry.mode) << 16
                archive.writestr(info, entry.content)
        os.replace(tmp_path, output_path)
    finally:
        tmp_path.unlink(missing_ok=True)


def digests(path: Path) -> Digests:
    """Size and hashes of a file, hex and base64, as archive_file reports them."""
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).digest()
    sha512 = hashlib.sha512(data).digest()
    return Digests(
        output_size=len(data),
        output_md5=hashlib.md5(data).hexdigest(),  # noqa: S324 -- an attribute, not security
        output_sha=hashlib.sha1(data).hexdigest(),  # noqa: S324 -- an attribute, not security
        output_sha256=sha256.hex(),
        output_base64sha256=base64.b64encode(sha256).decode(),
        output_sha512=sha512.hex(),
        output_base64sha512=base64.b64encode(sha512).decode(),
    )
