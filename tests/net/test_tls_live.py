"""TLS over real sockets: clients register over TLS next to plain ones, stalled or bogus
handshakes never hold anyone up and are dropped, SIGHUP reloads the certificate, and an
unusable certificate stops the server at startup with one line.

trustme makes a throwaway CA and certificates for "localhost" in each test's temp dir.
"""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from liveserver import DEADLINE, LineClient, LiveServer
from miniircd.config import DEFAULT_TLS_PORT, Config, validate

HANDSHAKE_TIMEOUT = 2.0


def write_cert(ca: trustme.CA, folder: Path, common_name: str = "first") -> bytes:
    """Write cert.pem and key.pem for "localhost" into `folder`; return the cert's DER."""
    leaf = ca.issue_cert("localhost", "127.0.0.1", common_name=common_name)
    leaf.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    leaf.private_key_pem.write_to_path(str(folder / "key.pem"))
    return ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def start_tls_server(tmp_path: Path, *config_lines: str) -> LiveServer:
    """A server whose [tls] section (certificate, ephemeral port, a short handshake timeout)
    comes from a config file; the paths in it are relative to the file's folder."""
    config = tmp_path / "tls.toml"
    tls = '[tls]\ncert = "cert.pem"\nkey = "key.pem"\nport = 0'
    timeout = f"handshake_timeout = {HANDSHAKE_TIMEOUT}"
    config.write_text("\n".join([*config_lines, tls, timeout]) + "\n")
    server = LiveServer(tmp_path, "--config", str(config))
    server.start()
    return server


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_live(tmp_path: Path, ca: trustme.CA) -> Iterator[LiveServer]:
    write_cert(ca, tmp_path)
    server = start_tls_server(tmp_path)
    yield server
    server.stop()


def closed_at(sock: socket.socket, timeout: float) -> float:
    """Read (discarding) until the server closes `sock`; return time.monotonic() then."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the server did not close the connection")
        sock.settimeout(remaining)
        try:
            if not sock.recv(65536):
                return time.monotonic()
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic()


def partial_client_hello(context: ssl.SSLContext) -> bytes:
    """The first half of a genuine ClientHello: a handshake that stops midway."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    hello = outgoing.read()
    return hello[: len(hello) // 2]


def test_tls_and_plain_clients_side_by_side(tmp_path: Path, ca: trustme.CA) -> None:
    write_cert(ca, tmp_path)
    files = ("--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem"))
    server = LiveServer(tmp_path, *files, "--tls-port", "0")  # flags this time
    server.start()
    try:
        talk_over_tls_and_plain(server, ca)
    finally:
        server.stop()


def talk_over_tls_and_plain(server: LiveServer, ca: trustme.CA) -> None:
    secure = LineClient(server.tls_port, tls=client_context(ca))
    plain = server.client()
    burst = secure.register("secure")
    assert burst[0].startswith(":irc.test 001 secure :Welcome")
    assert " 005 " in "\n".join(burst) and burst[-1].startswith(":irc.test 376 secure ")
    plain.register("plain")
    secure.send("PRIVMSG plain :over TLS")
    assert plain.expect("PRIVMSG") == ":secure!~secure@127.0.0.1 PRIVMSG plain :over TLS"
    plain.send("PRIVMSG secure :in the clear")
    assert secure.expect("PRIVMSG") == ":plain!~plain@127.0.0.1 PRIVMSG secure :in the clear"
    secure.send("QUIT :done")
    assert secure.expect_closed() == ["ERROR :Closing link: secure[127.0.0.1] (Quit: done)"]


def test_bulk_output_over_tls_arrives_whole(tmp_path: Path, ca: trustme.CA) -> None:
    """A TLS client that pauses reading while megabytes queue up for it gets every line,
    in order: sends that could not finish are retried correctly."""
    write_cert(ca, tmp_path)
    server = start_tls_server(tmp_path, "[flood]\nenabled = false", "[limits]\nsendq = 33554432")
    try:
        reader = LineClient(server.tls_port, tls=client_context(ca))
        reader.register("reader")
        writer = server.client("writer")
        count = 20000
        writer.send(*(f"PRIVMSG reader :{n:05d} {'x' * 400}" for n in range(count)))
        writer.send("PING :sent")
        writer.expect("PONG .*:sent", timeout=30)  # all queued before the reader reads
        lines = [reader.expect("PRIVMSG", timeout=30) for _ in range(count)]
        assert [int(line.split(":")[2][:5]) for line in lines] == list(range(count))
    finally:
        server.stop()


def test_stalled_and_bogus_handshakes_never_stall_others(
    tls_live: LiveServer, ca: trustme.CA
) -> None:
    port = tls_live.tls_port
    silent = socket.create_connection(("127.0.0.1", port))
    halfway = socket.create_connection(("127.0.0.1", port))
    halfway.sendall(partial_client_hello(client_context(ca)))
    garbage = socket.create_connection(("127.0.0.1", port))
    garbage.sendall(b"NICK plaintext\r\nUSER on the wrong port\r\n")
    opened = time.monotonic()

    started = time.monotonic()
    LineClient(port, tls=client_context(ca)).register("prompt")
    assert time.monotonic() - started < HANDSHAKE_TIMEOUT / 2

    assert closed_at(garbage, DEADLINE) - opened < HANDSHAKE_TIMEOUT  # refused at once
    for sock in (silent, halfway):  # dropped by the handshake timeout, not before
        waited = closed_at(sock, DEADLINE) - opened
        assert HANDSHAKE_TIMEOUT - 0.1 <= waited < HANDSHAKE_TIMEOUT + 3
        sock.close()
    garbage.close()


def test_handshakes_count_against_the_per_ip_limit(tmp_path: Path, ca: trustme.CA) -> None:
    write_cert(ca, tmp_path)
    server = start_tls_server(tmp_path, "[limits]\nmax_connections_per_ip = 2")
    try:
        stalled = [socket.create_connection(("127.0.0.1", server.tls_port)) for _ in range(2)]
        refused = LineClient(server.port)
        assert refused.expect_closed() == [
            "ERROR :Closing link: 127.0.0.1 (Too many connections from your IP)"
        ]
        for sock in stalled:
            closed_at(sock, DEADLINE)  # the handshake timeout frees both places ...
            sock.close()
        LineClient(server.port).register("later")  # ... for the next client
    finally:
        server.stop()


def wait_for_log(server: LiveServer, text: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while text not in server.log():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{text!r} not in the log: {server.log()[-2000:]}")
        time.sleep(0.02)


def peer_cert(server: LiveServer, ca: trustme.CA) -> bytes:
    client = LineClient(server.tls_port, tls=client_context(ca))
    der = client.sock.getpeercert(binary_form=True)  # type: ignore[attr-defined]
    client.close()
    assert isinstance(der, bytes)
    return der


def test_sighup_reloads_the_certificate(tls_live: LiveServer, ca: trustme.CA) -> None:
    assert tls_live.proc is not None
    old = LineClient(tls_live.tls_port, tls=client_context(ca))
    old.register("old")
    first = old.sock.getpeercert(binary_form=True)  # type: ignore[attr-defined]

    second = write_cert(ca, tls_live.tmp_path, common_name="second")
    assert second != first
    tls_live.proc.send_signal(signal.SIGHUP)
    wait_for_log(tls_live, "TLS certificate reloaded")
    assert peer_cert(tls_live, ca) == second
    old.send("PING :still-here")  # an open connection keeps its session and its TLS state
    assert old.expect("PONG") == ":irc.test PONG irc.test :still-here"

    (tls_live.tmp_path / "cert.pem").write_text("not a certificate\n")
    tls_live.proc.send_signal(signal.SIGHUP)
    wait_for_log(tls_live, "TLS reload failed")
    failure = [line for line in tls_live.log().splitlines() if "TLS reload failed" in line]
    assert len(failure) == 1 and "cert.pem" in failure[0]
    assert peer_cert(tls_live, ca) == second  # the old context stays
    assert tls_live.alive()


def test_a_certificate_alone_means_the_standard_tls_port() -> None:
    assert validate(Config(tls_cert=Path("cert.pem"))).tls_port == DEFAULT_TLS_PORT == 6697
    assert validate(Config(tls_cert=Path("cert.pem"), tls_port=0)).tls_port == 0
    assert validate(Config()).tls_port is None  # no certificate, no TLS listener


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "miniircd", "--host", "127.0.0.1", "--port", "0", *args],
        capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_unusable_certificate_is_a_one_line_error(tmp_path: Path, ca: trustme.CA) -> None:
    write_cert(ca, tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    write_cert(ca, other)
    (tmp_path / "junk.pem").write_text("junk\n")
    data = ("--data-dir", str(tmp_path / "data"), "--tls-port", "0")
    cert, junk = str(tmp_path / "cert.pem"), str(tmp_path / "junk.pem")
    cases = {
        ("--tls-cert", str(tmp_path / "missing.pem")): "missing.pem: No such file",
        ("--tls-cert", junk): "junk.pem holds no PEM certificate",
        ("--tls-cert", cert): "cert.pem holds no private key",
        ("--tls-cert", cert, "--tls-key", junk): "junk.pem holds no PEM private key",
        ("--tls-cert", cert, "--tls-key", str(other / "key.pem")): "KEY_VALUES_MISMATCH",
    }
    for args, message in cases.items():
        result = run(*data, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("miniircd: ") and message in result.stderr
        assert "Traceback" not in result.stderr


def test_tls_settings_need_a_certificate(tmp_path: Path) -> None:
    result = run("--data-dir", str(tmp_path / "data"), "--tls-port", "0")
    assert result.returncode == 2
    assert result.stderr == "miniircd: tls_port and tls_key need tls_cert\n"
