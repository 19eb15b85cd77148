"""The benchmark suite itself runs (tiny "smoke" mode) and returns well-formed rows.

Nothing here asserts a speed: timings on shared machines are noise at this size. The
PyTorch parts are marked `torch`; without PyTorch the suites still give labgrad's numbers.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import backward_chain, large_ops, microops, report, run, startup  # noqa: E402
from benchmarks import profile_ops  # noqa: E402
from benchmarks.timing import compare, loop_sampler, paired_ratio  # noqa: E402


def check_rows(rows, suite, with_reference):
    assert rows, f"{suite}: no rows"
    for row in rows:
        assert set(row) == set(report.ROW_FIELDS), row
        assert row["suite"] == suite
        assert isinstance(row["case"], str) and row["case"]
        assert row["unit"] in ("s", "MB")
        assert row["labgrad"] > 0 and math.isfinite(row["labgrad"])
        assert isinstance(row["extra"], dict)
        if row["reference"] is not None:
            assert row["reference"] > 0
            assert row["ratio"] == pytest.approx(row["labgrad"] / row["reference"])
        else:
            assert row["ratio"] is None
        if row["target"] is None:
            assert row["passed"] is None and row["target_value"] is None
        else:
            assert row["target_on"] in ("ratio", "labgrad")
            if row["target_on"] == "labgrad" or row["ratio"] is not None:
                assert isinstance(row["passed"], bool)
        json.dumps(row)  # rows go into --json output as they are
    referenced = [r for r in rows if r["reference"] is not None]
    if with_reference:
        assert referenced, f"{suite}: no row has a reference"
    text = report.table(suite, rows)
    assert all(row["case"] in text for row in rows)


def test_timing_helper_interleaves_samplers():
    calls = []
    samplers = {name: (lambda name=name: calls.append(name) or 1.0) for name in "ab"}
    stats = compare(samplers, repeat=4)
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert stats["a"].min == stats["a"].median == 1.0
    assert paired_ratio(stats["a"], stats["b"]) == 1.0
    sample = loop_sampler("x + 1", {"x": 1}, min_time=1e-5)
    assert sample.number >= 1 and sample() > 0


def test_microop_statements_are_the_same_for_both_libraries():
    assert microops.statement("add", "forward") == "a + b"
    assert microops.statement("relu", "forward+backward") == (
        "a.grad = None; (a.relu()).sum().backward()")
    assert microops.statement("sum", "forward+backward") == "a.grad = None; a.sum().backward()"


def test_microops_without_torch():
    rows = microops.run("smoke", torch=None, ops=["add", "relu", "sum"])
    assert len(rows) == 3 * len(microops.VARIANTS)
    check_rows(rows, "microops", with_reference=False)


@pytest.mark.torch
def test_microops_with_torch(torch):
    rows = microops.run("smoke", torch=torch)
    assert len(rows) == len(microops.OPS) * len(microops.VARIANTS)
    check_rows(rows, "microops", with_reference=True)
    assert all(r["ref_name"] == "torch" and r["reference"] is not None for r in rows)


def test_large_ops_without_torch():
    rows = large_ops.run("smoke", torch=None)
    check_rows(rows, "large_ops", with_reference=True)  # NumPy is the reference
    assert all(r["ref_name"] == "numpy" for r in rows)
    assert len(rows) == 2 * len(large_ops.CASES) + 1  # with and without grad, and noise check
    assert "torch" not in rows[0]["extra"]


@pytest.mark.torch
def test_large_ops_with_torch(torch):
    rows = large_ops.run("smoke", torch=torch, cases=["matmul", "relu"], recorded=False)
    check_rows(rows, "large_ops", with_reference=True)
    *measured, noise = rows
    assert len(measured) == 2 and noise["case"].startswith("noise check")
    assert all(r["extra"]["torch"] > 0 and r["extra"]["ratio_torch"] > 0 for r in measured)


def test_backward_chain_without_torch():
    rows = backward_chain.run("smoke", torch=None)
    check_rows(rows, "backward_chain", with_reference=True)  # flatness: labgrad vs itself
    assert len(rows) == len(backward_chain.MODES["smoke"]["lengths"]) + 1


@pytest.mark.torch
def test_backward_chain_with_torch(torch):
    rows = backward_chain.run("smoke", torch=torch)
    check_rows(rows, "backward_chain", with_reference=True)
    assert all(r["ref_name"] == "torch" for r in rows[:-1])
    assert "torch_flatness" in rows[-1]["extra"]


def test_chain_gradient_is_checked():
    import labgrad
    assert backward_chain.check_gradient(labgrad, 10) == pytest.approx(1.0001 ** 10)


def test_startup_without_torch():
    rows = startup.run("smoke", torch=None)
    check_rows(rows, "startup", with_reference=True)  # vs NumPy
    assert {r["unit"] for r in rows} == {"s", "MB"}


@pytest.mark.torch
def test_startup_with_torch(torch):
    rows = startup.run("smoke", torch=torch)
    check_rows(rows, "startup", with_reference=True)
    assert rows[0]["ref_name"] == "torch" and rows[0]["reference"] > 0


def test_run_py_writes_json(tmp_path, capsys):
    out, md = tmp_path / "out.json", tmp_path / "out.md"
    assert run.main(["--smoke", "--no-torch", "--only", "microops", "backward_chain",
                     "--json", str(out), "--markdown", str(md)]) == 0
    assert "| microops | add forward |" in md.read_text()
    data = json.loads(out.read_text())
    assert data["machine"]["mode"] == "smoke" and data["machine"]["nproc"] >= 1
    assert {r["suite"] for r in data["rows"]} == {"microops", "backward_chain"}
    printed = capsys.readouterr().out
    assert "targets met" in printed and "labgrad" in printed


def test_profile_ops_lists_functions():
    rows = profile_ops.profile("mul", "forward+backward", calls=20, top=5)
    assert 0 < len(rows) <= 5
    for seconds, calls, where in rows:
        assert seconds >= 0 and calls > 0 and isinstance(where, str)
