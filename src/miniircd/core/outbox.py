"""Collects what each session is to be sent during one loop turn.

Handlers add messages here; a message sent to many sessions is serialized once and the
same bytes go to every recipient. The network layer calls `drain` at the end of the turn
and writes each touched session's queue with one call.
"""

from __future__ import annotations

from collections.abc import Iterable

from miniircd.core.session import Session
from miniircd.protocol.message import Message


class Outbox:
    __slots__ = ("server_name", "touched")

    def __init__(self, server_name: str) -> None:
        self.server_name = server_name
        self.touched: dict[int, Session] = {}

    def raw(self, session: Session, data: bytes) -> None:
        """Queue an already serialized line (with CR-LF)."""
        if session.closing:
            return
        session.outq.append(data)
        self.touched[session.id] = session

    def send(self, session: Session, msg: Message) -> None:
        self.raw(session, encode(msg))

    def send_many(self, sessions: Iterable[Session], msg: Message) -> None:
        data = encode(msg)
        for session in sessions:
            self.raw(session, data)

    def numeric(self, session: Session, numeric: str, *params: str) -> None:
        """`:server <numeric> <client> <params...>`; the last param is the human text."""
        self.send(session, Message(numeric, [session.name, *params], self.server_name))

    def from_server(self, session: Session, verb: str, *params: str) -> None:
        self.send(session, Message(verb, list(params), self.server_name))

    def error_and_close(self, session: Session, text: str) -> None:
        """Send `ERROR :text` and have the network layer close the link once it is flushed."""
        self.send(session, Message("ERROR", [text]))
        session.closing = True

    def drain(self) -> list[Session]:
        sessions = list(self.touched.values())
        self.touched.clear()
        return sessions


def encode(msg: Message) -> bytes:
    return msg.serialize().encode("utf-8", "surrogateescape") + b"\r\n"
