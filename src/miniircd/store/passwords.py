"""Password hashes: scrypt with a per-password random salt, as one self-describing string.

Format: `scrypt$<log2 n>$<r>$<p>$<salt, base64>$<hash, base64>`. Verifying reads the
parameters from the string, so they can be raised later without breaking old hashes.

Login tokens (NickServ TOKEN) stand in for a password at login, so that a device can stay
logged in without keeping the password. A token is 256 random bits behind a fixed prefix;
only its SHA-256 is stored (random enough that no salt or slow hash is needed).

SCRAM-SHA-256 records sit beside the scrypt hash, so a client can log in without sending
its password: `SCRAM-SHA-256$<iterations>$<salt>$<StoredKey>$<ServerKey>` (base64). They
hold neither the password nor the SaltedPassword; see docs/security.md for what they give
to whoever reads the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from miniircd.protocol import scram

SCRYPT_LOG2_N = 14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
# PBKDF2 rounds for new SCRAM records: 8 times RFC 7677's minimum of 4096. Every client
# pays it at every login (about 25 ms in C, 0.3 s in a pure-Python client); an eavesdropper
# on the plain port or a thief of the database pays it per password guess. The server pays
# it only when a password is set. Old records keep the count they were made with.
SCRAM_ITERATIONS = 32768
SCRAM_PREFIX = scram.MECHANISM + "$"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=1 << SCRYPT_LOG2_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        dklen=HASH_BYTES,
    )
    return f"scrypt${SCRYPT_LOG2_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check of `password` against a stored hash; False for a malformed hash."""
    try:
        algorithm, log2_n, r, p, salt_b64, hash_b64 = encoded.split("$")
        if algorithm != "scrypt":
            return False
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(hash_b64, validate=True)
        digest = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=1 << int(log2_n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=256 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


LOGIN_TOKEN_PREFIX = "miniircd-token-"


def new_login_token() -> tuple[str, str]:
    """A fresh login token and the hash to store."""
    token = LOGIN_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, login_token_hash(token)


def login_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def is_login_token(secret: str) -> bool:
    return secret.startswith(LOGIN_TOKEN_PREFIX)


def login_token_matches(token: str, hashes: list[str]) -> bool:
    given = login_token_hash(token)
    return any(hmac.compare_digest(given, known) for known in hashes)


def scram_record(password: str) -> str:
    """What SCRAM needs to check `password`, with a fresh salt (slow: PBKDF2)."""
    made = scram.derive(password, secrets.token_bytes(SALT_BYTES), SCRAM_ITERATIONS)
    keys = (made.salt, made.stored_key, made.server_key)
    return SCRAM_PREFIX + "$".join([str(made.iterations), *map(_b64, keys)])


def scram_credentials(record: str | None) -> scram.Credentials | None:
    """The credentials in a stored record; None for none or a malformed one."""
    if record is None or not record.startswith(SCRAM_PREFIX):
        return None
    try:
        iterations, salt, stored_key, server_key = record[len(SCRAM_PREFIX) :].split("$")
        keys = [base64.b64decode(part, validate=True) for part in (stored_key, server_key)]
        credentials = scram.Credentials(
            base64.b64decode(salt, validate=True), int(iterations), keys[0], keys[1]
        )
    except ValueError:  # binascii.Error is one
        return None
    return credentials if credentials.iterations > 0 else None


def fake_scram_salt(secret: bytes, folded_name: str) -> bytes:
    """The salt shown for a name with no SCRAM record: the same for the same name as long
    as the database keeps `secret`, and unguessable without it."""
    message = b"scram salt\0" + folded_name.encode("utf-8", "replace")
    return hmac.new(secret, message, hashlib.sha256).digest()[:SALT_BYTES]
