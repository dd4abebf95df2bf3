"""The store interface the core uses: accounts now, rooms, history and the inbox later.

Writes made while handling a loop turn belong to one transaction; the network layer calls
`commit` at the end of the turn, before anything is sent, so nothing a client has seen can
be lost in a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Account:
    name: str  # as registered; lookups fold it with rfc1459 casemapping
    password_hash: str
    email: str | None
    created: float


class Store(Protocol):
    def get_account(self, name: str) -> Account | None: ...

    def create_account(self, account: Account) -> bool:
        """Add the account; False (and nothing written) if the name is taken."""
        ...

    def set_password(self, name: str, password_hash: str) -> None: ...

    def delete_account(self, name: str) -> None: ...

    def commit(self) -> None: ...

    def close(self) -> None: ...
