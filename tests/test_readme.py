"""The README's commands are the ones that CI runs."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bash_blocks(text):
    return re.findall(r"```bash\n(.*?)```", text, re.S)


def test_readme_gives_two_commands_and_ci_runs_the_test_command():
    blocks = _bash_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 2, "README.md must give the setup-and-run and the test commands"
    test_command = blocks[1].strip().split("&&")[-1].strip()
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci, f"CI does not run the README's test command {test_command!r}"


def test_readme_example_script_exists():
    blocks = _bash_blocks((ROOT / "README.md").read_text())
    script = blocks[0].strip().split("&&")[-1].strip().split()[-1]
    assert (ROOT / script).exists(), script


def test_readme_python_examples_run(tmp_path, monkeypatch):
    """Every ```python block of the README runs as written (in a scratch folder)."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    assert (tmp_path / "model.safetensors").exists()
