"""The IRCv3 capabilities this server offers: name -> value advertised with `CAP LS 302`.

Only what is fully implemented is listed here; every entry is exercised by a test. The
values are fixed, except `draft/account-registration`'s: it lists the account registration
policy in force, which follows the configuration (`account_registration`), and
`draft/multiline`'s: the configured limits of a batch (`multiline`).
`draft/metadata-2`'s, which gives the METADATA limits configured (`metadata_limits`).
"""

from __future__ import annotations

from miniircd.config import Config

SASL_MECHANISMS = "PLAIN,SCRAM-SHA-256"  # on a leaf of a services hub too (core.commands.sasl)
CAPABILITIES: dict[str, str | None] = {
    "account-notify": None,
    "account-tag": None,
    "away-notify": None,
    "batch": None,
    "cap-notify": None,
    "draft/account-registration": None,  # the value comes from account_registration()
    "draft/channel-rename": None,
    "draft/chathistory": None,
    "draft/event-playback": None,
    "draft/message-redaction": None,
    "draft/metadata-2": None,  # the value comes from metadata_limits()
    "draft/multiline": None,  # the value comes from multiline()
    "draft/read-marker": None,
    "echo-message": None,
    "extended-join": None,
    "extended-monitor": None,
    "invite-notify": None,
    "labeled-response": None,
    "message-tags": None,
    "multi-prefix": None,
    "sasl": SASL_MECHANISMS,
    "server-time": None,
    "setname": None,
    "standard-replies": None,
    "userhost-in-names": None,
}

def register_before_connect(config: Config) -> bool:
    """Whether REGISTER is accepted before connection registration: if the operator allows
    it and there is no server password, which REGISTER before PASS would get round."""
    return config.register_before_connect and config.password is None


def account_registration(config: Config) -> str:
    """The `draft/account-registration` value: exactly the keys whose policy is in force.

    `email-required` is never among them: this server sends no mail, and a configuration
    asking for it is refused when it is loaded.
    """
    keys = ["before-connect"] if register_before_connect(config) else []
    keys.append("custom-account-name")  # REGISTER takes any valid name, not just the nick
    return ",".join(keys)


def multiline(config: Config) -> str:
    """The `draft/multiline` value: the limits a batch is held to (core.commands.batch)."""
    return f"max-bytes={config.multiline_max_bytes},max-lines={config.multiline_max_lines}"


def metadata_limits(config: Config) -> str:
    """The `draft/metadata-2` value: METADATA before registration, and its limits."""
    return (
        f"before-connect,max-subs={config.metadata_max_subs},"
        f"max-keys={config.metadata_max_keys},max-value-bytes={config.metadata_max_value_bytes}"
    )


def offered(config: Config) -> dict[str, str | None]:
    """Every capability with the value it has under `config`."""
    return {
        **CAPABILITIES,
        "draft/account-registration": account_registration(config),
        "draft/multiline": multiline(config),
        "draft/metadata-2": metadata_limits(config),
    }


def ls_tokens(version: int, config: Config) -> list[str]:
    """What `CAP LS` lists: values only for clients that asked for version 302 or later."""
    capabilities = offered(config)
    if version >= 302:
        return [f"{name}={value}" if value else name for name, value in capabilities.items()]
    return list(capabilities)
