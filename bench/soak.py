"""Soak test (issue 8): thousands of clients for minutes, some of them abusive.

What it does. It starts the real server (`python -m miniircd` from the project's venv) on
127.0.0.1 with a fresh data dir in a temporary folder, flood control on at its defaults,
`max_connections_per_ip` raised (every client comes from the loopback) and
`registration_timeout` lowered to 20 s, logging at DEBUG to a file (one `client left`
line with the reason per departure). The server is pinned to CPU 0 with `taskset`, the
load to the other CPUs. Worker processes (`--workers`) each run one `selectors` (epoll)
loop over their share of the sockets: no thread per client.

Honest clients (1 - `--abusive` of them) register (plain, with CAP, or logging in with
SASL PLAIN, `PASS account:password` or NickServ `IDENTIFY account password`; about a
quarter own an account, made on their first connection with `REGISTER * * <password>`
before registration or NickServ `REGISTER` after it), join 1 to 3 of `--channels`
channels, send PRIVMSG to a channel they are in or to one of a few "partner" nicks every
2 to 10 s (jittered), part one channel and join another every 30 to 120 s
(`--rotate-every`), and every 2 to 6 minutes (`--relogin-every`) QUIT and come back, the
account owners logging in again each time by another of the three ways. They answer
PINGs. Every honest message's text is `~S <sender> <target> <seq> <send time ns> <words>`:
(sender, target, seq) is its unique id, the time gives the delivery latency.

Abusive clients (`--abusive`, 5 %) connect from other loopback addresses (127.0.0.2-9),
so that the per-IP login throttle they trip does not fall on the honest clients (who
all share 127.0.0.1), and cycle for the whole run, reconnecting after each drop:
- flood: blast 300 lines at once (Excess Flood); slowflood: 8 lines/s, twice the rate
  (fakelag delays them, then Excess Flood); the PING round trip shows the delay;
- garbage: invalid UTF-8, NUL bytes, 600-byte lines, binary junk, then 100 KB without a
  newline (Input line too long), half of them before registering;
- slowread: a 4 KiB receive buffer, `message-tags` and `server-time` (longer lines), join
  ten honest channels, ask for `HISTORY` three times a second and never read (SendQ
  exceeded; the server sends no ERROR then, so the reason is taken from its log);
- stall: connect and never register (Registration timed out);
- badlogin: wrong passwords for decoy or unknown accounts over SASL, PASS and IDENTIFY.

The expectation rule (why a "lost" report is never false). Every honest client asks for
`echo-message` (and `draft/chathistory`, so JOIN replays no history). The server handles
lines one at a time, and every line a session is sent comes out of its queue in the
order the server produced it. So a sender S sees, in its own stream, each other member's
JOIN/PART/QUIT/NICK (and the 353 list at its own join) *in the server's order relative
to the echo of its own message*: when the echo of message m arrives, the member list S
has tracked is exactly the channel's membership when the server handled m, and m went to
exactly those members. For private messages S MONITORs its partners; 730/731 arrive in
the same order, so "R was online when the server handled m" is exact too (a message to
an offline partner is not expected; one to an offline account goes to its inbox and
comes back at login as a replay, which is not counted). S therefore keeps, per target, a
running count and 64-bit hash sum of its echoed messages; when an honest member R enters
S's view it notes both, and when R leaves (or S does), the difference is added to R's
expected count and hash. R adds the hash of every marked message it receives (ignoring
repeats, counted as duplicates). At the end every recipient's expected (count, hash)
must equal its received one; the difference of the counts gives lost and unexpected
deliveries. A message the server refused produces no echo and is never expected. The end
of the run is a barrier: every honest client stops, sends PING and waits for its PONG
(all echoes are in), then every one PINGs again (all deliveries queued before those
echoes are read). With `--trace` (automatic up to 300 clients) every id is also kept, to
count lost messages exactly and print examples.

How to run (from the repo root):
    .venv/bin/python bench/soak.py                  # 2000 clients, 10 minutes, 5 % abusive
    .venv/bin/python bench/soak.py --quick          # 200 clients for 1 minute
    .venv/bin/python bench/soak.py --clients 2000 --minutes 2 --workers 4

It prints progress to stderr, then a summary and, as its last line, one JSON object.
The load starts once every honest client has registered and joined (the ramp connects
40 a second); RSS and CPU time are read from /proc every 10 s. Latency is the time from
the sender's `send` to the recipient's `recv` (CLOCK_MONOTONIC is system-wide), so it
includes the load generator's own delays. The temporary folder (server log, database) is
removed after a passing run and kept after a failing one (or with `--keep`).

Two steps in RSS are expected and bounded, which is why flatness is judged by the slope
over the second half rather than by end minus start: each of the server's two hashing
threads keeps scrypt's 16 MiB working area once glibc has raised its mmap threshold, and
each slow reader holds up to `sendq` (1 MiB) until it is dropped.

Pass criteria (exit status 0 only if all hold): no honest client disconnected other than
by its own QUIT, no honest message lost, duplicated or delivered unexpectedly, every
recipient's hash matches, no honest login or command refused, every honest client
registered and joined, the server still answers PING at the end and exits cleanly on
SIGTERM, no `Traceback` in its log, and its RSS grows by at most `--max-slope` KiB/min
over the second half of the load (judged only for runs of 5 minutes or more).
"""

from __future__ import annotations

import argparse
import sys

from soak_plan import PM_BASE
from soak_run import run

# The parts, each with a docstring saying what it owns:
#   soak_run.py     the parent: server, workers, phases, measurements
#   soak_worker.py  one worker process: timers, commands, the end-of-run barrier
#   soak_honest.py  the honest users          soak_abuse.py   the abusive clients
#   soak_ledger.py  what was owed and what arrived (the expectation rule)
#   soak_report.py  the checks and the summary
#   soak_plan.py    what they share           sockloop.py     the socket loop (with loadgen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--abusive", type=float, default=0.05, help="share of abusive clients")
    parser.add_argument("--workers", type=int, default=4, help="load generator processes")
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--ramp", type=float, help="seconds to connect the honest clients")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--max-slope", type=float, default=512.0,
        help="largest RSS growth allowed over the second half of the load, KiB/min",
    )  # fmt: skip
    parser.add_argument(
        "--rotate-every", type=float, nargs=2, metavar=("MIN", "MAX"), default=(30.0, 120.0),
        help="seconds between an honest client's channel changes",
    )  # fmt: skip
    parser.add_argument(
        "--relogin-every", type=float, nargs=2, metavar=("MIN", "MAX"), default=(120.0, 360.0),
        help="seconds an honest client stays before it QUITs and logs in again",
    )  # fmt: skip
    parser.add_argument(
        "--quick", action="store_true",
        help="200 clients for 1 minute, channel changes every 10-30 s, relogins every 15-40 s",
    )  # fmt: skip
    parser.add_argument(
        "--abuse-ips", help="comma-separated source addresses of the abusive clients "
        "(default 127.0.0.2 to 127.0.0.9; 127.0.0.1 makes them share the honest one)",
    )  # fmt: skip
    parser.add_argument("--trace", action="store_true", help="keep every message id")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the server to CPU 0")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.minutes = 200, 1.0
        args.rotate_every, args.relogin_every = (10.0, 30.0), (15.0, 40.0)
    if args.channels > PM_BASE:
        parser.error(f"at most {PM_BASE} channels")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
