"""Repository port for the admin audit trail."""

from __future__ import annotations

from typing import Protocol

from engine.admin.audit import AuditEntry


class AuditRepository(Protocol):
    async def add(self, entry: AuditEntry) -> None: ...

    async def recent(self, *, offset: int, limit: int) -> tuple[list[AuditEntry], int]: ...
