"""A request id on every request: sent back as X-Request-ID and on each log line.

The id a trusted proxy sends in X-Request-ID is kept, so that its access log and ours
name a request the same way; from anyone else the header is ignored, as is a value that
is long or anything but letters, digits and `._-` (it goes into every log line of the
request, where a client must not be able to write). Otherwise a random id is made."""

from __future__ import annotations

import os
import random
import re
import secrets
from collections.abc import Callable, Sequence

from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response
from pyramid.tweens import INGRESS

from app.logs import REQUEST_ID, install_request_id_factory
from app.web.client_ip import Network, is_trusted

HEADER = "X-Request-ID"
_PLAIN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class _RequestIds:
    """Random 128-bit ids from a generator seeded from the system's randomness once per
    process (again in a forked child). An id names a request in the logs and is no
    secret; os.urandom() for each one would release the GIL on every request, and under
    load each release costs the thread a wait to get it back."""

    def __init__(self) -> None:
        self._random = random.Random()  # noqa: S311 - an id, not a secret (see above)
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self._random.seed(secrets.token_bytes(32))

    def new(self) -> str:
        return f"{self._random.getrandbits(128):032x}"


_ids = _RequestIds()


def new_request_id() -> str:
    return _ids.new()


def request_id_for(remote_addr: str | None, header: str | None, trusted: Sequence[Network]) -> str:
    """The proxy's id if it may be believed, else a new one."""
    if header and _PLAIN_ID.fullmatch(header) and is_trusted(remote_addr, trusted):
        return header
    return new_request_id()


def request_id_tween_factory(
    handler: Callable[[Request], Response], registry: Registry
) -> Callable[[Request], Response]:
    trusted = registry["app_settings"].trusted_proxies

    def request_id_tween(request: Request) -> Response:
        environ = request.environ
        request_id = request_id_for(
            environ.get("REMOTE_ADDR"), environ.get("HTTP_X_REQUEST_ID"), trusted
        )
        request.request_id = request_id
        token = REQUEST_ID.set(request_id)
        try:
            response = handler(request)
        finally:
            REQUEST_ID.reset(token)
        response.headerlist.append((HEADER, request_id))
        return response

    return request_id_tween


def includeme(config: Configurator) -> None:
    install_request_id_factory()
    # The outermost tween: every line logged while the request is served, the access
    # log's included, carries its id.
    config.add_tween(
        "app.web.request_ids.request_id_tween_factory",
        under=INGRESS,
        over="app.web.headers.security_headers_tween_factory",
    )
