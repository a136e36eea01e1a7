"""What the benches (and the chaos tests' child processes) share: measuring a process's memory."""

from __future__ import annotations

import resource


def peak_rss_mb() -> float:
    """This process's peak resident set, in MB.

    Linux's VmHWM (/proc/self/status) belongs to the process's own address space. `ru_maxrss`
    does not, quite: it keeps the high-water mark of the image replaced by exec, so a process
    started by a big parent (pytest at the end of a session) would report the parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
