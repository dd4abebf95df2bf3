"""Client-initiated batches: BATCH and the lines of a `draft/multiline` batch.

The only batch a client may open is IRCv3 `draft/multiline`
(ircv3.net/specs/extensions/multiline): `BATCH +<ref> draft/multiline <target>`, then
`@batch=<ref> PRIVMSG <target> :<line>` (a line may carry `draft/multiline-concat`),
then `BATCH -<ref>`. While a batch is open, `collect` takes the session's lines before
they are dispatched; when it closes, the lines become one message (`core.multiline`) that
goes through PRIVMSG or NOTICE like any other (every check, the store, delivery,
echo-message, 301), and so is stored as one row.

Where the spec leaves room, this server:
- accepts NOTICE batches as well as PRIVMSG ones (every line the same verb), as Ergo does;
- checks the limits as each line comes (`multiline_max_bytes`, counted as the spec does
  with one byte per line feed between lines; `multiline_max_lines`) and refuses the batch
  at the first line past one; the refused batch's later lines are dropped without a word
  until its `BATCH -<ref>`;
- refuses at once (MULTILINE_INVALID) a line with another batch's reference, a command
  other than the batch's verb, a nested `BATCH +`, a blank line with the concat tag, and
  when it closes a batch without lines or with only blank ones; a line without any batch
  tag ends the open batch the same way and is then handled as usual (it may be a QUIT);
- treats a concat tag on the first line as meaningless (there is nothing to join it to);
- sends a batch of one line as that one line, to every client: it is the same message;
- refuses a batch to a service (they take one command per line) or with several targets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniircd.core import multiline
from miniircd.core.commands import messages
from miniircd.core.errors import Fail
from miniircd.core.history import client_tags
from miniircd.core.multiline import OpenBatch
from miniircd.core.session import Session
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server

INVALID = "MULTILINE_INVALID"


# BATCH +<ref> draft/multiline <target>   |   BATCH -<ref>
def batch(server: Server, session: Session, msg: Message) -> None:
    """Opens a batch; a `BATCH -<ref>` arrives here only when no batch is open (`collect`
    takes it otherwise)."""
    ref = msg.params[0]
    if ref[:1] == "-":
        raise Fail("BATCH", INVALID, "No such batch is open")
    if ref[:1] != "+" or len(ref) < 2:
        raise Fail("BATCH", INVALID, "Invalid batch reference")
    if len(msg.params) < 2 or msg.params[1] != multiline.BATCH_TYPE:
        raise Fail("BATCH", INVALID, "Only draft/multiline batches can be sent")
    if not multiline.wants_batch(session):
        raise Fail("BATCH", INVALID, "Negotiate draft/multiline and batch first")
    if len(msg.params) != 3 or not msg.params[2]:
        raise Fail("BATCH", INVALID, "A multiline batch needs exactly one target")
    target = msg.params[2]
    if "," in target or fold(target) in messages.SERVICES:
        raise Fail("BATCH", "MULTILINE_INVALID_TARGET", target, target, "Invalid multiline target")
    label = msg.tags.get("label") if "labeled-response" in session.caps else None
    session.multiline = OpenBatch(ref[1:], target, client_tags(msg.tags), label)


def collect(server: Server, session: Session, msg: Message) -> bool:
    """A line from a session with an open batch: take it as part of the batch (True), or
    end the batch and leave the line to be handled as usual (False). What ends the batch
    (its delivery, or its refusal) is the answer to its opening line, with its label."""
    open_batch = session.multiline
    assert open_batch is not None
    closing = msg.verb == "BATCH" and msg.params[:1] == [f"-{open_batch.ref}"]
    outside = msg.verb != "BATCH" and "batch" not in msg.tags
    opening = msg.verb == "BATCH" and msg.params[:1] != [] and msg.params[0][:1] == "+"
    if open_batch.failed:
        # its lines are dropped until it closes, or until a line or batch outside it
        if closing or outside or opening:
            session.multiline = None
        return closing or not (outside or opening)
    if closing or outside:
        session.multiline = None
    start = len(session.outq)
    try:
        if closing:
            from miniircd.core.dispatch import guarded  # here: dispatch imports this module

            guarded(server, session, "BATCH", _deliver, server, session, open_batch)
        elif outside:
            raise Fail("BATCH", INVALID, "The multiline batch was never closed")
        elif opening:
            raise Fail("BATCH", INVALID, "Batches cannot be nested")
        else:
            _add(server, open_batch, msg)
            return True  # no answer yet
    except Fail as refusal:
        open_batch.failed = True
        server.outbox.refuse(session, refusal)
    # its lines came in free of flood control (core.flood): they count now, at its end
    server.flood.charge(session, len(open_batch.lines), server.now)
    if open_batch.label is not None:
        server.outbox.label(session, start, open_batch.label)
        open_batch.label = None
    return not outside


def _add(server: Server, open_batch: OpenBatch, msg: Message) -> None:
    """One more line of the open batch, checked against the spec and the limits."""
    if msg.tags.get("batch") != open_batch.ref:
        raise Fail("BATCH", INVALID, "Unexpected batch reference")
    verb = open_batch.verb or msg.verb
    if msg.verb != verb or verb not in ("PRIVMSG", "NOTICE"):
        raise Fail("BATCH", INVALID, "A multiline batch holds only PRIVMSG or only NOTICE lines")
    if len(msg.params) != 2:
        raise Fail("BATCH", INVALID, "Each line needs a target and a text")
    target, text = msg.params
    if fold(target) != fold(open_batch.target):
        raise Fail(
            "BATCH", "MULTILINE_INVALID_TARGET", open_batch.target, target,
            "Invalid multiline target",
        )  # fmt: skip
    concat = multiline.CONCAT in msg.tags
    if concat and not text:
        raise Fail("BATCH", INVALID, "A blank line cannot be concatenated")
    joined = concat and bool(open_batch.lines)
    config = server.config
    if len(open_batch.lines) >= config.multiline_max_lines:
        limit = str(config.multiline_max_lines)
        raise Fail("BATCH", "MULTILINE_MAX_LINES", limit, "Multiline batch max-lines exceeded")
    size = open_batch.size + len(text.encode()) + (1 if open_batch.lines and not joined else 0)
    if size > config.multiline_max_bytes:
        limit = str(config.multiline_max_bytes)
        raise Fail("BATCH", "MULTILINE_MAX_BYTES", limit, "Multiline batch max-bytes exceeded")
    open_batch.verb = verb
    open_batch.size = size
    open_batch.lines.append((text, joined))


def _deliver(server: Server, session: Session, open_batch: OpenBatch) -> None:
    """The closed batch, sent as one PRIVMSG or NOTICE (see `core.multiline`)."""
    if not any(text for text, _ in open_batch.lines):
        raise Fail("BATCH", INVALID, "A multiline message needs some text")
    text = multiline.join(open_batch.lines)
    line = Message(open_batch.verb, [open_batch.target, text], None, open_batch.tags)
    if open_batch.verb == "PRIVMSG":
        messages.privmsg(server, session, line)
    else:
        messages.notice(server, session, line)
