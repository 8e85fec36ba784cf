"""app-oidc-client CONFIG add|list|remove|rotate-secret: the applications that sign
people in here over OpenID Connect.

Every answer is JSON on stdout. A confidential client's secret is printed once, when it
is made (add, rotate-secret): only its hash is kept, so nobody can show it again."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from app.models import OidcClient
from app.scripts.common import fail, print_json, unit_of_work
from app.services.composition import Services
from app.services.kernel.errors import ClientRefused


def describe(client: OidcClient) -> dict[str, Any]:
    """What may be shown of a client: everything but its secret's hash."""
    return {
        "client_id": client.client_id,
        "name": client.name,
        "public": client.is_public,
        "first_party": client.first_party,
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "created_at": client.created_at.isoformat(),
    }


def add(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    new = services.oidc_clients.register(
        args.name,
        args.redirect_uris,
        public=args.public,
        first_party=args.first_party,
        backchannel_logout_uri=args.backchannel_logout_uri,
        post_logout_redirect_uris=args.post_logout_redirect_uris,
    )
    shown = describe(new.client)
    if new.secret is not None:
        shown["client_secret"] = new.secret
    return shown


def list_clients(services: Services, args: argparse.Namespace) -> list[dict[str, Any]]:
    return [describe(client) for client in services.oidc_clients.list()]


def remove(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    services.oidc_clients.remove(args.client_id)
    return {"client_id": args.client_id, "removed": True}


def rotate_secret(services: Services, args: argparse.Namespace) -> dict[str, Any]:
    secret = services.oidc_clients.rotate_secret(args.client_id)
    return {"client_id": args.client_id, "client_secret": secret}


Command = Callable[[Services, argparse.Namespace], object]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="app-oidc-client",
        description="Register, list and remove the applications that sign people in here"
        " (OpenID Connect clients). Answers are JSON on stdout.",
    )
    top.add_argument("config", help="the .ini file, e.g. production.ini")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    new = commands.add_parser(
        "add",
        help="register an application and print its client_id (and secret, shown once)",
        description="Register an application. A confidential one gets a client_secret,"
        " printed this once: only its hash is kept.",
    )
    new.add_argument("--name", required=True, help="the name people see when asked to agree")
    new.add_argument(
        "--redirect-uri",
        dest="redirect_uris",
        action="append",
        required=True,
        metavar="URI",
        help="an address to send people back to after signing in (https, or http to a"
        " loopback address); repeat for several",
    )
    new.add_argument(
        "--public",
        action="store_true",
        help="an application that cannot keep a secret (phone or single-page app): no"
        " secret, PKCE required",
    )
    new.add_argument(
        "--first-party",
        action="store_true",
        help="the shop's own application: people are not asked to agree",
    )
    new.add_argument(
        "--backchannel-logout-uri",
        metavar="URI",
        help="where to tell the application that someone signed out",
    )
    new.add_argument(
        "--post-logout-redirect-uri",
        dest="post_logout_redirect_uris",
        action="append",
        metavar="URI",
        help="an address to send people to after signing out; repeat for several",
    )
    new.set_defaults(run=add)

    listing = commands.add_parser("list", help="print the registered applications (no secrets)")
    listing.set_defaults(run=list_clients)

    gone = commands.add_parser("remove", help="remove an application")
    gone.add_argument("client_id", help="the application's client_id")
    gone.set_defaults(run=remove)

    rotated = commands.add_parser(
        "rotate-secret",
        help="give a confidential application a new secret (printed once); the old one"
        " stops working at once",
    )
    rotated.add_argument("client_id", help="the application's client_id")
    rotated.set_defaults(run=rotate_secret)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run: Command = args.run
    try:
        with unit_of_work(args.config) as services:
            result = run(services, args)
    except ClientRefused as exc:
        target = f" {args.client_id!r}" if "client_id" in args else ""
        fail(f"{args.command}{target} refused: {exc}")
    print_json(result)
    if isinstance(result, dict) and "client_secret" in result:
        print(
            "Keep the client_secret now: it is shown only this once.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
