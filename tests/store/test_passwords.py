"""Password hashes: the self-describing scrypt format, salts, and verification."""

from __future__ import annotations

import base64
import re

from miniircd.store.passwords import hash_password, verify_password

FORMAT = re.compile(r"scrypt\$14\$8\$1\$([A-Za-z0-9+/]+=*)\$([A-Za-z0-9+/]+=*)")


def test_hash_format() -> None:
    encoded = hash_password("correct-horse")
    match = FORMAT.fullmatch(encoded)
    assert match is not None, encoded
    assert len(base64.b64decode(match.group(1))) == 16
    assert len(base64.b64decode(match.group(2))) == 32
    assert "correct-horse" not in encoded


def test_salts_differ_and_both_verify() -> None:
    first, second = hash_password("same password"), hash_password("same password")
    assert first != second
    assert first.split("$")[4] != second.split("$")[4]
    assert verify_password("same password", first)
    assert verify_password("same password", second)


def test_verify_right_and_wrong() -> None:
    encoded = hash_password("pässwörd ✓")
    assert verify_password("pässwörd ✓", encoded) is True
    assert verify_password("passwörd ✓", encoded) is False
    assert verify_password("", encoded) is False
    assert verify_password("pässwörd ✓ ", encoded) is False


def test_malformed_hashes_are_false() -> None:
    good = hash_password("pw")
    _, log2_n, r, p, salt, digest = good.split("$")
    malformed = [
        "",
        "pw",
        "scrypt",
        "scrypt$14$8$1$" + salt,
        f"bcrypt${log2_n}${r}${p}${salt}${digest}",
        f"scrypt$x${r}${p}${salt}${digest}",
        f"scrypt${log2_n}$r${p}${salt}${digest}",
        f"scrypt$-1${r}${p}${salt}${digest}",
        f"scrypt${log2_n}${r}$0${salt}${digest}",
        f"scrypt$64${r}${p}${salt}${digest}",  # far more memory than allowed
        f"scrypt${log2_n}${r}${p}$!!!!${digest}",
        f"scrypt${log2_n}${r}${p}${salt}$not-base64",
        f"scrypt${log2_n}${r}${p}${salt}$",
        f"{good}$extra",
    ]
    for encoded in malformed:
        assert verify_password("pw", encoded) is False, encoded
