"""HELP, LINKS and WALLOPS over real loopback sockets, with a config file's description
and operator, as irctest drives them."""

from __future__ import annotations

from pathlib import Path

from liveserver import LiveServer
from miniircd.store.passwords import hash_password


def test_help_links_and_wallops(tmp_path: Path) -> None:
    config = tmp_path / "miniircd.toml"
    operator = f'[[operators]]\nname = "operuser"\npassword_hash = "{hash_password("pw")}"\n'
    config.write_text(f'[server]\nserver_info = "test server"\n{operator}', encoding="utf-8")
    server = LiveServer(tmp_path, "--config", str(config))
    server.start()
    nick1, nick2, nick3 = server.client("nick1"), server.client("nick2"), server.client("nick3")

    nick1.send("HELP PRIVMSG")
    lines = nick1.lines_until(" 706 ")
    assert lines[0] == ":irc.test 704 nick1 PRIVMSG :PRIVMSG <target>{,<target>} :<text>"
    assert {line.split()[1] for line in lines[1:-1]} == {"705"}
    nick1.send("HELPOP THISISNOTACOMMAND")
    assert nick1.expect(" 524 ") == (
        ":irc.test 524 nick1 THISISNOTACOMMAND :No help available on this topic"
    )

    nick1.send("LINKS")
    assert nick1.lines_until(" 365 ") == [
        ":irc.test 364 nick1 irc.test irc.test :0 test server",
        ":irc.test 365 nick1 * :End of /LINKS list",
    ]

    nick2.send("MODE nick2 -w", "PING sync")  # no change, no echo: the PONG is all
    assert nick2.expect("PONG") == ":irc.test PONG irc.test :sync"
    nick3.send("MODE nick3 +w")
    assert nick3.expect(" MODE ") == ":nick3 MODE nick3 +w"
    nick1.send("WALLOPS :not yet")
    assert nick1.expect(" 481 ") == (
        ":irc.test 481 nick1 :Permission Denied- You're not an IRC operator"
    )
    nick1.send("OPER operuser pw")
    nick1.expect(" 381 ")
    nick1.send("WALLOPS :hi everyone")
    assert nick3.expect("WALLOPS") == ":nick1!~nick1@127.0.0.1 WALLOPS :hi everyone"
    # nick2 (no +w) got nothing: the next line it reads is the answer to its own PING
    nick2.send("PING after")
    assert nick2.lines_until("PONG") == [":irc.test PONG irc.test :after"]
    for client in (nick1, nick2, nick3):
        client.close()
