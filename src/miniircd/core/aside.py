"""`Aside`: a queued line that is a side effect of its recipient's own command.

Its own module because it subclasses `bytes`, which mypyc cannot compile: the optional
compiled build (setup.py) leaves this module as Python.
"""

from __future__ import annotations


class Aside(bytes):
    """A queued line that is a side effect of its recipient's own command, not part of the
    answer to it (the copy of a message a client sent to itself): labeled-response leaves
    it unlabelled and outside the answer's batch."""

    __slots__ = ()
