"""TLS for client links: the server's SSL context, and handshakes that never block the loop.

An accepted socket on a TLS listener is wrapped with `do_handshake_on_connect=False` and
becomes a `Handshake`. The loop calls `Handshake.step()` whenever the socket is ready; each
step runs as much of the handshake as the peer's bytes allow and says which readiness to
wait for next (OpenSSL may need to read or to write at any point). Only a finished
handshake becomes a `Connection` with a session in the core, so the core never learns that
TLS exists, and a peer that stalls, or sends something that is not TLS, costs one socket
until `tls_handshake_timeout` and nothing more.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl
from pathlib import Path


class TlsError(Exception):
    """The certificate or key cannot be used; the message says why, in one line."""


def server_context(cert: Path, key: Path | None) -> ssl.SSLContext:
    """A server context for `cert` (a PEM chain) and `key` (None: the key is in `cert`).

    Raises TlsError with a one-line reason if a file is missing or unusable.
    """
    # OpenSSL says only "PEM lib" for most unusable files: look for what is missing first.
    if b"-----BEGIN CERTIFICATE-----" not in _read(cert):
        raise TlsError(f"TLS certificate file {cert} holds no PEM certificate")
    if key is None and b"PRIVATE KEY-----" not in _read(cert):
        raise TlsError(f"TLS certificate file {cert} holds no private key: give tls_key")
    if key is not None and b"PRIVATE KEY-----" not in _read(key):
        raise TlsError(f"TLS key file {key} holds no PEM private key")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    try:
        context.load_cert_chain(cert, key)
    except OSError as exc:  # ssl.SSLError is an OSError too
        files = str(cert) if key is None else f"{cert} and {key}"
        raise TlsError(f"cannot load TLS certificate from {files}: {describe(exc)}") from None
    return context


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TlsError(f"cannot read TLS file {path}: {exc.strerror}") from None


def describe(exc: OSError) -> str:
    """A short, one-line description of a socket or TLS error."""
    if isinstance(exc, ssl.SSLError):
        # e.g. "WRONG_VERSION_NUMBER", "KEY_VALUES_MISMATCH"; else "[SSL] PEM lib (_ssl.c:1)"
        return exc.reason or str(exc.args[-1]).split(" (_ssl.c")[0]
    return exc.strerror or str(exc) or exc.__class__.__name__


class Handshake:
    """A TLS socket whose handshake is under way. `events` is what to wait for next."""

    __slots__ = ("deadline", "events", "peer", "sock", "web")

    def __init__(self, sock: ssl.SSLSocket, peer: str, web: bool, deadline: float) -> None:
        self.sock = sock
        self.peer = peer
        self.web = web  # from a web listener: HTTP comes next, not IRC
        self.deadline = deadline  # time.monotonic() after which the peer is dropped
        self.events = selectors.EVENT_READ  # a server waits for the ClientHello first

    @classmethod
    def start(
        cls, context: ssl.SSLContext, sock: socket.socket, peer: str, web: bool, deadline: float
    ) -> Handshake:
        """Wrap an accepted, non-blocking socket; the handshake itself has not begun."""
        tls = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return cls(tls, peer, web, deadline)

    def fileno(self) -> int:
        return self.sock.fileno()

    def step(self) -> bool:
        """Advance the handshake: True once it is complete, False while it waits (see
        `events`). Raises OSError (ssl.SSLError included) if the peer failed it."""
        try:
            self.sock.do_handshake()
        except ssl.SSLWantReadError:
            self.events = selectors.EVENT_READ
            return False
        except ssl.SSLWantWriteError:
            self.events = selectors.EVENT_WRITE
            return False
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
