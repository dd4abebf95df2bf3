"""IRC message parsing and serialization, IRCv3 tags included.

A line is `[@tags ][:source ]VERB [params...] [:trailing]`. `parse` takes one decoded line
without its line ending and never raises anything but `ParseError`; `Message.serialize`
produces the wire form (without CR-LF) and refuses parameters that could not round-trip.
"""

from __future__ import annotations

__all__ = [
    "Message",
    "ParseError",
    "decode",
    "escape_tag_value",
    "format_tags",
    "parse",
    "parse_tags",
    "unescape_tag_value",
]

_ESCAPES = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}
_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_ESCAPE_TABLE = str.maketrans(_ESCAPES)


class ParseError(ValueError):
    """The line is not an IRC message (empty, or no verb)."""


class Message:
    """One IRC message. `verb` is upper-cased on parse; `params` holds the trailing one last."""

    __slots__ = ("params", "source", "tags", "verb")

    def __init__(
        self,
        verb: str,
        params: list[str] | tuple[str, ...] = (),
        source: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.verb = verb
        self.params = params if type(params) is list else list(params)  # never mutated
        self.source = source
        self.tags = tags if tags is not None else {}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return (self.verb, self.params, self.source, self.tags) == (
            other.verb,
            other.params,
            other.source,
            other.tags,
        )

    def __repr__(self) -> str:
        return f"Message({self.verb!r}, {self.params!r}, {self.source!r}, {self.tags!r})"

    def serialize(self, force_trailing: bool = False, with_tags: bool = True) -> str:
        """The wire form without the line ending; without the tags if `with_tags` is false.

        `force_trailing` puts a ':' before the last parameter even where none is needed, as
        servers conventionally do for human text (some clients split on " :").
        """
        params = self.params
        if force_trailing and len(params) == 2 and self.source and not (with_tags and self.tags):
            # the shape of most lines a server sends (a PRIVMSG, a NOTICE): one format
            target = params[0]
            if target and " " not in target and target[0] != ":":
                return f":{self.source} {self.verb} {target} :{params[1]}"
        parts: list[str] = []
        if with_tags and self.tags:
            parts.append("@" + format_tags(self.tags))
        if self.source:
            parts.append(":" + self.source)
        parts.append(self.verb)
        if self.params:
            *middle, last = self.params
            for param in middle:
                if not param or " " in param or param[0] == ":":
                    raise ValueError(f"middle parameter cannot be sent as is: {param!r}")
                parts.append(param)
            if force_trailing or not last or " " in last or last[0] == ":":
                parts.append(":" + last)
            else:
                parts.append(last)
        return " ".join(parts)


def format_tags(tags: dict[str, str]) -> str:
    """`key=value;key2` with values escaped; an empty value is sent as a bare key."""
    return ";".join(
        f"{key}={escape_tag_value(value)}" if value else key for key, value in tags.items()
    )


def escape_tag_value(value: str) -> str:
    return value.translate(_ESCAPE_TABLE)


def unescape_tag_value(value: str) -> str:
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(_UNESCAPES.get(following, following))
        else:
            out.append(char)
    return "".join(out)


def parse_tags(text: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in text.split(";"):
        if not item:
            continue
        key, _, value = item.partition("=")
        tags[key] = unescape_tag_value(value)
    return tags


def parse(line: str) -> Message:
    """Parse one line (no CR-LF). Runs of spaces separate parameters."""
    rest = line
    tags: dict[str, str] = {}
    source = None
    if rest[:1] in ("@", ":", " "):  # most client lines have none of these: skip the work
        if rest.startswith("@"):
            tag_text, _, rest = rest[1:].partition(" ")
            tags = parse_tags(tag_text)
        rest = rest.lstrip(" ")
        if rest.startswith(":"):
            source, _, rest = rest[1:].partition(" ")
            rest = rest.lstrip(" ")
    head, sep, trailing = rest.partition(" :")
    if not sep and rest.startswith(":"):
        head, sep, trailing = "", ":", rest[1:]
    # Only ASCII space separates words: str.split() would also split on tabs and Unicode spaces.
    words = head.split(" ")
    if "" in words:
        words = [word for word in words if word]
        if not words:
            raise ParseError("no command")
    verb = words[0]
    params = words[1:]
    if sep:
        params.append(trailing)
    return Message(verb.upper(), params, source, tags)


def decode(raw: bytes) -> str:
    """UTF-8, falling back to latin-1 so that no byte sequence is ever refused."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
