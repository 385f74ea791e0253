"""Describe the machine a benchmark ran on: CPU model, cores, Python and Terraform versions."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from pathlib import Path


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo, or what platform knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        if match:
            return match.group(1).strip()
    return platform.processor() or platform.machine()


def terraform_version() -> str:
    """`terraform version`'s first line without the word Terraform, or "not installed"."""
    binary = shutil.which("terraform")
    if binary is None:
        return "not installed"
    result = subprocess.run(
        [binary, "version"], capture_output=True, text=True, check=False, timeout=60
    )
    first = result.stdout.splitlines()[0] if result.stdout else "unknown"
    return first.removeprefix("Terraform ").strip()


def load_average() -> str:
    """The 1-minute load average: other work on a shared machine skews every timing."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def describe(load_at_start: str | None = None) -> str:
    """One line: CPU model, cores, OS/arch, Python and Terraform versions, load average."""
    load = f", load average {load_at_start} at start" if load_at_start else ""
    return (
        f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.machine()},"
        f" Python {platform.python_version()}, Terraform {terraform_version()}{load}"
    )
