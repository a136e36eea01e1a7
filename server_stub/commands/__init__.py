"""Subcommands of `backroom` that belong to the central service (server, seed, import)."""
