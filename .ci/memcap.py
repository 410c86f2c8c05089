#!/usr/bin/env python3
"""Run a command under a memory cap on its whole process tree; print the peak; fail the run beyond the cap.

    python3 .ci/memcap.py [--cap-gb 4] [--interval 0.2] -- COMMAND [ARGS...]

Every `interval` seconds the resident set sizes (RSS, from /proc) of the command and all its descendants
are summed. Beyond the cap the whole tree is killed and the exit status is 3, so a memory regression is a
failed run rather than a machine the kernel has to rescue. Otherwise the command's own exit status is
returned. The cap defaults to $CI_MEMORY_CAP_GB or 4 GB. Summed RSS counts pages shared between processes
once per process, so it over-states the true footprint a little: a safe side for a cap.

Linux only (reads /proc); the standard library only, so it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

PAGE = os.sysconf("SC_PAGE_SIZE")
OVER_CAP = 3


def parents() -> dict[int, int]:
    """pid -> parent pid of every process visible now."""
    out: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # the command name (field 2) is in parentheses and may hold spaces: split after its last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        out[int(entry)] = int(fields[1])
    return out


def tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents().items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def rss_bytes(pid: int) -> int:
    """Resident bytes of one process (0 if it has gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return " ".join(fh.read().decode(errors="replace").replace("\0", " ").split())[:160]
    except OSError:
        return "?"


def kill_tree(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap-gb", type=float, default=float(os.environ.get("CI_MEMORY_CAP_GB", "4")),
                        help="memory cap on the summed RSS of the process tree (default $CI_MEMORY_CAP_GB or 4)")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between samples (default 0.2)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    if not args.cap_gb > 0:
        parser.error(f"--cap-gb must be a positive number of GB, got {args.cap_gb}")
    cap = args.cap_gb * 1e9

    child = subprocess.Popen(command)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: child.send_signal(signum))
    peak, peak_at = 0, 0.0
    start = time.monotonic()
    while child.poll() is None:
        pids = tree(child.pid)
        sizes = [(rss_bytes(pid), pid) for pid in pids]
        total = sum(size for size, _ in sizes)
        if total > peak:
            peak, peak_at = total, time.monotonic() - start
        if total > cap:
            largest = [(size, pid, command_line(pid)) for size, pid in sorted(sizes, reverse=True)[:3]]
            kill_tree(pids)
            child.wait()
            print(f"memcap: the process tree reached {gb(total)}, over the {gb(cap)} cap, after "
                  f"{time.monotonic() - start:.0f} s; killed it. Largest processes:", file=sys.stderr)
            for size, pid, line in largest:
                print(f"memcap:   {gb(size)}  pid {pid}  {line}", file=sys.stderr)
            print("memcap: raise the cap with CI_MEMORY_CAP_GB only if the growth is intended", file=sys.stderr)
            return OVER_CAP
        time.sleep(args.interval)
    status = child.returncode
    print(f"memcap: peak RSS {gb(peak)} (process tree, sampled every {args.interval:g} s) at "
          f"{peak_at:.0f} s of {time.monotonic() - start:.0f} s; cap {gb(cap)}; exit {status}", file=sys.stderr)
    return status if status >= 0 else 128 - status


if __name__ == "__main__":
    sys.exit(main())
