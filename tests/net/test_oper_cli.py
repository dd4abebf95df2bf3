"""`miniircd --hash-password` end to end: hash, put it in `[[operators]]`, OPER over a socket."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from liveserver import DEADLINE, LiveServer
from miniircd.store.passwords import verify_password


def hash_with_cli(password_line: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "miniircd", "--hash-password"],
        input=password_line,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )


def test_hash_password_prints_a_verifiable_hash() -> None:
    result = hash_with_cli("s3cret pass\n")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith("scrypt$")
    assert verify_password("s3cret pass", line)
    assert not verify_password("s3cret pass\n", line)


def test_hash_password_refuses_an_empty_password() -> None:
    result = hash_with_cli("\n")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "miniircd: the password is empty\n"


def test_operator_from_toml_config_can_oper(tmp_path: Path) -> None:
    result = hash_with_cli("s3cret\n")
    assert result.returncode == 0, result.stderr
    config = tmp_path / "miniircd.toml"
    config.write_text(
        f'[[operators]]\nname = "admin"\npassword_hash = "{result.stdout.strip()}"\n',
        encoding="utf-8",
    )
    server = LiveServer(tmp_path, "--config", str(config))
    server.start()
    try:
        client = server.client("alice")
        client.send("OPER admin wrong")
        assert client.expect(" 464 ") == ":irc.test 464 alice :Password incorrect"
        client.send("OPER admin s3cret")
        assert client.expect(" 381 ") == ":irc.test 381 alice :You are now an IRC operator"
        assert client.expect(" MODE ") == ":alice MODE alice +o"
        client.close()
    finally:
        assert server.stop() == 0
