"""Hold a server process to a fixed share of a CPU (cgroup v1 ``cpu`` controller).

The scale-out measure asks whether two processes deliver twice what one does. On
this two-core machine the load generator and Redis share the cores with the
servers, so once one process is fast, two processes only compete with the client
for the same cores and the ratio says more about the machine than about the
design. Capping every server process at the same share (``cpu.cfs_quota_us``)
gives each one a fixed budget, as one core per process of a larger machine would:
then the ratio measures what it should, whether anything shared (Redis, the
database, the channel layer) keeps the second process from adding its share.
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

CPU_CGROUP = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 100_000  # the CFS period: the cap is enforced every 0.1 s


class CpuCap:
    """One cgroup per capped process; :meth:`close` removes them all."""

    def __init__(self, cores: float) -> None:
        self.cores = cores
        self.groups: list[Path] = []

    @staticmethod
    def available() -> bool:
        """Can this process make cgroups with a CPU quota (root, cgroup v1 ``cpu``)?"""
        probe = CPU_CGROUP / f"django-sse-bench-probe-{uuid.uuid4().hex[:8]}"
        try:
            probe.mkdir()
        except OSError:
            return False
        try:
            return (probe / "cpu.cfs_quota_us").exists()
        finally:
            probe.rmdir()

    def add(self, pid: int) -> None:
        """Move process ``pid`` (all its threads, and those it starts) under a new cap."""
        group = CPU_CGROUP / f"django-sse-bench-{uuid.uuid4().hex[:12]}"
        group.mkdir()
        self.groups.append(group)
        (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(int(self.cores * PERIOD_US)))
        (group / "cgroup.procs").write_text(str(pid))

    def close(self) -> None:
        """Remove the cgroups (their processes must have exited or moved)."""
        for group in self.groups:
            with contextlib.suppress(OSError):
                group.rmdir()
        self.groups.clear()
