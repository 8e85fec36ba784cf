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


class ContextService:
    """Base of the services of one unit of work: each keeps the context, and the parts of
    it every rule reaches for, under the same names, set here once for all of them."""

    def __init__(self, context: ServiceContext) -> None:
        self.context = context
        self.dbsession = context.dbsession
        self.clock = context.clock
        self.audit = context.audit
        self.rate_limiter = context.rate_limiter
