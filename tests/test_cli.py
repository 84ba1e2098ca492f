from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from spatial.cli import main


@pytest.fixture
def env_db(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


def run(*argv) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_init_then_layers(env_db):
    code, text = run("init")
    assert code == 0 and "loaded the shipped reference data" in text
    code, text = run("init")
    assert "left as it is" in text
    code, text = run("layers", "--json")
    payload = json.loads(text)
    assert payload["layers"] == {"districts": 11, "parks": 20, "control_lines": 24, "projects": 34}
    illustrative = [r for r in payload["coverage"] if r["layer"] == "control_lines"][0]
    assert illustrative["illustrative"] == 24 and illustrative["official"] == 0


@pytest.mark.parametrize("measure", ["delivered", "completed", "started"])
def test_ledger_table(env_db, measure):
    code, text = run("ledger", "--measure", measure, "--as-of", "2026-11-21")
    assert code == 0
    assert f"measure: {measure}" in text
    for year in range(2023, 2028):
        assert f"{year}" in text
    assert "20,000,000" in text


def test_usage_errors_exit_2(env_db):
    for argv in (["ledger", "--as-of", "2026-13-01"], ["ledger", "--measure", "sold"], ["nope"]):
        proc = subprocess.run(
            [sys.executable, "-m", "spatial.cli", *argv], capture_output=True, text=True
        )
        assert proc.returncode == 2, argv
        assert "Traceback" not in proc.stderr


def test_failure_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/no/such/dir/../../x.db")
    (tmp_path / "blocker").write_text("a file where a folder should be")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/blocker/x.db")
    proc = subprocess.run(
        [sys.executable, "-m", "spatial.cli", "ledger"], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "failed" in proc.stderr and "Traceback" not in proc.stderr
