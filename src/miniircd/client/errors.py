"""Server refusals in plain words: every error numeric and FAIL code the client may meet.

`describe_numeric` takes an error numeric's parameters after the client's nick (so `{0}` is
usually the channel or nick concerned) and `describe_fail` an IRCv3 standard reply. Anything
not in the tables falls back to the server's own text, never to a bare number.
"""

from __future__ import annotations

__all__ = ["FAIL_CODES", "NUMERIC_ERRORS", "describe_fail", "describe_numeric", "is_error"]

# numeric -> text; {0}, {1}: the numeric's parameters after the nick, {text}: its last one.
NUMERIC_ERRORS: dict[str, str] = {
    "263": "The server is busy; try again in a moment",
    "400": "The server could not handle that request ({text})",
    "401": "No user or room named {0}",
    "402": "No server named {0}",
    "403": "No room named {0}",
    "404": "You cannot send to {0} (you are not in it, are banned, or it is moderated)",
    "405": "You are in too many rooms already; leave one first",
    "406": "Nobody was called {0}",
    "407": "Too many recipients at once",
    "411": "No recipient given",
    "412": "The message is empty",
    "417": "That line is too long for the server",
    "421": "The server does not know the command {0}",
    "431": "No name given",
    "432": "{0} is not a valid name on this server",
    "433": "The name {0} is already in use",
    "436": "The name {0} collided with another user",
    "437": "{0} is temporarily unavailable",
    "441": "{0} is not in {1}",
    "442": "You are not in {0}",
    "443": "{0} is already in {1}",
    "451": "The connection is not ready yet",
    "461": "The server says {0} is missing something",
    "462": "You cannot do that again on this connection",
    "464": "The server password is wrong",
    "465": "You are banned from this server",
    "471": "{0} is full",
    "473": "{0} is invite-only",
    "474": "You are banned from {0}",
    "475": "{0} needs a key (a room password)",
    "476": "{0} is not a valid room name",
    "477": "You must log in to join {0}",
    "478": "The list of {0} is full",
    "481": "Only server operators may do that",
    "482": "Only room operators of {0} may do that",
    "489": "{0} needs a secure (TLS) connection",
    "902": "That account is unavailable right now",
    "904": "Wrong user name or password",
    "905": "The login data is too long",
    "906": "The login was cancelled",
    "907": "You are already logged in",
    "908": "The server does not accept this login method",
}

# FAIL code -> text; {0}: the first context parameter (account name, target...).
FAIL_CODES: dict[str, str] = {
    "ACCOUNT_EXISTS": "The user name {0} is already taken",
    "USERNAME_EXISTS": "The user name {0} is someone else's nick right now; pick another",
    "ACCOUNT_NAME_MUST_BE_NICK": "The user name must be your current nick",
    "ACCOUNT_REQUIRED": "You must log in first",
    "ALREADY_AUTHENTICATED": "You are already logged in",
    "BAD_ACCOUNT_NAME": "{0} is not a valid user name",
    "COMPLETE_CONNECTION_REQUIRED": "The server wants its password before that",
    "INBOX_FULL": "The inbox of {0} is full; the message was not delivered",
    "INVALID_EMAIL": "The server wants a valid email address",
    "INVALID_TARGET": "The history of {1} could not be retrieved",
    "MESSAGE_ERROR": "The server could not find that message",
    "NEED_NICK": "Choose a nick first",
    "TEMPORARILY_UNAVAILABLE": "That is not possible right now; try again later",
    "UNACCEPTABLE_PASSWORD": "The password is not acceptable",
    "WEAK_PASSWORD": "The password is too weak",
}


def is_error(verb: str) -> bool:
    """Whether a numeric is a refusal: 400-599, the SASL failures, or one of ours above."""
    return verb.isdigit() and (400 <= int(verb) < 600 or verb in NUMERIC_ERRORS)


def _fill(template: str, args: list[str], text: str) -> str:
    padded = [*args, "?", "?"]
    return template.format(*padded, text=text)


def describe_numeric(verb: str, args: list[str]) -> str:
    """Plain words for an error numeric; `args` are its parameters after the nick."""
    text = args[-1] if args else ""
    template = NUMERIC_ERRORS.get(verb)
    if template is None:
        return text or f"The server refused that (error {verb})"
    return _fill(template, args[:-1], text)


def describe_fail(command: str, code: str, context: list[str], description: str) -> str:
    """Plain words for `FAIL <command> <code> [context...] :<description>`."""
    template = FAIL_CODES.get(code)
    if template is None:
        return description or f"{command} failed ({code.lower().replace('_', ' ')})"
    words = _fill(template, context, description)
    if code == "WEAK_PASSWORD" and description:
        words = f"{words}: {description}"
    return words
