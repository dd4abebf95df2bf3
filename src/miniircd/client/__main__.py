"""`miniircd-client` and `python -m miniircd.client`: flags, then the terminal front."""

from __future__ import annotations

import argparse
import sys

from miniircd import __version__
from miniircd.client.session import ClientSession
from miniircd.client.terminal import Terminal
from miniircd.protocol.casemap import is_valid_nick

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="miniircd-client",
        description="A small IRC client: each operation (rooms, history, personal messages, "
        "inbox) is one command. Type /help once it runs.",
    )
    parser.add_argument("--version", action="version", version=f"miniircd-client {__version__}")
    parser.add_argument("server", nargs="?", help="host[:port] to connect to at start")
    parser.add_argument("--tls", action="store_true", help="connect with TLS (default port 6697)")
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="with TLS, do not check the server's certificate (self-signed test servers only)",
    )
    parser.add_argument("--nick", help="the nick to use until you log in (default guestNNNN)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.nick is not None and not is_valid_nick(args.nick, 30):
        print(f"miniircd-client: invalid nick {args.nick!r}", file=sys.stderr)
        return 2
    first = []
    if args.server:
        flags = " --tls" * args.tls + " --insecure" * args.insecure
        first.append(f"/connect {args.server}{flags}")
    return Terminal(ClientSession(args.nick)).run(first)


if __name__ == "__main__":
    raise SystemExit(main())
