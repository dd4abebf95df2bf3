"""Real sockets: three miniircd servers in a chain a.test - b.test - c.test, each on its own
127.0.0.x, whose accounts a.test keeps (docs/linking.md "Services hub"): an account
registered on c.test, SASL PLAIN on b.test, SASL SCRAM-SHA-256 on c.test for an account
registered on a.test, NickServ on c.test (PASSWD and DROP too), all through the links;
and with a.test gone, a clear failure instead of a hang."""

from __future__ import annotations

import base64
import time
from pathlib import Path

from liveserver import DEADLINE, LineClient, LiveServer
from miniircd.store.sqlite import SqliteStore
from ngircd import wait_linked
from scramclient import ScramClient, chunks

PW = "correct-horse"
AWAY = "the services hub cannot be reached; try again later"


def link(name: str, send: str, accept: str, port: int | None = None) -> str:
    """A `[[links]]` block: dialing `name` at `port`, or waiting for it to dial."""
    dial = f'host = "{HOSTS[name]}"\nport = {port}\nconnect = true\nretry = 1\n' if port else ""
    return (
        f'\n[[links]]\nname = "{name}"\nsend_password = "{send}"\n'
        f'accept_password = "{accept}"\n{dial}'
    )


HOSTS = {"a.test": "127.0.0.21", "b.test": "127.0.0.22", "c.test": "127.0.0.23"}


def start(tmp_path: Path, name: str, links: str) -> LiveServer:
    directory = tmp_path / name
    directory.mkdir()
    config = directory / "server.toml"
    config.write_text(f'[accounts]\nservices_hub = "a.test"\n{links}')
    server = LiveServer(directory, "--config", str(config), host=HOSTS[name], name=name)
    server.start()
    return server


def chain(tmp_path: Path) -> tuple[LiveServer, LiveServer, LiveServer]:
    a = start(tmp_path, "a.test", link("b.test", "a>b", "b>a"))
    b_links = link("a.test", "b>a", "a>b", a.port) + link("c.test", "b>c", "c>b")
    b = start(tmp_path, "b.test", b_links)
    wait_linked(b)
    c = start(tmp_path, "c.test", link("b.test", "c>b", "b>c", b.port))
    wait_linked(c)
    wait_linked(b, 2)
    return a, b, c


def shows_account(client: LineClient, nick: str) -> str:
    """The 330 of `nick`'s WHOIS, once the login has come this far (it travels as
    METADATA, server to server, while the client's own answer is on its way)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        client.send(f"WHOIS {nick}")
        found = [line for line in client.lines_until(" 318 ") if " 330 " in line]
        if found:
            return found[0]
    raise AssertionError(f"{nick}'s account never showed")


def plain(account: str, password: str) -> str:
    return base64.b64encode(f"\0{account}\0{password}".encode()).decode()




def scram_login(client: LineClient, account: str, password: str) -> list[str]:
    """SCRAM-SHA-256 by a client that asked for `sasl`: the 904 that ends the exchange,
    or the lines up to the 903 after the client's last `+`."""
    scram = ScramClient(account, password)
    client.send("AUTHENTICATE SCRAM-SHA-256")
    client.expect(r"^AUTHENTICATE \+$")
    client.send(*chunks(scram.first()))
    answer = client.expect("^AUTHENTICATE | 904 ")
    if " 904 " in answer:
        return [answer]
    client.send(*chunks(scram.final(base64.b64decode(answer.split(" ", 1)[1]))))
    answer = client.expect("^AUTHENTICATE | 904 ")
    if " 904 " in answer:
        return [answer]
    assert scram.server_signature_ok(base64.b64decode(answer.split(" ", 1)[1]))
    client.send("AUTHENTICATE +")
    return client.lines_until(" 90[34] ")


def test_accounts_live_on_the_hub_and_work_from_every_server(tmp_path: Path) -> None:
    a, b, c = chain(tmp_path)
    # REGISTER on c.test: a.test hashes and stores it; the answer keeps its label, and
    # the PING sent right after it is answered after it
    alice = c.client("alice")
    alice.send("CAP REQ :labeled-response batch")
    alice.expect(r" CAP alice ACK ")
    alice.send(f"@label=r1 REGISTER * * {PW}", "@label=p2 PING :after")
    lines = alice.lines_until(r"PONG")
    assert lines[0].startswith("@label=r1 :c.test BATCH +")
    assert lines[1].endswith(
        " 900 alice alice!~alice@127.0.0.1 alice :You are now logged in as alice"
    )
    assert lines[2].endswith(" :c.test REGISTER SUCCESS alice :Account successfully registered")
    assert lines[3].startswith(":c.test BATCH -")
    assert lines[4] == "@label=p2 :c.test PONG c.test :after"
    # WHOIS on the hub shows the login, which came as METADATA accountname
    watcher = a.client("watcher")
    assert shows_account(watcher, "alice") == ":a.test 330 watcher alice alice :is logged in as"
    # SASL PLAIN on b.test, checked by a.test
    ally = LineClient(b.port, b.host)
    ally.send("CAP LS 302")
    assert "sasl=PLAIN,SCRAM-SHA-256" in ally.cap_ls()
    ally.send("CAP REQ :sasl", "NICK ally", "USER ally 0 * :Ally", "AUTHENTICATE PLAIN")
    ally.expect(r"^AUTHENTICATE \+$")
    ally.send(f"AUTHENTICATE {plain('alice', 'wrong-horse')}")
    ally.expect(r"^:b\.test 904 ally :SASL authentication failed$")
    ally.send("AUTHENTICATE PLAIN")
    ally.expect(r"^AUTHENTICATE \+$")
    ally.send(f"AUTHENTICATE {plain('alice', PW)}")
    ally.expect(r"^:b\.test 900 ally ally!~ally@127\.0\.0\.1 alice :You are now logged in as alice")
    ally.expect(r"^:b\.test 903 ally :SASL authentication successful$")
    ally.send("CAP END")
    ally.expect(r" 001 ally ")
    # SASL SCRAM-SHA-256 on c.test for an account registered on a.test: c.test fetches
    # the account's record from a.test, two links away, and a.test judges the proof
    bob = a.client("bob")
    bob.send(f"REGISTER * * {PW}")
    bob.expect(r"REGISTER SUCCESS bob ")
    scrammer = LineClient(c.port, c.host)
    scrammer.send("CAP LS 302")
    assert "sasl=PLAIN,SCRAM-SHA-256" in scrammer.cap_ls()
    scrammer.send("CAP REQ :sasl", "NICK scrammer", "USER s 0 * :S")
    scrammer.expect(r" ACK :sasl$")
    assert scram_login(scrammer, "bob", "wrong-horse") == [
        ":c.test 904 scrammer :SASL authentication failed"
    ]
    assert scram_login(scrammer, "bob", PW) == [
        ":c.test 900 scrammer scrammer!~s@127.0.0.1 bob :You are now logged in as bob",
        ":c.test 903 scrammer :SASL authentication successful",
    ]
    scrammer.send("CAP END")
    scrammer.expect(r" 001 scrammer ")
    assert shows_account(watcher, "scrammer") == (
        ":a.test 330 watcher scrammer bob :is logged in as"
    )
    # NickServ IDENTIFY on c.test
    carol = c.client("carol")
    carol.send(f"PRIVMSG NickServ :IDENTIFY alice {PW}")
    carol.expect(r"^:NickServ!NickServ@services NOTICE carol :You are now logged in as alice\.$")
    # the hub goes away: connected people keep chatting, logins fail at once
    a.stop()
    ally.send("JOIN #room")
    ally.expect(r" 366 ally #room ")
    carol.send("JOIN #room")
    ally.expect(r"^:carol!\S+ JOIN #room")
    carol.send("PRIVMSG #room :still here")
    ally.expect(r"^:carol!\S+ PRIVMSG #room :still here$")
    dave = c.client("dave")
    dave.send(f"REGISTER * * {PW}", "PING :next")
    dave.expect(rf"^:c\.test FAIL REGISTER TEMPORARILY_UNAVAILABLE dave :{AWAY}$")
    dave.expect(r"^:c\.test PONG c\.test :next$")
    dave.send(f"PRIVMSG NickServ :IDENTIFY alice {PW}")
    dave.expect(r"^:NickServ!NickServ@services NOTICE dave :The services hub cannot be reached")
    dave.send("CAP REQ :sasl")
    dave.expect(r" CAP dave ACK ")
    assert scram_login(dave, "bob", PW) == [f":c.test 904 dave :SASL authentication failed: {AWAY}"]
    # the account is the hub's: the others know its name only (core.replica)
    for server, kept in ((a, True), (b, False), (c, False)):
        server.stop()
        store = SqliteStore.in_dir(server.data_dir)
        found = store.get_account("alice")
        assert found is not None and (found.password_hash != "!") is kept, server.name
        store.close()


def test_passwd_and_drop_on_a_leaf_live(tmp_path: Path) -> None:
    """NickServ PASSWD and DROP on c.test are the hub's work; the drop reaches the copies
    of every server (ACCOUNTDROP) and logs out the account's users on b.test too."""
    a, b, c = chain(tmp_path)
    new = "battery-staple"
    alice = c.client("alice")
    alice.send(f"REGISTER * * {PW}")
    alice.expect(r"REGISTER SUCCESS alice ")
    alice.send(f"PRIVMSG NickServ :PASSWD {PW} {new}", "PING :after")
    alice.expect(r"^:NickServ!NickServ@services NOTICE alice :Your password has been changed\.$")
    alice.expect(r"^:c\.test PONG c\.test :after$")
    ally = b.client("ally")
    ally.send(f"PRIVMSG NickServ :IDENTIFY alice {PW}")
    ally.expect(r"^:NickServ!NickServ@services NOTICE ally :Invalid account or password\.$")
    ally.send(f"PRIVMSG NickServ :IDENTIFY alice {new}")
    ally.expect(r"^:NickServ!NickServ@services NOTICE ally :You are now logged in as alice\.$")
    watcher = a.client("watcher")
    assert shows_account(watcher, "ally") == ":a.test 330 watcher ally alice :is logged in as"
    alice.send(f"PRIVMSG NickServ :DROP {new}")
    alice.expect(r"^:c\.test 901 alice alice!~alice@127\.0\.0\.1 :You are now logged out$")
    alice.expect(r"^:NickServ!NickServ@services NOTICE alice :The account alice has been dropped")
    ally.expect(r"^:b\.test 901 ally ally!~ally@127\.0\.0\.1 :You are now logged out$")
    deadline = time.monotonic() + DEADLINE  # the logout reaches a.test as METADATA
    while True:
        watcher.send("WHOIS ally")
        if not any(" 330 " in line for line in watcher.lines_until(" 318 ")):
            break
        assert time.monotonic() < deadline, "ally's account still shows on a.test"
    for server in (a, b, c):
        server.stop()
        store = SqliteStore.in_dir(server.data_dir)
        assert store.get_account("alice") is None, server.name
        store.close()
