"""A services network: a hub (a.test) that keeps the accounts and a leaf (b.test) linked to
it, both with `[accounts] services_hub = "a.test"` (docs/linking.md "Services hub"). What a
login and a history fetch cost on the hub beside on the leaf, and each server's memory.

The hub on 127.0.0.31, the leaf on 127.0.0.32 dialing it (a `[[links]]` block each, tags
link); both with compare.py's lifted limits (bench/unlimited.toml) and both on CPU 0, as
linked.py runs its networks; this script's clients run on CPU 1.
  accounts  one account per concurrent login, created with REGISTER on the hub (each one
            an scrypt hash there; see store/passwords.py)
  login     SASL PLAIN, timed from `AUTHENTICATE <base64>` to 903 and over the whole
            login (connect to 903): N one at a time, alternating hub and leaf, then
            rounds of B at once on each (every client first waits at `AUTHENTICATE +`,
            then all send their password together: the queue at the hub's hashing). On
            the leaf the hub checks the password (SVCREQ LOGIN over the link); a login
            the leaf gives up on (services_timeout) is counted as failed.
  history   a room with M messages, half sent by a client on each server (each server's
            watcher must have seen them all), then `CHATHISTORY LATEST #room * 100` round
            trips (send to the end of the batch), alternating hub and leaf; and whether both
            servers gave the same msgids for the same query. Whether the leaf answers from
            what it saw itself or from a copy of the hub's, the figure is what a client
            on it waits.
  memory    each server's RSS once linked and after the run, and its CPU time.

Usage:
  python bench/hub.py                # 40 logins one at a time, 3 rounds of 50 at once,
                                     # 2,000 messages, 100 fetches per server (~1 min)
  python bench/hub.py --quick        # tiny sizes: a smoke test (~10 s)
  python bench/hub.py --logins 100 --batch 100 --messages 5000
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import compare
from compare import Miniircd
from linked import settle

from common import Client, percentile, raise_fd_limit
from miniircd.store import passwords

HUB, LEAF = "a.test", "b.test"
HOSTS = {HUB: "127.0.0.31", LEAF: "127.0.0.32"}
LINK_PASSWORDS = {HUB: "hub-bench-a", LEAF: "hub-bench-b"}  # what each one sends
PASSWORD = "hub-bench-password"
ROOM = "#room"
FETCH = 100  # CHATHISTORY LATEST <room> * FETCH: chathistory_max's default
CHUNK = 50  # messages a sender writes before waiting for its PONG
TIMEOUT = 120.0
T = TypeVar("T")


@dataclass
class Figures:
    """What one server measured, by row."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, row: str, value: float) -> None:
        self.samples.setdefault(row, []).append(value)


# -- the network -----------------------------------------------------------------------------


def link_block(peer: str, dial: Miniircd | None) -> str:
    """A `[[links]]` block for `peer`: dialing `dial`'s port, or waiting for it to dial."""
    me = LEAF if peer == HUB else HUB
    text = (f'\n[[links]]\nname = "{peer}"\nsend_password = "{LINK_PASSWORDS[me]}"\n'
            f'accept_password = "{LINK_PASSWORDS[peer]}"\n')  # fmt: skip
    if dial is not None:
        text += f'host = "{dial.host}"\nport = {dial.port}\nconnect = true\nretry = 1\n'
    return text


def start_network() -> tuple[Miniircd, Miniircd]:
    """The hub and the leaf, started and linked (the probes of linked.py have crossed)."""
    hub, leaf = (Miniircd("miniircd", compare.REPO / "src") for _ in range(2))
    for target, name in ((hub, HUB), (leaf, LEAF)):
        target.host, target.name = HOSTS[name], name
    services = f'\n[accounts]\nservices_hub = "{HUB}"\n'
    hub.extra = services + link_block(LEAF, None)
    hub.start()
    try:
        leaf.extra = services + link_block(HUB, hub)
        leaf.start()
        settle([(hub.host, hub.port), (leaf.host, leaf.port)], 0)
    except BaseException:
        leaf.stop()
        hub.stop()
        raise
    return hub, leaf


# -- accounts and logins ---------------------------------------------------------------------


async def register_accounts(hub: Miniircd, count: int) -> float:
    """Create accounts acct0..acct<count-1> on the hub, 4 at a time; the seconds it took."""
    started = time.perf_counter()
    queue = list(range(count))

    async def worker() -> None:
        while queue:
            index = queue.pop()
            client = await Client.connect(hub.port, hub.host)
            await client.register(f"acct{index}")
            client.send(f"REGISTER * * {PASSWORD}")
            line = await client.expect(r" (REGISTER SUCCESS|FAIL REGISTER) ", TIMEOUT)
            client.send("QUIT")
            client.close()
            if "SUCCESS" not in line:
                raise RuntimeError(f"REGISTER acct{index} refused: {line}")

    await asyncio.gather(*(worker() for _ in range(4)))
    return time.perf_counter() - started


class Login:
    """One client's SASL PLAIN login, in two halves: up to the server's `AUTHENTICATE +`,
    then from sending the credentials to 903."""

    serial = 0

    def __init__(self, target: Miniircd, account: str) -> None:
        self.target = target
        self.account = account
        Login.serial += 1
        self.nick = f"{target.name[0]}{Login.serial}"
        self.client: Client | None = None
        self.connected = 0.0

    async def prepare(self) -> None:
        self.connected = time.perf_counter()
        client = self.client = await Client.connect(self.target.port, self.target.host)
        client.send("CAP LS 302", f"NICK {self.nick}", f"USER {self.nick} 0 * :bench",
                    "CAP REQ :sasl")  # fmt: skip
        await client.expect(r" CAP \S+ ACK ", TIMEOUT)
        client.send("AUTHENTICATE PLAIN")
        await client.expect(r"^AUTHENTICATE \+$", TIMEOUT)

    def credentials(self) -> str:
        payload = base64.b64encode(f"\0{self.account}\0{PASSWORD}".encode()).decode()
        return f"AUTHENTICATE {payload}"

    async def finish(self, sent: float) -> tuple[float, float] | None:
        """Wait for the end of the login after the credentials went at `sent`: on 903,
        (ms from them, ms from connecting); None if it failed (904 and the like, e.g. when
        the leaf gave up waiting for the hub). Then end the connection."""
        assert self.client is not None
        line = await self.client.expect(r" (90[2-9]) ", TIMEOUT)
        done = time.perf_counter()
        self.client.send("CAP END", "QUIT")
        self.client.close()
        if " 903 " not in line:
            print(f"  login of {self.account} on {self.target.name}: {line}", file=sys.stderr)
            return None
        return (done - sent) * 1000, (done - self.connected) * 1000


async def logins_one_at_a_time(
    targets: list[Miniircd], count: int, accounts: int, figures: dict[str, Figures]
) -> None:
    for index in range(count):
        for target in targets:  # alternating: background load hits both alike
            login = Login(target, f"acct{index % accounts}")
            await login.prepare()
            assert login.client is not None
            sent = time.perf_counter()
            login.client.send(login.credentials())
            result = await login.finish(sent)
            figures[target.name].add("failed", result is None)
            if result is not None:
                figures[target.name].add("seq_auth", result[0])
                figures[target.name].add("seq_whole", result[1])


async def logins_at_once(target: Miniircd, batch: int, rounds: int, figures: Figures) -> None:
    for _ in range(rounds):
        logins = [Login(target, f"acct{index}") for index in range(batch)]
        await asyncio.gather(*(login.prepare() for login in logins))
        started = time.perf_counter()
        sends = []
        for login in logins:
            assert login.client is not None
            sends.append(time.perf_counter())
            login.client.send(login.credentials())
        pairs = zip(logins, sends, strict=True)
        results = await asyncio.gather(*(one.finish(at) for one, at in pairs))
        figures.add("batch_s", time.perf_counter() - started)
        for result in results:
            figures.add("failed", result is None)
            if result is not None:
                figures.add("batch_auth", result[0])


# -- history ---------------------------------------------------------------------------------


async def modern(target: Miniircd, nick: str) -> Client:
    client = await Client.connect(target.port, target.host)
    client.send("CAP LS 302", "CAP REQ :batch message-tags server-time draft/chathistory")
    await client.expect(r" CAP \S+ ACK ", TIMEOUT)
    client.send("CAP END")
    await client.register(nick)
    client.send(f"JOIN {ROOM}")
    await client.expect(rf" 366 {nick} ", TIMEOUT)
    return client


async def all_joined(clients: list[Client], nicks: list[str]) -> None:
    """Ask NAMES on each client's server until it lists all `nicks` (the JOINs crossed)."""
    for client in clients:
        async with asyncio.timeout(TIMEOUT):
            while True:
                client.send(f"NAMES {ROOM}")
                names = await client.expect(rf" 353 \S+ = {ROOM} :")
                await client.expect(rf" 366 \S+ {ROOM} ")
                present = {n.lstrip("@+~&%") for n in names.split(" :", 1)[1].split()}
                if set(nicks) <= present:
                    break
                await asyncio.sleep(0.05)


async def fill_room(hub: Miniircd, leaf: Miniircd, messages: int) -> dict[str, Client]:
    """`messages` in the room, half sent on each server; the fetching clients (one on each
    server, joined first) return once each has seen them all."""
    fetchers = {t.name: await modern(t, f"fetch{t.name[0]}") for t in (hub, leaf)}
    senders = [await modern(t, f"send{t.name[0]}") for t in (hub, leaf)]
    await all_joined(list(fetchers.values()), ["fetcha", "fetchb", "senda", "sendb"])

    async def send(client: Client, side: int) -> None:
        share = messages // 2 + (messages % 2 if side == 0 else 0)
        for start in range(0, share, CHUNK):
            chunk = range(start, min(share, start + CHUNK))
            client.send(*(f"PRIVMSG {ROOM} :side {side} message {n}" for n in chunk))
            client.send(f"PING :chunk{start}")
            await client.expect(rf"PONG .*chunk{start}$", TIMEOUT)

    async def watch(client: Client) -> None:
        seen = 0
        while seen < messages:
            await client.expect(rf" PRIVMSG {ROOM} :side ", TIMEOUT)
            seen += 1

    await asyncio.gather(*(send(c, i) for i, c in enumerate(senders)),
                         *(watch(c) for c in fetchers.values()))  # fmt: skip
    for client in senders:
        client.send("QUIT")
        client.close()
    return fetchers


async def fetch(client: Client) -> tuple[float, list[tuple[str, str]]]:
    """One `CHATHISTORY LATEST`: ms from sending it to the end of its batch, and the
    (msgid, text) of each message in it."""
    started = time.perf_counter()
    client.send(f"CHATHISTORY LATEST {ROOM} * {FETCH}")
    opened = await client.expect(r" (BATCH \+\S+ chathistory |FAIL CHATHISTORY )", TIMEOUT)
    found = re.search(r"BATCH \+(\S+)", opened)
    if found is None:
        raise RuntimeError(opened)
    ref = re.escape(found.group(1))
    got = []
    while True:
        line = await client.expect(rf"(batch={ref}[;\s]| BATCH -{ref}$)", TIMEOUT)
        if re.search(rf" BATCH -{ref}$", line):
            break
        msgid = re.search(r"(?:^@|;)msgid=([^;\s]+)", line)
        got.append((msgid.group(1) if msgid else "?", line.rsplit(" :", 1)[-1]))
    return (time.perf_counter() - started) * 1000, got


@dataclass
class Compared:
    """How the hub's answers compared with the leaf's to the same queries."""

    pairs: int = 0
    identical: int = 0  # the same msgids in the same order
    same_set: int = 0  # the same msgids, in any order
    same_texts: int = 0  # the same messages by their text, in any order
    in_both: int = 0  # messages (by text) in both answers, over all the pairs ...
    same_msgid: int = 0  # ... and of those, how many carry the same msgid on both
    out_of_place: int = 0  # positions whose msgids differ, in the last pair ...
    last_length: int = 0  # ... of this many (the longer answer's)

    def add(self, hub: list[tuple[str, str]], leaf: list[tuple[str, str]]) -> None:
        hub_ids, leaf_ids = [m for m, _ in hub], [m for m, _ in leaf]
        self.pairs += 1
        self.identical += hub_ids == leaf_ids
        self.same_set += sorted(hub_ids) == sorted(leaf_ids)
        self.same_texts += sorted(t for _, t in hub) == sorted(t for _, t in leaf)
        leaf_by_text = {text: msgid for msgid, text in leaf}
        both = [(msgid, leaf_by_text[text]) for msgid, text in hub if text in leaf_by_text]
        self.in_both += len(both)
        self.same_msgid += sum(a == b for a, b in both)
        self.out_of_place = sum(a != b for a, b in zip(hub_ids, leaf_ids, strict=False))
        self.last_length = max(len(hub_ids), len(leaf_ids))
        self.out_of_place += self.last_length - min(len(hub_ids), len(leaf_ids))

    def summary(self) -> str:
        verdict = "yes" if self.pairs and self.identical == self.pairs else "no"
        return (
            f"Same msgids from both servers for the same query: {verdict}. Of {self.pairs} "
            f"query pairs: {self.identical} identical (msgids and order), {self.same_set} "
            f"with the same msgids in some order, {self.same_texts} with the same messages "
            f"by text; in the last pair {self.out_of_place} of {self.last_length} positions "
            f"hold different msgids. A message both servers returned had the same msgid on both "
            f"{self.same_msgid:,} times of {self.in_both:,}."
        )


async def fetches(fetchers: dict[str, Client], count: int, figures: dict[str, Figures]) -> Compared:
    """`count` fetches on each server, alternating; how the answers compared. First, on
    each server, untimed fetches until two in a row give the same answer: whatever a
    server still had to store (or copy from the hub) is in."""
    for client in fetchers.values():
        async with asyncio.timeout(TIMEOUT):
            previous: list[tuple[str, str]] = []
            while True:
                _, messages = await fetch(client)
                if messages and messages == previous:
                    break
                previous = messages
                await asyncio.sleep(0.05)
    compared = Compared()
    for _ in range(count):
        got = {}
        for name, client in fetchers.items():
            ms, messages = await fetch(client)
            figures[name].add("fetch", ms)
            figures[name].add("fetch_lines", len(messages))
            got[name] = messages
        compared.add(got[HUB], got[LEAF])
    return compared


# -- the run ---------------------------------------------------------------------------------


def hash_cost() -> tuple[str, float]:
    """The server's password hash as configured in store/passwords.py, and what one takes
    here (in this process, on CPU 1)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        passwords.hash_password(PASSWORD)
        times.append((time.perf_counter() - started) * 1000)
    ms = statistics.median(times)
    kind = f"scrypt n=2^{passwords.SCRYPT_LOG2_N}, r={passwords.SCRYPT_R}, p={passwords.SCRYPT_P}"
    return kind, ms


def failures(flags: list[float]) -> str:
    return f"{sum(flags):.0f} / {len(flags)}"


def cell(values: list[float] | None, digits: int = 1) -> str:
    if not values:
        return "-"
    return (f"{percentile(values, 0.5):,.{digits}f} / {percentile(values, 0.9):,.{digits}f} / "
            f"{percentile(values, 0.99):,.{digits}f} ({len(values)})")  # fmt: skip


async def measure(hub: Miniircd, leaf: Miniircd, args: argparse.Namespace) -> dict[str, Any]:
    logins, batch, rounds = args.logins, args.batch, args.rounds
    figures = {HUB: Figures(), LEAF: Figures()}

    async def step(what: str, work: Awaitable[T]) -> T:
        started = time.monotonic()
        result = await work
        print(f"  {what:<44} {time.monotonic() - started:6.1f} s", file=sys.stderr, flush=True)
        return result

    accounts = max(batch, 1)
    took = await step(f"REGISTER {accounts} accounts on the hub", register_accounts(hub, accounts))
    await step(f"{logins} logins one at a time on each",
               logins_one_at_a_time([hub, leaf], logins, accounts, figures))  # fmt: skip
    for target in (hub, leaf):
        await step(f"rounds of {batch} logins at once (x{rounds}) on {target.name}",
                   logins_at_once(target, batch, rounds, figures[target.name]))  # fmt: skip
    fetchers = await step(
        f"{args.messages:,} messages in {ROOM}", fill_room(hub, leaf, args.messages)
    )
    compared = await step(
        f"{args.fetches} fetches on each", fetches(fetchers, args.fetches, figures)
    )
    for client in fetchers.values():
        client.close()
    note = f"{accounts} accounts registered on the hub (4 at a time) in {took:.1f} s."
    return {"figures": figures, "compared": compared, "note": note}


def report(result: dict[str, Any], args: argparse.Namespace) -> list[str]:
    figures: dict[str, Figures] = result["figures"]
    batch, rounds = args.batch, args.rounds
    rows: list[tuple[str, Callable[[str], str]]] = [
        ("SASL PLAIN one at a time, `AUTHENTICATE <base64>` → 903, ms",
         lambda n: cell(figures[n].samples.get("seq_auth"))),
        ("SASL PLAIN one at a time, whole login (connect → 903), ms",
         lambda n: cell(figures[n].samples.get("seq_whole"))),
        (f"SASL PLAIN, {batch} at once (rounds: {rounds}), `AUTHENTICATE <base64>` → 903, ms",
         lambda n: cell(figures[n].samples.get("batch_auth"))),
        (f"{batch} at once: first credentials sent → last answer, s (median of rounds)",
         lambda n: f"{statistics.median(figures[n].samples.get('batch_s') or [0]):.2f}"),
        ("logins that failed (904 and the like) / tried",
         lambda n: failures(figures[n].samples.get("failed", []))),
        (f"`CHATHISTORY LATEST {ROOM} * {FETCH}` → end of batch, ms",
         lambda n: cell(figures[n].samples.get("fetch"), 2)),
        ("messages per fetched batch (min / max)",
         lambda n: "{:.0f} / {:.0f}".format(min(figures[n].samples.get("fetch_lines") or [0]),
                                            max(figures[n].samples.get("fetch_lines") or [0]))),
        ("RSS linked, before the first login → after the run, MiB",
         lambda n: f"{result['rss_start_kib'][n] / 1024:.1f} → {result['rss_kib'][n] / 1024:.1f}"),
        ("CPU time from start to the end of the run, s", lambda n: f"{result['cpu_s'][n]:.1f}"),
    ]  # fmt: skip
    lines = [f"| figure: p50 / p90 / p99 (count) | hub ({HUB}) | leaf ({LEAF}) |",
             "| --- | --- | --- |"]  # fmt: skip
    lines += [f"| {label} | {value(HUB)} | {value(LEAF)} |" for label, value in rows]
    lines += ["", result["compared"].summary()]
    return lines


def main() -> int:
    parser = compare.parser_for(__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--logins", type=int, help="logins one at a time on each (40)")
    parser.add_argument("--batch", type=int, help="logins at once in a round (50)")
    parser.add_argument("--rounds", type=int, help="rounds of logins at once on each (3)")
    parser.add_argument("--messages", type=int, help="messages in the room (2000)")
    parser.add_argument("--fetches", type=int, help="CHATHISTORY round trips on each (100)")
    args = parser.parse_args()
    sizes = (5, 5, 1, 200, 10) if args.quick else (40, 50, 3, 2000, 100)
    for name, default in zip(("logins", "batch", "rounds", "messages", "fetches"), sizes,
                             strict=True):  # fmt: skip
        if getattr(args, name) is None:
            setattr(args, name, default)
    raise_fd_limit()
    os.sched_setaffinity(0, compare.GEN_CPUS)
    load_before = os.getloadavg()
    kind, one_hash = hash_cost()
    output = [f"Measured {compare.machine()}.",
              f"Hub {HUB} on {HOSTS[HUB]}, leaf {LEAF} on {HOSTS[LEAF]} (it dials the hub); "
              f"both on CPU {compare.SERVER_CPU}, the clients on CPU "
              f"{','.join(map(str, compare.GEN_CPUS))}."]  # fmt: skip
    print(
        f"hub.py: {args.logins} logins, {args.rounds} x {args.batch} at once, "
        f"{args.messages} messages, {args.fetches} fetches",
        file=sys.stderr,
        flush=True,
    )
    hub, leaf = start_network()
    try:
        rss_start = {HUB: hub.rss_kib(), LEAF: leaf.rss_kib()}
        result = asyncio.run(measure(hub, leaf, args))
        result["rss_start_kib"] = rss_start
        result["rss_kib"] = {HUB: hub.rss_kib(), LEAF: leaf.rss_kib()}
        result["cpu_s"] = {HUB: hub.cpu_s(), LEAF: leaf.cpu_s()}
    finally:
        version = hub.version()
        leaf.stop()
        hub.stop()
    load_after = os.getloadavg()
    output += [f"Server: {version}. Password hash: {kind} (store/passwords.py, not "
               f"configurable; one hash took {one_hash:.0f} ms in this process, median of 3); "
               f"the hub hashes on its worker threads, the leaf hashes nothing.",
               result["note"],
               "Load average (1 min) before / after: "
               f"{load_before[0]:.2f} / {load_after[0]:.2f}.", ""]  # fmt: skip
    output += report(result, args)
    print("\n".join(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
