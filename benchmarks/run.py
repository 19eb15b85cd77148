"""Run labgrad's benchmark suite and print one table per suite.

    python benchmarks/run.py                    # full run (about two minutes)
    python benchmarks/run.py --quick            # fewer samples (under a minute)
    python benchmarks/run.py --json out.json    # also write every row and the machine as JSON
    python benchmarks/run.py --markdown out.md  # ... or as a Markdown table
    python benchmarks/run.py --only microops backward_chain

Each comparison runs labgrad and its reference side by side, interleaved, and reports their
ratio (see benchmarks/timing.py). Without PyTorch installed the suites still run and report
labgrad's own numbers (and labgrad vs NumPy).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

if not __package__:  # run as a script: make `benchmarks` and the working tree's labgrad importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"  # noqa: A001

from benchmarks import backward_chain, large_ops, microops, startup  # noqa: E402
from benchmarks import cnn, introspection, text_classifier, training_step  # noqa: E402
from benchmarks.report import markdown  # noqa: E402
from benchmarks.timing import resolve_torch  # noqa: E402

SUITES = {"microops": microops, "large_ops": large_ops, "backward_chain": backward_chain,
          "startup": startup, "introspection": introspection, "training_step": training_step,
          "cnn": cnn, "text_classifier": text_classifier}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(torch) -> dict:
    import numpy
    info = {
        "date": datetime.date.today().isoformat(),
        "cpu": cpu_model(),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": getattr(torch, "__version__", None),
    }
    if torch is not None:
        info["torch_threads"] = torch.get_num_threads()
    return info


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    speed = parser.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="fewer samples")
    speed.add_argument("--smoke", action="store_true",
                       help="tiny sizes, one or two samples: checks that the code runs")
    parser.add_argument("--json", metavar="PATH", help="write the rows and machine as JSON")
    parser.add_argument("--markdown", metavar="PATH", help="write the rows as a Markdown table")
    parser.add_argument("--only", nargs="+", choices=sorted(SUITES), help="suites to run")
    parser.add_argument("--no-torch", action="store_true",
                        help="labgrad's numbers only, even where PyTorch is installed")
    args = parser.parse_args(argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    torch = None if args.no_torch else resolve_torch("auto")

    meta = dict(machine(torch), mode=mode)
    print("labgrad benchmarks: " + ", ".join(f"{k}={v}" for k, v in meta.items()))
    print("(ratio = labgrad / reference; below 1 means labgrad is faster)")
    if mode == "smoke":
        print("smoke mode: tiny sizes, one or two samples; the verdicts mean nothing")
    print()
    rows = []
    for name in args.only or SUITES:
        module = SUITES[name]
        start = time.perf_counter()
        suite_rows = module.run(mode, torch=torch)
        module.print_rows(suite_rows)
        print(f"({name}: {time.perf_counter() - start:.1f} s)\n")
        rows += suite_rows

    judged = [r for r in rows if r["passed"] is not None]
    missed = [r["suite"] + ": " + r["case"] for r in judged if not r["passed"]]
    print(f"{len(judged) - len(missed)} of {len(judged)} targets met"
          + (". Missed:\n  " + "\n  ".join(missed) if missed else "."))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": meta, "rows": rows}, indent=1) + "\n")
        print(f"wrote {args.json}")
    if args.markdown:
        Path(args.markdown).write_text(
            ", ".join(f"{k}={v}" for k, v in meta.items()) + "\n\n" + markdown(rows) + "\n")
        print(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
