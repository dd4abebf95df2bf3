"""Configuration errors are one line, and relative paths follow the config file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from liveserver import LiveServer
from miniircd.config import SECTIONS, Config, from_toml, validate


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "miniircd", *args],
        capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_bad_config_values_are_one_line_errors(tmp_path: Path) -> None:
    cases = {
        'log_level = "chatty"': "log_level must be one of DEBUG, INFO, WARNING, ERROR",
        "nonsense = 1": "unknown key nonsense",
        "[limits]\nnicklen = 'long'": "nicklen must be of type int",
        "[accounts]\nfoo = 1": "unknown key accounts.foo",
        "port = [": "config file",
    }
    for text, message in cases.items():
        path = tmp_path / "bad.toml"
        path.write_text(text + "\n")
        result = run("--config", str(path), "--data-dir", str(tmp_path / "d"))
        assert result.returncode == 2, text
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert message in result.stderr, (text, result.stderr)
        assert "Traceback" not in result.stderr


def test_relative_paths_are_taken_from_the_config_folder(tmp_path: Path) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "motd.txt").write_text("Hello from the config folder\n")
    (folder / "server.toml").write_text('[server]\nmotd = "motd.txt"\nlog_level = "debug"\n')
    server = LiveServer(tmp_path, "--config", str(folder / "server.toml"))
    server.start()
    try:
        client = server.client()
        client.send("NICK m", "USER m 0 * :m")
        assert client.expect(" 372 ") == ":irc.test 372 m :- Hello from the config folder"
    finally:
        server.stop()


def test_the_complete_example_in_the_docs_loads_and_covers_every_setting(tmp_path: Path) -> None:
    guide = (Path(__file__).parents[2] / "docs" / "running.md").read_text(encoding="utf-8")
    example = guide.split("### A complete example", 1)[1].split("```toml\n", 1)[1]
    path = tmp_path / "example.toml"
    path.write_text(example.split("```", 1)[0], encoding="utf-8")
    values = from_toml(path)
    validate(Config().replace(**values))
    commented = {line.split("=")[0].strip("# ") for line in example.splitlines() if "=" in line}
    for fields in SECTIONS.values():
        for key in fields:
            assert key in commented, f"the example leaves out {key}"


def test_register_email_required_is_refused_because_no_mail_can_be_sent(tmp_path: Path) -> None:
    path = tmp_path / "mail.toml"
    path.write_text("[accounts]\nregister_email_required = true\n")
    result = run("--config", str(path), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    message = "register_email_required cannot be true: this server cannot send mail"
    assert message in result.stderr
    path.write_text("[accounts]\nregister_email_required = false\n")
    assert validate(Config().replace(**from_toml(path))).register_email_required is False


def test_register_before_connect_is_read_from_the_accounts_section(tmp_path: Path) -> None:
    path = tmp_path / "early.toml"
    path.write_text("[accounts]\nregister_before_connect = false\n")
    assert validate(Config().replace(**from_toml(path))).register_before_connect is False
    assert Config().register_before_connect is True  # today's behaviour is the default
    path.write_text('[accounts]\nregister_before_connect = "no"\n')
    result = run("--config", str(path), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2
    assert "register_before_connect must be of type bool" in result.stderr


def test_web_listener_settings(tmp_path: Path) -> None:
    taken = run("--port", "7000", "--web-port", "7000", "--data-dir", str(tmp_path / "d"))
    assert taken.returncode == 2
    assert "miniircd: web_port 7000 is taken by another listener" in taken.stderr
    no_cert = tmp_path / "web.toml"
    no_cert.write_text('[web]\ntls_port = 0\norigins = ["https://a.example"]\n')
    result = run("--config", str(no_cert), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2 and "web tls_port needs tls_cert" in result.stderr
    bad_proxy = tmp_path / "proxy.toml"
    bad_proxy.write_text('[web]\nproxies = ["not-an-address"]\n')
    result = run("--config", str(bad_proxy), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2
    assert "web proxies: 'not-an-address' is not an address or network" in result.stderr
    assert validate(Config(web_port=0, port=0)).web_port == 0  # two "any free port"s are fine


def test_no_web_means_no_web_listener(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, "--no-web")
    server.start()
    assert server.web_port == 0
    assert "web page on" not in server.log_path.read_text()


LINK = """[[links]]
name = "hub.test"
host = "127.0.0.1"
send_password = "out-secret"
accept_password = "in-secret"
connect = true
"""


def test_links_blocks_are_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "links.toml"
    path.write_text(LINK + "retry = 2\n")
    config = validate(Config().replace(**from_toml(path)))
    (link,) = config.links
    assert (link.name, link.host, link.port, link.connect) == ("hub.test", "127.0.0.1", 6667, True)
    assert (link.send_password, link.accept_password) == ("out-secret", "in-secret")
    assert link.retry == 2.0
    assert "secret" not in repr(config)  # passwords never reach a log through a repr
    cases = {
        LINK + "colour = 1\n": "links: unknown key colour",
        LINK.replace('name = "hub.test"', 'name = "hub"'): "'hub' is not a server name",
        LINK.replace('send_password = "out-secret"\n', ""): "needs send_password",
        LINK.replace('host = "127.0.0.1"\n', ""): "connect = true but no host",
        LINK + "port = 70000\n": "port 70000 is out of range",
        LINK + "retry = 0\n": "needs 0 < retry <= retry_max",
        LINK + "connect = 1\n": "links: connect must be of type bool",
        LINK + LINK: "hub.test is named twice",
    }
    for text, message in cases.items():
        path.write_text(text.replace("connect = true\nconnect = 1", "connect = 1"))
        result = run("--config", str(path), "--data-dir", str(tmp_path / "d"))
        assert result.returncode == 2, text
        assert message in result.stderr, (text, result.stderr)
        assert "Traceback" not in result.stderr and "secret" not in result.stderr


def test_links_tls_keys_are_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "links.toml"
    pin = ":".join(["AB"] * 32)  # as `openssl x509 -fingerprint -sha256` prints it
    path.write_text(LINK + f'tls = true\ntls_fingerprint = "{pin}"\ntls_ca = "peer.pem"\n')
    (link,) = validate(Config().replace(**from_toml(path))).links
    assert (link.tls, link.tls_fingerprint, link.tls_ca) == (True, "ab" * 32, tmp_path / "peer.pem")
    cases = {
        LINK + 'tls = true\ntls_fingerprint = "abcd"\n': "tls_fingerprint is not a SHA-256 in hex",
        LINK + f'tls_fingerprint = "{"ab" * 32}"\n': "has tls_fingerprint or tls_ca but not tls",
        LINK + 'tls_ca = "ca.pem"\n': "has tls_fingerprint or tls_ca but not tls",
        LINK + 'tls = "yes"\n': "links: tls must be of type bool",
        LINK + "tls_ca = 1\n": "links: tls_ca must be of type str",
    }
    for text, message in cases.items():
        path.write_text(text)
        result = run("--config", str(path), "--data-dir", str(tmp_path / "d"))
        assert result.returncode == 2, text
        assert message in result.stderr, (text, result.stderr)
