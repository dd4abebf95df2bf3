"""A local client connection: a user (core.user) plus what its connection here needs.

Invariants: `nick` is None until the client has sent a valid NICK; `registered` becomes
True once (after NICK, USER, any CAP negotiation and a correct server password) and never
goes back; `outq` holds serialized lines not yet handed to the network layer.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from miniircd.core.user import User
from miniircd.protocol.scram import ServerExchange

if TYPE_CHECKING:
    from miniircd.core.multiline import OpenBatch


class Session(User):
    __slots__ = (
        "answer_label",
        "answer_lines",
        "backlog",
        "busy",
        "cap_negotiating",
        "cap_version",
        "flood_stamp",
        "flood_tokens",
        "last_seen",
        "multiline",
        "nick_deadline",
        "nick_refused",
        "pass_params",
        "password",
        "ping_pending",
        "quit_line",
        "read_markers",
        "sasl_account",
        "sasl_buffer",
        "sasl_mechanism",
        "sasl_scram",
    )

    def __init__(self, session_id: int, host: str, now: float) -> None:
        super().__init__(session_id, host, now)
        self.cap_negotiating = False
        self.cap_version = 0
        self.password: str | None = None
        self.pass_params: list[str] = []  # PASS's parameters: a server adds its version
        self.read_markers: dict[str, int] = {}  # MARKREAD while not logged in: key -> ms
        self.last_seen = now
        self.ping_pending = False
        self.busy = 0  # work off the loop it waits on; its later lines wait too (core.flood)
        self.quit_line: bytes | None = None  # a QUIT that waits for the job (core.server)
        self.answer_label: str | None = None  # labeled-response: the label, and the lines
        self.answer_lines: list[bytes] = []  # sent so far, of the command that waits
        self.flood_tokens = 0.0  # see core.flood
        self.flood_stamp = now
        self.backlog: deque[bytes] | None = None  # lines not yet handled (core.flood)
        self.nick_refused: str | None = None  # the last NICK refused as in use (433)
        self.nick_deadline: float | None = None  # when a protected nick must be identified
        self.sasl_mechanism: str | None = None
        self.sasl_buffer = ""
        self.sasl_scram: ServerExchange | None = None  # a SCRAM-SHA-256 exchange under way
        self.sasl_account: str | None = None  # whom the services hub let it log in as
        self.multiline: OpenBatch | None = None  # a draft/multiline batch being sent
