"""app-oidc-keys CONFIG rotate|list|ensure: the keys that sign the provider's tokens.

`rotate` publishes new keys at once; they sign only after the publish-ahead delay, when
the keys they replace retire. `ensure` is for cron: it makes any missing key, rotates
those due under oidc.key_rotation_days, and deletes keys retired long enough that
nothing they signed is still valid. Answers are JSON on stdout, never a private key."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.models import OidcKey
from app.scripts.common import print_json, unit_of_work
from app.services.composition import Services
from app.services.oidc.signing_keys import ALGORITHMS


def status(key: OidcKey, now: datetime) -> str:
    """Where a key is in its life: next (published, signs later), signing, or retired
    (signs nothing more; published until what it signed has expired, then pruned)."""
    if key.not_before > now:
        return "next"
    if key.retired_at is not None and key.retired_at <= now:
        return "retired"
    return "signing"


def describe(key: OidcKey, now: datetime) -> dict[str, Any]:
    """What may be shown of a key: its name and dates, nothing of its private part."""
    return {
        "kid": key.kid,
        "algorithm": key.algorithm,
        "status": status(key, now),
        "created_at": key.created_at.isoformat(),
        "not_before": key.not_before.isoformat(),
        "retired_at": None if key.retired_at is None else key.retired_at.isoformat(),
    }


def keys(services: Services, kids: list[str] | None = None) -> list[OidcKey]:
    query = select(OidcKey).order_by(OidcKey.algorithm, OidcKey.not_before, OidcKey.id)
    if kids is not None:
        query = query.where(OidcKey.kid.in_(kids))
    return list(services.dbsession.scalars(query))


def rotate(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    algorithms = [args.algorithm] if args.algorithm else None
    kids = services.signing_keys.rotate(algorithms)
    made = keys(services, kids)
    return {
        "kids": kids,
        "signing_from": min(key.not_before for key in made).isoformat(),
    }


def list_keys(services: Services, args: argparse.Namespace) -> list[dict[str, Any]]:
    now = services.clock.now()
    return [describe(key, now) for key in keys(services)]


def ensure(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    signing_keys = services.signing_keys
    made = signing_keys.ensure()
    pruned = signing_keys.prune()
    return {"kids": made, "pruned": pruned}


Command = Callable[[Services, argparse.Namespace], object]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="app-oidc-keys",
        description="Rotate and list the keys that sign the OpenID Connect tokens."
        " Answers are JSON on stdout.",
    )
    top.add_argument("config", help="the .ini file, e.g. production.ini")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    rotating = commands.add_parser(
        "rotate",
        help="publish new signing keys; they sign after the publish-ahead delay",
    )
    rotating.add_argument(
        "--algorithm",
        choices=ALGORITHMS,
        help="rotate only this algorithm's key (default: every algorithm's)",
    )
    rotating.set_defaults(run=rotate)

    listing = commands.add_parser("list", help="print the keys' ids and dates")
    listing.set_defaults(run=list_keys)

    ensuring = commands.add_parser(
        "ensure",
        help="make missing keys, rotate those due, delete long-retired ones (for cron)",
    )
    ensuring.set_defaults(run=ensure)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run: Command = args.run
    with unit_of_work(args.config) as services:
        result = run(services, args)
    print_json(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
