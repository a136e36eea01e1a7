"""Subcommands of `backroom` that belong to the app (each: `configure(parser)`, `run(args) -> int`)."""
