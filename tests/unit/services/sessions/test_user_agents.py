"""Device names for people, from User-Agent strings (ua-parser)."""

from __future__ import annotations

import pytest

from app.services.sessions.user_agents import describe_user_agent
from app.translation import english

CASES = {
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0": (
        "Firefox 128 on Linux"
    ),
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1": "Mobile Safari 17 on iPhone",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0": "Edge 131 on Windows",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36": "Chrome Mobile 131 on Android",
    "curl/8.5.0": "curl 8",
    "": "Unknown browser",
    None: "Unknown browser",
    "\x00\x01 not a browser": "Unknown browser",
}


@pytest.mark.parametrize("user_agent", CASES)
def test_a_user_agent_is_described_for_a_person(user_agent):
    assert english(describe_user_agent(user_agent)) == CASES[user_agent]


def test_a_huge_user_agent_is_described_from_its_start():
    assert describe_user_agent("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" + "x" * 100_000)
