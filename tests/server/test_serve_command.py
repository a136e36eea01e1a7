"""`backroom server`: its arguments and defaults."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from server_stub.commands import serve


def test_the_server_defaults_to_loopback_port_8700_and_a_sqlite_file_under_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BACKROOM_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    parser = argparse.ArgumentParser()
    serve.configure(parser)
    args = parser.parse_args([])
    assert (args.host, args.port, args.workers, args.database_url) == ("127.0.0.1", 8700, 1, None)
    assert serve.default_database_url() == f"sqlite:///{tmp_path.resolve() / 'var' / 'server.db'}"


def test_an_unreachable_database_is_reported_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    serve.configure(parser)
    args = parser.parse_args(["--database-url", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none"])
    assert serve.run(args) == 1
    out = capsys.readouterr().out
    assert "cannot prepare the database" in out and "secret" not in out
