"""PATRIOT storage: SQLAlchemy 2 async models and repositories, the Decimal/UTC
column types and Alembic migrations. Implements the engine's repository ports.
"""
