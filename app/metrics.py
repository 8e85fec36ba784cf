"""The app's Prometheus metrics, all defined here; /metrics serves them
(app/operations/metrics_endpoint.py).

Production runs several app processes and mail workers, so prometheus_client runs in
its multiprocess mode there: with PROMETHEUS_MULTIPROC_DIR set (before this module is
first imported), each process writes its values to files of its own in that directory,
and /metrics adds up every process's files. The directory is emptied before the
processes start, never while they run.

Counting costs a dictionary look-up and a lock (a write to a memory-mapped file in
multiprocess mode): cheap enough for every request. Label values come from short fixed
lists (route names, limit names, reasons), never from what a client sends."""

from __future__ import annotations

import os

from prometheus_client import Counter, Histogram

MULTIPROCESS_DIRECTORY = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if MULTIPROCESS_DIRECTORY:
    # prometheus_client opens its files there as soon as a metric without labels exists.
    os.makedirs(MULTIPROCESS_DIRECTORY, exist_ok=True)

# Signing in (app/services/kernel/audit.py counts these as the events are recorded).
SIGN_INS = Counter(
    "accounts_sign_ins",
    "Sign-ins by result (success, failed, rate_limited, unconfirmed); reason says why one"
    " failed (wrong_password, no_account, disabled, password_changed).",
    ["result", "reason"],
)
SECOND_FACTORS = Counter(
    "accounts_second_factors",
    "Second factors at sign-in by factor (totp, recovery, passkey, code) and result"
    " (passed, failed, refused, clone_suspected).",
    ["factor", "result"],
)
RESETS_REQUESTED = Counter(
    "accounts_password_resets_requested",
    "Forgot-password requests past the rate limits, for known and unknown addresses alike.",
)
RESETS_DONE = Counter(
    "accounts_password_resets_done", "Passwords chosen with an emailed reset link."
)
CODES_REFUSED = Counter(
    "accounts_codes_refused",
    "Emailed links refused, by reason (unknown, used, expired).",
    ["reason"],
)

# Rate limits (app/services/kernel/rate_limits.py).
RATE_LIMITED = Counter(
    "accounts_rate_limited",
    "Attempts refused by a rate limit, by the limit's name (its ratelimit.* setting).",
    ["limit"],
)
RATE_LIMIT_STORAGE_FAILURES = Counter(
    "accounts_rate_limit_storage_failures",
    "Calls to the rate-limit storage (Redis) that failed and were counted in memory instead.",
)

# The outbox (app/services/notices/outbox.py, outbox_sender.py). Its backlog is read from the
# database when /metrics is asked, not counted here.
EMAILS_QUEUED = Counter(
    "accounts_emails_queued", "Emails written to the outbox, by email.", ["template"]
)
EMAILS_SENT = Counter(
    "accounts_emails_sent", "Emails the SMTP server took, by email.", ["template"]
)
EMAILS_DEFERRED = Counter(
    "accounts_emails_deferred",
    "Delivery attempts that failed and will be tried again, by email.",
    ["template"],
)
EMAILS_FAILED = Counter(
    "accounts_emails_failed",
    "Emails given up on (refused for good, or out of retries), by email.",
    ["template"],
)

# The breached-password check (app/services/passwords/breaches.py).
BREACH_CHECKS = Counter(
    "accounts_breached_password_checks",
    "Breached-password checks by outcome: checked (the service answered), found (in a"
    " breach) and skipped (no answer in time).",
    ["outcome"],
)

# Requests (app/web/access_log.py). The route is the route's name ("static" for the static
# files, "unmatched" when none matched).
REQUEST_DURATION = Histogram(
    "accounts_request_duration_seconds",
    "Time from the request reaching the app to its response, by route.",
    ["route"],
)
RESPONSES = Counter(
    "accounts_http_responses", "Responses by route and status code.", ["route", "status"]
)
