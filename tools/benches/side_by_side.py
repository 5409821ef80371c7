#!/usr/bin/env python3
"""Side by side: ROUNDS rounds, each running every command once in turn (`perf stat`: wall
and CPU time), so that a busy machine slows all of them alike. Prints per command the wall
minimum and median, the CPU median, and the median of its per-round wall ratios to the first
command (> 1: faster than it).

usage: side_by_side.py ROUNDS 'LABEL:COMMAND' ...   (LABEL without ':')
"""
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


def main():
    rounds = int(sys.argv[1])
    cmds = [a.split(":", 1) for a in sys.argv[2:]]
    res = {label: ([], []) for label, _ in cmds}
    for _ in range(rounds):
        for label, cmd in cmds:
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
