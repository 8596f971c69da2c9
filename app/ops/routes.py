"""``/healthz`` (anyone: load balancers, systemd, monitoring) and ``/metrics`` (only from
``METRICS_ALLOW``).  Neither is in the tenant tree; neither needs a session.

``/metrics`` judges the client address uvicorn gives the app *after* its proxy-header
handling (``proxy_headers=True``: ``X-Forwarded-For`` is believed only from
``FORWARDED_ALLOW_IPS``, default 127.0.0.1).  Anyone else gets the 404 page, exactly like a
page that does not exist.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.ops import health, readings
from app.ops.prometheus import CONTENT_TYPE, render
from app.settings import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def networks(allowed: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in allowed)


def may_scrape(host: str | None, allowed: tuple[str, ...]) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks(allowed))


async def metrics(request: Request) -> Response:
    host = request.client.host if request.client else None
    if not may_scrape(host, settings.metrics_allow):
        raise HTTPException(404)
    body = render(await readings.families())
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


async def healthz(request: Request) -> Response:
    healthy, body = await health.report()
    return JSONResponse(
        body, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"}
    )


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
