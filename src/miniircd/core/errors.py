"""The refusals a handler raises; the dispatcher turns them into replies.

Raising leaves the handler before it changes anything, so a refused command changes nothing.
"""

from __future__ import annotations


class IrcError(Exception):
    """A numeric error reply: `IrcError(ERR_NOSUCHNICK, nick, "No such nick/channel")`.

    The parameters follow the client's nick, as in `:server 401 <client> <nick> :text`.
    """

    def __init__(self, numeric: str, *params: str) -> None:
        super().__init__(numeric, *params)
        self.numeric = numeric
        self.params = params


class Fail(Exception):
    """An IRCv3 standard reply: `FAIL <command> <code> [<context>...] :<description>`."""

    def __init__(self, command: str, code: str, *params: str) -> None:
        super().__init__(command, code, *params)
        self.command = command
        self.code = code
        self.params = params
