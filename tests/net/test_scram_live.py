"""SASL SCRAM-SHA-256 on the real server, over a plain socket: the whole exchange as
irctest's SCRAM tests run it, with a client written in the test (tests/scramclient.py)."""

from __future__ import annotations

import base64
from pathlib import Path

from liveserver import LineClient, LiveServer
from miniircd.store.base import Account
from miniircd.store.passwords import hash_password
from miniircd.store.sqlite import SqliteStore
from scramclient import ScramClient, chunks

PW = "Scram-Canary-2718"


class Recorder(LineClient):
    """A LineClient that keeps every line it sent."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.sent: list[str] = []

    def send(self, *lines: str) -> None:
        self.sent.extend(lines)
        super().send(*lines)




def read_message(client: LineClient) -> bytes:
    """One server message: AUTHENTICATE chunks until a short one."""
    text = ""
    while True:
        part = client.expect("^AUTHENTICATE ").split(" ", 1)[1]
        if part != "+":
            text += part
        if len(part) < 400:
            return base64.b64decode(text)


def scram_exchange(
    port: int, name: str, password: str, nick: str = "scrammer"
) -> tuple[Recorder, list[str]]:
    """Connect, CAP LS 302, REQ sasl, run SCRAM-SHA-256; the client and the lines that
    followed the client-final message (up to 904, or up to 903 after the last `+`)."""
    client = Recorder(port)
    client.send("CAP LS 302", f"NICK {nick}", f"USER {nick} 0 * :S")
    assert "sasl=PLAIN,SCRAM-SHA-256" in client.cap_ls()
    client.send("CAP REQ :sasl")
    client.expect(" ACK ")
    client.send("AUTHENTICATE SCRAM-SHA-256")
    assert client.expect("^AUTHENTICATE") == "AUTHENTICATE +"
    scram = ScramClient(name, password)
    client.send(*chunks(scram.first()))
    client.send(*chunks(scram.final(read_message(client))))
    answer = client.expect("^AUTHENTICATE | 904 ")
    if " 904 " in answer:
        return client, [answer]
    server_final = base64.b64decode(answer.split(" ", 1)[1])
    assert scram.server_signature_ok(server_final)  # the server knew the password too
    client.send("AUTHENTICATE +")
    return client, client.lines_until(" 90[34] ")


def test_scram_login_never_sends_the_password(live: LiveServer) -> None:
    alice = live.client("alice")
    alice.send(f"REGISTER * * {PW}")
    alice.expect("REGISTER SUCCESS")
    client, lines = scram_exchange(live.port, "alice", PW)
    assert lines == [
        ":irc.test 900 scrammer scrammer!~scrammer@127.0.0.1 alice :You are now logged in as alice",
        ":irc.test 903 scrammer :SASL authentication successful",
    ]
    client.send("CAP END")
    assert client.expect(" 001 ").startswith(":irc.test 001 scrammer ")
    sent = "\n".join(client.sent)
    encodings = (PW, base64.b64encode(PW.encode()).decode())
    assert not any(form in sent for form in encodings), client.sent
    # and a wrong password fails right after the proof, with the 904 PLAIN gives
    other, lines = scram_exchange(live.port, "alice", "not-the-password", nick="guesser")
    assert lines == [":irc.test 904 guesser :SASL authentication failed"]
    other.close()
    client.close()
    alice.close()


def test_old_account_gets_scram_after_one_plain_login_and_keeps_it(tmp_path: Path) -> None:
    """An account from before SCRAM fails SCRAM until it logs in with its password once;
    the record made then, and the fake salt an unknown name gets, survive a restart."""
    data = tmp_path / "data"
    data.mkdir()
    store = SqliteStore.in_dir(data)
    store.create_account(Account("alice", hash_password(PW), None, 0.0))
    store.close()
    server = LiveServer(tmp_path)
    server.start()
    try:
        assert scram_exchange(server.port, "alice", PW)[1][-1].split()[1] == "904"
        unknown = first_salt(server.port, "nobody")
        plain = LineClient(server.port)
        payload = base64.b64encode(f"\0alice\0{PW}".encode()).decode()
        plain.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
        plain.expect("^AUTHENTICATE")
        plain.send(f"AUTHENTICATE {payload}")
        assert " 903 " in plain.expect(" 90[34] ")
        plain.close()
        assert scram_exchange(server.port, "alice", PW)[1][-1].split()[1] == "903"
    finally:
        assert server.stop() == 0
    server.start()
    try:
        assert scram_exchange(server.port, "alice", PW)[1][-1].split()[1] == "903"
        assert first_salt(server.port, "nobody") == unknown
    finally:
        assert server.stop() == 0


def first_salt(port: int, name: str) -> str:
    """The salt the server-first message offers for `name`."""
    client = LineClient(port)
    client.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE SCRAM-SHA-256")
    client.expect("^AUTHENTICATE")
    client.send(*chunks(ScramClient(name, PW).first()))
    fields = dict(part.split("=", 1) for part in read_message(client).decode().split(","))
    client.send("AUTHENTICATE *")
    client.expect(" 906 ")
    client.close()
    return fields["s"]
