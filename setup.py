from setuptools import find_namespace_packages, setup

requires = [
    "pyramid>=2.0,<3",
    "pyramid_chameleon",
    # app/templating.py wraps BaseTemplate.cook to compile one template at a time.
    "Chameleon>=4.5,<5",
    # app/web/request.py and app/models/__init__.py use create_tm, explicit_manager and the
    # tween factory directly, without pyramid_tm's includeme.
    "pyramid_tm>=2.5,<3",
    "pyramid_retry",
    "pyramid_mailer",
    # app/models/transactions.py subclasses ZopeTransactionEvents and registers its
    # listeners itself (tests/unit/models/test_transactions.py checks they still match).
    "zope.sqlalchemy>=3.1,<5",
    "transaction",
    "SQLAlchemy>=2.0,<3",
    "alembic",
    "libpass>=1.9",
    "argon2-cffi",
    "waitress",
    "cryptography",
    # The rate limits live in Redis in production (ratelimit.storage_uri = redis://...).
    "limits[redis]",
    "psycopg[binary]>=3.1",
    # Password strength estimation (zxcvbn, in Rust: thread-safe and fast). The bound on
    # its cost in app/services/passwords/strength.py follows this version's l33t table.
    "zxcvbn-rs-py>=0.3,<0.4",
    # Email syntax, IDNA domains and deliverable forms, instead of hand-written rules.
    "email-validator>=2.1,<3",
    # Authenticator-app codes (RFC 6238), and their QR codes drawn as SVG on the server.
    "pyotp>=2.9",
    "segno>=1.6",
    # The OpenID Connect provider: Authlib's authorization server speaks the protocol
    # (app/services/oidc/ subclasses its grants, endpoints and ClientMixin; their hooks
    # are those of 1.6+), joserfc signs and verifies the JWTs and makes the keys.
    "Authlib>=1.6,<2",
    "joserfc>=1.1,<2",
    # Passkeys (WebAuthn ceremonies). app/services/mfa/webauthn_protocol.py relies on 3.x's
    # options_to_json, parse_*_credential_json and the counter check it leaves to us.
    "webauthn>=3.0,<4",
    # Device names from User-Agent strings (uap-core's regexes).
    # app/services/sessions/user_agents.py uses 1.x's BasicResolver and load_lazy_builtins.
    "ua-parser>=1.0,<2",
    # The breached-password check's HTTP client: timeouts and connection reuse.
    "httpx>=0.27,<1",
    # Signing in with another provider: Authlib's OAuth 2 client (state, PKCE, the code
    # exchange) runs on httpx2 and warns about plain httpx; the provider calls of
    # app/services/upstream/ use the same client.
    "httpx2>=2.17,<3",
    # Translations: catalogues compiled at start-up, dates and plurals in each language.
    "Babel>=2.12",
    # /metrics for Prometheus. Its multiprocess mode (PROMETHEUS_MULTIPROC_DIR) sums the
    # counters of every app process and mail worker, which each write their own file.
    "prometheus_client>=0.20,<1",
    # The JSON API's schemas: one pydantic model per body validates the input and
    # gives the OpenAPI document its JSON Schema (model_json_schema, 2.x).
    "pydantic>=2.6,<3",
]

tests_require = [
    "pytest",
    "WebTest",
    # DatabaseJanitor without a server version: each test's PostgreSQL database.
    "pytest-postgresql>=10",
    "aiosmtpd",
    # The software authenticator of tests/passkey_authenticator.py (webauthn needs it too).
    "cbor2",
    "hypothesis",
    # Two workers halve the suite's wall time on a two-core machine.
    "pytest-xdist>=3.5",
    "playwright",
    # make mutate: mutation testing of the security code. 3.x forks one process per
    # mutant and runs only the tests that reach the mutated function.
    "mutmut>=3.8,<4",
    "ruff",
    # Extraction of the messages to translate (make translations, and its test).
    "lingua>=4.15",
    "mypy",
    "types-WebOb",
    # Property-based tests of the JSON API generated from its OpenAPI document.
    "schemathesis>=4,<5",
]

setup(
    # The import package is `app`; the distribution says what it is.
    name="shop-accounts",
    version="0.1.0",
    description=(
        "Accounts for a shop: sign-in, second factors, passkeys, recovery,"
        " an OpenID Connect provider and a JSON API"
    ),
    python_requires=">=3.11",
    # The template and static folders are data of the app package, declared as such
    # (namespace packages), so that setuptools installs them without warnings.
    packages=find_namespace_packages(include=["app", "app.*"]),
    include_package_data=True,
    package_data={
        "app.templates": ["*/*.pt"],
        "app.static": ["*"],
        # The catalogues; the app compiles them to .mo when it starts.
        "app.locale": ["*.pot", "*/LC_MESSAGES/*.po"],
    },
    zip_safe=False,
    install_requires=requires,
    extras_require={"testing": tests_require},
    entry_points={
        "paste.app_factory": ["main = app:main"],
        "console_scripts": [
            "app-create-admin = app.scripts.create_admin:main",
            "app-mail-worker = app.scripts.mail_worker:main",
            "app-oidc-client = app.scripts.oidc_client:main",
            "app-oidc-keys = app.scripts.oidc_keys:main",
        ],
    },
)
