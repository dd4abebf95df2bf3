"""core/state.py is the one module that writes the server's tables and counters: no other
module of the package assigns to them, deletes from them or calls a mutating method on
them. (The invariants themselves are checked after every transcript test: conftest.py.)"""

from __future__ import annotations

import ast
from pathlib import Path

import miniircd

TABLES = {
    "users", "nicks", "channels", "watchers", "whowas", "members", "monitoring",
    "registered_count", "invisible_count", "oper_count", "max_users", "metadata",
    "metadata_subs",
}  # fmt: skip
MUTATORS = {"add", "append", "appendleft", "clear", "discard", "pop", "remove", "setdefault",
            "update", "popitem"}  # fmt: skip
PACKAGE = Path(miniircd.__file__).parent
OWNER = PACKAGE / "core" / "state.py"
CLIENT = PACKAGE / "client"  # the bundled client keeps its own, unrelated tables


def _table(node: ast.expr) -> str | None:
    """The table a target or call receiver names (`x.channels`, `x.channels[k]`)."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return node.attr if isinstance(node, ast.Attribute) and node.attr in TABLES else None


def _made_here(target: ast.expr, init_lines: set[int]) -> bool:
    """`self.<table> = ...` in an `__init__`: an object making its own empty table."""
    if not isinstance(target, ast.Attribute) or not isinstance(target.value, ast.Name):
        return False
    return target.value.id == "self" and target.lineno in init_lines


def writes(tree: ast.AST) -> list[tuple[int, str]]:
    init_lines = {
        line
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "__init__"
        for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATORS
            and (name := _table(node.func.value))
        ):
            found.append((node.lineno, f"{name}.{node.func.attr}()"))
        for target in targets:
            if (name := _table(target)) is not None and not _made_here(target, init_lines):
                found.append((node.lineno, name))
    return sorted(found)


def test_only_the_state_module_writes_the_tables() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path == OWNER or CLIENT in path.parents:
            continue
        for line, what in writes(ast.parse(path.read_text(), str(path))):
            offenders.append(f"{path.relative_to(PACKAGE)}:{line} writes {what}")
    assert offenders == []


def test_the_check_sees_a_write() -> None:
    tree = ast.parse("server.state.channels[key] = c\nx.members.pop(u)\nn.oper_count += 1\n")
    assert [what for _, what in writes(tree)] == ["channels", "members.pop()", "oper_count"]
