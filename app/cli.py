"""The `backroom` command. Each subcommand lives in its own module, imported only when it runs.

A subcommand module exposes `configure(parser)` to add its arguments and `run(args) -> int`.
Modules are named by string so that `backroom --help` imports nothing heavy and so that the
device app never imports the central service's code unless that subcommand is asked for.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS: dict[str, tuple[str, str]] = {
    "server": ("server_stub.commands.serve", "run the central inventory service"),
    "seed": ("server_stub.commands.seed", "create the deterministic demo store in the service database"),
    "import": ("server_stub.commands.import_data", "import items, locations or POs from CSV or JSON"),
    "demo": ("app.demo", "start the service, seed a store and run the app in web mode"),
    "labels": ("app.commands.labels", "print location and item labels for the seeded store"),
    "devices": ("server_stub.commands.devices", "list, approve or revoke devices enrolled in a store (service database)"),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand; modules load lazily when configured."""
    parser = argparse.ArgumentParser(
        prog="backroom",
        description="Backroom: receiving, putaway, counts and picks for the store's backroom, offline-first.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `backroom` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        parser = build_parser()
        if not argv:
            parser.print_help()
            return 0
        parser.parse_args(argv)  # prints help or an error and exits
        return 2
    name, rest = argv[0], argv[1:]
    module_name, help_text = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"backroom {name}", description=help_text)
    module.configure(parser)
    args = parser.parse_args(rest)
    return int(module.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
