"""The services of one unit of work share its context, set once by ContextService."""

from __future__ import annotations

import pytest

from app.services.composition import Services
from app.services.kernel.context import ContextService

BUILT_ON_THE_CONTEXT = [
    "accounts",
    "authentication",
    "two_factor",
    "passkeys",
    "registration",
    "email_changes",
    "new_device_alerts",
    "admin",
    "codes",
    "guesses",
]


@pytest.mark.parametrize("name", BUILT_ON_THE_CONTEXT)
def test_each_service_reaches_the_parts_of_its_unit_of_work(services: Services, name: str) -> None:
    service = getattr(services, name)
    assert isinstance(service, ContextService)
    context = services.context
    assert service.context is context
    assert (service.dbsession, service.clock, service.audit, service.rate_limiter) == (
        services.dbsession,
        context.clock,
        services.audit,
        context.rate_limiter,
    )
