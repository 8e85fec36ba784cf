"""Reading one raw setting (from the .ini file or the environment) as the kind of value
it must be, with a sentence that names the setting when it is not one."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from limits import parse as parse_limit

from app.settings.limits import DEFAULT_LIMITS

_T = TypeVar("_T")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(Exception):
    """A setting is missing or unusable; start-up stops with this message."""


class SettingsReader:
    """Reads one kind of value from the raw settings, naming the setting when it fails."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.settings = settings

    def raw(self, key: str) -> str | None:
        value = self.settings.get(key)
        if value is None or str(value).strip() == "":
            return None
        return str(value).strip()

    def text(self, key: str, default: str) -> str:
        return self.raw(key) or default

    def flag(self, key: str, default: bool) -> bool:
        raw = self.raw(key)
        if raw is None:
            return default
        if raw.lower() not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
            raise SettingsError(f"Setting {key} must be true or false, not {raw!r}.")
        return raw.lower() in ("true", "yes", "on", "1")

    def number(self, key: str, default: int, minimum: int = 0) -> int:
        return self._convert(key, default, int, "a whole number", minimum)

    def decimal(self, key: str, default: float, minimum: float = 0.0) -> float:
        return self._convert(key, default, float, "a number", minimum)

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in choices:
            raise SettingsError(
                f"Setting {key} must be one of {', '.join(choices)}, not {value!r}."
            )
        return value

    def _convert(
        self, key: str, default: _T, convert: Callable[[str], _T], what: str, minimum: Any
    ) -> _T:
        raw = self.raw(key)
        if raw is None:
            return default
        try:
            value = convert(raw)
        except ValueError:
            raise SettingsError(f"Setting {key} must be {what}, not {raw!r}.") from None
        if value < minimum:
            raise SettingsError(f"Setting {key} must be at least {minimum}, not {raw!r}.")
        return value

    def networks(self, key: str) -> tuple[Network, ...]:
        raw = self.raw(key) or ""
        networks = []
        for item in raw.replace(",", " ").split():
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise SettingsError(
                    f"Setting {key} lists {item!r}, which is not an IP address or network."
                ) from None
        return tuple(networks)

    def rate_limits(self) -> dict[str, str]:
        limits = {}
        for name, default in DEFAULT_LIMITS.items():
            key = f"ratelimit.{name}"
            spec = self.text(key, default)
            try:
                parse_limit(spec)
            except ValueError:
                raise SettingsError(
                    f"Setting {key} must be a rate such as 10/5minutes, not {spec!r}."
                ) from None
            limits[name] = spec
        return limits
