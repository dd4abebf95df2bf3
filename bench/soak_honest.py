"""The soak test's honest users (bench/soak.py has the full story).

It owns what an honest client does and sees: registering (plain, with CAP, or logging in
by SASL PLAIN, PASS or NickServ IDENTIFY; account owners register on their first
connection), joining and rotating channels, messaging channels and MONITORed partners,
QUIT and relogin, answering PINGs, and keeping its view of who is in each channel and
which partners are online, which it reports to the worker's ledger as members come and go.
"""

from __future__ import annotations

import base64
import random
import time

from soak_ledger import Book, Ledger, Stats
from soak_plan import PM_BASE, Net, Peer, Plan, chan_index, chan_name, error_reason, parse

MARK = b" :~S "
CAPS = b"echo-message draft/chathistory"
WORDS = ("soak", "hello", "again", "irc", "channel", "message", "fine", "ok", "lunch", "test")


class Honest(Peer):
    def __init__(self, idx: int, plan: Plan, rng: random.Random) -> None:
        super().__init__()
        self.idx = idx
        self.nick = b"h%d" % idx
        self.has_account = rng.random() < plan.account_share
        self.password = f"pw-{idx}-soak-{plan.seed}"
        self.account_made = False
        n = plan.honest
        partners = {(idx + d) % n for d in (1, 3, 11, n // 2)} - {idx} if n > 1 else set()
        self.partners = sorted(partners)
        self.partner_set = set(partners)
        self.state = "offline"  # offline, registering, active, quitting
        self.sessions = 0
        self.method = ""
        self.registered = False
        self.caps_ok = False
        self.logged_in = False
        self.login_done = False
        self.ever_joined = False
        self.drain = 0  # the drain PING this client waits for the PONG of (0: none)
        # the member view, per confirmed channel: nick -> honest index or -1
        self.channels: dict[int, dict[bytes, int]] = {}
        self.names: dict[int, dict[bytes, int]] = {}  # 353 lines not yet ended by 366
        self.joining: set[int] = set()
        self.parting: set[int] = set()
        self.online: set[int] = set()  # partners MONITOR says are online
        self.book = Book()


class HonestUsers:
    """One worker's honest clients: client i lives in worker i % workers."""

    def __init__(
        self, net: Net, wid: int, plan: Plan, rng: random.Random, st: Stats, ledger: Ledger
    ) -> None:
        self.net = net
        self.plan = plan
        self.rng = rng
        self.st = st
        self.ledger = ledger
        self.clients = [
            Honest(i, plan, random.Random(plan.seed * 7919 + i))
            for i in range(wid, plan.honest, plan.workers)
        ]  # fmt: skip

    def on_timer(self, h: Honest, action: str) -> None:
        if action == "connect":
            self.connect(h)
        elif action == "send":
            self.send_message(h)
        elif action == "rotate":
            self.rotate(h)
        elif action == "relogin":
            self.relogin(h)

    # -- connection and login ----------------------------------------------------------------

    def connect(self, h: Honest) -> None:
        if self.net.stopping or h.sock is not None:
            return
        h.sessions += 1
        h.registered = h.caps_ok = h.logged_in = False
        nick = h.nick = b"h%d" % h.idx
        user = b"NICK %s\r\nUSER %s 0 * :honest %s\r\n" % (nick, nick, nick)
        cap = b"CAP LS 302\r\n"
        req = b"CAP REQ :%s\r\nCAP END\r\n" % CAPS
        pw = h.password.encode()
        if h.has_account and not h.account_made:
            method = "register-ircv3" if h.idx % 2 else "register-nickserv"
        elif h.has_account:
            method = ("sasl", "pass", "identify")[(h.sessions + h.idx) % 3]
        else:
            method = "plain-cap" if h.idx % 2 else "plain"
        h.method = method
        h.login_done = not h.has_account
        if method == "plain":
            first = user
        elif method == "plain-cap":
            first = cap + user + req
        elif method == "register-ircv3":
            register = b"NICK %s\r\nREGISTER * * %s\r\n" % (nick, pw)
            first = cap + register + user[user.find(b"USER") :] + req
        elif method == "sasl":
            first = cap + user + b"CAP REQ :sasl %s\r\n" % CAPS
        elif method == "pass":
            first = b"PASS %s:%s\r\n" % (nick, pw) + user
        else:  # register-nickserv, identify: after registration
            first = user
        if self.net.open(h, first):
            h.state = "registering"
            self.st.events["connections"] += 1
            self.net.after(h, 60.0, "relogin")  # a safety net: a registration that hangs

    def line(self, h: Honest, line: bytes) -> None:
        pos = line.find(MARK)
        if pos > 0 and b" PRIVMSG " in line[:pos]:
            text = line[pos + len(MARK) :]
            if not self.ledger.received(h.idx, h.book, text):
                self.error(h, "malformed marked message", text)
            return
        net = self.net
        source, verb, params = parse(line)
        if verb == b"PING":
            net.send(h, b"PONG :%s\r\n" % (params[-1] if params else b""))
        elif verb == b"PONG":
            token = params[-1] if params else b""
            if h.drain and token == b"drain%d" % h.drain:
                h.drain = 0
        elif verb == b"JOIN":
            self.on_join(h, source, params)
        elif verb == b"353" and len(params) >= 4:
            j = chan_index(params[2])
            if j is not None and j in h.names:
                members = h.names[j]
                for name in params[3].split():
                    nick = name.lstrip(b"@+")
                    members[nick] = self.index(nick)
        elif verb == b"366" and len(params) >= 2:
            self.on_names_end(h, params[1])
        elif verb == b"PART":
            self.on_part(h, source, params)
        elif verb == b"QUIT":
            self.on_quit(h, source)
        elif verb == b"KICK" and len(params) >= 2:
            self.on_part(h, params[1], params[:1])
        elif verb == b"NICK":
            self.on_nick(h, source, params)
        elif verb == b"730" and len(params) >= 2:
            for entry in params[1].split(b","):
                r = self.index(entry.split(b"!", 1)[0])
                if r in h.partner_set and r not in h.online:
                    h.online.add(r)
                    self.ledger.open_view(h.idx, h.book, PM_BASE + r, r)
        elif verb == b"731" and len(params) >= 2:
            for entry in params[1].split(b","):
                r = self.index(entry)
                if r in h.online:
                    h.online.discard(r)
                    self.ledger.close_view(h.idx, h.book, PM_BASE + r, r)
        elif verb in (b"376", b"422"):
            self.on_registered(h)
        elif verb == b"900":
            if not h.logged_in:
                h.logged_in = True
                h.login_done = True
                self.st.logins_ok[h.method] += 1
                if h.method.startswith("register"):
                    h.account_made = True
                self.maybe_activate(h)
        elif verb == b"CAP" and len(params) >= 3:
            self.on_cap(h, params)
        elif verb == b"AUTHENTICATE" and params and params[0] == b"+":
            payload = base64.b64encode(b"\0%s\0%s" % (h.nick, h.password.encode()))
            net.send(h, b"AUTHENTICATE %s\r\n" % payload)
        elif verb == b"903":
            net.send(h, b"CAP END\r\n")
        elif verb == b"904":
            self.login_failed(h, line)
            net.send(h, b"CAP END\r\n")
        elif verb == b"ERROR":
            h.last_error = line
        elif verb == b"NOTICE":
            self.on_notice(h, source, params, line)
        elif verb == b"FAIL":
            if params and params[0] == b"REGISTER":
                self.login_failed(h, line)
            else:
                self.error(h, "FAIL " + b" ".join(params[:2]).decode(), line)
        elif verb == b"401":
            self.st.events["pm_no_such_nick"] += 1  # a partner who just left: a normal race
        elif len(verb) == 3 and verb.isdigit() and verb[0] in b"45":
            self.error(h, verb.decode(), line)

    def on_notice(self, h: Honest, source: bytes, params: list[bytes], line: bytes) -> None:
        text = params[-1] if params else b""
        if source == b"NickServ":
            if text.startswith(b"Invalid account or password"):
                self.login_failed(h, line)
            elif text.startswith(b"You did not log in in time"):
                self.error(h, "renamed by NickServ", line)
        elif b"is offline; your message will be delivered" in text:
            self.st.events["pm_to_offline_account"] += 1
        elif text.startswith(b"Login failed"):
            self.login_failed(h, line)

    def login_failed(self, h: Honest, line: bytes) -> None:
        self.st.logins_failed[h.method] += 1
        self.error(h, f"login failed ({h.method})", line)
        h.login_done = True
        self.maybe_activate(h)

    def error(self, h: Honest, what: str, line: bytes) -> None:
        self.st.honest_errors[what] += 1
        if len(self.st.error_examples) < 20:
            self.st.error_examples.append(f"{h.nick.decode()}: {line[:200]!r}")

    def on_cap(self, h: Honest, params: list[bytes]) -> None:
        sub = params[1].upper()
        if sub == b"ACK":
            acked = params[2].split()
            if b"echo-message" in acked:
                h.caps_ok = True
            if b"sasl" in acked and h.method == "sasl":
                self.net.send(h, b"AUTHENTICATE PLAIN\r\n")
            self.maybe_activate(h)
        elif sub == b"NAK":
            self.error(h, "CAP NAK", b" ".join(params))

    def on_registered(self, h: Honest) -> None:
        if h.registered:
            return
        h.registered = True
        lines = b""
        if not h.caps_ok and h.method in ("plain", "pass", "register-nickserv", "identify"):
            lines += b"CAP REQ :%s\r\n" % CAPS
        pw = h.password.encode()
        if h.method == "register-nickserv":
            lines += b"PRIVMSG NickServ :REGISTER %s\r\n" % pw
        elif h.method == "identify":
            lines += b"PRIVMSG NickServ :IDENTIFY %s %s\r\n" % (h.nick, pw)
        if lines:
            self.net.send(h, lines)
        self.maybe_activate(h)

    def maybe_activate(self, h: Honest) -> None:
        if h.state != "registering" or not (h.registered and h.caps_ok and h.login_done):
            return
        net = self.net
        if net.stopping:
            return
        h.state = "active"
        h.gen += 1  # drops the registration safety timer
        plan = self.plan
        lines = b""
        if h.partners:
            nicks = b",".join(b"h%d" % r for r in h.partners)
            lines += b"MONITOR + %s\r\n" % nicks
        want = self.rng.randint(1, 3)
        chosen = self.rng.sample(range(plan.channels), min(want, plan.channels))
        h.joining = set(chosen)
        lines += b"JOIN %s\r\n" % b",".join(chan_name(j) for j in chosen)
        net.send(h, lines)
        self.st.events["joins"] += len(chosen)
        net.after(h, self.rng.uniform(*plan.msg_every), "send")
        net.after(h, self.rng.uniform(*plan.rotate_every), "rotate")
        net.after(h, self.rng.uniform(*plan.relogin_every), "relogin")

    def relogin(self, h: Honest) -> None:
        if self.net.stopping or h.sock is None:
            return
        if h.state == "registering":
            self.error(h, "registration took over 60 s", b"")
        h.state = "quitting"
        self.net.send(h, b"QUIT :relogin\r\n")
        self.st.events["relogins"] += 1

    def closed(self, h: Honest, reason: str) -> None:
        """The link is gone (closed already); a failure unless the client QUIT."""
        if h.state != "quitting":
            why = error_reason(h.last_error) if h.last_error else reason
            self.st.honest_disconnects[why] += 1
            if len(self.st.error_examples) < 20:
                self.st.error_examples.append(f"{h.nick.decode()} disconnected: {why}")
        self.end_session(h)
        h.state = "offline"
        if not self.net.stopping:
            self.net.after(h, self.rng.uniform(*self.plan.offline_for), "connect")

    def end_session(self, h: Honest) -> None:
        """The link is gone: everyone leaves this client's view."""
        self.ledger.end_session(h.idx, h.book)
        h.channels.clear()
        h.names.clear()
        h.joining.clear()
        h.parting.clear()
        h.online.clear()
        h.drain = 0

    # -- membership view -----------------------------------------------------------------------

    def index(self, nick: bytes) -> int:
        """The honest client with this nick, or -1."""
        if nick[:1] == b"h" and nick[1:].isdigit():
            r = int(nick[1:])
            if r < self.plan.honest and nick == b"h%d" % r:
                return r
        return -1

    def on_join(self, h: Honest, source: bytes, params: list[bytes]) -> None:
        if not params:
            return
        j = chan_index(params[0])
        if j is None:
            return
        if source == h.nick:
            h.names[j] = {}
        elif j in h.channels:
            r = self.index(source)
            h.channels[j][source] = r
            self.ledger.open_view(h.idx, h.book, j, r)

    def on_names_end(self, h: Honest, name: bytes) -> None:
        j = chan_index(name)
        if j is None or j not in h.names:
            return
        members = h.names.pop(j)
        h.channels[j] = members
        h.joining.discard(j)
        for r in members.values():
            self.ledger.open_view(h.idx, h.book, j, r)
        if not h.joining:
            h.ever_joined = True

    def on_part(self, h: Honest, source: bytes, params: list[bytes]) -> None:
        if not params:
            return
        j = chan_index(params[0])
        if j is None or j not in h.channels:
            return
        if source == h.nick:
            self.ledger.leave(h.idx, h.book, j)
            del h.channels[j]
            h.parting.discard(j)
            return
        r = h.channels[j].pop(source, -1)
        self.ledger.close_view(h.idx, h.book, j, r)

    def on_quit(self, h: Honest, source: bytes) -> None:
        for j, members in h.channels.items():
            if source in members:
                r = members.pop(source)
                self.ledger.close_view(h.idx, h.book, j, r)

    def on_nick(self, h: Honest, source: bytes, params: list[bytes]) -> None:
        if not params:
            return
        new = params[0]
        if source == h.nick:
            self.error(h, "own nick changed", b"NICK " + new)
            h.nick = new  # to know its own JOIN and PART echoes (a failure all the same)
            return
        for members in h.channels.values():
            if source in members:
                members[new] = members.pop(source)  # the same client: its view goes on

    # -- messages and channel changes --------------------------------------------------------

    def send_message(self, h: Honest) -> None:
        if self.net.stopping or h.state != "active":
            return
        rng = self.rng
        self.net.after(h, rng.uniform(*self.plan.msg_every), "send")
        chans = [j for j in h.channels if j not in h.parting]
        partners = [r for r in h.online if r in h.partner_set]
        if partners and (rng.random() < self.plan.pm_share or not chans):
            r = rng.choice(partners)
            t, where, kind = PM_BASE + r, b"h%d" % r, "private"
        elif chans:
            j = rng.choice(chans)
            t, where, kind = j, chan_name(j), "channel"
        else:
            return
        k = self.ledger.next_seq(h.book, t)
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 12))).encode()
        line = b"PRIVMSG %s :~S %d %d %d %d %s\r\n" % (
            where, h.idx, t, k, time.monotonic_ns(), words
        )  # fmt: skip
        self.net.send(h, line)
        self.st.sent[kind] += 1

    def rotate(self, h: Honest) -> None:
        if self.net.stopping or h.state != "active":
            return
        rng = self.rng
        self.net.after(h, rng.uniform(*self.plan.rotate_every), "rotate")
        lines = b""
        settled = [j for j in h.channels if j not in h.parting]
        if len(settled) > 1 or (settled and rng.random() < 0.5):
            j = rng.choice(settled)
            h.parting.add(j)
            lines += b"PART %s :rotating\r\n" % chan_name(j)
            self.st.events["parts"] += 1
        busy = set(h.channels) | h.joining
        if len(busy) - len(h.parting) < 3:
            free = [j for j in range(self.plan.channels) if j not in busy]
            if free:
                j = rng.choice(free)
                h.joining.add(j)
                lines += b"JOIN %s\r\n" % chan_name(j)
                self.st.events["joins"] += 1
        if lines:
            self.net.send(h, lines)
