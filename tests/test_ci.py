"""CI runs what the README tells a new user to run, to the letter."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = [line.strip() for line in readme.splitlines() if "-m pytest" in line]
    assert commands, "the README gives no test command"
    command = commands[0].strip("`")
    assert "CNFORECAST_DATA=../shared/datasets" in command  # relative, as a user types it
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    lines = [line.strip() for line in script.splitlines() if not line.lstrip().startswith("#")]
    assert command in lines
    # nothing in CI makes the data path absolute behind the README's back
    assert not re.search(r"export\s+CNFORECAST_DATA=", script)
