"""The soak test's abusive clients (bench/soak.py has the list of kinds and why).

It owns the abusers: their kinds (flood, slowflood, garbage, slowread, stall, badlogin),
what each one sends and when, what the server answers them (tallied in `Stats`), and
their endless cycle of connecting, being dropped, and coming back, from the loopback
addresses other than the honest clients' one. It also owns the decoy accounts the
bad logins aim at (the parent registers them before the load starts).
"""

from __future__ import annotations

import base64
import random
import time

from soak_ledger import Stats
from soak_plan import NS, Net, Peer, Plan, chan_name, error_reason, parse

ABUSE_KINDS = ("flood", "slowflood", "garbage", "slowread", "stall", "badlogin")
DECOYS = ("decoy0", "decoy1", "decoy2")
DECOY_PASSWORD = "decoy-password-1"


class Abuser(Peer):
    def __init__(self, idx: int, kind: str, ip: str) -> None:
        super().__init__()
        self.idx = idx
        self.kind = kind
        self.ip = ip
        self.cycle = 0
        self.nick = b""
        self.attempts = 0
        self.ticks = 0
        self.pings: dict[bytes, int] = {}


class Abusers:
    """One worker's abusive clients: abuser a lives in worker a % workers."""

    def __init__(self, net: Net, wid: int, plan: Plan, rng: random.Random, st: Stats) -> None:
        self.net = net
        self.plan = plan
        self.rng = rng
        self.st = st
        self.clients = [
            Abuser(a, ABUSE_KINDS[a % len(ABUSE_KINDS)], plan.abuse_ips[a % len(plan.abuse_ips)])
            for a in range(wid, plan.abusive, plan.workers)
        ]  # fmt: skip

    def on_timer(self, a: Abuser, action: str) -> None:
        if self.net.stopping:
            return
        if action == "connect":
            self.connect(a)
        elif action == "tick":
            self.tick(a)
        elif action == "blob":
            blob = bytes(self.rng.randrange(14, 256) for _ in range(100_000))
            self.net.send(a, blob)
        elif action == "giveup" and a.sock is not None:
            self.net.close(a)
            self.closed(a, "gave up, still connected")

    def connect(self, a: Abuser) -> None:
        a.cycle += 1
        a.attempts = a.ticks = 0
        a.pings.clear()
        a.nick = b"x%dc%d" % (a.idx, a.cycle)
        user = b"NICK %s\r\nUSER x 0 * :abusive\r\n" % a.nick
        kind, odd = a.kind, a.cycle % 2 == 1
        first = user
        rcvbuf = 0
        if kind == "garbage" and odd:
            first = self.garbage()  # before registering; the blob follows
        elif kind == "stall":
            first = b"NICK %s\r\n" % a.nick if odd else b""
        elif kind == "slowread":
            rcvbuf = 4096
            first = b"CAP REQ :message-tags server-time\r\n" + user + b"CAP END\r\n"
        elif kind == "badlogin":
            if odd:
                first = b"CAP LS 302\r\n" + user + b"CAP REQ :sasl\r\n"
            else:
                first = b"PASS %s:wrong-password\r\n" % self.victim() + user
        if not self.net.open(a, first, a.ip, rcvbuf):
            return
        self.st.abuse_conns[kind] += 1
        if kind == "garbage" and odd:
            self.net.after(a, 0.3, "blob")
        self.net.after(a, 300.0 if kind == "slowread" else 90.0, "giveup")

    def victim(self) -> bytes:
        if self.rng.random() < 0.5:
            return self.rng.choice(DECOYS).encode()
        return b"ghost%d" % self.rng.randrange(1000)

    def garbage(self) -> bytes:
        junk = bytes(self.rng.randrange(14, 256) for _ in range(200))
        return b"".join((
            b"PRIVMSG #abuse :\xff\xfe not utf-8 \xc3\x28\r\n",
            b"PRIVMSG #abuse :a NUL \x00 byte\r\n",
            b"PRIVMSG #abuse :" + b"A" * 600 + b"\r\n",
            b"\x00\x01\x02\x03 binary\r\n",
            junk + b"\r\n",
            b"@" + b"t" * 5000 + b" PRIVMSG #abuse :huge tags\r\n",
        ))  # fmt: skip

    def registered(self, a: Abuser) -> None:
        kind = a.kind
        net = self.net
        if kind == "flood":
            if a.cycle % 2:
                lines = b"JOIN #abuse\r\n" + b"".join(
                    b"PRIVMSG #abuse :flood %d\r\n" % i for i in range(300)
                )
            else:
                lines = b"".join(b"PING :flood%d\r\n" % i for i in range(300))
            net.send(a, lines)
        elif kind == "slowflood":
            net.send(a, b"JOIN #abuse\r\n")
            net.after(a, 0.125, "tick")
        elif kind == "garbage":
            net.send(a, self.garbage())
            net.after(a, 0.5, "blob")
        elif kind == "slowread":
            chans = b",".join(chan_name(j) for j in range(min(10, self.plan.channels)))
            net.send(a, b"JOIN #abuse,%s\r\n" % chans)
            a.reading = False
            net.update_interest(a)
            net.after(a, 0.3, "tick")
        elif kind == "badlogin":
            if a.cycle % 2:
                net.send(a, b"QUIT :done failing\r\n")
            else:
                self.identify(a)

    def identify(self, a: Abuser) -> None:
        a.attempts += 1
        victim = self.victim()
        self.net.send(a, b"PRIVMSG NickServ :IDENTIFY %s not-the-password\r\n" % victim)

    def tick(self, a: Abuser) -> None:
        if a.sock is None:
            return
        a.ticks += 1
        if a.kind == "slowflood":
            line = b"PRIVMSG #abuse :slow flood %d\r\n" % a.ticks
            if a.ticks % 8 == 0:
                token = b"lag%d" % a.ticks
                a.pings[token] = time.monotonic_ns()
                line += b"PING :%s\r\n" % token
            self.net.send(a, line)
            self.net.after(a, 0.125, "tick")
        elif a.kind == "slowread":
            j = a.ticks % min(10, self.plan.channels)
            self.net.send(a, b"HISTORY %s 100\r\n" % chan_name(j))
            self.net.after(a, 0.3, "tick")

    def line(self, a: Abuser, line: bytes) -> None:
        source, verb, params = parse(line)
        replies = self.st.abuse_replies
        net = self.net
        if verb == b"PING":
            net.send(a, b"PONG :%s\r\n" % (params[-1] if params else b""))
        elif verb == b"PONG":
            sent = a.pings.pop(params[-1] if params else b"", 0)
            if sent:
                delay = (time.monotonic_ns() - sent) / NS
                self.st.fakelag_max_s = max(self.st.fakelag_max_s, delay)
        elif verb == b"ERROR":
            a.last_error = line
        elif verb in (b"376", b"422"):
            self.registered(a)
        elif verb == b"CAP" and len(params) >= 2 and params[1] == b"ACK":
            net.send(a, b"AUTHENTICATE PLAIN\r\n")
        elif verb == b"AUTHENTICATE" and params and params[0] == b"+":
            payload = base64.b64encode(b"\0%s\0wrong-password" % self.victim())
            net.send(a, b"AUTHENTICATE %s\r\n" % payload)
        elif verb == b"904":
            replies["904 SASL failed"] += 1
            a.attempts += 1
            net.send(a, b"AUTHENTICATE PLAIN\r\n" if a.attempts < 5 else b"CAP END\r\n")
        elif verb == b"903" or verb == b"900":
            replies["LOGGED IN (must not happen)"] += 1
        elif verb == b"NOTICE":
            text = params[-1] if params else b""
            if source == b"NickServ" and text.startswith(b"Invalid account"):
                replies["IDENTIFY refused"] += 1
                if a.attempts < 5:
                    self.identify(a)
                else:
                    net.send(a, b"QUIT :done failing\r\n")
            elif text.startswith(b"Login failed"):
                replies["PASS login refused"] += 1
        elif verb == b"FAIL" and len(params) >= 2:
            replies["FAIL " + params[1].decode("utf-8", "replace")] += 1
        elif verb in (b"400", b"417", b"421", b"451", b"404", b"461"):
            replies[verb.decode()] += 1

    def closed(self, a: Abuser, reason: str) -> None:
        """The link is gone (closed already): note why, and come back soon."""
        why = error_reason(a.last_error) if a.last_error else f"no ERROR ({reason})"
        self.st.abuse_closed[f"{a.kind}: {why}"] += 1
        life = (time.monotonic_ns() - a.opened_at) / NS
        self.st.abuse_life.setdefault(a.kind, []).append(round(life, 1))
        if not self.net.stopping:
            self.net.after(a, self.rng.uniform(0.5, 2.0), "connect")
