"""The `miniircd` command: flags and config file -> Config, then run the event loop."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sqlite3
import sys
import time
from pathlib import Path
from typing import NoReturn

from miniircd import __version__
from miniircd.config import LOG_LEVELS, Config, ConfigError, from_toml, read_motd, validate
from miniircd.core.server import Server
from miniircd.net.loop import EventLoop
from miniircd.store.passwords import hash_password
from miniircd.store.sqlite import SqliteStore

log = logging.getLogger("miniircd")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, no usage dump: `miniircd: <what is wrong>`."""
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="miniircd", description="A small, fast, dependable IRC server.")
    parser.add_argument("--version", action="version", version=f"miniircd {__version__}")
    parser.add_argument("--host", help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=int, help="port to listen on (default 6667)")
    parser.add_argument("--data-dir", type=Path, help="where data is kept (./miniircd-data)")
    parser.add_argument("--server-name", help="the server's name (default: the host name)")
    parser.add_argument("--password", help="server password clients must send with PASS")
    parser.add_argument("--motd", type=Path, help="file with the message of the day")
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    parser.add_argument(
        "--log-level", type=str.upper, choices=LOG_LEVELS, help="log level (default INFO)"
    )
    parser.add_argument(
        "--hash-password",
        action="store_true",
        help="read a password from stdin, print its hash for [[operators]] and exit",
    )
    return parser


def print_password_hash() -> int:
    """Read one password (prompting on a terminal) and print the hash the config wants."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("miniircd: the password is empty", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0


def load_config(args: argparse.Namespace) -> Config:
    """Defaults, then the config file, then the flags."""
    values = from_toml(args.config) if args.config else {}
    flags = {
        "host": args.host,
        "port": args.port,
        "data_dir": args.data_dir,
        "server_name": args.server_name,
        "password": args.password,
        "log_level": args.log_level,
        "motd": read_motd(args.motd) if args.motd else None,
    }
    values.update({key: value for key, value in flags.items() if value is not None})
    return validate(Config().replace(**values))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.hash_password:
        return print_password_hash()
    try:
        config = load_config(args)
    except ConfigError as exc:
        print(f"miniircd: {exc}", file=sys.stderr)
        return 2
    try:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror
        print(f"miniircd: cannot create data dir {config.data_dir}: {reason}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        store = SqliteStore.in_dir(config.data_dir)
    except (sqlite3.Error, RuntimeError) as exc:
        print(f"miniircd: cannot open the database in {config.data_dir}: {exc}", file=sys.stderr)
        return 2
    server = Server(config, store, time.time())
    loop = EventLoop(config, server)
    try:
        host, port = loop.listen(config.host, config.port)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"miniircd: cannot listen on {config.host}:{config.port}: {reason}", file=sys.stderr)
        return 1
    log.info("%s listening on %s:%d as %s", server.version, host, port, config.server_name)
    return loop.run()
