"""Where the server's made-up names come from: message ids, batch references, guest nicks.

The server takes its `Ids` as an argument, the way it takes the time as `now`, so that
nothing in the core draws random numbers on its own. The default draws on `secrets` and
`random`, as a running server should; a test can pass a subclass whose ids are counters,
so that a transcript compares exact lines.
"""

from __future__ import annotations

import itertools
import random
import secrets


class Ids:
    """The default source: unpredictable ids, unique across restarts."""

    def __init__(self) -> None:
        # A msgid is this process's random prefix and a counter: unique across restarts
        # (the prefix has 72 random bits) at a fraction of the cost of fresh random bytes
        # per message. msgids are stored, and the store keeps them unique.
        self._msgid_prefix = secrets.token_urlsafe(9)
        self._msgid_counter = itertools.count()

    def msgid(self) -> str:
        """A new `msgid` tag value for a PRIVMSG, NOTICE or TAGMSG."""
        return f"{self._msgid_prefix}{next(self._msgid_counter):x}"

    def batch_ref(self) -> str:
        """A reference for a `BATCH +<ref>` a client is about to be sent."""
        return secrets.token_hex(4)

    def guest_suffix(self) -> str:
        """The five digits of a guest nick (`Guest12345`); the caller checks it is free."""
        return str(random.randrange(10000, 100000))
