"""Entry point of the stand-in: `python -m support.archive_provider` serves the plugin protocol."""

from support.archive_provider.provider import main

main()
