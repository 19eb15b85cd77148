"""Where labgrad's per-op time goes: cProfile over the micro-op statements of microops.py.

    python benchmarks/profile_ops.py                          # every op, every variant
    python benchmarks/profile_ops.py add "forward, recorded"  # one op, one variant
    python benchmarks/profile_ops.py relu --top 25 --calls 50000

For each statement it prints the cost per call without the profiler, then the functions that
take the most time of their own (cProfile's tottime), per call of the statement. cProfile
adds its own overhead to every Python-level call, so read the list for proportions and call
counts, not for absolute microseconds.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

if not __package__:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "benchmarks"  # noqa: A001

import numpy as np  # noqa: E402

from benchmarks.microops import OPS, SIZE, VARIANTS, statement  # noqa: E402
from benchmarks.timing import compare, loop_sampler  # noqa: E402


def profile(op, variant, calls=20_000, top=15) -> list:
    """[(seconds per statement, calls per statement, function)] for the `top` functions."""
    import labgrad
    rng = np.random.default_rng(0)
    requires_grad = VARIANTS[variant][0]
    namespace = {name: labgrad.tensor(rng.standard_normal((SIZE, SIZE)).astype(np.float32),
                                      requires_grad=requires_grad) for name in "ab"}
    code = compile(f"for _ in range({calls}):\n    {statement(op, variant)}\n", "<bench>",
                   "exec")
    profiler = cProfile.Profile()
    profiler.enable()
    exec(code, namespace)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # {(file, line, name): (cc, nc, tottime, cumtime, _)}
    rows = [(tottime / calls, ncalls / calls, _where(func))
            for func, (_, ncalls, tottime, _, _) in stats.items() if func[2] != "<module>"]
    return sorted(rows, reverse=True)[:top]


def _where(func) -> str:
    filename, line, name = func
    if filename == "~":
        return name  # a builtin
    parts = Path(filename).parts
    short = "/".join(parts[parts.index("labgrad"):]) if "labgrad" in parts else parts[-1]
    return f"{short}:{line}({name})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("op", nargs="?", choices=list(OPS))
    parser.add_argument("variant", nargs="?", choices=list(VARIANTS))
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    import labgrad
    for op in [args.op] if args.op else OPS:
        for variant in [args.variant] if args.variant else VARIANTS:
            stmt = statement(op, variant)
            rg = VARIANTS[variant][0]
            names = {n: labgrad.ones(SIZE, SIZE, requires_grad=rg) for n in "ab"}
            per_call = compare({"s": loop_sampler(stmt, names, 0.01)}, 5)["s"].min
            print(f"\n{op} {variant}: {stmt}    {per_call * 1e6:.2f} us per call unprofiled")
            print(f"  {'us/stmt':>8}  {'calls':>5}  function (profiled; tottime)")
            for seconds, ncalls, where in profile(op, variant, args.calls, args.top):
                print(f"  {seconds * 1e6:8.2f}  {ncalls:5.1f}  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
