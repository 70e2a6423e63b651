"""The heartbeats of job workers and schedulers: each process says it is alive every few
seconds, and forgets itself when it stops cleanly.

``/readyz`` reads them (``selectors.readiness``): a dashboard whose queued jobs nobody would
run is not ready, and the task table cannot tell an idle worker from none. One statement per
beat (an INSERT ... ON CONFLICT on the process's name), outside any transaction a caller
holds open; not audited, like the throttle's leases: it is the process's state, not a
person's act.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ..models import WorkerHeartbeat

# A name not seen for this long belongs to a process that is gone for good (a worker with a
# generated --worker-id that was killed): its row is deleted by the next beat of its kind.
FORGET_AFTER = dt.timedelta(days=1)


def heartbeat_beat(
    *, name: str, kind: str, started_at: dt.datetime, now: dt.datetime | None = None
) -> None:
    """Record that the process ``name`` (a ``WorkerHeartbeat.Kind``) is alive at ``now``."""
    now = now or timezone.now()
    WorkerHeartbeat.objects.bulk_create(
        [WorkerHeartbeat(name=name[:150], kind=kind, started_at=started_at, seen_at=now)],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["kind", "started_at", "seen_at"],
    )
    WorkerHeartbeat.objects.filter(kind=kind, seen_at__lt=now - FORGET_AFTER).delete()


def heartbeat_forget(*, name: str) -> None:
    """A process stopping cleanly takes its row away, so readiness sees it gone at once."""
    WorkerHeartbeat.objects.filter(name=name[:150]).delete()
