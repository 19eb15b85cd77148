"""Startup: how long `import labgrad` takes and how much memory it leaves resident.

Each measurement is a fresh Python subprocess that imports one module, timing the import
statement itself (so interpreter start-up is left out; the whole subprocess wall time is kept
in `extra`) and then reading its resident set size (RSS). The modules are imported in
rotation, several times each, after one untimed warm-up round; the median counts. Imports
run from cached bytecode, as from an installed package: the warm-up fills a bytecode cache in
the temp directory (PYTHONPYCACHEPREFIX), even where PYTHONDONTWRITEBYTECODE is set.

Targets: `import labgrad` < 0.3 s and RSS after it < 60 MB. `import torch` and `import numpy`
are the references (labgrad needs NumPy, so NumPy is its floor), and a bare interpreter
shows the RSS no import can go below. The import's CPU time (process time) is kept next to
its wall time: on a loaded machine it shows how much of the wall time was waiting for a core.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .report import make_row, table
from .timing import resolve_torch

REPO = Path(__file__).resolve().parent.parent
PYCACHE = os.path.join(tempfile.gettempdir(), "labgrad-bench-pycache")
RUNS = {"smoke": 1, "quick": 5, "full": 11}
IMPORT_TARGET_S = 0.3
RSS_TARGET_MB = 60.0

# Runs in the subprocess: times one import, then reports RSS and the modules it loaded.
_PROBE = r"""
import sys, time
before = set(sys.modules)
start, start_cpu = time.perf_counter(), time.process_time()
{statement}
elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
def rss_mb():
    try:
        with open("/proc/self/statm") as f:
            import os
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import resource  # peak, not current: the best there is without /proc
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10
import json
print(json.dumps({{"import_s": elapsed, "cpu_s": cpu, "rss_mb": rss_mb(),
                  "modules": len(set(sys.modules) - before)}}))
"""
STATEMENTS = {"labgrad": "import labgrad", "torch": "import torch", "numpy": "import numpy",
              "python": "pass"}


def probe(name: str) -> dict:
    """Import `name` in a fresh interpreter; its import time, RSS and count of new modules."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    # Time imports from cached bytecode, as from an installed package, even where the caller
    # set PYTHONDONTWRITEBYTECODE; the cache lives outside the working tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = PYCACHE
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _PROBE.format(statement=STATEMENTS[name])],
                          capture_output=True, text=True, env=env, cwd=REPO, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{STATEMENTS[name]!r} failed in a subprocess:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


def measure(names, runs: int) -> dict:
    """{name: {"import_s": median, "rss_mb": median, ...}} over `runs` rotated rounds."""
    for name in names:
        probe(name)  # warm-up round, not counted
    samples = {name: [] for name in names}
    for r in range(runs):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(probe(name))
    return {name: {key: statistics.median(s[key] for s in runs_of)
                   for key in ("import_s", "cpu_s", "rss_mb", "modules", "wall_s")}
            for name, runs_of in samples.items()}


def run(mode="full", torch="auto") -> list:
    has_torch = resolve_torch(torch) is not None
    names = ["labgrad", "numpy", "python"] + (["torch"] if has_torch else [])
    m = measure(names, RUNS[mode])
    lab, np_, bare = m["labgrad"], m["numpy"], m["python"]
    ref = m.get("torch")
    common = {"runs": RUNS[mode], "labgrad_modules": lab["modules"],
              "numpy_modules": np_["modules"]}
    times = dict(common, labgrad_wall_s=lab["wall_s"], labgrad_cpu_s=lab["cpu_s"],
                 numpy_cpu_s=np_["cpu_s"])
    if ref:
        times["torch_cpu_s"] = ref["cpu_s"]
    return [
        make_row("startup", "import time (median)", lab["import_s"],
                 ref["import_s"] if ref else None, ref_name="torch", below=IMPORT_TARGET_S,
                 extra=dict(times, numpy=np_["import_s"],
                            ratio_numpy=lab["import_s"] / np_["import_s"])),
        make_row("startup", "import time vs numpy", lab["import_s"], np_["import_s"],
                 ref_name="numpy", extra=times),
        make_row("startup", "RSS after import", lab["rss_mb"], ref["rss_mb"] if ref else None,
                 ref_name="torch", unit="MB", below=RSS_TARGET_MB,
                 extra=dict(common, numpy=np_["rss_mb"], python=bare["rss_mb"])),
        make_row("startup", "RSS after import vs numpy", lab["rss_mb"], np_["rss_mb"],
                 ref_name="numpy", unit="MB", extra=dict(common, python=bare["rss_mb"])),
    ]


def print_rows(rows):
    print(table("Startup: fresh interpreter, median of runs", rows,
                [("labgrad CPU time", "labgrad_cpu_s", "s"), ("numpy CPU time", "numpy_cpu_s", "s"),
                 ("bare python RSS", "python", "MB")]))


if __name__ == "__main__":
    print_rows(run("quick"))
