"""Channel list masks: their normal form, extended bans, and whom they match.

The lists `b` (bans), `e` (ban exceptions) and `I` (invite exceptions) hold masks. A plain
mask is completed to `nick!user@host` and matched with IRC globs under rfc1459 folding.
A mask starting with `EXTBAN_PREFIX` is an extended ban (ISUPPORT `EXTBAN=$,am`):

- `$a` matches any logged-in user; `$a:<account>` a user logged in to that account
  (globs allowed, casefolded). Usable in all three lists.
- `$m:<mask>` is a mute: in `b` it stops matching users from speaking in the channel
  without keeping them out; in `e` it exempts matching users from mutes only. It means
  nothing for invitations, so `I` refuses it. The letter is InspIRCd's and Ergo's mute.

A plain or account exception in `e` overrides every ban, mutes included.
"""

from __future__ import annotations

from collections.abc import Iterable

from miniircd.core.user import User
from miniircd.protocol.casemap import fold, mask_matches

EXTBAN_PREFIX = "$"
ACCOUNT = "a"
MUTE = "m"
EXTBAN_TYPES = ACCOUNT + MUTE  # ISUPPORT EXTBAN's types, ACCOUNTEXTBAN's name is ACCOUNT


def normalize_mask(mask: str) -> str:
    """A full `nick!user@host` mask: `bob` -> `bob!*@*`, `u@h` -> `*!u@h`."""
    if "!" in mask:
        nick, _, rest = mask.partition("!")
    elif "@" in mask:
        nick, rest = "*", mask
    else:
        nick, rest = mask, "*"
    user, _, host = rest.partition("@")
    return f"{nick or '*'}!{user or '*'}@{host or '*'}"


def normalize_entry(mask: str, list_mode: str) -> str | None:
    """The form `mask` is kept in on list `list_mode` (b, e or I); None if it is invalid
    there (an unknown extban type, a missing or empty parameter, a mute in `I`)."""
    if not mask.startswith(EXTBAN_PREFIX):
        return normalize_mask(mask)
    kind, colon, data = mask[len(EXTBAN_PREFIX) :].partition(":")
    if kind == ACCOUNT:
        if colon and not data:
            return None
        return mask
    if kind == MUTE and list_mode in "be" and data:
        return f"{EXTBAN_PREFIX}{MUTE}:{normalize_mask(data)}"
    return None


def is_mute(entry: str) -> bool:
    return entry.startswith(EXTBAN_PREFIX + MUTE + ":")


def matches(entry: str, user: User) -> bool:
    """Whether the user is the one `entry` describes (a mute: whether it is muted by it)."""
    if not entry.startswith(EXTBAN_PREFIX):
        return mask_matches(entry, user.prefix)
    kind, colon, data = entry[len(EXTBAN_PREFIX) :].partition(":")
    if kind == ACCOUNT:
        account = user.account
        return account is not None and (not colon or mask_matches(data, account))
    if kind == MUTE:
        return mask_matches(data, user.prefix)
    return False


def find(entries: Iterable[str], mask: str) -> str | None:
    """The entry equal to `mask` up to case, if any."""
    folded = fold(mask)
    return next((entry for entry in entries if fold(entry) == folded), None)


def is_banned(bans: Iterable[str], excepts: Iterable[str], user: User) -> bool:
    """A ban (not a mute) matches the user and no exception (not a mute one) does."""
    if not any(matches(ban, user) for ban in bans if not is_mute(ban)):
        return False
    return not any(matches(entry, user) for entry in excepts if not is_mute(entry))


def is_muted(bans: Iterable[str], excepts: Iterable[str], user: User) -> bool:
    """A mute matches the user and no exception of any kind does."""
    if not any(matches(ban, user) for ban in bans if is_mute(ban)):
        return False
    return not any(matches(entry, user) for entry in excepts)


def is_invite_excepted(invex: Iterable[str], user: User) -> bool:
    return any(matches(entry, user) for entry in invex)
