#!/usr/bin/env python3
"""Side by side: ROUNDS rounds, each running every command once in turn (`perf stat`: wall
and CPU time), so that a busy machine slows all of them alike. Prints per command the wall
minimum and median, the CPU median, and the median of its per-round wall ratios to the first
command (> 1: faster than it).

usage: side_by_side.py [--warm=PATH ...] ROUNDS 'LABEL:COMMAND' ...   (LABEL without ':')

--warm=PATH reads PATH (a file, or every file under a directory) before each run, untimed, so
that every run finds its input wholly in the page cache: a guest whose host reclaims cold
page-cache pages (DAMON on these machines) otherwise sees runs that wait on the disk for the
pages it dropped, by a different amount each time.
"""
import os
import statistics
import subprocess
import sys


def measure(cmd):
    """(wall s, CPU s) of one run of `cmd` (stdout discarded)."""
    p = subprocess.run(
        ["perf", "stat", "-x,", "-e", "task-clock,duration_time", "sh", "-c", cmd + " >/dev/null"],
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    wall = cpu = None
    for line in p.stderr.splitlines():
        f = line.split(",")
        if len(f) > 2 and f[2].startswith("task-clock"):
            cpu = float(f[0]) / 1e3  # ms
        if len(f) > 2 and f[2].startswith("duration_time"):
            wall = float(f[0]) / 1e9  # ns
    return wall, cpu


def warm(paths):
    """Reads every file of `paths` through, so that its pages are in the page cache."""
    for path in paths:
        files = [path] if os.path.isfile(path) else [
            os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs
        ]
        for name in files:
            with open(name, "rb", buffering=0) as f:
                while f.read(1 << 20):
                    pass


def main():
    args = sys.argv[1:]
    warm_paths = [a.split("=", 1)[1] for a in args if a.startswith("--warm=")]
    args = [a for a in args if not a.startswith("--warm=")]
    for path in warm_paths:
        if not os.path.exists(path):
            sys.exit(f"side_by_side.py: --warm={path}: no such file or directory")
    rounds = int(args[0])
    cmds = [a.split(":", 1) for a in args[1:]]
    res = {label: ([], []) for label, _ in cmds}
    for _ in range(rounds):
        for label, cmd in cmds:
            warm(warm_paths)
            wall, cpu = measure(cmd)
            res[label][0].append(wall)
            res[label][1].append(cpu)
    ref = cmds[0][0]
    print(f"{'command':<28} {'wall min':>9} {'wall med':>9} {'CPU med':>9} {'vs ' + ref:>10}")
    for label, _ in cmds:
        wall, cpu = res[label]
        ratio = statistics.median(a / b for a, b in zip(res[ref][0], wall))
        print(
            f"{label:<28} {min(wall) * 1e3:>7.1f}ms {statistics.median(wall) * 1e3:>7.1f}ms"
            f" {statistics.median(cpu) * 1e3:>7.1f}ms {ratio:>10.2f}"
        )


if __name__ == "__main__":
    main()
