"""Test-only Python stand-in for the hashicorp/archive provider (data source archive_file)."""
