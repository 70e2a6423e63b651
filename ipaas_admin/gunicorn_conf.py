"""gunicorn's settings for the dashboard: ``gunicorn -c python:ipaas_admin.gunicorn_conf
ipaas_admin.wsgi`` (command-line options still apply on top).

Metrics (docs/metrics.md): with ``PROMETHEUS_MULTIPROC_DIR`` set, every worker writes its
values into files there and a scrape sums them. A worker that exits (a restart, a timeout, a
``max_requests`` recycle) never runs Python's exit handlers, so the master drops its live
gauges (slots in flight) here; its counters stay, as counters must.
"""

import os


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
