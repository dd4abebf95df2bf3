"""`ServerLine`: a queued line written for a peer server itself (core.link).

Its own module because it subclasses `bytes`, which mypyc cannot compile: the optional
compiled build (setup.py) leaves this module as Python, as it does core/aside.py.
"""

from __future__ import annotations


class ServerLine(bytes):
    """A line in a link's queue written for the peer server: sent as it is, where a line
    for a user behind the link is first translated (`Link.take_output`)."""

    __slots__ = ()


class ResentLine(ServerLine):
    """A message line sent again after a relink (core.resume): counted and kept in the
    link's journal like a message line written the first time."""

    __slots__ = ()
