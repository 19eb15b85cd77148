"""benchmarks/training_step.py runs (tiny "smoke" sizes) and returns well-formed rows; no
speed is asserted here (timings on shared machines are noise at this size)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import report, training_step  # noqa: E402


def check(rows, with_torch):
    assert [r["case"] for r in rows] == ["MLP step, SGD", "MLP step, Adam", "Adam step alone"]
    for row in rows:
        assert set(row) == set(report.ROW_FIELDS) and row["suite"] == "training_step"
        assert row["labgrad"] > 0
        assert (row["reference"] is not None) == with_torch
    assert rows[0]["target_value"] == training_step.TARGET and rows[2]["target"] is None
    assert "MLP step, SGD" in report.table("t", rows)


def test_runs_without_torch():
    check(training_step.run("smoke", torch=None), with_torch=False)


@pytest.mark.torch
def test_runs_with_torch_and_losses_agree(torch):
    rows = training_step.run("smoke", torch=torch)
    check(rows, with_torch=True)
    assert all(r["ref_name"] == "torch" and r["ratio"] > 0 for r in rows)


def test_the_step_trains():
    import labgrad
    arrays = training_step.make_arrays("smoke")
    namespace = training_step.make_case(labgrad, "Adam", arrays)
    first = training_step.warm_up(namespace)
    for _ in range(5):
        last = training_step.warm_up(namespace)
    assert last < first
