"""Wall and CPU time of a command and of every process it starts, at any depth (Linux).

    python benchmarks/tree_time.py glucosim sweep scenarios/sweeps/prediabetes_lifestyle.toml --out /tmp/R --workers 2

``/usr/bin/time`` counts a command and the children it waited for. A sweep's local workers are the children of
multiprocessing's fork server, which the sweep process starts and never waits for (it ends after the sweep process):
their CPU time is missing from ``/usr/bin/time``'s. This wrapper makes itself the subreaper of the command's process
tree (prctl PR_SET_CHILD_SUBREAPER), so orphans are handed to it, waits for all of them, and prints the CPU time of
everything (getrusage of its children) with the load average.
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    status = subprocess.call(sys.argv[1:])
    command_s = time.perf_counter() - started
    while True:  # the orphans handed to us (the fork server, the resource tracker) end after the command
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"tree_time: {command_s:.1f} s wall (command), {usage.ru_utime:.1f} s user + {usage.ru_stime:.1f} s system "
        f"= {usage.ru_utime + usage.ru_stime:.1f} s of CPU (every process); load average {load_start:.2f} at start, "
        f"{os.getloadavg()[0]:.2f} at end",
        file=sys.stderr,
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
