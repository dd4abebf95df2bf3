"""A SCRAM-SHA-256 client (RFC 5802 / RFC 7677) written for the tests, apart from the
server's code: hashlib and hmac only, the RFC's formulas spelt out."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def hi(password: bytes, salt: bytes, iterations: int) -> bytes:
    """RFC 5802's Hi() as the RFC writes it: U1 = HMAC(p, salt + INT(1)), Ui = HMAC(p,
    Ui-1), the XOR of them all. Slow in Python; `ScramClient` uses hashlib's PBKDF2,
    which the RFC 7677 test checks gives the same."""
    block = _hmac(password, salt + b"\0\0\0\1")
    result = int.from_bytes(block, "big")
    for _ in range(iterations - 1):
        block = _hmac(password, block)
        result ^= int.from_bytes(block, "big")
    return result.to_bytes(32, "big")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class ScramClient:
    def __init__(
        self,
        username: str,
        password: str,
        nonce: str | None = None,
        gs2_header: str = "n,,",
    ) -> None:
        self.username = username
        self.password = password
        self.nonce = nonce or secrets.token_urlsafe(18)
        self.gs2_header = gs2_header
        self.first_bare = f"n={username.replace('=', '=3D').replace(',', '=2C')},r={self.nonce}"
        self.auth_message = b""
        self.salted = b""
        self.salt = b""
        self.iterations = 0

    def first(self) -> bytes:
        return (self.gs2_header + self.first_bare).encode()

    def final(self, server_first: bytes, nonce: str | None = None) -> bytes:
        """The client-final message for `server_first` (with `nonce` in place of the
        combined one, to test a mismatch)."""
        attributes = dict(part.split("=", 1) for part in server_first.decode().split(","))
        assert attributes["r"].startswith(self.nonce) and len(attributes["r"]) > len(self.nonce)
        self.salt = base64.b64decode(attributes["s"])
        self.iterations = int(attributes["i"])
        self.salted = hashlib.pbkdf2_hmac(
            "sha256", self.password.encode(), self.salt, self.iterations
        )
        without_proof = f"c={b64(self.gs2_header.encode())},r={nonce or attributes['r']}"
        self.auth_message = f"{self.first_bare},{server_first.decode()},{without_proof}".encode()
        client_key = _hmac(self.salted, b"Client Key")
        signature = _hmac(hashlib.sha256(client_key).digest(), self.auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        return f"{without_proof},p={b64(proof)}".encode()

    def server_signature_ok(self, server_final: bytes) -> bool:
        expected = _hmac(_hmac(self.salted, b"Server Key"), self.auth_message)
        return server_final == b"v=" + b64(expected).encode()


def chunks(message: bytes) -> list[str]:
    """A SASL message as a client sends it: base64 in AUTHENTICATE chunks of 400, with
    `+` after a last full one (or for an empty message)."""
    text = b64(message)
    parts = [text[i : i + 400] for i in range(0, len(text), 400)]
    if not parts or len(parts[-1]) == 400:
        parts.append("+")
    return [f"AUTHENTICATE {part}" for part in parts]


def server_message(lines: list[str]) -> bytes:
    """Reassemble the server's AUTHENTICATE chunks (all of `lines` must be them, every one
    but the last 400 long)."""
    assert lines and all(line.startswith("AUTHENTICATE ") for line in lines), lines
    parts = [line.removeprefix("AUTHENTICATE ") for line in lines]
    assert all(len(part) == 400 for part in parts[:-1]) and len(parts[-1]) < 400, lines
    return base64.b64decode("".join(p for p in parts if p != "+"))
