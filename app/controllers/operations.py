"""What the operator's tools ask: /healthz (the process serves), /readyz (it can serve
well: the database, Redis and the outbox) and /metrics (Prometheus's text format).

None of them opens a session, sets a cookie, counts against a rate limit or writes an
access-log line (health and readiness): a load balancer asks every second."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from app.web.client_ip import is_trusted
from app.web.request import AppRequest

JSON = "application/json"


def json_response(body: dict[str, Any], status: int) -> Response:
    return Response(
        body=json.dumps(body).encode("utf-8"), status=status, content_type=JSON, charset=None
    )


@view_config(route_name="healthz", request_method=("GET", "HEAD"))
def healthz(context: Any, request: AppRequest) -> Response:
    return json_response({"status": "ok"}, 200)


@view_config(route_name="readyz", request_method=("GET", "HEAD"))
def readyz(context: Any, request: AppRequest) -> Response:
    readiness = request.registry["readiness"].check()
    body = {"status": "ok" if readiness.ready else "unavailable", "checks": readiness.checks}
    return json_response(body, 200 if readiness.ready else 503)


@view_config(route_name="metrics", request_method="GET")
def metrics(context: Any, request: AppRequest) -> Response:
    """Only for the addresses in metrics.allowed_addresses (loopback by default); to
    anyone else there is no such page."""
    if not _may_read_metrics(request):
        raise HTTPNotFound()
    body = request.registry["metrics_endpoint"].render()
    return Response(body=body, headerlist=[("Content-Type", CONTENT_TYPE_LATEST)])


def _may_read_metrics(request: AppRequest) -> bool:
    client = request.client_ip
    if client is None:
        return False
    if (
        request.headers.get("X-Forwarded-For")
        and client == request.remote_addr
        and is_trusted(client, request.app_settings.trusted_proxies)
    ):
        # Through a trusted proxy that names a client this app cannot read: not the
        # proxy's own request, so not the operator's.
        return False
    address = ipaddress.ip_address(client)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket's view of an IPv4 client
    return any(address in network for network in request.app_settings.operations.metrics_addresses)
