"""One access-log line per request (logger `app.access`), and its duration in the
request-duration histogram.

The line holds no secret: the path of a route is its pattern, with only numeric ids
filled in (`/account/reset_password/{code}`, `/admin/accounts/12/{action}`); the query
string is left out (`came_from` and the like); a path that matched no route keeps only
its short plain segments. Health and readiness checks, which a load balancer makes every
second, are measured but not logged. The account is the one whose session the request
already looked up: logging never costs a query.

The .ini files choose the format: JSON lines in production (app.logs.JSONFormatter),
readable text in development."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

from app import metrics

log = logging.getLogger("app.access")

QUIET_ROUTES = frozenset({"healthz", "readyz"})
STATIC_ROUTE = "__static/"
UNMATCHED = "unmatched"
# What is left of a path that matched no route: short segments of plain characters.
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._~-]{0,20}")
MAX_UNMATCHED_SEGMENTS = 6


def route_template(pattern: str) -> str:
    """A route pattern without the regular expressions of its placeholders:
    `/admin/accounts/{id:\\d{1,9}}` gives `/admin/accounts/{id}`."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern[index] != "{":
            out.append(pattern[index])
            index += 1
            continue
        depth, end = 1, index + 1
        while end < len(pattern) and depth:
            depth += {"{": 1, "}": -1}.get(pattern[end], 0)
            end += 1
        name = pattern[index + 1 : end - 1].split(":", 1)[0]
        out.append("{" + name.strip() + "}")
        index = end
    template = "".join(out)
    return template if template.startswith("/") else "/" + template


def unmatched_path(path: str) -> str:
    segments = path.split("/")
    kept = [s if _PLAIN_SEGMENT.fullmatch(s) else "{redacted}" for s in segments]
    if len(kept) > MAX_UNMATCHED_SEGMENTS + 1:
        kept = [*kept[: MAX_UNMATCHED_SEGMENTS + 1], "..."]
    return "/".join(kept)


class LoggedPaths:
    """The path as logged, from the route that matched (templates kept per route)."""

    def __init__(self) -> None:
        self._templates: dict[str, str] = {}

    def path(self, request: Request, route: Any, status: int) -> str:
        raw = request.environ.get("PATH_INFO", "")
        if route is None:
            return unmatched_path(raw)
        if route.name == STATIC_ROUTE and status < 400:
            return unmatched_path(raw)
        template = self._templates.get(route.name)
        if template is None:
            template = self._templates[route.name] = route_template(route.pattern)
        for name, value in (request.matchdict or {}).items():
            if isinstance(value, str) and value.isascii() and value.isdigit():
                template = template.replace("{" + name + "}", value)
        return template


def _route_label(route: Any) -> str:
    if route is None:
        return UNMATCHED
    return "static" if route.name == STATIC_ROUTE else str(route.name)


def _method(request: Request) -> str:
    method = request.environ.get("REQUEST_METHOD", "")
    return method if len(method) <= 10 and method.isascii() and method.isalpha() else "OTHER"


def _account_id(request: Request) -> int | None:
    # Only a session the request has already looked up (reify keeps it in the
    # instance's __dict__), and only its loaded column: never a query for the log.
    login_session = request.__dict__.get("login_session")
    if login_session is None:
        return None
    account_id = login_session.__dict__.get("account_id")
    return account_id if isinstance(account_id, int) else None


class RouteMetrics:
    """The histogram and counters of each route, looked up once: labels() costs a lock
    and a tuple on every call."""

    def __init__(self) -> None:
        self._durations: dict[str, Any] = {}
        self._responses: dict[tuple[str, int], Any] = {}

    def observe(self, route: str, status: int, seconds: float) -> None:
        duration = self._durations.get(route)
        if duration is None:
            duration = self._durations[route] = metrics.REQUEST_DURATION.labels(route)
        duration.observe(seconds)
        responses = self._responses.get((route, status))
        if responses is None:
            responses = metrics.RESPONSES.labels(route, str(status))
            self._responses[(route, status)] = responses
        responses.inc()


def access_log_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    paths = LoggedPaths()
    route_metrics = RouteMetrics()

    def access_log_tween(request: Request) -> Response:
        start = time.perf_counter()
        status = 500  # unless a response comes back
        try:
            response = handler(request)
            status = response.status_code
            return response
        finally:
            seconds = time.perf_counter() - start
            route = getattr(request, "matched_route", None)
            name = _route_label(route)
            route_metrics.observe(name, status, seconds)
            if name not in QUIET_ROUTES and log.isEnabledFor(logging.INFO):
                path = paths.path(request, route, status)
                _log(request, name if route is not None else None, path, status, seconds)

    return access_log_tween


def _log(request: Request, route: str | None, path: str, status: int, seconds: float) -> None:
    method = _method(request)
    milliseconds = round(seconds * 1000, 2)
    client_ip = request.client_ip
    account_id = _account_id(request)
    log.info(
        "%s %s %s %.1f ms %s account=%s",
        method,
        path,
        status,
        milliseconds,
        client_ip or "-",
        account_id if account_id is not None else "-",
        extra={
            "fields": {
                "method": method,
                "route": route,
                "path": path,
                "status": status,
                "duration_ms": milliseconds,
                "client_ip": client_ip,
                "account_id": account_id,
            }
        },
    )


def includeme(config: Configurator) -> None:
    # Just inside the request id, so that the line carries it; outside everything else,
    # so that the time includes the transaction's commit and the status is the final one.
    config.add_tween(
        "app.web.access_log.access_log_tween_factory",
        under="app.web.request_ids.request_id_tween_factory",
        over="app.web.headers.security_headers_tween_factory",
    )
