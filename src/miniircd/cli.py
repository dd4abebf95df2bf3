"""The `miniircd` command: flags and config file -> Config, then run the event loop."""

from __future__ import annotations

import argparse
import contextlib
import functools
import getpass
import logging
import os
import resource
import sqlite3
import sys
import time
from pathlib import Path
from typing import NoReturn

from miniircd import __version__, compiled, logs
from miniircd.config import LOG_LEVELS, Config, ConfigError, from_toml, read_motd, validate
from miniircd.core.server import Server
from miniircd.net.loop import EventLoop
from miniircd.net.tls import TlsError
from miniircd.store.passwords import hash_password
from miniircd.store.sqlite import SqliteStore, backup

log = logging.getLogger("miniircd")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, no usage dump: `miniircd: <what is wrong>`."""
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="miniircd",
        description="A small, fast, dependable IRC server.",
        epilog="miniircd backup DEST [--data-dir D] [--config F]: copy the database, live",
    )
    parser.add_argument("--version", action="version", version=f"miniircd {__version__}")
    parser.add_argument("--host", help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=int, help="port to listen on (default 6667)")
    parser.add_argument("--data-dir", type=Path, help="where data is kept (./miniircd-data)")
    parser.add_argument("--server-name", help="the server's name (default: the host name)")
    parser.add_argument("--password", help="server password clients must send with PASS")
    parser.add_argument("--motd", type=Path, help="file with the message of the day")
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    parser.add_argument(
        "--tls-port", type=int, help="port for TLS clients (default 6697 with --tls-cert; 0: any)"
    )
    parser.add_argument("--tls-cert", type=Path, help="PEM certificate chain; enables TLS")
    parser.add_argument("--tls-key", type=Path, help="PEM private key (default: in --tls-cert)")
    parser.add_argument(
        "--web-port", type=int, help="port for the web page and WebSocket (default 8097; 0: any)"
    )
    parser.add_argument(
        "--no-web", action="store_true", help="no web page and no WebSocket listener"
    )
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
        "tls_port": args.tls_port,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
        "web_port": args.web_port,
        "web_enabled": False if args.no_web else None,
    }
    values.update({key: value for key, value in flags.items() if value is not None})
    return validate(Config().replace(**values))


def listeners(config: Config) -> list[tuple[str, int, bool, bool]]:
    """What to listen on: (what, port, TLS, web), IRC first."""
    wanted = [("IRC", config.port, False, False)]
    if config.tls_port is not None:
        wanted.append(("IRC over TLS", config.tls_port, True, False))
    if config.web_enabled:
        wanted.append(("web", config.web_port, False, True))
        if config.web_tls_port is not None:
            wanted.append(("web over TLS", config.web_tls_port, True, True))
    return wanted


def reload_config(args: argparse.Namespace) -> tuple[Config | str, str]:
    """For SIGHUP and REHASH: the configuration read afresh, or why it could not be."""
    source = str(args.config) if args.config else "command line"
    try:
        return load_config(args), source
    except (ConfigError, OSError) as exc:
        return str(exc), source


def build_backup_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="miniircd backup",
        description="Copy the database to DEST, a new file, while the server may be running.",
    )
    parser.add_argument("dest", type=Path, metavar="DEST", help="backup file; must not exist")
    parser.add_argument("--data-dir", type=Path, help="the server's data dir (./miniircd-data)")
    parser.add_argument("--config", type=Path, help="TOML configuration file naming the data dir")
    return parser


def run_backup(argv: list[str]) -> int:
    """`miniircd backup DEST`: SQLite's online backup of the data dir's database.

    The data dir is --data-dir, else the config file's, else the default. An existing DEST
    is never overwritten (exit 2): an old backup is worth more than a typo."""
    args = build_backup_parser().parse_args(argv)
    try:
        values = from_toml(args.config) if args.config else {}
    except ConfigError as exc:
        print(f"miniircd: {exc}", file=sys.stderr)
        return 2
    data_dir: Path = args.data_dir or values.get("data_dir") or Config().data_dir
    try:
        pages = backup(data_dir, args.dest)
    except (FileNotFoundError, FileExistsError) as exc:
        print(f"miniircd: {exc}", file=sys.stderr)
        return 2
    except (sqlite3.Error, OSError) as exc:
        print(f"miniircd: backup of {data_dir} failed: {exc}", file=sys.stderr)
        return 1
    print(f"miniircd: backed up {data_dir} to {args.dest} ({pages} pages)")
    return 0


def raise_fd_limit() -> None:
    """Each client is a file descriptor: allow as many as the hard limit does."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["backup"]:
        return run_backup(argv[1:])
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
    logs.setup(config.log_level)
    raise_fd_limit()
    try:
        store = SqliteStore.in_dir(config.data_dir)
    except (sqlite3.Error, RuntimeError) as exc:
        print(f"miniircd: cannot open the database in {config.data_dir}: {exc}", file=sys.stderr)
        return 2
    server = Server(config, store, time.time())
    loop = EventLoop(server, functools.partial(reload_config, args))
    bound = []
    for what, port, tls, web in listeners(config):
        try:
            if tls:
                bound.append((what, loop.listen_tls(config.host, port, web)))
            else:
                bound.append((what, loop.listen(config.host, port, web)))
        except TlsError as exc:
            print(f"miniircd: {exc}", file=sys.stderr)
            return 2
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            print(f"miniircd: cannot listen on {config.host}:{port}: {reason}", file=sys.stderr)
            return 1
    # The web page's address first: whoever waits for "listening on" finds it there already.
    for what, address in sorted(bound, key=lambda entry: not entry[0].startswith("web")):
        if what == "IRC":
            build = "compiled" if compiled() else "plain Python"
            log.info("%s listening on %s:%d as %s (%s build)", server.version, *address,
                     config.server_name, build)  # fmt: skip
        elif what == "IRC over TLS":
            log.info("listening on %s:%d (TLS)", *address)
        else:
            log.info("web page on %s://%s:%d/", "https" if "TLS" in what else "http", *address)
    return loop.run()
