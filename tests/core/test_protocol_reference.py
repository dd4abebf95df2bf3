"""docs/protocol.md has one `### VERB` section per command in the dispatch table, no more."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from miniircd.core.dispatch import COMMANDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def _verb_headings() -> list[str]:
    """The text of every `### ` heading line, outside code blocks."""
    headings: list[str] = []
    in_code = False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("### "):
            headings.append(line[4:].strip())
    return headings


def test_every_command_is_documented() -> None:
    missing = sorted(set(COMMANDS) - set(_verb_headings()))
    assert not missing, f"docs/protocol.md has no ### section for {missing}"


def test_no_section_for_an_unknown_verb() -> None:
    extra = sorted(set(_verb_headings()) - set(COMMANDS))
    assert not extra, f"docs/protocol.md has ### sections for verbs not in COMMANDS: {extra}"


def test_each_command_is_documented_once() -> None:
    twice = sorted(verb for verb, count in Counter(_verb_headings()).items() if count > 1)
    assert not twice, f"docs/protocol.md documents {twice} more than once"
