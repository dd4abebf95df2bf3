"""The refusals a handler raises; the dispatcher turns them into replies.

Raising leaves the handler before it changes anything, so a refused command changes nothing.
A refusal is a `Refusal`: a numeric (`IrcError`) or an IRCv3 standard reply (`Fail`). The
numeric refusals that several handlers raise are each built by one function below, so
their text is written once.
"""

from __future__ import annotations

from miniircd.protocol.numerics import (
    ERR_CHANOPRIVSNEEDED,
    ERR_NEEDMOREPARAMS,
    ERR_NOSUCHCHANNEL,
    ERR_NOSUCHNICK,
    ERR_NOTONCHANNEL,
)


class Refusal(Exception):
    """A refused command: an `IrcError` or a `Fail`, the only two kinds. Catch this to
    catch either."""

    params: tuple[str, ...]


class IrcError(Refusal):
    """A numeric error reply: `IrcError(ERR_NOSUCHNICK, nick, "No such nick/channel")`.

    The parameters follow the client's nick, as in `:server 401 <client> <nick> :text`.
    """

    def __init__(self, numeric: str, *params: str) -> None:
        super().__init__(numeric, *params)
        self.numeric = numeric
        self.params = params


class Fail(Refusal):
    """An IRCv3 standard reply: `FAIL <command> <code> [<context>...] :<description>`."""

    def __init__(self, command: str, code: str, *params: str) -> None:
        super().__init__(command, code, *params)
        self.command = command
        self.code = code
        self.params = params


def no_such_nick(name: str) -> IrcError:
    """401: `name` is no user (or, for a message, no channel either)."""
    return IrcError(ERR_NOSUCHNICK, name, "No such nick/channel")


def no_such_channel(name: str) -> IrcError:
    """403: `name` is no channel (that the client may see)."""
    return IrcError(ERR_NOSUCHCHANNEL, name, "No such channel")


def not_on_channel(channel: str) -> IrcError:
    """442: the client is not a member of `channel`."""
    return IrcError(ERR_NOTONCHANNEL, channel, "You're not on that channel")


def not_channel_operator(channel: str) -> IrcError:
    """482: the command needs operator status in `channel`."""
    return IrcError(ERR_CHANOPRIVSNEEDED, channel, "You're not channel operator")


def need_more_params(verb: str) -> IrcError:
    """461: `verb` came with too few (or empty) parameters."""
    return IrcError(ERR_NEEDMOREPARAMS, verb, "Not enough parameters")
