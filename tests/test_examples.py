"""The README's example runs and learns what it says it learns."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quickstart_example_fits_the_line():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")],
                            capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr
    last = [line for line in result.stdout.splitlines() if line.startswith("learned")][0]
    w = float(last.split("w = ")[1].split()[0])
    b = float(last.split("b = ")[1].split()[0])
    assert abs(w - 3) < 0.05 and abs(b + 2) < 0.05, last
