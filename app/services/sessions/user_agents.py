"""A short, human description of a browser's User-Agent ("Firefox 133 on Windows"), for
the device list, the activity page and the new-device email, with ua-parser (the regexes
kept by the uap-core project).

Its regexes are compiled lazily, each the first time a User-Agent reaches it, with
Python's re: about a millisecond per new User-Agent (each description is cached), and
2 MB of memory where the Rust engine, which compiles all of them at once, takes 26 MB
in every process."""

from __future__ import annotations

from functools import lru_cache

from ua_parser import BasicResolver, Parser
from ua_parser.loaders import load_lazy_builtins

from app.translation import _

UNKNOWN = _("Unknown browser")
# A User-Agent longer than this is described from its start only.
MAX_LENGTH = 512


@lru_cache(maxsize=4096)
def describe_user_agent(user_agent: str | None) -> str:
    """'Firefox 133 on Windows', 'Mobile Safari 17 on iPhone', or 'Unknown browser'
    when there is nothing to go on."""
    if not user_agent:
        return UNKNOWN
    result = _parser().parse(user_agent[:MAX_LENGTH])
    browser = None
    if result.user_agent is not None and result.user_agent.family != "Other":
        browser = result.user_agent.family
        if result.user_agent.major:
            browser += f" {result.user_agent.major}"
    system = None
    if result.device is not None and result.device.family in ("iPhone", "iPad"):
        system = result.device.family
    elif result.os is not None and result.os.family != "Other":
        system = result.os.family
    if browser and system:
        return _("${browser} on ${system}", mapping={"browser": browser, "system": system})
    if browser or system:
        return browser or _("A browser on ${system}", mapping={"system": system})
    return UNKNOWN


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser(BasicResolver(load_lazy_builtins()))


def warm_up() -> None:
    """Load the regexes now (about a tenth of a second), not in the first request that
    shows a device."""
    _parser()
