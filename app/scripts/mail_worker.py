"""app-mail-worker CONFIG: deliver the outbox until stopped.

Run one or more of these with mail.delivery = worker; they share the work safely."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time

from app.operations.backchannel_logouts import DueWork
from app.scripts.common import load_app

log = logging.getLogger("app.mail_worker")
PRUNE_INTERVAL_SECONDS = 3600


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="app-mail-worker", description="Deliver queued emails from the outbox."
    )
    parser.add_argument("config", help="the .ini file, e.g. production.ini")
    parser.add_argument("--once", action="store_true", help="deliver what is due, then exit")
    args = parser.parse_args(argv)

    app = load_app(args.config, **{"mail.delivery": "manual"})
    # The outbox, and the back-channel logouts owed to applications.
    sender = DueWork(app.registry["outbox_sender"], app.registry["logout_sender"])
    housekeeping = app.registry["housekeeping"]
    next_prune = 0.0
    poll_seconds = app.registry["app_settings"].mail_poll_seconds
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        log.info("Stopping after the current message (signal %s)", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    log.info("Mail worker started")
    while not stopping.is_set():
        try:
            sent = sender.deliver_due(should_stop=stopping.is_set)
            if time.monotonic() >= next_prune and not stopping.is_set():
                housekeeping()
                next_prune = time.monotonic() + PRUNE_INTERVAL_SECONDS
        except Exception:
            log.exception("Delivering the outbox failed; trying again shortly")
            sent = 0
        if args.once:
            break
        if sent == 0:
            stopping.wait(poll_seconds)
        else:
            time.sleep(0)
    app.registry["db_engine"].dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
