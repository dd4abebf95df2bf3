"""Client and server wording cannot drift apart: every refusal the server can send for the
commands the client uses has plain words in the client's tables (`client/errors.py`).

Which refusals the server can send is read from the core's source: starting at the handler
of each verb the client sends (found in the client's source), every function of the core
it can reach is searched for error numerics (the `ERR_` names of `protocol/numerics.py`)
and `FAIL` codes, with how many context parameters each is sent with, so that a template
asking for `{1}` is never filled with `?`. `test_the_scan_sees_what_the_server_really_sends`
checks the scan against what the server sends to the real client in `Pair`.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any

import miniircd.client
from harness import plain_python_only
from miniircd.client import replies
from miniircd.client.errors import FAIL_CODES, NUMERIC_ERRORS
from miniircd.core import dispatch
from miniircd.core.commands import nickserv
from miniircd.core.errors import Fail, IrcError
from miniircd.core.server import Server
from miniircd.protocol import numerics
from miniircd.protocol.message import parse
from pair import Pair, Terminal

CLIENT_SOURCE = Path(miniircd.client.__file__).parent
# 902 (ERR_NICKLOCKED) is a SASL failure too, though this server never sends it
SASL_FAILURES = {"902", numerics.ERR_SASLFAIL, numerics.ERR_SASLTOOLONG}
SASL_FAILURES |= {numerics.ERR_SASLABORTED, numerics.ERR_SASLALREADY}
# Refusals the scan finds but the client never provokes: no words needed. Each entry must
# still be found by the scan (else it is stale and goes).
NEVER_PROVOKED = {
    "410": "CAP with a subcommand other than LS, REQ and END: the client sends only those",
    "INVALID_PARAMS": "a bad count or reference: the client checks counts (1 to the"
    " CHATHISTORY limit the server advertises) and sends only CHATHISTORY LATEST <room> *",
    "INVALID_MSGREFTYPE": "a CHATHISTORY reference other than msgid= or timestamp=: the"
    " client sends only *",
    "INVALID_UTF8": "a line that is not UTF-8: the client sends only UTF-8",
    "MULTILINE_INVALID_TARGET": "a draft/multiline batch: the client never asks for the"
    " capability, so it never opens one",
    "MULTILINE_MAX_BYTES": "a draft/multiline batch: see MULTILINE_INVALID_TARGET",
    "MULTILINE_MAX_LINES": "a draft/multiline batch: see MULTILINE_INVALID_TARGET",
}


# --- what the client sends -------------------------------------------------------------


def client_verbs() -> set[str]:
    """The IRC verbs the client's code sends (`Send("VERB ...")`), /raw aside."""
    text = "".join(path.read_text() for path in CLIENT_SOURCE.glob("*.py"))
    return set(re.findall(r'Send\(f?"([A-Z]+)[ "]', text))


def nickserv_commands() -> set[str]:
    """What the client asks NickServ (`PRIVMSG NickServ :IDENTIFY ...`)."""
    text = "".join(path.read_text() for path in CLIENT_SOURCE.glob("*.py"))
    return set(re.findall(r"NickServ :([A-Z]+)", text))


# --- what the server can answer ----------------------------------------------------------


@dataclass
class Refusals:
    """Codes found, and for each the context counts it is sent with (None: unknown)."""

    numerics: dict[str, set[int | None]] = field(default_factory=dict)
    fails: dict[str, set[int | None]] = field(default_factory=dict)

    def add(self, table: dict[str, set[int | None]], code: str, context: int | None) -> None:
        table.setdefault(code, set()).add(context)


@functools.cache
def _module_tree(path: str) -> ast.Module:
    return ast.parse(Path(path).read_text())


def _is_core(obj: object) -> bool:
    return isinstance(obj, FunctionType) and obj.__module__.startswith("miniircd.core")


def _definition(func: FunctionType) -> ast.FunctionDef | ast.AsyncFunctionDef:
    """The `def` of a function, found by its first line in its module's tree."""
    first = func.__code__.co_firstlineno
    for node in ast.walk(_module_tree(inspect.getsourcefile(func) or "")):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = {node.lineno, *(d.lineno for d in node.decorator_list)}
            if first in lines:
                return node
    raise LookupError(func.__qualname__)


def _owner(func: FunctionType) -> type | None:
    """The class a method is defined in (for `self.x`)."""
    qualname = func.__qualname__.split(".")
    if len(qualname) < 2 or "<locals>" in qualname:
        return None
    owner = inspect.getmodule(func)
    for name in qualname[:-1]:
        owner = getattr(owner, name, None)
    return owner if isinstance(owner, type) else None


def _resolve(expr: ast.expr, scope: dict[str, Any], owner: type | None) -> object:
    """The object a name or dotted name stands for, as far as can be told without running."""
    if isinstance(expr, ast.Name):
        return scope.get(expr.id)
    if isinstance(expr, ast.Attribute):
        base = expr.value
        if isinstance(base, ast.Name) and base.id == "self" and owner is not None:
            return getattr(owner, expr.attr, None)
        if isinstance(base, ast.Name) and base.id == "server":  # the handlers' parameter
            return getattr(Server, expr.attr, None)
        value = _resolve(base, scope, owner)
        if isinstance(value, ModuleType | type):
            return getattr(value, expr.attr, None)
    return None


def _constant(expr: ast.expr) -> str | None:
    return expr.value if isinstance(expr, ast.Constant) and isinstance(expr.value, str) else None


def _code_parameter(func: FunctionType) -> int | None:
    """For a helper that builds `Fail(command, <its parameter>, ...)`: that parameter's index."""
    node = _definition(func)
    names = [arg.arg for arg in node.args.args]
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and len(call.args) > 1:
            code = call.args[1]
            if _resolve(call.func, func.__globals__, None) is Fail and isinstance(code, ast.Name):
                return names.index(code.id) if code.id in names else None
    return None


def _context(args: list[ast.expr], start: int) -> int | None:
    """Context parameters in `args[start:]` less the last one, the text; None if starred."""
    rest = args[start:]
    return None if any(isinstance(a, ast.Starred) for a in rest) else max(len(rest) - 1, 0)


def _scan_function(func: FunctionType, found: Refusals, follow: list[FunctionType]) -> None:
    node, scope, owner = _definition(func), func.__globals__, _owner(func)
    for expr in ast.walk(node):
        if isinstance(expr, ast.Name | ast.Attribute):
            target = _resolve(expr, scope, owner)
            name = expr.id if isinstance(expr, ast.Name) else expr.attr
            if name.startswith("ERR_") and isinstance(target, str):
                found.add(found.numerics, target, None)
            elif _is_core(target):
                assert isinstance(target, FunctionType)
                follow.append(target)
        if not isinstance(expr, ast.Call):
            continue
        args, callee = expr.args, _resolve(expr.func, scope, owner)
        for i, arg in enumerate(args):
            if isinstance(arg, ast.Name | ast.Attribute):
                name = arg.id if isinstance(arg, ast.Name) else arg.attr
                value = _resolve(arg, scope, owner)
                if name.startswith("ERR_") and isinstance(value, str):
                    found.add(found.numerics, value, _context(args, i + 1))
            if _constant(arg) == "FAIL" and i + 2 < len(args):  # from_server(s, "FAIL", ...)
                code = _constant(args[i + 2])
                if code:
                    found.add(found.fails, code, _context(args, i + 3))
        if callee is Fail and len(args) > 1 and _constant(args[1]):
            found.add(found.fails, _constant(args[1]) or "", _context(args, 2))
        elif _is_core(callee) and callee is not Fail:
            assert isinstance(callee, FunctionType)
            index = _code_parameter(callee)
            code = _constant(args[index]) if index is not None and index < len(args) else None
            if index is not None and code:
                found.add(found.fails, code, _context(args, index + 1))


def scan(roots: list[Callable[..., Any]]) -> Refusals:
    """The refusals any function reachable from `roots` can send."""
    found, seen = Refusals(), set()
    todo = [root for root in roots if isinstance(root, FunctionType)]
    while todo:
        func = todo.pop()
        if func in seen or func in (IrcError.__init__, Fail.__init__):
            continue
        seen.add(func)
        _scan_function(func, found, todo)
    return found


@functools.cache
def server_refusals() -> Refusals:
    """What the server can refuse to the client: the line handling every line goes
    through, the handlers of the client's verbs, and the NickServ commands it uses."""
    handlers: list[Callable[..., Any]] = [Server.receive]
    handlers += [dispatch.COMMANDS[verb].handler for verb in sorted(client_verbs())]
    handlers += [nickserv.COMMANDS[name] for name in sorted(nickserv_commands())]
    return scan(handlers)


def _placeholders(template: str) -> int:
    """How many leading positional parameters a template uses ({1} -> 2)."""
    fields = [f for _, f, _, _ in string.Formatter().parse(template) if f and f.isdigit()]
    return max((int(f) + 1 for f in fields), default=0)


# --- the tests ---------------------------------------------------------------------------


def test_the_client_verbs_are_found_and_the_server_handles_each() -> None:
    verbs = client_verbs()
    assert {"CAP", "NICK", "USER", "JOIN", "LIST", "PRIVMSG", "CHATHISTORY", "INBOX"} <= verbs
    assert verbs <= set(dispatch.COMMANDS), verbs - set(dispatch.COMMANDS)
    assert nickserv_commands() == {"REGISTER", "IDENTIFY", "LOGOUT"}
    assert nickserv_commands() <= set(nickserv.COMMANDS)


@plain_python_only
def test_every_error_numeric_the_server_can_send_has_client_words() -> None:
    """Words in `NUMERIC_ERRORS`, or a handler of the client's own (`replies.HANDLERS`)."""
    found = server_refusals().numerics
    assert {"401", "403", "404", "471", "473", "474", "475", "904"} <= set(found)  # sanity
    handled = {verb for verb in replies.HANDLERS if verb.isdigit()}  # 422: the end of MOTD
    unknown = sorted(set(found) - set(NUMERIC_ERRORS) - handled - set(NEVER_PROVOKED))
    names = {code: name for name, code in numerics.BY_NAME.items() if name.startswith("ERR_")}
    assert unknown == [], [f"{code} {names.get(code)}" for code in unknown]


@plain_python_only
def test_every_fail_code_the_server_can_send_has_client_words() -> None:
    found = server_refusals().fails
    assert {"ACCOUNT_EXISTS", "WEAK_PASSWORD", "INVALID_TARGET"} <= set(found)  # sanity
    assert sorted(set(found) - set(FAIL_CODES) - set(NEVER_PROVOKED)) == []


def test_the_client_words_ask_for_no_more_than_the_server_sends() -> None:
    found = server_refusals()
    short = []
    for table, words in ((found.numerics, NUMERIC_ERRORS), (found.fails, FAIL_CODES)):
        for code, contexts in table.items():
            wanted = _placeholders(words.get(code, ""))
            short += [(code, words[code], n) for n in contexts if n is not None and n < wanted]
    assert short == []


@plain_python_only
def test_the_never_provoked_list_is_not_stale() -> None:
    found = server_refusals()
    for code in NEVER_PROVOKED:
        assert code in found.numerics or code in found.fails, f"{code}: no longer sent"
        assert code not in NUMERIC_ERRORS and code not in FAIL_CODES, f"{code} has words now"


# --- the scan against the real thing -----------------------------------------------------


def _refusals_on_the_wire(terminal: Terminal) -> dict[str, str]:
    """Error numerics and FAIL codes the server sent this client -> the server's text."""
    codes = {}
    for line in terminal.wire:
        if not line.startswith("< "):
            continue
        msg = parse(line[2:])
        if msg.verb.isdigit() and (400 <= int(msg.verb) < 600 or msg.verb in SASL_FAILURES):
            codes[msg.verb] = msg.params[-1]
        elif msg.verb == "FAIL":
            codes[msg.params[1]] = msg.params[-1]
    return codes


@plain_python_only
def test_the_scan_sees_what_the_server_really_sends() -> None:
    """Refusals provoked through the real client are all found by the scan, and shown in
    the client's own words, never as a number or the server's text."""
    pair = Pair(inbox_max=1)
    bob, alice = pair.terminal("guest2000"), pair.terminal("guest1000")
    carol = pair.terminal("guest3000")
    bob.type("/connect irc.test")
    bob.type("/register bob bobsecret1")
    for room, mode in [("#club", "+b alice!*@*"), ("#full", "+l 1"), ("#vip", "+i")]:
        bob.type(f"/create {room}")
        bob.type(f"/raw MODE {room} {mode}")
    bob.type("/create #key")
    bob.type("/raw MODE #key +k sesame")
    bob.type("/create #quiet")
    bob.type("/raw MODE #quiet +m")
    carol.type("/connect irc.test")
    carol.type("/register carol carolsecret")
    carol.type("/disconnect")
    shown: list[str] = []
    alice.type("/connect irc.test")
    for typed in [
        "/register bob password1",  # FAIL REGISTER ACCOUNT_EXISTS
        "/login alice password1",  # 904
        "/register alice secretpw1",
        "/join #club,#full,#vip,#key",  # 474 471 473 475
        "/join #quiet",
        "hello",  # 404
        "/msg nobody hi",  # 401
        "/history #club",  # FAIL CHATHISTORY INVALID_TARGET
        "/msg carol one",
        "/msg carol two",  # FAIL PRIVMSG INBOX_FULL
        "/raw NICK bob",  # 433
        "/raw PART #club",  # 442
    ]:
        shown += alice.type(typed)
    wire = _refusals_on_the_wire(alice)
    assert {"401", "404", "433", "442", "471", "473", "474", "475", "904"} <= set(wire)
    assert {"ACCOUNT_EXISTS", "INVALID_TARGET", "INBOX_FULL"} <= set(wire)
    found = server_refusals()
    assert set(wire) - set(found.numerics) - set(found.fails) == set()
    errors = [line for line in shown if line.startswith("!")]
    assert len(errors) == 12, shown
    server_words = [text for text in wire.values() if text]
    assert [line for line in errors if any(words in line for words in server_words)] == []
