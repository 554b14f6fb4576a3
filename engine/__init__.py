"""PATRIOT trading engine: domain types, services and exchange gateways.

The engine imports neither aiogram nor SQLAlchemy. Services receive their
repositories (through a unit of work), gateways and clock as constructor
arguments, typed by the ports in ``engine.ports``.
"""
