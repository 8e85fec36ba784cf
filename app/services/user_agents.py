"""A short, human description of a browser's User-Agent ("Firefox 133 on Windows"), for
the device list, the activity page and the new-device email, with ua-parser (the regexes
kept by the uap-core project, run by its Rust engine)."""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse

UNKNOWN = "Unknown browser"
# A User-Agent longer than this is described from its start only.
MAX_LENGTH = 512


@lru_cache(maxsize=4096)
def describe_user_agent(user_agent: str | None) -> str:
    """'Firefox 133 on Windows', 'Mobile Safari 17 on iPhone', or 'Unknown browser'
    when there is nothing to go on."""
    if not user_agent:
        return UNKNOWN
    result = parse(user_agent[:MAX_LENGTH])
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
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"A browser on {system}"
    return UNKNOWN


def warm_up() -> None:
    """Compile the regexes now (about a tenth of a second), not in the first request
    that shows a device."""
    parse("Mozilla/5.0")
