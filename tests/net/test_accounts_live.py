"""Accounts on the real server: survive restarts and kill -9, never store a plaintext password."""

from __future__ import annotations

import base64
from pathlib import Path

from liveserver import LineClient, LiveServer
from miniircd.store.base import Account
from miniircd.store.passwords import hash_password
from miniircd.store.sqlite import SqliteStore

PW = "correct-horse"


def plain(authcid: str, password: str) -> str:
    return base64.b64encode(f"\0{authcid}\0{password}".encode()).decode()


def register_account(server: LiveServer, nick: str, password: str) -> LineClient:
    client = server.client(nick)
    client.send(f"REGISTER * * {password}")
    assert client.lines_until("REGISTER") == [
        f":irc.test 900 {nick} {nick}!~{nick}@127.0.0.1 {nick} :You are now logged in as {nick}",
        f":irc.test REGISTER SUCCESS {nick} :Account successfully registered",
    ]
    return client


def sasl_login(server: LiveServer, nick: str, account: str, password: str) -> list[str]:
    """Register a connection with SASL PLAIN during CAP negotiation; return every line."""
    client = LineClient(server.port)
    client.send("CAP LS 302", f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    client.cap_ls()
    client.send("CAP REQ :sasl")
    assert client.expect("CAP") == f":irc.test CAP {nick} ACK :sasl"
    client.send("AUTHENTICATE PLAIN")
    assert client.expect("AUTHENTICATE") == "AUTHENTICATE +"
    client.send(f"AUTHENTICATE {plain(account, password)}")
    lines = client.lines_until(" 90[34] ")
    client.send("CAP END")
    lines += client.lines_until(" 376 ")
    client.close()
    return lines


def identify(server: LiveServer, nick: str, args: str) -> list[str]:
    client = server.client(nick)
    client.send(f"PRIVMSG NickServ :IDENTIFY {args}")
    lines = client.lines_until(r"NOTICE \S+ :(You are now logged in|Invalid account)")
    client.close()
    return lines


def test_accounts_survive_a_restart(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    try:
        register_account(server, "alice", PW).close()
    finally:
        assert server.stop() == 0
    server = LiveServer(tmp_path)
    server.start()
    try:
        lines = sasl_login(server, "alice", "alice", PW)
        assert lines[:2] == [
            ":irc.test 900 alice alice!~alice@127.0.0.1 alice :You are now logged in as alice",
            ":irc.test 903 alice :SASL authentication successful",
        ]
        assert lines[2].startswith(":irc.test 001 alice ")
        assert identify(server, "bob", f"alice {PW}") == [
            ":irc.test 900 bob bob!~bob@127.0.0.1 alice :You are now logged in as alice",
            ":NickServ!NickServ@services NOTICE bob :You are now logged in as alice.",
        ]
    finally:
        server.stop()


def test_no_plaintext_password_on_disk_or_in_logs(tmp_path: Path) -> None:
    first, second, third = "Plaintext-Canary-4711", "Plaintext-Canary-0815", "Plaintext-Canary-1234"
    server = LiveServer(tmp_path)
    server.start()
    try:
        alice = register_account(server, "alice", first)
        alice.send(f"PRIVMSG NickServ :PASSWD {first} {second}")
        assert alice.expect("NickServ") == (
            ":NickServ!NickServ@services NOTICE alice :Your password has been changed."
        )
        assert identify(server, "bob", f"alice {third}")[-1] == (
            ":NickServ!NickServ@services NOTICE bob :Invalid account or password."
        )
        assert sasl_login(server, "carol", "alice", third)[0] == (
            ":irc.test 904 carol :SASL authentication failed"
        )
        assert identify(server, "dave", f"alice {second}")[-1].endswith("logged in as alice.")
        alice.close()
    finally:
        assert server.stop() == 0
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"miniircd.sqlite3", "server.log"} <= names
    for path in files:
        data = path.read_bytes()
        for canary in (first, second, third):
            assert canary.encode() not in data, f"{canary} found in {path}"


def test_kill_9_right_after_register_success_keeps_the_account(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    register_account(server, "alice", PW)  # SUCCESS was seen, so it must have been committed
    server.kill9()
    server = LiveServer(tmp_path)
    server.start()
    try:
        assert identify(server, "alice", PW)[-1] == (
            ":NickServ!NickServ@services NOTICE alice :You are now logged in as alice."
        )
    finally:
        server.stop()


def test_cap_ls_and_req_sasl(live: LiveServer) -> None:
    client = LineClient(live.port)
    client.send("CAP LS")
    ls = client.cap_ls()
    assert "sasl" in ls
    assert not any(token.startswith("sasl=") for token in ls)
    client.send("CAP LS 302")
    assert "sasl=PLAIN,SCRAM-SHA-256" in client.cap_ls()
    client.send("CAP REQ :sasl")
    assert client.expect("CAP") == ":irc.test CAP * ACK :sasl"
    client.send("CAP LIST")
    assert client.expect("CAP") == ":irc.test CAP * LIST :sasl"
    client.send("NICK bob", "USER bob 0 * :Bob", "CAP END")
    assert client.expect(" 001 ").startswith(":irc.test 001 bob ")


def accounts_config(tmp_path: Path, settings: str) -> str:
    """A config file with `settings` in its [accounts] table; its path, for --config."""
    path = tmp_path / "accounts.toml"
    path.write_text(f"[accounts]\n{settings}\n")
    return str(path)


def cap_ls_value(client: LineClient, name: str) -> str | None:
    client.send("CAP LS 302")
    for token in client.cap_ls():
        key, _, value = token.partition("=")
        if key == name:
            return value or None
    raise AssertionError(f"{name} not offered")


def test_register_before_connect_can_be_refused(tmp_path: Path) -> None:
    """[accounts] register_before_connect = false: CAP LS drops `before-connect`, and an
    early REGISTER gets the spec's FAIL; after the welcome the same REGISTER works."""
    config = accounts_config(tmp_path, "register_before_connect = false")
    server = LiveServer(tmp_path, "--config", config)
    server.start()
    try:
        client = LineClient(server.port)
        assert cap_ls_value(client, "draft/account-registration") == "custom-account-name"
        client.send("CAP REQ :draft/account-registration", "NICK alice", f"REGISTER * * {PW}")
        assert client.expect("FAIL|REGISTER") == (
            ":irc.test FAIL REGISTER COMPLETE_CONNECTION_REQUIRED alice"
            " :You must complete connection registration first"
        )
        client.send("USER alice 0 * :Alice", "CAP END")
        client.expect(" 376 ")
        client.send(f"REGISTER * * {PW}")
        assert client.expect("REGISTER") == (
            ":irc.test REGISTER SUCCESS alice :Account successfully registered"
        )
        client.close()
    finally:
        server.stop()


def test_register_before_connect_by_default(live: LiveServer) -> None:
    client = LineClient(live.port)
    value = cap_ls_value(client, "draft/account-registration")
    assert value == "before-connect,custom-account-name"
    client.send("NICK alice", f"REGISTER * * {PW}")
    assert client.expect("REGISTER") == (
        ":irc.test REGISTER SUCCESS alice :Account successfully registered"
    )


def test_register_taken_name_is_account_exists_before_nick_too(live: LiveServer) -> None:
    register_account(live, "alice", PW).close()
    client = LineClient(live.port)
    taken = ":irc.test FAIL REGISTER ACCOUNT_EXISTS alice :That account name is already taken"
    client.send(f"REGISTER alice * {PW}")
    assert client.expect("FAIL") == taken
    client.send("NICK bob", f"REGISTER alice * {PW}")
    assert client.expect("FAIL") == taken
    client.send("USER bob 0 * :Bob")
    assert client.expect(" 001 ").startswith(":irc.test 001 bob ")


def test_register_no_land_grabs(live: LiveServer) -> None:
    holder = live.client("root")
    client = LineClient(live.port)
    client.send("NICK root", f"REGISTER * * {PW}")
    assert client.expect("FAIL") == (
        ":irc.test FAIL REGISTER USERNAME_EXISTS root :That name is someone else's nick"
    )
    holder.close()


def sasl_chunks(client: LineClient, account: str, password: str) -> list[str]:
    """Start SASL PLAIN and send the message as the spec has clients do: 400-character
    chunks, and `+` after a full last chunk. Returns the chunks sent."""
    payload = plain(account, password)
    parts = [payload[i : i + 400] for i in range(0, len(payload), 400)]
    if len(parts[-1]) == 400:
        parts.append("+")
    client.send("AUTHENTICATE PLAIN")
    assert client.expect("^AUTHENTICATE") == "AUTHENTICATE +"
    client.send(*[f"AUTHENTICATE {part}" for part in parts])
    return parts


def test_sasl_long_passwords_in_400_byte_chunks(tmp_path: Path) -> None:
    """A 300-character password: a full chunk and a shorter one; a payload that is an exact
    multiple of 400: full chunks and `AUTHENTICATE +`. Both log in."""
    config = accounts_config(tmp_path, "password_max_length = 300")
    server = LiveServer(tmp_path, "--config", config)
    server.start()
    try:
        for nick, password in (("alice", "a" * 300), ("bob", "b" * 295)):
            register_account(server, nick, password).close()
        client = LineClient(server.port)
        client.send("CAP LS 302", "CAP REQ :sasl", "NICK carol", "USER carol 0 * :Carol")
        client.expect("ACK")
        parts = sasl_chunks(client, "alice", "a" * 300)
        assert [len(part) for part in parts] == [400, 12]
        assert client.lines_until(" 90[3-7] ") == [
            ":irc.test 900 carol carol!~carol@127.0.0.1 alice :You are now logged in as alice",
            ":irc.test 903 carol :SASL authentication successful",
        ]
        client.close()
        client = LineClient(server.port)
        client.send("CAP LS 302", "CAP REQ :sasl")
        client.expect("ACK")
        parts = sasl_chunks(client, "bob", "b" * 295)  # "\0bob\0" + 295 = 300 bytes
        assert parts[1:] == ["+"] and len(parts[0]) == 400
        assert client.lines_until(" 90[3-7] ") == [
            ":irc.test 900 * * bob :You are now logged in as bob",
            ":irc.test 903 * :SASL authentication successful",
        ]
        client.send("NICK dave", "USER dave 0 * :Dave", "CAP END")
        assert client.expect(" 001 ").startswith(":irc.test 001 dave ")
        client.close()
    finally:
        server.stop()


def test_sasl_buffer_limit_is_1600_characters_of_data(tmp_path: Path) -> None:
    """Four full chunks then `+` is within the limit (the `+` is no data); a fifth full
    chunk is 905 ERR_SASLTOOLONG, and the client may start again."""
    password = "p" * 1193  # "\0alice\0" + 1193 = 1200 bytes: 1600 base64 characters
    (tmp_path / "data").mkdir()
    store = SqliteStore.in_dir(tmp_path / "data")  # no REGISTER line could carry it
    store.create_account(Account("alice", hash_password(password), None, 0.0))
    store.commit()
    store.close()
    server = LiveServer(tmp_path)
    server.start()
    try:
        client = LineClient(server.port)
        client.send("CAP LS 302", "CAP REQ :sasl")
        client.expect("ACK")
        parts = sasl_chunks(client, "alice", password)
        assert [len(part) for part in parts] == [400, 400, 400, 400, 1]
        assert client.lines_until(" 90[3-7] ")[-1] == (
            ":irc.test 903 * :SASL authentication successful"
        )
        client.close()
        client = LineClient(server.port)
        client.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
        assert client.expect("^AUTHENTICATE") == "AUTHENTICATE +"
        client.send(*["AUTHENTICATE " + "A" * 400] * 5)
        assert client.expect(" 90[3-7] ") == ":irc.test 905 * :SASL message too long"
        client.send("AUTHENTICATE PLAIN")
        assert client.expect("^AUTHENTICATE") == "AUTHENTICATE +"
        client.close()
    finally:
        server.stop()
