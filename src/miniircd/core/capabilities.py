"""The IRCv3 capabilities this server offers: name -> value advertised with `CAP LS 302`.

Only what is fully implemented is listed here; every entry is exercised by a test.
"""

from __future__ import annotations

CAPABILITIES: dict[str, str | None] = {
    "account-notify": None,
    "account-tag": None,
    "away-notify": None,
    "batch": None,
    "cap-notify": None,
    "draft/account-registration": "before-connect,custom-account-name",
    "draft/chathistory": None,
    "draft/read-marker": None,
    "echo-message": None,
    "extended-join": None,
    "invite-notify": None,
    "labeled-response": None,
    "message-tags": None,
    "multi-prefix": None,
    "sasl": "PLAIN",
    "server-time": None,
    "setname": None,
    "standard-replies": None,
    "userhost-in-names": None,
}


def ls_tokens(version: int) -> list[str]:
    """What `CAP LS` lists: values only for clients that asked for version 302 or later."""
    if version >= 302:
        return [f"{name}={value}" if value else name for name, value in CAPABILITIES.items()]
    return list(CAPABILITIES)
