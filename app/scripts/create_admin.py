"""app-create-admin CONFIG EMAIL: make an administrator and print a one-time link.

The administrator chooses the password through the link, like any invited user; a
password never appears on a command line or in shell history."""

from __future__ import annotations

import argparse

from app.scripts.common import fail, unit_of_work
from app.services.kernel.email_addresses import clean_email
from app.services.kernel.errors import InvalidEmail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="app-create-admin",
        description="Create an administrator (or promote an existing account) and print "
        "a one-time link to choose the password.",
    )
    parser.add_argument("config", help="the .ini file, e.g. development.ini")
    parser.add_argument("email", help="the administrator's email address")
    args = parser.parse_args(argv)

    try:
        email = clean_email(args.email)
    except InvalidEmail as exc:
        fail(f"{args.email!r} is not a usable email address: {exc}")

    with unit_of_work(args.config) as services:
        account, created = services.admin.appoint_administrator(email)
        link = services.accounts.create_invitation_link(account)
        days = services.factory.settings.invite_code_days
        base_url = services.factory.settings.base_url

    if created:
        print(f"Created administrator {email}.")
    else:
        print(
            f"Made {email} an administrator. Its password was cleared and it was signed out"
            " everywhere: until the link below is used, nobody can sign in to it."
        )
    print(f"Open this link within {days} days to choose the password (it works once):")
    print(link)
    if base_url.startswith("http://localhost"):
        # The port of app.base_url is the one development.ini was given (PORT), which may
        # not be the one `make run` serves.
        print(
            f"(The link is on {base_url}: if the app serves another port, run"
            " `make create-admin EMAIL=... PORT=...` with that port.)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
