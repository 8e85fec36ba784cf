"""Alembic environment: the database URL comes from the app's own settings in the .ini
(and DATABASE_URL), so migrations and the app always point at the same database."""

from alembic import context
from pyramid.paster import get_appsettings, setup_logging

from app.models import get_engine
from app.models.meta import Base
from app.settings import INI_VARIABLES, apply_environment

config = context.config

if config.config_file_name and config.attributes.get("configure_logging", True):
    setup_logging(config.config_file_name)

target_metadata = Base.metadata


def _settings() -> dict:
    url = config.attributes.get("sqlalchemy.url")
    if url:
        return {"sqlalchemy.url": url}
    return apply_environment(
        get_appsettings(config.config_file_name, name="main", options=INI_VARIABLES)
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_settings()["sqlalchemy.url"],
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    engine = get_engine(_settings())
    try:
        with engine.connect() as connection:
            _run_with(connection)
    finally:
        engine.dispose()


def _run_with(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
