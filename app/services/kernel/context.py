"""What every service of one request (or one script run) shares."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.services.kernel.audit import AuditLog, RequestOrigin
from app.services.kernel.clock import Clock
from app.services.kernel.rate_limits import RateLimiter, address_key


@dataclass(frozen=True)
class ServiceContext:
    """The database session of the unit of work, the clock, the rate limits, where the
    request came from, and the audit trail that records what happened."""

    dbsession: Session
    clock: Clock
    rate_limiter: RateLimiter
    audit: AuditLog
    origin: RequestOrigin

    @property
    def ip(self) -> str | None:
        return self.origin.ip

    @property
    def address_key(self) -> str:
        """The client's address as the per-IP limits count it (an IPv6 /64 as one)."""
        return address_key(self.origin.ip)
