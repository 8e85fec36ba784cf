"""The identity provider's token endpoint under load: refresh-token grants, driven from
Python threads as chains. A refresh token is spent by its use and the answer's new one
is the only one the next request may send (one sent twice revokes its whole family and
answers 400), so each thread keeps one chain going on its own connection: the token of
each answer goes into its next request. wrk, which repeats its requests, cannot do that.

The same driver runs against the baseline app's POST /token (bench/baseline_app.py),
which answers alike without the database and without signing, for the ratio."""

from __future__ import annotations

import base64
import collections
import json
import threading
from collections.abc import Callable

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bench.client import Answer, Client
from bench.common import BenchError
from bench.load import WrkResult
from bench.processes import Server
from bench.seed import OIDC_SCOPE, RefreshTokens
from bench.sessions import Exhausted, drive

REFRESH_SCENARIO = "oidc-refresh-post"
TOKEN_PATH = "/oidc/token"
JWKS_PATH = "/oidc/jwks"
BASELINE_TOKEN_PATH = "/token"
# The app's access tokens (RFC 9068) and the algorithm that signs them.
ACCESS_TOKEN_TYPE = "at+jwt"
SIGNING_ALGORITHM = "RS256"
# Starting tokens beyond one per chain, for the chains that break (an unexpected answer,
# or a timeout after which the new token is unknown) to start again from.
SPARES_PER_CHAIN = 3


def basic_authorization(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")


def baseline_tokens(count: int) -> RefreshTokens:
    """Credentials and starting tokens for the baseline, which checks only their form."""
    return RefreshTokens("baseline-client", "baseline-secret", [f"start-{i}" for i in range(count)])


class RefreshChains:
    """`threads` chains of refresh-token grants, each on its own connection, each from
    its own starting token. Every answer is checked: 200, JSON, not to be cached, a
    Bearer access token shaped as a JWT, the scope granted, and a new refresh token,
    which the chain sends next. A chain whose answer was anything else starts again
    from a spare token; with none left, its thread stops."""

    def __init__(
        self,
        scenario: str,
        path: str,
        threads: int,
        tokens: Callable[[int], RefreshTokens],
        verify_signature: bool = False,
    ) -> None:
        self.scenario = scenario
        self.path = path
        self.threads = threads
        self.tokens = tokens
        self.verify_signature = verify_signature
        self.authorization = ""
        self.chains: list[str | None] = []
        self.spares: collections.deque[str] = collections.deque()
        self.lock = threading.Lock()

    def prepare(self) -> None:
        """Fresh starting tokens (new families) for every chain, and the spares."""
        made = self.tokens(self.threads * (1 + SPARES_PER_CHAIN))
        self.authorization = basic_authorization(made.client_id, made.secret)
        self.chains = list(made.tokens[: self.threads])
        self.spares = collections.deque(made.tokens[self.threads :])

    def spare(self) -> str:
        with self.lock:
            if not self.spares:
                raise Exhausted
            return self.spares.popleft()

    def refresh(self, client: Client, token: str) -> tuple[dict[str, object] | None, str]:
        """One grant: the answer's JSON if it is the expected one, else what is wrong."""
        fields = {"grant_type": "refresh_token", "refresh_token": token}
        answer = client.request(
            "POST", self.path, fields, headers={"Authorization": self.authorization}
        )
        problem = self.problem(answer, token)
        if problem is not None:
            return None, f"POST {self.path} answered {answer.status}: {problem}"
        return json.loads(answer.body), ""

    @staticmethod
    def problem(answer: Answer, token: str) -> str | None:
        if answer.status != 200:
            return repr(answer.body[:200])
        if not (answer.header("Content-Type") or "").startswith("application/json"):
            return f"Content-Type {answer.header('Content-Type')}"
        if "no-store" not in (answer.header("Cache-Control") or ""):
            return f"Cache-Control {answer.header('Cache-Control')}"
        try:
            data = json.loads(answer.body)
        except ValueError:
            return f"not JSON: {answer.body[:200]!r}"
        access = data.get("access_token")
        renewed = data.get("refresh_token")
        if str(data.get("token_type", "")).lower() != "bearer":
            return f"token_type {data.get('token_type')!r}"
        if not isinstance(access, str) or access.count(".") != 2:
            return f"access_token {str(access)[:80]!r} is not a JWT"
        if set(str(data.get("scope", "")).split()) != set(OIDC_SCOPE.split()):
            return f"scope {data.get('scope')!r}"
        if not isinstance(renewed, str) or not renewed or renewed == token:
            return f"no new refresh_token: {renewed!r}"
        return None

    def attempt(self, index: int, client: Client) -> str | None:
        """The chain's next grant. Until its answer is in, the chain has no token: if
        the request fails, the next attempt starts from a spare."""
        token = self.chains[index] or self.spare()
        self.chains[index] = None
        data, problem = self.refresh(client, token)
        if data is None:
            return problem
        self.chains[index] = str(data["refresh_token"])
        return None

    def smoke(self, client: Client) -> None:
        """One grant from a spare token; for the app, its access token verified with the
        published keys (signature, typ, issuer's client)."""
        data, problem = self.refresh(client, self.spare())
        if data is None:
            raise BenchError(problem)
        with self.lock:
            self.spares.append(str(data["refresh_token"]))
        if not self.verify_signature:
            return
        keys = KeySet.import_key_set(json.loads(client.expect(200, "GET", JWKS_PATH).body))
        try:
            token = jwt.decode(str(data["access_token"]), keys, algorithms=[SIGNING_ALGORITHM])
        except (JoseError, ValueError) as exc:
            raise BenchError(f"the access token does not verify with {JWKS_PATH}: {exc}") from exc
        if token.header.get("typ") != ACCESS_TOKEN_TYPE or "client_id" not in token.claims:
            raise BenchError(f"unexpected access token: {token.header} {token.claims}")

    def run(self, server: Server, seconds: float) -> WrkResult:
        """The chains until the time is up; counts the grants answered as expected."""
        return drive(self.scenario, self.scenario, server, seconds, self.threads, self.attempt)
