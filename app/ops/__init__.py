"""Operations: structured logs, the access log, Prometheus metrics and the health check.

* :mod:`app.ops.logs` — logging set-up (JSON or text), the per-request context every log
  line carries (request id, tenant slug, user id);
* :mod:`app.ops.access` — the pure-ASGI access log / request metrics middleware;
* :mod:`app.ops.prometheus` — metric definitions and the ``/metrics`` text;
* :mod:`app.ops.readings` — what is read at scrape time (queue depth, lights by colour);
* :mod:`app.ops.job_metrics` — the dramatiq middleware counting jobs;
* :mod:`app.ops.health` — ``/healthz``: database, broker and storage checked separately;
* :mod:`app.ops.routes` — the two routes.

Not to be confused with :mod:`app.metrics`, the supervision figures.
"""
