"""Which counter each audit event, rate-limit refusal and breach check moves."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from app.services.kernel import audit as events
from app.services.kernel.errors import RateLimited
from app.services.kernel.rate_limits import RateLimiter
from app.services.passwords.breaches import BreachCheckCounts


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(
    ("kind", "details", "name", "labels"),
    [
        (
            events.SIGN_IN,
            {"method": "password"},
            "accounts_sign_ins_total",
            {"result": "success", "reason": ""},
        ),
        (
            events.SIGN_IN,
            {"method": "password+totp"},
            "accounts_second_factors_total",
            {"factor": "totp", "result": "passed"},
        ),
        (
            events.SIGN_IN,
            {"method": "password+recovery"},
            "accounts_second_factors_total",
            {"factor": "recovery", "result": "passed"},
        ),
        (
            events.SIGN_IN,
            {"method": "passkey"},
            "accounts_sign_ins_total",
            {"result": "success", "reason": ""},
        ),
        (
            events.SIGN_IN_FAILED,
            {"reason": "disabled"},
            "accounts_sign_ins_total",
            {"result": "failed", "reason": "disabled"},
        ),
        (
            events.SIGN_IN_UNCONFIRMED,
            {},
            "accounts_sign_ins_total",
            {"result": "unconfirmed", "reason": ""},
        ),
        (
            events.SECOND_FACTOR_FAILED,
            {},
            "accounts_second_factors_total",
            {"factor": "code", "result": "failed"},
        ),
        (
            events.PASSKEY_REFUSED,
            {"reason": "challenge replayed"},
            "accounts_second_factors_total",
            {"factor": "passkey", "result": "refused"},
        ),
        (
            events.PASSKEY_CLONE_SUSPECTED,
            {"name": "Phone"},
            "accounts_second_factors_total",
            {"factor": "passkey", "result": "clone_suspected"},
        ),
        (
            events.CODE_EXPIRED,
            {"purpose": "reset"},
            "accounts_codes_refused_total",
            {"reason": "expired"},
        ),
    ],
)
def test_each_event_moves_its_counter_by_one(kind, details, name, labels):
    before = _value(name, **labels)
    events.count_event(kind, details)
    assert _value(name, **labels) - before == 1


def test_a_wrong_password_when_confirming_a_change_is_no_failed_sign_in():
    families = ("accounts_sign_ins_total", "accounts_second_factors_total")
    before = [s for m in REGISTRY.collect() if m.name + "_total" in families for s in m.samples]
    events.count_event(events.SIGN_IN_FAILED, {"reason": "reauthentication"})
    events.count_event(events.REAUTHENTICATED, {})
    after = [s for m in REGISTRY.collect() if m.name + "_total" in families for s in m.samples]
    assert before == after


def test_a_refusal_of_any_limit_is_counted_under_its_name():
    limiter = RateLimiter("memory://", {"forgot_per_email": "1/hour"}, secret="s")
    before = _value("accounts_rate_limited_total", limit="forgot_per_email")
    limiter.hit("forgot_per_email", "alice@example.com")
    with pytest.raises(RateLimited):
        limiter.hit("forgot_per_email", "alice@example.com")
    with pytest.raises(RateLimited):
        limiter.check("forgot_per_email", "alice@example.com")
    assert _value("accounts_rate_limited_total", limit="forgot_per_email") - before == 2


@pytest.mark.parametrize("outcome", ["checked", "found", "skipped"])
def test_breached_password_checks_are_counters_too(outcome):
    before = _value("accounts_breached_password_checks_total", outcome=outcome)
    counts = BreachCheckCounts()
    counts.add(outcome)
    assert getattr(counts, outcome) == 1
    assert _value("accounts_breached_password_checks_total", outcome=outcome) - before == 1
