"""Registered rooms (ChanServ) across a services network, sans-IO (core.replica_rooms): a
chain a - b - c whose hub is a.test (d.test joins when a test links it). A room registered
on any server is registered on every one, with the hub's record; the first registration
the hub sees wins; a DROP anywhere unregisters it everywhere."""

from __future__ import annotations

import json

import pytest

from harness import CoreClient
from miniircd.core.channel import Channel
from miniircd.store.base import RoomRecord
from network import PW, A, B, C, CoreNetwork, D, account, send, services_network


@pytest.fixture
def net() -> CoreNetwork:
    return services_network()






def identified(net: CoreNetwork, server: str, name: str, nick: str | None = None) -> CoreClient:
    """A user of `server` (nick `nick`, else `name`) logged in to the account `name`."""
    client = net.register(server, nick or name)
    lines = send(net, client, f"PRIVMSG NickServ :IDENTIFY {name} {PW}")
    assert any(" 900 " in line for line in lines), lines
    return client


def stored(net: CoreNetwork, server: str, name: str) -> RoomRecord | None:
    rooms = [room for room in net[server].store.load_rooms() if room.name == name]
    return rooms[0] if rooms else None


def founder(net: CoreNetwork, server: str, name: str) -> str | None:
    """The founder a server's state gives the room (None: not registered there)."""
    channel = net[server].server.state.find_channel(name)
    return channel.founder if channel is not None else None


def test_a_room_registered_on_a_leaf_is_registered_on_every_server(net: CoreNetwork) -> None:
    carol = account(net, C, "carol")
    send(net, carol, "JOIN #room")
    for server in (A, B, C):
        record = stored(net, server, "#room")
        assert record is not None and record.founder == "carol", server
        assert founder(net, server, "#room") == "carol", server
    assert net[C].store.handovers() == []  # the hub's copy came back: nothing owed
    reader = net.register(B, "reader")
    info = send(net, reader, "PRIVMSG ChanServ :INFO #room")
    assert len(info) == 1 and "#room was registered by carol on " in info[0], info
    send(net, carol, "QUIT :bye")  # the room is empty now, and stays listed everywhere
    for server in (A, B, C):
        assert founder(net, server, "#room") == "carol", server
    assert any(" 322 reader #room 0 " in line for line in send(net, reader, "LIST"))
    again = identified(net, B, "carol")
    names = send(net, again, "JOIN #room")
    assert any(" 353 " in line and line.endswith(":@carol") for line in names), names


def test_a_change_on_another_server_reaches_every_store(net: CoreNetwork) -> None:
    carol = account(net, C, "carol")
    send(net, carol, "JOIN #room")
    on_b = identified(net, B, "carol", "carol2")
    send(net, on_b, "JOIN #room", "TOPIC #room :set on b", "MODE #room +kb sesame bad!*@*")
    for server in (A, B, C):
        record = stored(net, server, "#room")
        assert record is not None, server
        assert (record.topic, record.key) == ("set on b", "sesame"), server
        assert [mask for mask, _, _ in record.bans] == ["bad!*@*"], server
    assert net[B].store.handovers() == []


def test_drop_on_a_leaf_unregisters_the_room_everywhere(net: CoreNetwork) -> None:
    carol = account(net, C, "carol")
    send(net, carol, "JOIN #room", "PART #room")
    other = account(net, B, "other")
    assert send(net, other, "PRIVMSG ChanServ :DROP #room") == [
        ":ChanServ!ChanServ@services NOTICE other :Only the founder of #room may drop it."
    ]
    assert stored(net, A, "#room") is not None
    on_b = identified(net, B, "carol", "carol2")
    assert send(net, on_b, "PRIVMSG ChanServ :DROP #room") == [
        ":ChanServ!ChanServ@services NOTICE carol2 :#room is no longer registered."
    ]
    for server in (A, B, C):
        assert stored(net, server, "#room") is None, server
        assert net[server].server.state.find_channel("#room") is None, server  # it was empty


def test_drop_on_the_hub_unregisters_the_room_everywhere(net: CoreNetwork) -> None:
    carol = account(net, C, "carol")
    send(net, carol, "JOIN #room")
    on_a = identified(net, A, "carol", "carol2")
    send(net, on_a, "PRIVMSG ChanServ :DROP #room")
    for server in (A, B, C):
        assert stored(net, server, "#room") is None, server
        assert founder(net, server, "#room") is None, server
    assert net[C].server.state.find_channel("#room") is not None  # carol is still in it


def test_drop_needs_the_hub(net: CoreNetwork) -> None:
    carol = account(net, C, "carol")
    send(net, carol, "JOIN #room")
    net.cut(A, B)
    net.tick(1)
    assert send(net, carol, "PRIVMSG ChanServ :DROP #room") == [
        ":ChanServ!ChanServ@services NOTICE carol :The services hub cannot be reached;"
        " try again later."
    ]
    assert stored(net, C, "#room") is not None
    assert founder(net, C, "#room") == "carol"


def test_a_room_registered_while_the_hub_is_away_reaches_it_after_the_relink(
    net: CoreNetwork,
) -> None:
    carol = account(net, C, "carol")
    net.cut(A, B)
    net.tick(1)
    send(net, carol, "JOIN #late", "TOPIC #late :while the hub is away")
    assert stored(net, A, "#late") is None
    assert net[C].store.handovers() == [("ROOM", "#late")]
    net.link(B, A)
    net.tick(1)  # b and c find their way to the hub again: SYNC, then what they owe
    for server in (A, B, C):
        record = stored(net, server, "#late")
        assert record is not None and record.founder == "carol", server
        assert record.topic == "while the hub is away", server
        assert founder(net, server, "#late") == "carol", server
    assert net[C].store.handovers() == []


def test_a_room_dropped_while_a_server_was_away_is_unregistered_there_at_the_relink(
    net: CoreNetwork,
) -> None:
    carol = account(net, C, "carol")
    send(net, carol, "JOIN #room", "JOIN #kept")
    net.cut(C, B)
    net.tick(1)
    on_a = identified(net, A, "carol", "carol2")
    send(net, on_a, "PRIVMSG ChanServ :DROP #room")
    assert founder(net, C, "#room") == "carol"
    net.link(C, B)
    net.tick(1)  # the hub's answer to c's SYNC does not name #room
    assert stored(net, C, "#room") is None
    assert founder(net, C, "#room") is None
    assert founder(net, C, "#kept") == "carol"


def test_a_hub_restored_from_a_backup_gets_back_the_rooms_registered_since(
    net: CoreNetwork,
) -> None:
    carol = account(net, C, "carol")
    send(net, carol, "JOIN #room", "PRIVMSG #room :one", "PRIVMSG #room :two")
    net.cut(C, B)
    # the hub's store goes back to a backup from before #room and its second message
    hub = net[A].server
    hub.store.db.execute("DELETE FROM messages WHERE text = 'two'")
    hub.store.db.execute("DELETE FROM rooms")
    hub.store.commit()
    channel = hub.state.find_channel("#room")
    assert channel is not None
    hub.state.unregister_channel(channel)
    alice = net.register(A, "alice")
    send(net, alice, "PRIVMSG carol :after the restore")
    net.link(C, B)
    net.tick(1)  # c learns the hub's rows are not its copies, and sends its room back
    for server in (A, B, C):
        record = stored(net, server, "#room")
        assert record is not None and record.founder == "carol", server
        assert founder(net, server, "#room") == "carol", server


def test_a_server_that_joins_late_gets_every_registered_room(net: CoreNetwork) -> None:
    carol = account(net, C, "carol")
    send(net, carol, "JOIN #room", "PART #room")
    net.link(D, C)
    net.tick(1)
    record = stored(net, D, "#room")
    assert record is not None and record.founder == "carol"
    assert founder(net, D, "#room") == "carol"  # empty, and listed there too


def test_two_servers_registering_one_room_at_once_get_the_hubs_first(
    net: CoreNetwork,
) -> None:
    net.link(D, A)
    net.tick(1)
    bob = account(net, B, "bob")
    dan = account(net, D, "dan")
    bob.send("JOIN #same")  # each server opens it for its own user and registers it
    dan.send("JOIN #same")
    net.settle()
    winner = founder(net, A, "#same")
    assert winner in ("bob", "dan")
    for server in (A, B, C, D):
        record = stored(net, server, "#same")
        assert record is not None and record.founder == winner, server
        assert founder(net, server, "#same") == winner, server
    assert net[B].store.handovers() == net[D].store.handovers() == []


def test_a_room_registered_twice_while_apart_keeps_the_hubs_founder(
    net: CoreNetwork,
) -> None:
    bob = account(net, B, "bob")
    carol = account(net, C, "carol")
    net.cut(C, B)
    net.tick(1)
    send(net, bob, "JOIN #same")  # the hub has it from b first
    send(net, carol, "JOIN #same")  # c registered it too, alone
    assert founder(net, C, "#same") == "carol"
    net.link(C, B)
    net.tick(1)
    for server in (A, B, C):
        record = stored(net, server, "#same")
        assert record is not None and record.founder == "bob", server
        assert founder(net, server, "#same") == "bob", server
    assert net[C].store.handovers() == []


def test_room_lines_from_a_server_other_than_the_hub_are_ignored(net: CoreNetwork) -> None:
    carol = account(net, C, "carol")
    send(net, carol, "JOIN #room")
    net.link(D, C)
    net.tick(1)
    from_d = net.wires[frozenset((D, C))][1]  # c's end: lines c receives from d
    forged = json.dumps(
        {
            "name": "#room", "founder": "mallory", "created": 0, "topic": "", "topic_by": "",
            "topic_time": 0, "modes": "nt", "key": None, "limit": None, "bans": [],
            "excepts": [], "invex": [],
        }
    )  # fmt: skip
    from_d.send(
        f":d.test ROOM * :{forged}",  # not the hub's: c and b pass it on, nobody takes it
        ":d.test ROOMDROP * #room",
        f":d.test ROOM a.test :{forged.replace('#room', '#other')}",  # mallory: no account
        ":d.test ROOM a.test :{not json",
        ':d.test ROOM a.test :{"name": "#x"}',
        ":d.test ROOM * :[]",
    )
    net.settle()
    for server in (A, B, C):
        record = stored(net, server, "#room")
        assert record is not None and record.founder == "carol", server
        assert founder(net, server, "#room") == "carol", server
        assert stored(net, server, "#other") is None, server


def test_a_server_that_joins_the_network_keeps_the_rooms_it_had(net: CoreNetwork) -> None:
    account(net, A, "olga").send("QUIT")
    # d.test registered #old to olga before it was linked (as a lone server would have)
    record = RoomRecord("#old", "olga", 1_700_000_000, topic="kept from before")
    net[D].store.save_room(record)
    net[D].store.commit()
    net[D].server.state.load_channel(Channel.from_record(record))
    net.link(D, C)
    net.tick(1)  # d's first SYNC with the hub: it sends its rooms, not forgets them
    for server in (A, B, C, D):
        kept = stored(net, server, "#old")
        assert kept is not None and kept.founder == "olga", server
        assert founder(net, server, "#old") == "olga", server
