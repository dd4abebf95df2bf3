"""One history and one inbox across a services network, sans-IO (core.replica): a chain
a - b - c whose hub is a.test. Each message is stored once on the hub, with the msgid and
time of the server that showed it first, and copied to every server; what a server
showed while the hub was away is handed over when it is back, once."""

from __future__ import annotations

import pytest

from harness import CoreClient
from network import PW, A, B, C, CoreNetwork, D, account, send, services_network


@pytest.fixture
def net() -> CoreNetwork:
    return services_network()




def rows(net: CoreNetwork, server: str, conversation: str) -> list[tuple[str, str, int]]:
    """(msgid, text, time) of a conversation's messages in a server's store."""
    found = net[server].store.messages(conversation, limit=1000)
    return [(m.msgid, m.text, m.time_ms) for m in found]


def history_ids(net: CoreNetwork, client: CoreClient, target: str) -> list[str]:
    """The msgids CHATHISTORY LATEST gives `client` for `target`."""
    lines = send(net, client, f"CHATHISTORY LATEST {target} * 50")
    return [
        tag.split("=", 1)[1]
        for line in lines if " PRIVMSG " in line
        for tag in line.split(" ", 1)[0].lstrip("@").split(";") if tag.startswith("msgid=")
    ]  # fmt: skip


def history_client(net: CoreNetwork, server: str, nick: str) -> CoreClient:
    """A user of `server` in #room, who can read its history."""
    client = net.register(server, nick)
    send(net, client, "CAP REQ :draft/chathistory batch server-time message-tags", "JOIN #room")
    return client


def in_room(net: CoreNetwork, *where: tuple[str, str]) -> list[CoreClient]:
    """Users (server, nick) in #room; what they were sent is taken."""
    clients = [net.register(server, nick) for server, nick in where]
    for client in clients:
        send(net, client, "JOIN #room")
    for client in clients:
        client.take()
    return clients




def test_a_room_message_is_stored_once_everywhere_with_one_msgid(net: CoreNetwork) -> None:
    carol = net.register(C, "carol")
    send(net, carol, "JOIN #room")
    send(net, carol, "PRIVMSG #room :only c has members here")
    kept = rows(net, C, "#room")
    assert len(kept) == 1
    # the hub has no member in the room, yet stores it; b copies it
    assert rows(net, A, "#room") == kept
    assert rows(net, B, "#room") == kept
    assert net[C].store.handovers() == []  # the hub's copy came back: nothing owed
    readers = [history_client(net, server, f"reader{i}") for i, server in enumerate((A, B, C))]
    ids = [history_ids(net, reader, "#room") for reader in readers]
    assert ids == [[kept[0][0]]] * 3


def test_a_message_shown_on_two_servers_is_shown_once_and_stored_once(
    net: CoreNetwork,
) -> None:
    alice, bob, carol = in_room(net, (A, "alice"), (B, "bob"), (C, "carol"))
    send(net, carol, "PRIVMSG #room :to everyone")
    for client in (alice, bob):
        assert [line for line in client.take() if "PRIVMSG" in line] == [
            ":carol!~carol@127.0.0.1 PRIVMSG #room :to everyone"
        ]
    for server in (A, B, C):
        assert len(rows(net, server, "#room")) == 1
    assert rows(net, A, "#room") == rows(net, B, "#room") == rows(net, C, "#room")


def test_messages_sent_at_once_on_two_servers_end_in_the_hubs_order_everywhere(
    net: CoreNetwork,
) -> None:
    bob, carol = in_room(net, (B, "bob"), (C, "carol"))
    for n in range(4):  # each server stores its own user's message first
        bob.send(f"PRIVMSG #room :bob {n}")
        carol.send(f"PRIVMSG #room :carol {n}")
        net.settle()
    hub_order = rows(net, A, "#room")
    assert len(hub_order) == 8
    assert rows(net, B, "#room") == rows(net, C, "#room") == hub_order
    bob_reader = history_client(net, B, "reader1")
    carol_reader = history_client(net, C, "reader2")
    assert history_ids(net, bob_reader, "#room") == history_ids(net, carol_reader, "#room")


def test_what_a_leaf_showed_while_the_hub_was_away_is_handed_over_once(
    net: CoreNetwork,
) -> None:
    _, carol, dan = in_room(net, (A, "alice"), (C, "carol"), (B, "dan"))
    net.cut(A, B)
    net.tick(1)
    send(net, carol, "PRIVMSG #room :while the hub is away")
    send(net, dan, "PRIVMSG #room :me too")
    assert rows(net, A, "#room") == []
    assert [kind for kind, _ in net[C].store.handovers()] == ["KEEP"]
    assert [kind for kind, _ in net[B].store.handovers()] == ["KEEP"]
    net.link(B, A)
    net.tick(1)  # b and c find their way to the hub again: SYNC, then what they owe
    # a message handed over late takes its place where it reaches the hub, and the
    # copies follow the hub's order
    kept = rows(net, A, "#room")
    assert sorted(text for _, text, _ in kept) == ["me too", "while the hub is away"]
    assert rows(net, B, "#room") == rows(net, C, "#room") == kept
    assert net[B].store.handovers() == net[C].store.handovers() == []
    net.cut(A, B)  # a second relink hands over nothing again
    net.link(B, A)
    net.tick(1)
    assert rows(net, A, "#room") == kept


def test_a_server_that_joins_late_copies_the_history_and_the_accounts(
    net: CoreNetwork,
) -> None:
    carol = account(net, C, "carol")
    send(net, carol, "JOIN #room")
    for n in range(5):
        send(net, carol, f"PRIVMSG #room :message {n}")
    net.link(D, C)
    net.tick(1)
    assert rows(net, D, "#room") == rows(net, A, "#room")
    assert len(rows(net, D, "#room")) == 5
    copy = net[D].store.get_account("carol")
    assert copy is not None and copy.password_hash == "!"
    hub_newest, _ = net[A].store.newest_message()
    assert net[D].store.replica_position(A) == (hub_newest, rows(net, A, "#room")[-1][0])
    net.cut(D, C)  # back later: only the rows since
    send(net, carol, "PRIVMSG #room :while d was away")
    net.link(D, C)
    net.tick(1)
    assert [t for _, t, _ in rows(net, D, "#room")][-1] == "while d was away"
    assert len(rows(net, D, "#room")) == 6


def test_a_hub_restored_from_an_older_backup_gets_back_what_the_others_hold(
    net: CoreNetwork,
) -> None:
    carol = net.register(C, "carol")
    send(net, carol, "JOIN #room")
    for n in range(3):
        send(net, carol, f"PRIVMSG #room :message {n}")
    kept = rows(net, A, "#room")
    assert len(kept) == 3
    # the hub's store goes back to a backup taken after the first message, and the hub
    # stores new rows before c is back: ids come again, with other messages
    net.cut(C, B)
    hub = net[A].store
    hub.db.execute("DELETE FROM messages WHERE msgid != ?", (kept[0][0],))
    hub.db.execute("UPDATE sqlite_sequence SET seq = 1 WHERE name = 'messages'")
    hub.commit()
    alice = net.register(A, "alice")
    for n in range(5):
        send(net, alice, f"PRIVMSG carol :after the restore {n}")
    net.link(C, B)
    net.tick(1)  # c's last copy is not the hub's row of that id: c sends back what it holds
    assert sorted(rows(net, A, "#room")) == sorted(kept)
    assert net[C].store.handovers() == []


def test_an_inbox_message_waits_for_a_login_on_any_server_and_arrives_once(
    net: CoreNetwork,
) -> None:
    account(net, A, "bob").send("QUIT")
    net.settle()
    carol = net.register(C, "carol")
    answer = send(net, carol, "PRIVMSG bob :are you there?")
    assert answer[-1].endswith("bob is offline; your message will be delivered when they log in")
    for server in (A, B, C):
        assert net[server].store.unread_count("bob") == 1
    bob = net.register(B, "bob")
    lines = send(net, bob, f"PRIVMSG NickServ :IDENTIFY bob {PW}")
    assert any("are you there?" in line for line in lines), lines
    for server in (A, B, C):
        assert net[server].store.unread_count("bob") == 0
    send(net, bob, "QUIT")
    again = net.register(C, "bob")
    lines = send(net, again, f"PRIVMSG NickServ :IDENTIFY bob {PW}")
    assert not any("are you there?" in line for line in lines), lines


def test_memoserv_on_a_leaf_leaves_a_message_in_the_networks_inbox(net: CoreNetwork) -> None:
    account(net, A, "bob").send("QUIT")
    net.settle()
    carol = net.register(C, "carol")
    assert send(net, carol, "PRIVMSG MemoServ :SEND bob see you at noon") == [
        ":MemoServ!MemoServ@services NOTICE carol :bob is offline; your message will be"
        " delivered when they log in."
    ]
    bob = net.register(B, "bob")
    lines = send(net, bob, f"PRIVMSG NickServ :IDENTIFY bob {PW}")
    assert [line for line in lines if " PRIVMSG " in line] == [
        ":carol!~carol@127.0.0.1 PRIVMSG bob :[2023-11-14 22:13:21] see you at noon"
    ]
    assert all(net[server].store.unread_count("bob") == 0 for server in (A, B, C))


def test_a_private_message_between_accounts_on_two_leaves_is_one_conversation(
    net: CoreNetwork,
) -> None:
    bob = account(net, B, "bob")
    carol = account(net, C, "carol")
    send(net, carol, "PRIVMSG bob :hello bob")
    assert any("hello bob" in line for line in bob.take())
    conversation = "bob carol"  # both accounts: the conversation follows the accounts
    kept = rows(net, A, conversation)
    assert [text for _, text, _ in kept] == ["hello bob"]
    assert rows(net, B, conversation) == rows(net, C, conversation) == kept


def test_lines_of_the_copying_from_a_stranger_are_ignored(net: CoreNetwork) -> None:
    stranger = net[A].link("x.test", outgoing=False)
    stranger.send(
        ":x.test KEEP a.test :{}",
        ":x.test STORED * 1 :{}",
        ":x.test ACCOUNT * mallory 0",
    )
    assert net[A].store.get_account("mallory") is None
    assert rows(net, A, "#room") == []
