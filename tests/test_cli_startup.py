"""The start-up of a ``cnforecast`` process: heavy imports without collector work."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from _jobs_data import REPO


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_preload_imports_then_freezes_and_collects_again():
    out = _run(
        """
        import gc, sys
        from cnforecast.cli.startup import preload
        preload(["numpy", "json"])
        print("numpy" in sys.modules, gc.isenabled(), gc.get_freeze_count() > 0)
        """
    )
    assert out.split() == ["True", "True", "True"]


def test_only_the_cnforecast_process_preloads_and_only_for_jobs():
    """Tests and notebooks call main() without process=True: nothing is frozen there, and
    light commands never import torch."""
    out = _run(
        """
        import gc, sys
        from cnforecast.cli.main import main
        main(["datasets", "list"], process=True)
        light = ("torch" in sys.modules, gc.get_freeze_count())
        main(["fit", "--data", "missing.csv", "--out", "m", "--quiet"])
        print(*light, gc.get_freeze_count())
        """
    )
    assert out.split()[-3:] == ["False", "0", "0"]
