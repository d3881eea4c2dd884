"""Alembic environment: always runs on a connection handed in by omnichannel.migrate."""

from alembic import context
from sqlmodel import SQLModel

from omnichannel import models  # noqa: F401
from omnichannel.migrate import include_name

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `omnichannel db upgrade`, which binds a connection")
context.configure(connection=connection, target_metadata=SQLModel.metadata,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True,
                  include_name=include_name)
with context.begin_transaction():
    context.run_migrations()
