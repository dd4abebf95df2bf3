"""Nothing lost when a link between two miniircd servers breaks and comes back.

A line written to a socket that breaks may never be read at the other end, and neither
side can tell which. On a tags link (core.link: both sides miniircd) each side therefore
numbers the message lines (PRIVMSG, NOTICE, TAGMSG) it sends in a *session* and keeps
them in a journal until the peer acknowledges them; after a relink the peer says how many
it took, and the rest are sent again, after the new burst (so their senders and
recipients are known again), in their order and before any newer line. A message is thus
shown once on the far side, whether it crossed before the cut or after the relink.

The memory of a peer (`PeerMemory`, in `State.peer_memory`) outlives its link; a restart
forgets it (what a server had not yet passed on is then lost: docs/linking.md).

Two lines of our dialect, on tags links only:
- `:<us> SESSION <ours> <theirs> <count>`, our first line once the link is up: `ours`
  names our new sending session; `theirs` the peer's last session we heard of (`*`: none)
  and `count` how many of its message lines we took.
- `:<us> ACK <count>`: we have taken `count` message lines of the peer's session (sent at
  most once a second, when the count moved), so the peer can forget them.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

from miniircd.core import links
from miniircd.core.link import Link
from miniircd.core.serverline import ResentLine
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.link")


def start(server: Server, link: Link) -> None:
    """The tags link is up: open our new session, and tell the peer what we took of its
    last one."""
    memory = server.state.peer_memory(link.block.name)
    if memory.out_session is not None:  # what the peer may not have taken: on its word
        memory.unsent.append((memory.out_session, memory.journal))
    memory.journal = deque()
    memory.out_session = server.ids.msgid()
    memory.out_count = 0
    link.memory = memory
    params = [memory.out_session, memory.in_session or "*", str(memory.in_count)]
    links.send(server, link, links.server_line(server.name, "SESSION", params))


# SESSION <theirs> <ours> <count>   (tags links: see the module docstring)
def session(server: Server, link: Link, msg: Message) -> None:
    memory = link.memory
    if memory is None or len(msg.params) < 3 or not msg.params[2].isdigit():
        return
    memory.in_session, memory.in_count, memory.acked = msg.params[0], 0, 0
    taken = int(msg.params[2])
    sessions = [name for name, _ in memory.unsent]
    if msg.params[1] not in sessions:  # none of ours it heard of (it restarted): none owed
        memory.unsent = []
        return
    # That session's lines after `taken`, then the later sessions' own lines (what they
    # sent again is in the first already). They are kept until the peer names a later
    # session: this relink too may break before our SESSION reaches it.
    first = sessions.index(msg.params[1])
    memory.unsent = memory.unsent[first:]
    resent = [line for number, line in memory.unsent[0][1] if number > taken]
    for _, journal in memory.unsent[1:]:
        resent += [line for _, line in journal if not isinstance(line, ResentLine)]
    for line in resent:
        links.send(server, link, ResentLine(line))
    log.info("link %s: %d message lines sent again", link.block.name, len(resent))


# ACK <count>
def ack(server: Server, link: Link, msg: Message) -> None:
    memory = link.memory
    if memory is None or not msg.params[0].isdigit():
        return
    taken = int(msg.params[0])
    while memory.journal and memory.journal[0][0] <= taken:
        memory.journal.popleft()


def took(link: Link) -> None:
    """A message line came from the peer: one more of its session taken."""
    if link.memory is not None:
        link.memory.in_count += 1


def stop(link: Link) -> None:
    """The link is lost: the message lines still queued for it join the journal."""
    memory, link.memory = link.memory, None
    if memory is not None:
        for line in link.queued_messages():
            memory.keep(line)


def tick(server: Server) -> None:
    """Tell each tags peer how far we got, when that moved."""
    for link in server.state.links.values():
        memory = link.memory
        if link.up and memory is not None and memory.acked != memory.in_count:
            memory.acked = memory.in_count
            links.send(server, link, links.server_line(server.name, "ACK", [str(memory.acked)]))
