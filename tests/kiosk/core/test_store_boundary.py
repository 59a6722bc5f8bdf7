"""All SQL lives in the store adapters (kiosk/core/store.py, kiosk/core/pgstore.py).

A PostgreSQL adapter (issue 13) is a second implementation of ``Tx``/``Store``; that
only works while no other module speaks SQL or opens a database itself. These tests
read the source tree: no ``sqlite3`` import and no ``.execute(`` outside the store.
``central/`` is exempt: the province server keeps its own database (a later issue
replaces it).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
#: Packages held to the rule; central/ is exempt (its own server and database).
CHECKED = ("kiosk", "printer", "display")
#: The store adapters: the only modules allowed to speak SQL.
STORES = {Path("kiosk/core/store.py"), Path("kiosk/core/pgstore.py")}
EXECUTE = re.compile(r"\.execute(many|script)?\(")


def _sources(root: Path) -> list[Path]:
    return sorted(p for pkg in CHECKED for p in (root / pkg).rglob("*.py"))


def sqlite_imports(root: Path) -> list[str]:
    """``file:line`` of every ``import sqlite3`` / ``from sqlite3 …`` outside the store."""
    found = []
    for path in _sources(root):
        rel = path.relative_to(root)
        if rel in STORES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(rel))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            if any(n == "sqlite3" or n.startswith("sqlite3.") for n in names):
                found.append(f"{rel}:{node.lineno}")
    return found


def execute_calls(root: Path) -> list[str]:
    """``file:line: text`` of every ``.execute(`` (or executemany/executescript) outside the store."""
    found = []
    for path in _sources(root):
        rel = path.relative_to(root)
        if rel in STORES:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if EXECUTE.search(line):
                found.append(f"{rel}:{n}: {line.strip()}")
    return found


def test_no_module_but_the_store_imports_sqlite3() -> None:
    found = sqlite_imports(ROOT)
    assert not found, (
        "sqlite3 imported outside kiosk/core/store.py; give the store a method instead:\n"
        + "\n".join(found)
    )


def test_no_module_but_the_store_executes_sql() -> None:
    found = execute_calls(ROOT)
    assert not found, (
        "SQL executed outside kiosk/core/store.py; add a named Tx (or Store) method "
        "with a docstring and call it:\n" + "\n".join(found)
    )


def test_the_checks_see_the_store_itself(tmp_path: Path) -> None:
    """The scan is not blind: the store's own SQL would be found if it lived elsewhere."""
    for pkg in CHECKED:
        (tmp_path / pkg).mkdir()
    text = (ROOT / "kiosk/core/store.py").read_text(encoding="utf-8")
    (tmp_path / "kiosk" / "elsewhere.py").write_text(text, encoding="utf-8")
    (tmp_path / "printer" / "status.py").write_text(
        "from sqlite3 import connect\nrow = tx.c.execute('SELECT 1')\n", encoding="utf-8"
    )
    assert len(sqlite_imports(tmp_path)) == 2
    assert len(execute_calls(tmp_path)) > 20


def undocumented(*classes: type) -> list[str]:
    """Public methods, static methods and properties of ``classes`` without a docstring."""
    found = []
    for cls in classes:
        for name, member in vars(cls).items():
            if name.startswith("_"):
                continue
            target = getattr(member, "__func__", None) or getattr(member, "fget", None) or member
            if callable(target) and not (target.__doc__ or "").strip():
                found.append(f"{cls.__name__}.{name}")
    return found


def test_every_public_tx_and_store_method_has_a_docstring() -> None:
    """The interface a second adapter implements is described method by method."""
    from kiosk.core.store import Store, Tx

    assert not undocumented(Tx, Store)

    class Sample:
        def bare(self) -> None:
            pass

        @property
        def also_bare(self) -> int:
            return 0

        @staticmethod
        def bare_too() -> None:
            pass

    assert undocumented(Sample) == ["Sample.bare", "Sample.also_bare", "Sample.bare_too"]
