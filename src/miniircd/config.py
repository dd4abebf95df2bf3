"""The server's configuration: one frozen dataclass, every limit named here.

It works with no file at all. A TOML file (`--config`) may set any field, either at the
top level or inside a table named after its section below (`[limits] nicklen = 20`); the
command line overrides the file. Unknown keys are an error, so a typo never goes unnoticed.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MOTD = ("Welcome to miniircd.", "Be kind to each other.")
DEFAULT_TLS_PORT = 6697


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
MAX_METADATA_VALUE_BYTES = 300
HEX_DIGITS = "0123456789abcdef"  # with a key of 50 bytes, a 761 reply still fits in 512


class ConfigError(Exception):
    """The configuration cannot be used; the message says why, in one line."""


def _default_server_name() -> str:
    name = socket.gethostname() or "localhost"
    # A server name appears as a message source: it must be one word without a '!' or '@'.
    return "".join(ch for ch in name if ch.isalnum() or ch in ".-") or "localhost"


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    password_hash: str


@dataclass(frozen=True, slots=True)
class LinkBlock:
    """A `[[links]]` block: a server this one links with (docs/linking.md). The password
    names say which way each goes: `send_password` is what we send the peer,
    `accept_password` what the peer must send us."""

    name: str
    host: str = ""
    port: int = 6667
    send_password: str = dataclasses.field(default="", repr=False)
    accept_password: str = dataclasses.field(default="", repr=False)
    connect: bool = False  # dial it (with back-off retries); False: wait to be connected
    retry: float = 5.0  # seconds before the first retry; doubles up to retry_max
    retry_max: float = 300.0
    sendq: int = 16 * 1024 * 1024  # bytes the peer may leave unread before the link is cut
    tls: bool = False  # dial with TLS; dialed: only a TLS link under this name is taken
    tls_fingerprint: str = ""  # the peer certificate's SHA-256, lower-case hex, no colons
    tls_ca: Path | None = None  # PEM CA file (or the peer's own certificate) to verify it


LINK_KEYS = frozenset(f.name for f in dataclasses.fields(LinkBlock))


@dataclass(frozen=True)
class Config:
    # [server]
    server_name: str = field(default_factory=_default_server_name)
    network: str = "miniircd"
    server_info: str | None = None  # LINKS and WHOIS 312; None: "<network> IRC server"
    password: str | None = None
    motd: tuple[str, ...] | None = DEFAULT_MOTD
    data_dir: Path = Path("miniircd-data")
    log_level: str = "INFO"
    utf8_only: bool = True  # refuse lines that are not UTF-8 (advertised as UTF8ONLY)
    # [listen]
    host: str = "0.0.0.0"
    port: int = 6667
    # [tls]
    tls_port: int | None = None  # None: DEFAULT_TLS_PORT if there is a certificate (0: any)
    tls_cert: Path | None = None  # PEM certificate chain; no certificate, no TLS listener
    tls_key: Path | None = None  # PEM private key; None: it is in the certificate file
    tls_handshake_timeout: float = 10.0  # a client still mid-handshake then is dropped
    # [web] the chat page and IRC over WebSocket (net/web), on the [listen] host
    web_enabled: bool = True
    web_port: int = 8097  # browsers refuse 6665-6669 and 6697
    web_tls_port: int | None = None  # https and wss, with the [tls] certificate
    web_origins: tuple[str, ...] = ()  # origins allowed besides the page's own; "*": any
    web_proxies: tuple[str, ...] = ()  # addresses or networks whose Forwarded is believed
    web_handshake_timeout: float = 10.0  # an HTTP request not answered by then is dropped
    web_max_header_bytes: int = 8192  # a request head larger than this gets 431
    # [timeouts] (seconds)
    registration_timeout: float = 60.0
    ping_interval: float = 90.0
    ping_timeout: float = 150.0
    # [limits]
    nicklen: int = 30
    userlen: int = 10
    namelen: int = 128  # realname
    channellen: int = 50
    topiclen: int = 390
    kicklen: int = 390
    awaylen: int = 390
    chanlimit: int = 50
    targmax: int = 4
    modes: int = 4
    maxlist: int = 100
    monitor_max: int = 100  # nicks one client may MONITOR
    metadata_max_subs: int = 50  # METADATA keys one client may subscribe to
    metadata_max_keys: int = 25  # METADATA keys one user or channel may hold
    metadata_max_value_bytes: int = 300  # bytes of one METADATA value (at most 300)
    whowas_history: int = 100
    sendq: int = 1 << 20
    max_line_pending: int = 8192
    max_connections: int = 10000  # open sockets in all, TLS handshakes included
    max_connections_per_ip: int = 20
    multiline_max_bytes: int = 4096  # draft/multiline: bytes of one message, line feeds included
    multiline_max_lines: int = 32  # draft/multiline: lines in one batch
    # [history]
    history_replay: int = 50  # messages replayed on join to clients without chathistory
    history_max: int = 10000  # messages kept per room or private conversation
    history_days: float = 365.0  # messages older than this are dropped
    chathistory_max: int = 100  # the most one CHATHISTORY request returns
    inbox_show: int = 20  # how many messages INBOX shows by default
    inbox_max: int = 1000  # undelivered messages an offline account holds; more are refused
    # [flood]
    flood_enabled: bool = True
    flood_burst: int = 20  # lines a client may send back to back ...
    flood_rate: float = 4.0  # ... then this many a second; more wait their turn ...
    flood_backlog: int = 100  # ... and past this many waiting lines: "Excess Flood"
    # [accounts]
    require_account: bool = False
    password_min_length: int = 8
    password_max_length: int = 128
    nick_grace: float = 30.0
    login_attempts: int = 5  # failed logins allowed per account and per IP ...
    login_window: float = 60.0  # ... within this many seconds
    register_before_connect: bool = True  # REGISTER accepted before connection registration
    register_email_required: bool = False  # must stay off: this server cannot send mail
    services_hub: str | None = None  # the server that keeps the network's accounts; None: us
    services_timeout: float = 10.0  # seconds a request to the services hub may take
    # [[operators]]
    operators: tuple[Operator, ...] = ()
    # [[links]]
    links: tuple[LinkBlock, ...] = ()

    @property
    def remote_services(self) -> str | None:
        """The services hub's name when it is another server: the accounts are its (a
        `services_hub` naming this server, or none, leaves them to this one)."""
        hub = self.services_hub
        return hub if hub is not None and hub.lower() != self.server_name.lower() else None

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)


# What a running server cannot take from a reloaded file: its listeners and its storage.
NOT_RELOADABLE = (
    "server_name", "host", "port", "tls_port", "data_dir", "web_enabled", "web_port",
    "web_tls_port",
)  # fmt: skip


def _same(*names: str) -> dict[str, str]:
    return {name: name for name in names}


# section -> {key in the file: Config field}
SECTIONS: dict[str, dict[str, str]] = {
    "server": _same(
        "server_name", "network", "password", "motd", "data_dir", "log_level", "utf8_only",
        "server_info",
    ),
    "listen": _same("host", "port"),
    "tls": {
        "port": "tls_port",
        "cert": "tls_cert",
        "key": "tls_key",
        "handshake_timeout": "tls_handshake_timeout",
    },
    "web": {
        "enabled": "web_enabled",
        "port": "web_port",
        "tls_port": "web_tls_port",
        "origins": "web_origins",
        "proxies": "web_proxies",
        "handshake_timeout": "web_handshake_timeout",
        "max_header_bytes": "web_max_header_bytes",
    },
    "timeouts": _same("registration_timeout", "ping_interval", "ping_timeout"),
    "limits": _same(
        "nicklen", "userlen", "namelen", "channellen", "topiclen", "kicklen", "awaylen",
        "chanlimit", "targmax", "modes", "maxlist", "monitor_max", "whowas_history", "sendq",
        "metadata_max_subs", "metadata_max_keys", "metadata_max_value_bytes",
        "max_line_pending", "max_connections", "max_connections_per_ip",
        "multiline_max_bytes", "multiline_max_lines",
    ),
    "history": _same(
        "history_replay", "history_max", "history_days", "chathistory_max", "inbox_show",
        "inbox_max",
    ),
    "flood": {
        "enabled": "flood_enabled",
        "burst": "flood_burst",
        "rate": "flood_rate",
        "backlog": "flood_backlog",
    },
    "accounts": {
        "required": "require_account",
        **_same(
            "password_min_length", "password_max_length", "nick_grace", "login_attempts",
            "login_window", "register_before_connect", "register_email_required",
            "services_hub", "services_timeout",
        ),
    },
}  # fmt: skip


def read_motd(path: Path) -> tuple[str, ...]:
    try:
        return tuple(path.read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError as exc:
        raise ConfigError(f"cannot read MOTD file {path}: {exc.strerror}") from None


def _coerce(name: str, value: Any, base: Path) -> Any:
    """Turn a TOML value into the field's type, or raise ConfigError. Relative paths are
    taken from `base`, the config file's folder."""
    default = getattr(Config(), name)
    if name in ("data_dir", "tls_cert", "tls_key"):
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a file path")
        return base / value
    if name in ("tls_port", "web_tls_port"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"{name} must be of type int")
        return value
    if name in ("web_origins", "web_proxies"):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{name} must be a list of strings")
        return tuple(value)
    if name == "motd":
        if isinstance(value, str):
            return read_motd(base / value)
        if isinstance(value, list) and all(isinstance(line, str) for line in value):
            return tuple(value)
        raise ConfigError("motd must be a file path or a list of lines")
    if name == "operators":
        if not isinstance(value, list):
            raise ConfigError("operators must be an array of tables")
        try:
            return tuple(Operator(op["name"], op["password_hash"]) for op in value)
        except (KeyError, TypeError):
            raise ConfigError("each operator needs name and password_hash") from None
    if name == "links":
        return _links(value, base)
    if default is None:  # optional strings
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a string")
        return value
    if isinstance(default, float) and isinstance(value, int | float):
        return float(value)
    if not isinstance(value, type(default)):
        raise ConfigError(f"{name} must be of type {type(default).__name__}")
    return value


def _links(value: Any, base: Path) -> tuple[LinkBlock, ...]:
    if not isinstance(value, list) or not all(isinstance(block, dict) for block in value):
        raise ConfigError("links must be an array of tables")
    blocks = []
    for block in value:
        unknown = set(block) - LINK_KEYS
        if unknown:
            raise ConfigError(f"links: unknown key {sorted(unknown)[0]}")
        if not isinstance(block.get("name"), str) or not block["name"]:
            raise ConfigError("each link needs a name")
        for key, kind in (("host", str), ("send_password", str), ("accept_password", str),
                          ("port", int), ("connect", bool), ("tls", bool),
                          ("tls_fingerprint", str), ("tls_ca", str), ("sendq", int)):  # fmt: skip
            if key in block and (
                not isinstance(block[key], kind) or (kind is int and isinstance(block[key], bool))
            ):
                raise ConfigError(f"links: {key} must be of type {kind.__name__}")
        for key in ("retry", "retry_max"):
            if key in block:
                if not isinstance(block[key], int | float) or isinstance(block[key], bool):
                    raise ConfigError(f"links: {key} must be a number of seconds")
                block = {**block, key: float(block[key])}
        if "tls_fingerprint" in block:  # as `openssl x509 -fingerprint -sha256` shows it, too
            block = {**block, "tls_fingerprint": block["tls_fingerprint"].replace(":", "").lower()}
        if "tls_ca" in block:
            block = {**block, "tls_ca": base / block["tls_ca"]}
        blocks.append(LinkBlock(**block))
    return tuple(blocks)


def from_toml(path: Path) -> dict[str, Any]:
    """The fields a TOML file sets, checked and coerced."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    known = {f.name for f in dataclasses.fields(Config)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECTIONS and isinstance(value, dict):
            for sub_key, sub_value in value.items():
                field_name = SECTIONS[key].get(sub_key)
                if field_name is None:
                    raise ConfigError(f"config file {path}: unknown key {key}.{sub_key}")
                values[field_name] = _coerce(field_name, sub_value, path.parent)
        elif key in known:
            values[key] = _coerce(key, value, path.parent)
        else:
            raise ConfigError(f"config file {path}: unknown key {key}")
    return values


def validate(config: Config) -> Config:
    if not 0 <= config.port <= 65535:
        raise ConfigError(f"port {config.port} is out of range")
    if not config.server_name or any(ch in config.server_name for ch in " !@:"):
        raise ConfigError(f"server name {config.server_name!r} is not a valid name")
    if config.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(f"log_level must be one of {', '.join(LOG_LEVELS)}")
    if config.chathistory_max < 1:
        raise ConfigError("chathistory_max must be at least 1")
    if config.flood_rate <= 0 or config.flood_burst < 1:
        raise ConfigError("flood rate must be positive and burst at least 1")
    if config.ping_timeout <= config.ping_interval:
        raise ConfigError("ping_timeout must be longer than ping_interval")
    if config.max_connections < 1 or config.max_connections_per_ip < 1:
        raise ConfigError("max_connections and max_connections_per_ip must be at least 1")
    if config.multiline_max_bytes < 1 or config.multiline_max_lines < 1:
        raise ConfigError("multiline_max_bytes and multiline_max_lines must be at least 1")
    if config.metadata_max_subs < 1 or config.metadata_max_keys < 1:
        raise ConfigError("metadata_max_subs and metadata_max_keys must be at least 1")
    if not 1 <= config.metadata_max_value_bytes <= MAX_METADATA_VALUE_BYTES:
        raise ConfigError(
            f"metadata_max_value_bytes must be from 1 to {MAX_METADATA_VALUE_BYTES}, for a"
            " value to fit in one reply line"
        )
    if config.register_email_required:
        raise ConfigError(
            "register_email_required cannot be true: this server cannot send mail, so it"
            " cannot require or verify an email address"
        )
    if config.services_hub is not None and (
        not config.services_hub or any(ch in config.services_hub for ch in " !@:,*?")
    ):
        raise ConfigError(f"services_hub {config.services_hub!r} is not a server name")
    if config.services_timeout <= 0:
        raise ConfigError("services_timeout must be a positive number of seconds")
    _validate_links(config)
    return _validate_web(_validate_tls(config))


def _validate_links(config: Config) -> None:
    names: set[str] = set()
    for link in config.links:
        if any(ch in link.name for ch in " !@:,*") or "." not in link.name:
            raise ConfigError(f"links: {link.name!r} is not a server name")
        if link.name.lower() in names or link.name.lower() == config.server_name.lower():
            raise ConfigError(f"links: {link.name} is named twice")
        names.add(link.name.lower())
        if not link.send_password or not link.accept_password:
            raise ConfigError(f"links: {link.name} needs send_password and accept_password")
        if any(ch in link.send_password for ch in " \r\n\0:"):
            raise ConfigError(f"links: {link.name}'s send_password cannot hold a space or ':'")
        if link.connect and not link.host:
            raise ConfigError(f"links: {link.name} has connect = true but no host")
        if not 0 < link.port <= 65535:
            raise ConfigError(f"links: {link.name}'s port {link.port} is out of range")
        if not 0 < link.retry <= link.retry_max:
            raise ConfigError(f"links: {link.name} needs 0 < retry <= retry_max")
        if link.sendq < 1:
            raise ConfigError(f"links: {link.name}'s sendq must be at least 1 byte")
        fingerprint = link.tls_fingerprint
        if fingerprint and (len(fingerprint) != 64 or fingerprint.strip(HEX_DIGITS)):
            raise ConfigError(f"links: {link.name}'s tls_fingerprint is not a SHA-256 in hex")
        if (fingerprint or link.tls_ca is not None) and not link.tls:
            raise ConfigError(f"links: {link.name} has tls_fingerprint or tls_ca but not tls")


def _validate_web(config: Config) -> Config:
    ports = [p for p in (config.port, config.tls_port) if p]
    for name in ("web_port", "web_tls_port"):
        port = getattr(config, name)
        if port is None or not config.web_enabled:
            continue
        if not 0 <= port <= 65535:
            raise ConfigError(f"{name} {port} is out of range")
        if port in ports:
            raise ConfigError(f"{name} {port} is taken by another listener")
        if port:
            ports.append(port)
    if config.web_tls_port is not None and config.tls_cert is None:
        raise ConfigError("web tls_port needs tls_cert")
    for proxy in config.web_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(f"web proxies: {proxy!r} is not an address or network") from None
    if config.web_handshake_timeout <= 0 or config.web_max_header_bytes < 1024:
        raise ConfigError("web handshake_timeout must be positive, max_header_bytes >= 1024")
    return config


def _validate_tls(config: Config) -> Config:
    """Check the TLS settings; fill in the default TLS port when a certificate is given."""
    if config.tls_cert is None:
        if config.tls_port is not None or config.tls_key is not None:
            raise ConfigError("tls_port and tls_key need tls_cert")
        return config
    if config.tls_port is None:
        config = config.replace(tls_port=DEFAULT_TLS_PORT)
    assert config.tls_port is not None
    if not 0 <= config.tls_port <= 65535:
        raise ConfigError(f"tls_port {config.tls_port} is out of range")
    if config.tls_port == config.port != 0:
        raise ConfigError(f"tls_port and port are both {config.port}")
    if config.tls_handshake_timeout <= 0:
        raise ConfigError("tls handshake_timeout must be positive")
    return config
