"""The deployment package: build lambda/ into a zip exactly as the module's archive_file does.

The zip is written by the same code the offline hashicorp/archive stand-in runs
(tests/support/archive_provider/archive.py: collect_dir + write_zip), over the module's
`source_dir` with the `excludes` read from lambda.tf, so its size is the size Terraform uploads.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import BUILD_DIR, LAMBDA_DIR, REPO_ROOT, use_repo_paths

# Used only when lambda.tf is missing or its excludes are not a plain list we can read.
FALLBACK_EXCLUDES = ("__pycache__", "**/__pycache__", "**/*.pyc", "tests", "**/tests")
_INTERPOLATION = re.compile(r"^\$\{(local|var)\.([A-Za-z0-9_-]+)\}$")


@dataclass(frozen=True)
class ArchiveSpec:
    """Where the module's archive_file takes its sources from, and what it leaves out."""

    source_dir: Path
    excludes: tuple[str, ...]
    origin: str  # where the excludes came from, for the report
    output_file_mode: str | None = None


@dataclass(frozen=True)
class Package:
    """The built zip and what it holds."""

    path: Path
    size: int
    files: tuple[str, ...]
    spec: ArchiveSpec


def _unquote(value: object) -> object:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, list):
        return [_unquote(item) for item in value]
    return value


def _locals(documents: list[dict[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for document in documents:
        for block in document.get("locals", []):
            found.update({k: _unquote(v) for k, v in block.items() if k != "__is_block__"})
    return found


def _archive_blocks(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    blocks = []
    for document in documents:
        for data in document.get("data", []):
            for kind, named in data.items():
                if _unquote(kind) == "archive_file":
                    blocks += [body for body in named.values() if isinstance(body, dict)]
    return blocks


def read_archive_spec(module_dir: Path = REPO_ROOT) -> ArchiveSpec:
    """The module's archive_file source_dir and excludes, read from its *.tf files with hcl2."""
    import hcl2  # noqa: PLC0415 -- dev dependency, only needed here

    documents = []
    for tf_file in sorted(module_dir.glob("*.tf")):
        with tf_file.open() as handle:
            documents.append(hcl2.load(handle))
    blocks = _archive_blocks(documents)
    if len(blocks) != 1:
        return ArchiveSpec(
            LAMBDA_DIR, FALLBACK_EXCLUDES, f"{len(blocks)} archive_file blocks in *.tf: fallback"
        )
    block = blocks[0]
    excludes: Any = _unquote(block.get("excludes", []))
    origin = "excludes from the module's archive_file"
    if isinstance(excludes, str):
        match = _INTERPOLATION.match(excludes)
        values = _locals(documents)
        if match and match.group(1) == "local" and isinstance(values.get(match.group(2)), list):
            excludes = values[match.group(2)]
            origin = f"excludes from local.{match.group(2)}"
        else:
            return ArchiveSpec(
                LAMBDA_DIR, FALLBACK_EXCLUDES, f"excludes {excludes!r} not a literal: fallback"
            )
    if not all(isinstance(item, str) for item in excludes):
        return ArchiveSpec(LAMBDA_DIR, FALLBACK_EXCLUDES, "excludes not plain strings: fallback")
    mode = _unquote(block.get("output_file_mode"))
    return ArchiveSpec(LAMBDA_DIR, tuple(excludes), origin, mode if isinstance(mode, str) else None)


def build_package(output: Path = BUILD_DIR / "lambda.zip") -> Package:
    """Zip lambda/ with the stand-in's deterministic writer and the module's excludes."""
    use_repo_paths()
    from support.archive_provider.archive import (  # noqa: PLC0415
        collect_dir,
        parse_file_mode,
        write_zip,
    )

    spec = read_archive_spec()
    mode = parse_file_mode(spec.output_file_mode)
    entries = collect_dir(spec.source_dir, spec.excludes, file_mode=mode)
    write_zip(entries, output)
    with zipfile.ZipFile(output) as archive:
        names = tuple(archive.namelist())
    return Package(output, output.stat().st_size, names, spec)
