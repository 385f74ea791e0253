"""The archive_file data source of hashicorp/archive, served over the plugin protocol by PyPI `tf`.

Test-only: Terraform runs it from the filesystem mirror that tests/support/terraform.py builds.
Attribute names follow the real provider so the module's configuration is the same either way.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

from tf import blocks, schema, types
from tf.iface import Config, DataSource, ReadDataContext, State
from tf.provider import Provider
from tf.runner import run_provider
from tf.utils import Diagnostics

from support.archive_provider.archive import ArchiveError, collect_entries, digests, write_zip

PROVIDER_NAME = "registry.terraform.io/hashicorp/archive"

_COMPUTED = (
    ("output_size", types.Number()),
    ("output_md5", types.String()),
    ("output_sha", types.String()),
    ("output_sha256", types.String()),
    ("output_base64sha256", types.String()),
    ("output_sha512", types.String()),
    ("output_base64sha512", types.String()),
    ("id", types.String()),
)


def _known(value: Any) -> Any:
    """Config values Terraform left unset arrive as None; treat "" the same for optional strings."""
    return None if value in (None, "") else value


class ArchiveFile(DataSource):
    """data "archive_file": zips a directory, a file, inline content or `source` blocks."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return "file"

    @classmethod
    def get_schema(cls) -> schema.Schema:
        optional_strings = (
            "source_content",
            "source_content_filename",
            "source_file",
            "source_dir",
            "output_file_mode",
        )
        attributes = [
            schema.Attribute("type", types.String(), required=True),
            *(schema.Attribute(name, types.String(), optional=True) for name in optional_strings),
            schema.Attribute("excludes", types.Set(types.String()), optional=True),
            schema.Attribute("exclude_symlink_directories", types.Bool(), optional=True),
            schema.Attribute("output_path", types.String(), required=True),
            *(schema.Attribute(name, kind, computed=True) for name, kind in _COMPUTED),
        ]
        source_block = schema.Block(
            attributes=[
                schema.Attribute("content", types.String(), required=True),
                schema.Attribute("filename", types.String(), required=True),
            ]
        )
        return schema.Schema(
            attributes=attributes,
            block_types=[blocks.SetNestedBlock("source", source_block)],
        )

    def read(self, ctx: ReadDataContext, config: Config) -> State | None:
        if config.get("type") != "zip":
            ctx.diagnostics.add_error(
                "Unsupported archive type",
                f'type {config.get("type")!r} is not supported by the test stand-in; use "zip"',
                path=["type"],
            )
            return None
        sources = [(block["content"], block["filename"]) for block in config.get("source") or []]
        output_path = Path(config["output_path"])
        try:
            entries = collect_entries(
                source_dir=_known(config.get("source_dir")),
                source_file=_known(config.get("source_file")),
                source_content=config.get("source_content"),
                source_content_filename=_known(config.get("source_content_filename")),
                sources=sources,
                excludes=list(config.get("excludes") or []),
                output_file_mode=_known(config.get("output_file_mode")),
                exclude_symlink_directories=bool(config.get("exclude_symlink_directories")),
            )
            write_zip(entries, output_path)
            sums = digests(output_path)
        except (ArchiveError, OSError) as exc:
            ctx.diagnostics.add_error("archive_file failed", str(exc))
            return None
        state = dict(config)
        state["source"] = config.get("source") or []
        state.update(
            output_size=sums.output_size,
            output_md5=sums.output_md5,
            output_sha=sums.output_sha,
            output_sha256=sums.output_sha256,
            output_base64sha256=sums.output_base64sha256,
            output_sha512=sums.output_sha512,
            output_base64sha512=sums.output_base64sha512,
            id=sums.output_sha,
        )
        return state


class ArchiveProvider(Provider):
    """hashicorp/archive with only the archive_file data source."""

    def get_model_prefix(self) -> str:
        return "archive_"

    def full_name(self) -> str:
        return PROVIDER_NAME

    def get_provider_schema(self, diags: Diagnostics) -> schema.Schema:
        return schema.Schema(attributes=[])

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        return None

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        return None

    def get_data_sources(self) -> list[type[DataSource]]:
        return [ArchiveFile]

    def get_resources(self) -> list:
        return []


def main() -> None:
    """Serve the provider; any startup error goes to stderr, never to the handshake on stdout."""
    try:
        run_provider(ArchiveProvider(), sys.argv)
    except Exception:
        traceback.print_exc(file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
