"""SCRAM-SHA-256 (RFC 5802, RFC 7677), the server side: the message codec and the maths.

`ServerExchange` is one exchange, sans-IO: feed it the client's messages as bytes (after
SASL's base64), get back the server's. It keeps what the proof is computed over and
raises `ScramError` on anything RFC 5802 does not allow; what the caller tells the
client then is its business (IRC answers every failure with one 904).

Channel binding is not offered (no `-PLUS` mechanism): a client-first message with
`p=<type>` is refused, and `y` (the client could bind but thinks we cannot) is accepted,
as RFC 5802 section 6 allows a server without channel binding. Usernames and passwords
are not passed through SASLprep: a password's UTF-8 bytes are used as they are.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass

MECHANISM = "SCRAM-SHA-256"
KEY_BYTES = 32  # SHA-256 output

# Where an exchange stands: what it expects from the client next.
CLIENT_FIRST = 0
CLIENT_FINAL = 1
CLIENT_DONE = 2  # the server-final message is out; the client answers with an empty one
FINISHED = 3


class ScramError(Exception):
    """The exchange failed; the message says why (for logs and tests, not for the client)."""


class BadProof(ScramError):
    """A well-formed client-final message whose proof is wrong (or that had nothing to be
    checked against): a failed password guess, unlike a malformed message."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the server keeps for SCRAM: enough to check a proof, not to make one."""

    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def salted_password(password: str, salt: bytes, iterations: int) -> bytes:
    """Hi(Normalize(password), salt, i) of RFC 5802: PBKDF2-HMAC-SHA-256."""
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)


def derive(password: str, salt: bytes, iterations: int) -> Credentials:
    """The stored credentials for `password` (slow: `iterations` rounds of PBKDF2)."""
    salted = salted_password(password, salt, iterations)
    stored_key = hashlib.sha256(_hmac(salted, b"Client Key")).digest()
    return Credentials(salt, iterations, stored_key, _hmac(salted, b"Server Key"))


def proof_matches(stored_key: bytes, auth_message: bytes, proof: bytes) -> bool:
    """ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must be
    StoredKey. Constant-time in the comparison."""
    if len(proof) != KEY_BYTES:
        return False
    signature = _hmac(stored_key, auth_message)
    client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
    return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)


def server_signature(server_key: bytes, auth_message: bytes) -> bytes:
    return _hmac(server_key, auth_message)


def _printable(value: str) -> bool:
    """RFC 5802 `printable`: ASCII 0x21-0x7E except `,` (what a nonce is made of)."""
    return bool(value) and all(0x21 <= ord(c) <= 0x7E and c != "," for c in value)


def _saslname(value: str) -> str:
    """Undo the `=2C` / `=3D` escapes of a `saslname`; any other `=` is malformed."""
    out: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == "=":
            escape = value[index : index + 3]
            if escape not in ("=2C", "=3D"):
                raise ScramError("bad escape in a name")
            out.append("," if escape == "=2C" else "=")
            index += 3
        else:
            out.append(char)
            index += 1
    if not out:
        raise ScramError("empty name")
    return "".join(out)


def _check_extensions(attributes: list[str]) -> None:
    """Optional extensions (`<letter>=<value>`) are allowed and ignored."""
    for attribute in attributes:
        if len(attribute) < 3 or not attribute[0].isascii() or not attribute[0].isalpha():
            raise ScramError("malformed attribute")
        if attribute[1] != "=":
            raise ScramError("malformed attribute")


def _b64decode(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ScramError("bad base64") from None


class ServerExchange:
    """One SCRAM-SHA-256 exchange, server side. The order of calls: `client_first`,
    `server_first`, `client_final`, `client_done`; any call out of order raises."""

    __slots__ = (
        "auth_message", "credentials", "first_bare", "gs2_header", "nonce", "state",
        "username",
    )  # fmt: skip

    def __init__(self) -> None:
        self.state = CLIENT_FIRST
        self.gs2_header = b""
        self.first_bare = ""
        self.username = ""  # as the client wrote it, escapes undone
        self.nonce = ""  # the client's nonce, then the client's and the server's together
        self.credentials: Credentials | None = None
        self.auth_message = b""

    def client_first(self, data: bytes) -> tuple[str, str]:
        """Read the client-first message; return (username, authzid or "")."""
        if self.state != CLIENT_FIRST:
            raise ScramError("unexpected client-first message")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ScramError("not UTF-8") from None
        if "\0" in text:
            raise ScramError("NUL in message")
        parts = text.split(",", 2)
        if len(parts) != 3:
            raise ScramError("malformed GS2 header")
        flag, authzid_attr, bare = parts
        if flag.startswith("p="):
            raise ScramError("channel binding is not supported")
        if flag not in ("n", "y"):
            raise ScramError("malformed GS2 header")
        authzid = ""
        if authzid_attr:
            if not authzid_attr.startswith("a="):
                raise ScramError("malformed authzid")
            authzid = _saslname(authzid_attr[2:])
        attributes = bare.split(",")
        if attributes[0].startswith("m="):
            raise ScramError("mandatory extension not supported")
        if len(attributes) < 2 or not attributes[0].startswith("n="):
            raise ScramError("no username")
        if not attributes[1].startswith("r=") or not _printable(attributes[1][2:]):
            raise ScramError("no valid nonce")
        _check_extensions(attributes[2:])
        self.username = _saslname(attributes[0][2:])
        self.nonce = attributes[1][2:]
        self.gs2_header = f"{flag},{authzid_attr},".encode()
        self.first_bare = bare
        self.state = CLIENT_FINAL
        return self.username, authzid

    def server_first(
        self, credentials: Credentials | None, salt: bytes, iterations: int, server_nonce: str
    ) -> bytes:
        """The server-first message. Without `credentials` (unknown account, or none kept
        for SCRAM) the exchange goes on with `salt` and `iterations` and fails at the
        proof, so the client cannot tell why."""
        if self.state != CLIENT_FINAL or self.auth_message or not _printable(server_nonce):
            raise ScramError("unexpected server-first message")
        self.credentials = credentials
        if credentials is not None:
            salt, iterations = credentials.salt, credentials.iterations
        self.nonce += server_nonce
        message = f"r={self.nonce},s={base64.b64encode(salt).decode()},i={iterations}"
        self.auth_message = f"{self.first_bare},{message},".encode()
        return message.encode()

    def client_final(self, data: bytes) -> bytes:
        """Check the client-final message and its proof; return the server-final message."""
        if self.state != CLIENT_FINAL or not self.auth_message:
            raise ScramError("unexpected client-final message")
        self.state = FINISHED  # one try: a failure ends the exchange
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise ScramError("not ASCII") from None
        without_proof, sep, proof_attr = text.rpartition(",")
        attributes = without_proof.split(",")
        if not sep or not proof_attr.startswith("p=") or len(attributes) < 2:
            raise ScramError("malformed client-final message")
        if not attributes[0].startswith("c=") or not attributes[1].startswith("r="):
            raise ScramError("malformed client-final message")
        _check_extensions(attributes[2:])
        if _b64decode(attributes[0][2:]) != self.gs2_header:
            raise ScramError("channel binding data differs from the GS2 header")
        if attributes[1][2:] != self.nonce:
            raise ScramError("nonce mismatch")
        proof = _b64decode(proof_attr[2:])
        auth_message = self.auth_message + without_proof.encode()
        # Checked against a key nothing matches when there are no credentials, so that
        # an unknown name costs the same work as a wrong password.
        known = self.credentials
        right = proof_matches(known.stored_key if known else bytes(KEY_BYTES), auth_message, proof)
        if known is None or not right:
            raise BadProof("invalid proof" if known else "no credentials")
        self.state = CLIENT_DONE
        signature = server_signature(known.server_key, auth_message)
        return b"v=" + base64.b64encode(signature)

    def client_done(self, data: bytes) -> None:
        """The client's last (empty) message, after it checked the server signature."""
        if self.state != CLIENT_DONE:
            raise ScramError("unexpected message")
        self.state = FINISHED
        if data:
            raise ScramError("the last client message must be empty")
