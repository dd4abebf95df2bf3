"""The terminal front's connection over TLS: `--tls` checks the certificate, `--insecure`
does not. The peer is a tiny TLS line server with a throwaway self-signed certificate."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest

from miniircd.client.events import Connect
from miniircd.client.terminal import Link, open_socket

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
DEADLINE = 10.0


@pytest.fixture
def tls_peer(tmp_path: Path) -> tuple[int, list[str]]:
    """A server that answers NICK with a welcome line and records what it was sent."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=DEADLINE,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(DEADLINE)
    received: list[str] = []

    def serve() -> None:
        for _ in range(2):  # one refused handshake, one good connection
            try:
                raw, _ = listener.accept()
                conn = context.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError):
                continue
            with conn:
                conn.settimeout(DEADLINE)
                for line in conn.makefile("r", encoding="utf-8"):
                    received.append(line.rstrip("\r\n"))
                    if line.startswith("NICK"):
                        conn.sendall(b":tls.test 001 guest :Welcome over TLS\r\n")
                    if line.startswith("QUIT"):
                        return

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1], received


def test_tls_checks_the_certificate_unless_insecure(tls_peer: tuple[int, list[str]]) -> None:
    port, received = tls_peer
    with pytest.raises(ssl.SSLCertVerificationError):
        open_socket(Connect("127.0.0.1", port, tls=True))

    sock = open_socket(Connect("127.0.0.1", port, tls=True, insecure=True))
    assert isinstance(sock, ssl.SSLSocket)
    lines: list[str] = []
    closed = threading.Event()
    got_line = threading.Event()

    def on_line(link: Link, line: str) -> None:
        lines.append(line)
        got_line.set()

    link = Link(sock, on_line, lambda link, reason: closed.set())
    link.start()
    link.send("NICK guest")
    assert got_line.wait(DEADLINE)
    assert lines == [":tls.test 001 guest :Welcome over TLS"]
    link.send("QUIT :Leaving")
    link.close()
    link.join(DEADLINE)
    assert not link.thread.is_alive()
    assert received == ["NICK guest", "QUIT :Leaving"]
