"""Serve the app (or the baseline) with waitress the way the benchmark measures it:
127.0.0.1 only, four threads, settings from a JSON file.

    python -m bench.serve --app accounts --port 8123 --settings settings.json
    python -m bench.serve --app baseline --port 8124
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import waitress

HOST = "127.0.0.1"
# The same for the app and the baseline, so the ratio compares the apps only.
WAITRESS_THREADS = 4


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app", choices=("accounts", "baseline"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--settings", type=Path, help="JSON object of app settings")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s [%(name)s] %(message)s"
    )
    if args.app == "accounts":
        from app import main as make_accounts_app

        settings = json.loads(args.settings.read_text()) if args.settings else {}
        wsgi_app = make_accounts_app({}, **settings)
    else:
        from bench.baseline_app import make_app

        wsgi_app = make_app()
    waitress.serve(wsgi_app, host=HOST, port=args.port, threads=WAITRESS_THREADS)


if __name__ == "__main__":
    main()
