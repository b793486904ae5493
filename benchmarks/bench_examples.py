"""How long each script of ``examples/`` runs, as a user runs it: the times their docstrings state.

Each example runs as ``python examples/NAME.py`` in a fresh process (``subprocess``), one
after the other, with the environment it is given (``--quick`` sets ``LIPANOMALY_QUICK=1``,
the tests' smaller configuration); the table gives its wall time and CPU time (user +
system of the process and its children).

Run from the repository root::

    python benchmarks/bench_examples.py [--skip grid_search.py] [--quick]
"""

import argparse
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def run(script, quick):
    """Wall and CPU seconds of one example, and its exit status."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    if quick:
        env["LIPANOMALY_QUICK"] = "1"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, str(script)], capture_output=True, env=env, cwd=REPO)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu, done.returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip", action="append", default=[], metavar="NAME")
    parser.add_argument("--quick", action="store_true", help="LIPANOMALY_QUICK=1 (the tests')")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.2f} at the start"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    print("| example | wall (s) | CPU (s) | exit status |\n| --- | ---: | ---: | ---: |")
    for script in sorted(EXAMPLES.glob("*.py")):
        if script.name in args.skip:
            print(f"| {script.name} | skipped | | |")
            continue
        wall, cpu, code = run(script, args.quick)
        print(f"| {script.name} | {wall:.0f} | {cpu:.0f} | {code} |", flush=True)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
