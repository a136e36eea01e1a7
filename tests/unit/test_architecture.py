"""The import rules of ARCHITECTURE.md section 1, kept by import-linter (contracts in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_rule_of_the_architecture_holds() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
         "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_rules_cover_every_package_and_the_contract_module() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    sources = {s for c in config["contracts"] for s in c["source_modules"]}
    assert {"device", "app.domain", "app.ui", "app.viewmodels", "edge_sync", "server_stub",
            "edge_sync.contract"} <= sources
