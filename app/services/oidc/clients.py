"""The applications registered to sign people in here, and their secrets."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from sqlalchemy import select

from app.models import OidcClient
from app.services.kernel import audit as events
from app.services.kernel.codes import digest, new_code
from app.services.kernel.context import ContextService
from app.services.kernel.errors import ClientRefused, RateLimited
from app.settings.limits import OIDC_TOKEN_PER_CLIENT, OIDC_TOKEN_PER_IP
from app.translation import _

MAX_NAME_LENGTH = 100
MAX_URI_LENGTH = 2000
MAX_URIS = 20
LOOPBACK_HOSTS = {"localhost"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_uri(uri: str) -> str:
    """A redirect, post-logout or back-channel URI as the rules allow it: absolute,
    https (plain http only to a loopback address, for apps on the person's own
    machine, RFC 8252), no fragment, at most 2,000 characters. Compared exactly later,
    so it is kept exactly as given."""
    if not uri or len(uri) > MAX_URI_LENGTH or uri != uri.strip():
        raise ClientRefused(_("Each address must be a full https address."), "invalid_redirect_uri")
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
    except ValueError:
        raise ClientRefused(
            _("Each address must be a full https address."), "invalid_redirect_uri"
        ) from None
    secure = parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host))
    if not secure or not host or parts.fragment or "#" in uri:
        raise ClientRefused(
            _("Each address must be a full https address, without a fragment."),
            "invalid_redirect_uri",
        )
    return uri


def clean_name(name: str | None) -> str:
    """The name with its runs of spaces made one; refused when empty or too long."""
    cleaned = " ".join((name or "").split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise ClientRefused(_("Give the application a name of at most 100 characters."))
    return cleaned


def clean_redirect_uris(uris: Sequence[str]) -> list[str]:
    """Between one and 20 redirect URIs, each checked, repeats dropped."""
    if not uris or len(uris) > MAX_URIS:
        raise ClientRefused(_("Give between one and 20 redirect addresses."))
    return [check_uri(uri) for uri in dict.fromkeys(uris)]


def clean_post_logout_uris(uris: Sequence[str] | None) -> list[str]:
    """At most 20 addresses to return to after signing out, each checked."""
    uris = uris or []
    if len(uris) > MAX_URIS:
        raise ClientRefused(_("Give at most 20 addresses to return to after signing out."))
    return [check_uri(uri) for uri in dict.fromkeys(uris)]


def clean_backchannel_uri(uri: str | None) -> str | None:
    return check_uri(uri) if uri else None


@dataclass(frozen=True)
class ClientSettings:
    """A client's settings as the rules allow them (what an administrator may change)."""

    name: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    backchannel_logout_uri: str | None

    @classmethod
    def checked(
        cls,
        name: str,
        redirect_uris: Sequence[str],
        post_logout_redirect_uris: Sequence[str] | None,
        backchannel_logout_uri: str | None,
    ) -> ClientSettings:
        """The settings cleaned, or ClientRefused with the first rule they break."""
        return cls(
            name=clean_name(name),
            redirect_uris=clean_redirect_uris(redirect_uris),
            post_logout_redirect_uris=clean_post_logout_uris(post_logout_redirect_uris),
            backchannel_logout_uri=clean_backchannel_uri(backchannel_logout_uri),
        )


@dataclass(frozen=True)
class NewClient:
    client: OidcClient
    # Shown once, to whoever registered the client; only its digest is kept.
    secret: str | None


class OidcClientService(ContextService):
    def register(
        self,
        name: str,
        redirect_uris: list[str],
        *,
        public: bool = False,
        first_party: bool = False,
        backchannel_logout_uri: str | None = None,
        post_logout_redirect_uris: list[str] | None = None,
        created_by_id: int | None = None,
    ) -> NewClient:
        settings = ClientSettings.checked(
            name, redirect_uris, post_logout_redirect_uris, backchannel_logout_uri
        )
        secret = None if public else new_code()
        client = OidcClient(
            client_id=secrets.token_urlsafe(18),
            name=settings.name,
            secret_hash=None if secret is None else digest(secret),
            redirect_uris=settings.redirect_uris,
            post_logout_redirect_uris=settings.post_logout_redirect_uris,
            backchannel_logout_uri=settings.backchannel_logout_uri,
            first_party=first_party,
            created_at=self.clock.now(),
            created_by_id=created_by_id,
        )
        self.dbsession.add(client)
        self.dbsession.flush()
        self.audit.record(
            events.OIDC_CLIENT_ADDED,
            None,
            created_by_id,
            client_id=client.client_id,
            name=client.name,
        )
        return NewClient(client, secret)

    def update(
        self,
        client_id: str,
        name: str,
        redirect_uris: list[str],
        post_logout_redirect_uris: list[str] | None,
        backchannel_logout_uri: str | None,
        first_party: bool,
        updated_by_id: int | None = None,
    ) -> OidcClient:
        """Change a client's settings, checked as register() checks them; the event
        names the settings that changed (none changed: no event)."""
        client = self.get(client_id)
        settings = ClientSettings.checked(
            name, redirect_uris, post_logout_redirect_uris, backchannel_logout_uri
        )
        wanted = {**asdict(settings), "first_party": bool(first_party)}
        changed = sorted(key for key, value in wanted.items() if getattr(client, key) != value)
        if not changed:
            return client
        for key in changed:
            setattr(client, key, wanted[key])
        self.dbsession.flush()
        self.audit.record(
            events.OIDC_CLIENT_CHANGED,
            None,
            updated_by_id,
            client_id=client_id,
            name=client.name,
            changed=changed,
        )
        return client

    def count_token_call(self, claimed_client_id: str | None) -> None:
        """Count a call of the token, revocation or introspection endpoint from this
        address, and check (without counting) the limit of the client it claims to be;
        RateLimited when either is used up (docs/security.md 67). Before anything is
        looked up or hashed."""
        self.rate_limiter.hit(OIDC_TOKEN_PER_IP, self.context.address_key)
        if claimed_client_id:
            self.rate_limiter.check(OIDC_TOKEN_PER_CLIENT, claimed_client_id[:64])

    def count_client_call(self, client_id: str) -> None:
        """Count a call by a client that proved who it is: only such calls fill its limit,
        so that nobody can use up another application's allowance by naming it."""
        try:
            self.rate_limiter.hit(OIDC_TOKEN_PER_CLIENT, client_id[:64])
        except RateLimited:
            # Answered already; the next call is refused by count_token_call.
            return

    def find(self, client_id: object) -> OidcClient | None:
        if not isinstance(client_id, str) or not client_id or len(client_id) > 64:
            return None
        return self.dbsession.scalars(
            select(OidcClient).where(OidcClient.client_id == client_id)
        ).first()

    def get(self, client_id: str) -> OidcClient:
        client = self.find(client_id)
        if client is None:
            raise ClientRefused(_("There is no such application."), "client_not_found")
        return client

    def list(self) -> list[OidcClient]:
        return list(self.dbsession.scalars(select(OidcClient).order_by(OidcClient.name)))

    def remove(self, client_id: str, removed_by_id: int | None = None) -> None:
        client = self.get(client_id)
        self.dbsession.delete(client)
        self.dbsession.flush()
        self.audit.record(
            events.OIDC_CLIENT_REMOVED, None, removed_by_id, client_id=client_id, name=client.name
        )

    def rotate_secret(self, client_id: str, rotated_by_id: int | None = None) -> str:
        """A new secret for a confidential client; the old one stops working at once."""
        client = self.get(client_id)
        if client.is_public:
            raise ClientRefused(_("A public application has no secret."))
        secret = new_code()
        client.secret_hash = digest(secret)
        client.secret_rotated_at = self.clock.now()
        self.dbsession.flush()
        self.audit.record(
            events.OIDC_CLIENT_SECRET_ROTATED, None, rotated_by_id, client_id=client_id
        )
        return secret


def secret_matches(client: OidcClient, secret: object) -> bool:
    """Whether `secret` is the client's, compared in constant time on the digests (a
    public client has none, and matches nothing)."""
    if client.secret_hash is None or not isinstance(secret, str) or len(secret) > 200:
        return False
    return hmac.compare_digest(client.secret_hash, digest(secret))
