"""Server links over TLS with real sockets (net/link_tls): two miniircd servers on
127.0.0.2 and 127.0.0.3 linked over TLS, pinned certificate fingerprints refused both when
dialing and when dialed, a plain-text link refused for a block that demands TLS, and
Debian's ngIRCd dialed over TLS. Each server's certificate is self-signed, made here.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import re
import socket
import ssl
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from liveserver import DEADLINE, LineClient, LiveServer
from ngircd import NGIRCD, NgircdHub, doc_block, free_port, wait_linked
from wsclient import OP_TEXT, RawWebSocket

WRONG_PIN = "00" * 32


def self_signed(folder: Path, name: str, ip: str) -> str:
    """Write `name`.pem and `name`.key (a self-signed certificate for `name` and `ip`) into
    `folder`; return the certificate's SHA-256 fingerprint in hex."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(name), x509.IPAddress(ipaddress.ip_address(ip))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .sign(key, hashes.SHA256())
    )
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{name}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def server_config(name: str, tls_port: int, link: str) -> str:
    return (
        f'[server]\nserver_name = "{name}"\n'
        f'[tls]\ncert = "{name}.pem"\nkey = "{name}.key"\nport = {tls_port}\n{link}'
    )


def start(folder: Path, name: str, host: str, config: str, *args: str) -> LiveServer:
    path = folder / f"{name}.toml"
    path.write_text(config)
    server = LiveServer(folder, "--config", str(path), *args, host=host, name=name)
    server.start()
    return server


def wait_log(server: LiveServer, pattern: str) -> str:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        match = re.search(pattern, server.log())
        if match:
            return match.group(0)
        time.sleep(0.05)
    raise AssertionError(f"{server.name} never logged {pattern!r}:\n{server.log()}")


def read_until_closed(sock: socket.socket) -> str:
    """Everything the peer sends until it closes the connection."""
    sock.settimeout(DEADLINE)
    data = b""
    try:
        while chunk := sock.recv(4096):
            data += chunk
    except (ConnectionResetError, ssl.SSLError):
        pass
    return data.decode()


def wait_known(client: LineClient, me: str, nick: str) -> None:
    """Ask WHOIS until `nick` (on the other server) is known to the client's server."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        client.send(f"WHOIS {nick}")
        if " 311 " in client.expect(rf" (311|401) {me} {nick} "):
            return
        time.sleep(0.05)
    raise AssertionError(f"{nick} never reached {me}'s server")


class Pair:
    """a.test on 127.0.0.2 dials b.test on 127.0.0.3 over TLS; each pins the other."""

    def __init__(self, tmp_path: Path) -> None:
        self.folder_a, self.folder_b = tmp_path / "a", tmp_path / "b"
        self.folder_a.mkdir()
        self.folder_b.mkdir()
        self.pin_a = self_signed(self.folder_a, "a.test", "127.0.0.2")
        self.pin_b = self_signed(self.folder_b, "b.test", "127.0.0.3")
        (self.folder_b / "peer-a.pem").write_bytes((self.folder_a / "a.test.pem").read_bytes())
        (self.folder_a / "peer-b.pem").write_bytes((self.folder_b / "b.test.pem").read_bytes())
        self.tls_a, self.tls_b = free_port("127.0.0.2"), free_port("127.0.0.3")

    def start_b(self, pin_a: str) -> LiveServer:
        link = (
            '[[links]]\nname = "a.test"\nsend_password = "b-to-a"\naccept_password = "a-to-b"\n'
            f'tls = true\ntls_fingerprint = "{pin_a}"\ntls_ca = "peer-a.pem"\n'
        )
        config = server_config("b.test", self.tls_b, link)
        return start(self.folder_b, "b.test", "127.0.0.3", config)

    def a_link(self, check: str) -> str:
        """a.test's block for b.test, checking its certificate with `check` (a TOML line)."""
        return (
            '[[links]]\nname = "b.test"\nhost = "127.0.0.3"\n'
            f"port = {self.tls_b}\nconnect = true\nretry = 1\n"
            f'send_password = "a-to-b"\naccept_password = "b-to-a"\ntls = true\n{check}\n'
        )

    def start_a(self, check: str) -> LiveServer:
        config = server_config("a.test", self.tls_a, self.a_link(check))
        return start(self.folder_a, "a.test", "127.0.0.2", config)


def pin(fingerprint: str) -> str:
    return f'tls_fingerprint = "{fingerprint}"'


def test_two_servers_link_over_tls_and_talk(tmp_path: Path) -> None:
    pair = Pair(tmp_path)
    b = pair.start_b(pair.pin_a)
    a = pair.start_a('tls_ca = "peer-b.pem"')  # verified, and for its address 127.0.0.3
    wait_linked(a)
    wait_linked(b)
    assert re.search(r"link b\.test: TLS with TLSv1\.[23]", a.log())
    bob = b.client("bob")
    alice = a.client("alice")
    wait_known(alice, "alice", "bob")
    alice.send("PRIVMSG bob :hello over TLS")
    bob.expect(r"^:alice!~alice@\S+ PRIVMSG bob :hello over TLS$")
    bob.send("PRIVMSG alice :and back")
    alice.expect(r"^:bob!~bob@\S+ PRIVMSG alice :and back$")
    # b.test asks TLS clients for a certificate now (its link block has tls_ca): an
    # ordinary client that shows none still gets in.
    plain_context = ssl.create_default_context()
    plain_context.check_hostname = False
    plain_context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.3", pair.tls_b), timeout=DEADLINE)
    with plain_context.wrap_socket(raw) as tls:
        tls.sendall(b"NICK carol\r\nUSER carol 0 * :Carol\r\n")
        tls.settimeout(DEADLINE)
        seen = b""
        while b" 001 carol " not in seen:
            chunk = tls.recv(4096)
            assert chunk, seen
            seen += chunk


def test_the_tls_configurations_of_the_docs(tmp_path: Path) -> None:
    pair = Pair(tmp_path)
    (pair.folder_b / "a.test.pem").write_bytes((pair.folder_a / "a.test.pem").read_bytes())
    config_b = doc_block("tls-b-config").replace("<a.test's certificate SHA-256>", pair.pin_a)
    b = start(pair.folder_b, "b.test", "127.0.0.3", config_b, "--tls-port", str(pair.tls_b))
    config_a = (
        doc_block("tls-a-config")
        .replace("<b.test's certificate SHA-256>", pair.pin_b)
        .replace("port = 6697", f"port = {pair.tls_b}")
    )
    a = start(pair.folder_a, "a.test", "127.0.0.2", config_a, "--tls-port", str(pair.tls_a))
    wait_linked(a)
    wait_linked(b)
    log = a.log()
    connected = log.index(f"link b.test: connected to 127.0.0.3:{pair.tls_b}")
    assert connected < log.index("link b.test: TLS with TLSv1.3") < log.index("linked with b.test")
    bob = b.client("bob")
    alice = a.client("alice")
    wait_known(alice, "alice", "bob")
    alice.send("PRIVMSG bob :hi")
    bob.expect(r"^:alice!~alice@\S+ PRIVMSG bob :hi$")


def test_a_wrong_pin_is_refused_when_dialing(tmp_path: Path) -> None:
    """a.test dials a TLS listener whose certificate is not the pinned one: it sends
    ERROR and never its password."""
    pair = Pair(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pair.folder_b / "b.test.pem", pair.folder_b / "b.test.key")
    with socket.create_server(("127.0.0.3", pair.tls_b)) as listener:
        listener.settimeout(DEADLINE)
        a = pair.start_a(pin(WRONG_PIN))
        conn, _ = listener.accept()
        with context.wrap_socket(conn, server_side=True) as tls:
            said = read_until_closed(tls)
    assert said == f":a.test ERROR :TLS certificate fingerprint mismatch: got {pair.pin_b}\r\n"
    wait_log(a, rf"link b\.test: refused: TLS certificate fingerprint mismatch: got {pair.pin_b}")
    assert "a-to-b" not in a.log()


def test_a_certificate_the_ca_file_does_not_vouch_for_is_refused_when_dialing(
    tmp_path: Path,
) -> None:
    pair = Pair(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pair.folder_b / "b.test.pem", pair.folder_b / "b.test.key")
    with socket.create_server(("127.0.0.3", pair.tls_b)) as listener:
        listener.settimeout(DEADLINE)
        a = pair.start_a('tls_ca = "a.test.pem"')  # its own certificate: not b.test's
        conn, _ = listener.accept()
        with pytest.raises(ssl.SSLError), context.wrap_socket(conn, server_side=True):
            pass
    wait_log(a, r"link b\.test: TLS handshake failed: \S*CERTIFICATE\S*; retrying in")


def test_a_wrong_pin_is_refused_when_dialed(tmp_path: Path) -> None:
    """A peer dials b.test's TLS listener as a.test with a certificate the block does not
    pin: ERROR, and b.test's password is never sent."""
    pair = Pair(tmp_path)
    b = pair.start_b(WRONG_PIN)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(pair.folder_a / "a.test.pem", pair.folder_a / "a.test.key")
    raw = socket.create_connection(("127.0.0.3", pair.tls_b), timeout=DEADLINE)
    with context.wrap_socket(raw) as tls:
        tls.sendall(b"PASS a-to-b 0210-IRC+ miniircd|0.1:CHM\r\nSERVER a.test 1 :a\r\n")
        said = read_until_closed(tls)
    assert said == f":b.test ERROR :TLS certificate fingerprint mismatch: got {pair.pin_a}\r\n"
    wait_log(b, r"link a\.test: refused from \S+: TLS certificate fingerprint mismatch")
    assert "b-to-a" not in said and "linked with" not in b.log()


def test_a_plain_text_link_is_refused_for_a_tls_block(tmp_path: Path) -> None:
    pair = Pair(tmp_path)
    b = pair.start_b(pair.pin_a)
    peer = LineClient(b.port, "127.0.0.3")
    peer.send("PASS a-to-b 0210-IRC+ miniircd|0.1:CHM", "SERVER a.test 1 :a")
    assert peer.expect_closed() == [":b.test ERROR :TLS required: this link must not be plain text"]
    wait_log(b, r"link a\.test: refused from \S+: TLS required")


def test_a_peer_without_a_certificate_is_refused_for_a_pinned_block(tmp_path: Path) -> None:
    pair = Pair(tmp_path)
    b = pair.start_b(pair.pin_a)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.3", pair.tls_b), timeout=DEADLINE)
    with context.wrap_socket(raw) as tls:
        tls.sendall(b"PASS a-to-b 0210-IRC+ miniircd|0.1:CHM\r\nSERVER a.test 1 :a\r\n")
        said = read_until_closed(tls)
    assert said == ":b.test ERROR :TLS certificate required: the peer showed none\r\n"
    wait_log(b, r"link a\.test: refused from \S+: TLS certificate required")


needs_ngircd = pytest.mark.skipif(NGIRCD is None, reason="needs ngircd (apt-get install ngircd)")


def ngircd_with_tls(tmp_path: Path, config: str, ssl_lines: str) -> NgircdHub:
    """ngIRCd as docs/linking.md configures it, with its own certificate and `ssl_lines`
    more in its [SSL] section."""
    hub = NgircdHub(tmp_path / "hub", config)
    self_signed(tmp_path / "hub", "hub.test", "127.0.0.1")
    folder = tmp_path / "hub"
    hub.config_path.write_text(
        hub.config_path.read_text()
        + f"[SSL]\n\tCertFile = {folder / 'hub.test.pem'}\n\tKeyFile = {folder / 'hub.test.key'}\n"
        + ssl_lines
    )
    return hub


@needs_ngircd
def test_the_leaf_dials_ngircd_over_tls(tmp_path: Path) -> None:
    tls_port = free_port("127.0.0.1")
    hub = ngircd_with_tls(tmp_path, doc_block("hub-config"), f"\tPorts = {tls_port}\n")
    hub.start()
    pin = hashlib.sha256(
        ssl.PEM_cert_to_DER_cert((tmp_path / "hub" / "hub.test.pem").read_text())
    ).hexdigest()
    folder = tmp_path / "leaf"
    folder.mkdir()
    toml = doc_block("leaf-config").replace("port = 6667", f"port = {tls_port}")
    toml += f'tls = true\ntls_fingerprint = "{pin}"\n'
    leaf = start(folder, "leaf.test", "127.0.0.2", toml)
    wait_linked(leaf)
    assert re.search(r"link hub\.test: TLS with TLSv1\.[23]", leaf.log())
    hubby = LineClient(hub.port, hub.host)
    hubby.register("hubby")
    leafy = leaf.client("leafy")
    wait_known(leafy, "leafy", "hubby")
    leafy.send("PRIVMSG hubby :over TLS to ngIRCd")
    hubby.expect(r"^:leafy!~leafy@\S+ PRIVMSG hubby :over TLS to ngIRCd$")


@needs_ngircd
def test_ngircd_dials_the_leaf_over_tls(tmp_path: Path) -> None:
    folder = tmp_path / "leaf"
    folder.mkdir()
    self_signed(folder, "leaf.test", "127.0.0.2")
    tls_port = free_port("127.0.0.2")
    config = doc_block("hub-config").replace(
        "\tName = leaf.test\n",
        f"\tName = leaf.test\n\tHost = 127.0.0.2\n\tPort = {tls_port}\n\tSSLConnect = yes\n",
    )
    hub = ngircd_with_tls(tmp_path, config, f"\tCAFile = {folder / 'leaf.test.pem'}\n")
    toml = doc_block("leaf-waits-config").replace("connect = false", "connect = false\ntls = true")
    toml += f'[tls]\ncert = "leaf.test.pem"\nkey = "leaf.test.key"\nport = {tls_port}\n'
    leaf = start(folder, "leaf.test", "127.0.0.2", toml)
    hub.start()
    wait_linked(leaf)
    hubby = LineClient(hub.port, hub.host)
    hubby.register("hubby")
    leafy = leaf.client("leafy")
    wait_known(hubby, "hubby", "leafy")
    hubby.send("PRIVMSG leafy :dialed over TLS")
    leafy.expect(r"^:hubby!~hubby@\S+ PRIVMSG leafy :dialed over TLS$")


def test_a_server_over_websocket_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "ws.toml"
    config.write_text(
        '[[links]]\nname = "hub.test"\nsend_password = "out-pw"\naccept_password = "in-pw"\n'
    )
    server = LiveServer(tmp_path, "--config", str(config))
    server.start()
    ws = RawWebSocket(server.web_port)
    ws.send("PASS in-pw 0210-IRC+ miniircd|0.1:CHM", "SERVER hub.test 1 :over the web")
    texts = []
    while (got := ws.read_frame()) is not None:
        if got.opcode == OP_TEXT:
            texts.append(got.text)
    assert texts == [":irc.test ERROR :Refused: not an IRC connection, or one is open"]
    wait_log(server, r"link hub\.test: refused from \S+: Refused: not an IRC connection")


def test_only_the_irc_tls_listener_asks_for_a_certificate(tmp_path: Path) -> None:
    """With a `tls_ca` block, a client showing a certificate the file does not vouch for
    fails the IRC TLS handshake, while the web TLS listener never asks for one."""
    pair = Pair(tmp_path)
    web_tls = free_port("127.0.0.3")
    link = (
        '[[links]]\nname = "a.test"\nsend_password = "b-to-a"\naccept_password = "a-to-b"\n'
        'tls = true\ntls_ca = "peer-a.pem"\n'
    )
    config = server_config("b.test", pair.tls_b, link).replace(
        "[tls]", f"[web]\ntls_port = {web_tls}\n[tls]"
    )
    start(pair.folder_b, "b.test", "127.0.0.3", config)
    self_signed(tmp_path, "stranger.test", "127.0.0.1")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.load_cert_chain(tmp_path / "stranger.test.pem", tmp_path / "stranger.test.key")
    raw = socket.create_connection(("127.0.0.3", web_tls), timeout=DEADLINE)
    with context.wrap_socket(raw) as tls:
        tls.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.3\r\nConnection: close\r\n\r\n")
        assert read_until_closed(tls).startswith("HTTP/1.1 200 ")
    raw = socket.create_connection(("127.0.0.3", pair.tls_b), timeout=DEADLINE)
    with pytest.raises((ssl.SSLError, ConnectionResetError)), context.wrap_socket(raw) as tls:
        tls.sendall(b"NICK stranger\r\n")
        tls.settimeout(DEADLINE)
        tls.recv(4096)  # TLS 1.3: the server's alert comes after the client's Finished


def test_a_peer_that_stalls_the_handshake_is_dropped_and_retried(tmp_path: Path) -> None:
    pair = Pair(tmp_path)
    with socket.create_server(("127.0.0.3", pair.tls_b)) as listener:
        listener.settimeout(DEADLINE)
        a = start(
            pair.folder_a, "a.test", "127.0.0.2",
            server_config("a.test", pair.tls_a, pair.a_link(pin(pair.pin_b)))
            .replace("[tls]\n", "[tls]\nhandshake_timeout = 1\n"),
        )  # fmt: skip
        first, _ = listener.accept()  # and never answers the ClientHello
        wait_log(a, r"link b\.test: TLS handshake timed out; retrying in \d+s")
        first.settimeout(DEADLINE)
        assert first.recv(1) == b"\x16"  # a TLS handshake record: its ClientHello
        while first.recv(4096):  # ... and then a.test closed the socket
            pass
        second, _ = listener.accept()  # the retry
        second.close()
        first.close()
