from alembic import context
from sqlalchemy import create_engine

from bot.storage.models import Base

url = context.config.attributes.get("url")

with create_engine(url, future=True).connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
