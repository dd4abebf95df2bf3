"""TLS for server links: the context we dial a `tls = true` block with, the handshake
steps of a dialed link, and the checks of the peer's certificate both ways.

Dialing: the socket is wrapped once TCP is connected and the handshake runs in steps, like
a client's on our TLS listener (net/tls): the loop only ever waits for readiness. With
`tls_ca` the peer's chain must lead to that file (a self-signed certificate may be its own
CA) and name the block's `host`; with `tls_fingerprint` the certificate's SHA-256 must be
that one. We show our own `[tls]` certificate, if there is one, for the peer to check.

Dialed: a `PASS`/`SERVER` on our TLS listener becomes a link as on the plain port. A block
with `tls`, `tls_fingerprint` or `tls_ca` refuses a plain-text link under its name, and the
peer must have shown a certificate matching the pin. Python's ssl module can only ask a
client for a certificate it then verifies, so the IRC TLS listeners (never the web ones)
ask only when some block has `tls_ca`, trusting those files (`trust_link_peers`); a
fingerprint alone is enough when dialing.

Every refusal names its reason in the log and in the `ERROR` the peer is sent, and is
decided before the peer is sent our password.
"""

from __future__ import annotations

import hashlib
import selectors
import socket
import ssl
from pathlib import Path

from miniircd.config import Config, LinkBlock
from miniircd.net.tls import TlsError, describe


def fingerprint(sock: socket.socket) -> str | None:
    """The SHA-256 of the certificate the peer of a TLS socket showed, in lower-case hex;
    None for a plain socket or a peer that showed none."""
    if not isinstance(sock, ssl.SSLSocket):
        return None
    der = sock.getpeercert(binary_form=True)
    return hashlib.sha256(der).hexdigest() if der else None


def dial_context(block: LinkBlock, config: Config) -> ssl.SSLContext:
    """The context to dial `block` with; raises TlsError if a file cannot be used."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    if block.tls_ca is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the pin, if any, is checked after the handshake
    else:
        _trust(context, block.tls_ca)
    if config.tls_cert is not None:
        try:
            context.load_cert_chain(config.tls_cert, config.tls_key)
        except OSError as exc:
            reason = describe(exc)
            raise TlsError(f"cannot load TLS certificate {config.tls_cert}: {reason}") from None
    return context


def _trust(context: ssl.SSLContext, ca: Path) -> None:
    try:
        context.load_verify_locations(ca)
    except OSError as exc:
        raise TlsError(f"cannot load TLS CA file {ca}: {describe(exc)}") from None
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # a peer's own certificate will do


def trust_link_peers(context: ssl.SSLContext, config: Config) -> None:
    """Make our TLS listener ask dialing servers for a certificate when a block has
    `tls_ca`, and trust those files; raises TlsError if one cannot be used."""
    cas = [block.tls_ca for block in config.links if block.tls_ca is not None]
    for ca in cas:
        _trust(context, ca)
    context.verify_mode = ssl.CERT_OPTIONAL if cas else ssl.CERT_NONE


def wrap(context: ssl.SSLContext, sock: socket.socket, block: LinkBlock) -> ssl.SSLSocket:
    """Wrap a connected, non-blocking socket; the handshake itself has not begun."""
    name = block.host if block.tls_ca is not None else None
    return context.wrap_socket(sock, server_hostname=name, do_handshake_on_connect=False)


def step(sock: ssl.SSLSocket) -> int:
    """Advance a dialed handshake: 0 once it is done, else the readiness to wait for.
    Raises OSError (ssl.SSLError included) if it failed."""
    try:
        sock.do_handshake()
    except ssl.SSLWantReadError:
        return selectors.EVENT_READ
    except ssl.SSLWantWriteError:
        return selectors.EVENT_WRITE
    return 0


def refusal(block: LinkBlock, sock: socket.socket) -> str | None:
    """Why a link to `block` over `sock` (handshake done) must be refused, or None."""
    if not block.tls:
        return None
    if not isinstance(sock, ssl.SSLSocket):
        return "TLS required: this link must not be plain text"
    if not block.tls_fingerprint and block.tls_ca is None:
        return None
    seen = fingerprint(sock)
    if seen is None:
        return "TLS certificate required: the peer showed none"
    if block.tls_fingerprint and seen != block.tls_fingerprint:
        return f"TLS certificate fingerprint mismatch: got {seen}"
    return None
