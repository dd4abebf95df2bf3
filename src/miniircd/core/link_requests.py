"""Operators' requests to the network layer about outgoing links, which the sans-IO core
cannot act on itself: dial a `[[links]]` block now (CONNECT), or hold off redialing one an
operator closed (SQUIT). Handlers queue them on `Server.link_requests`; the network layer
takes them every loop turn (net/links.py `Dialer.requested`).
"""

from __future__ import annotations


class LinkRequest:
    __slots__ = ("dial", "name", "port")

    def __init__(self, name: str, dial: bool, port: int | None = None) -> None:
        self.name = name  # the `[[links]]` block's name
        self.dial = dial  # True: dial it now; False: do not redial it before `retry_max`
        self.port = port  # CONNECT's port, instead of the block's
