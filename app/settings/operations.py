"""The operator's settings: who may read /metrics, and when a late outbox makes /readyz
fail. Read with every other setting into AppSettings (its `operations`)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from app.settings.reader import Network, SettingsReader

LOOPBACK: tuple[Network, ...] = (
    ipaddress.ip_network("127.0.0.1/32"),
    ipaddress.ip_network("::1/128"),
)


@dataclass(frozen=True)
class OperationsSettings:
    # metrics.allowed_addresses: the client addresses (or networks) /metrics answers;
    # everyone else gets a 404. Judged on the client's address as app/web/client_ip.py
    # resolves it, so a visitor coming through the proxy is not the proxy's loopback.
    metrics_addresses: tuple[Network, ...] = LOOPBACK
    # readiness.outbox_max_age_minutes: /readyz fails once the outbox's first due message
    # has waited this long for a sender; 0 leaves the outbox out of readiness.
    outbox_max_age_minutes: int = 15

    @classmethod
    def read(cls, read: SettingsReader) -> OperationsSettings:
        return cls(
            metrics_addresses=read.networks("metrics.allowed_addresses") or LOOPBACK,
            outbox_max_age_minutes=read.number("readiness.outbox_max_age_minutes", 15),
        )
