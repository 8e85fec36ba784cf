"""What the operator's tools ask: /metrics (Prometheus's text format)."""

from __future__ import annotations

import ipaddress

from prometheus_client import CONTENT_TYPE_LATEST
from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.view import view_config

from app.request import AppRequest


@view_config(route_name="metrics", request_method="GET")
def metrics(request: AppRequest) -> Response:
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
    address = ipaddress.ip_address(client)
    return any(address in network for network in request.app_settings.operations.metrics_addresses)
