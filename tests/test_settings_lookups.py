"""Settings are read once, by an entry point, and passed down (issue 11 #2).

``settings.py`` has exactly two functions that read the process environment: ``load_settings`` (every
setting, checked at once) and ``hmac_pads_from_environment`` (the key pads, inside dbt's own process).
This test walks the source (ast, nothing is imported or run) and fails when

- any other function of settings.py starts reading the environment (a new run-time look-up);
- a module other than settings.py calls one of them anywhere but in its entry point (the code
  location's ``defs``, ``zengshou``'s ``main``, ``dbt_cli.main``, the dbt plugin) — or at import time;
- a module other than settings.py touches ``os.environ`` / ``os.getenv`` outside the few places listed
  below, each for a variable that is not a zengshou setting.

So the DuckDB memory cap, the lock timeout, the settle time and the Data Docs folder can only reach a
connection, the lock, the planner or a GE validation as parameters from the validated ``Settings``.
"""

from __future__ import annotations

import ast

from tests.test_imports import ROOT, _module_name

SETTINGS = "dagster_project.settings"
READERS = {"load_settings", "hmac_pads_from_environment"}
# Where a process starts and so reads its settings: (module, function).
ENTRY_POINTS = {
    ("dagster_project.definitions", "defs"),            # the code location, when Dagster loads it
    ("dagster_project.cli", "main"),                    # `zengshou`
    ("dagster_project.dbt_cli", "main"),                # `python -m dagster_project.dbt_cli` (make docs)
    ("dagster_project.dbt_keyed_hash_plugin", "_pads"),  # inside the dbt subprocess
}
# os.environ outside settings.py, none of them a zengshou setting: (module, function or None = module level).
ENVIRON_USES = {
    ("dagster_project.quality.data_docs", None): "GX_ANALYTICS_ENABLED default (GE must not phone home)",
    ("dagster_project.quality.ge_runner", None): "GX_ANALYTICS_ENABLED default",
    ("dagster_project.quality.suites", None): "GX_ANALYTICS_ENABLED default",
    ("dagster_project.assets.transform", "_environment"): "dbt_env() given to the dbt subprocess for one build",
    ("dagster_project.dbt_manifest", "_parse"): "the environment of the `dbt parse` subprocess",
    ("dagster_project.dbt_cli", "main"): "the environment of the dbt process it execs",
    ("dagster_project.runner", "_instance"): "DAGSTER_HOME, Dagster's own variable",
}


def _is_environ(node: ast.AST) -> bool:
    """``os.environ`` / ``os.getenv`` / ``os.environb`` itself."""
    return (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb")
            and isinstance(node.value, ast.Name) and node.value.id == "os")


def _reads_environment(node: ast.AST) -> bool:
    return any(_is_environ(sub) for sub in ast.walk(node))


def _functions(tree: ast.AST) -> dict[str, ast.AST]:
    return {n.name: n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_settings_py_has_exactly_the_two_environment_readers() -> None:
    tree = ast.parse((ROOT / "settings.py").read_text("utf-8"))
    readers = {name for name, fn in _functions(tree).items() if _reads_environment(fn)}
    assert readers == READERS, "a function of settings.py reads the environment at call time: " \
                               f"{sorted(readers - READERS)}; read it in load_settings and pass the value down"


class _Calls(ast.NodeVisitor):
    """Calls of the readers, and uses of os.environ, each with the outermost enclosing function."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.names: set[str] = set()          # local names bound to a reader (from-import, maybe aliased)
        self.modules: set[str] = set()        # local names bound to the settings module
        self.stack: list[str] = []
        self.reader_calls: list[tuple[str | None, int]] = []
        self.environ_uses: list[tuple[str | None, int]] = []

    def _where(self) -> str | None:
        return self.stack[0] if self.stack else None

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if node.module == SETTINGS and alias.name in READERS:
                self.names.add(alias.asname or alias.name)
            if node.module == "dagster_project" and alias.name == "settings":
                self.modules.add(alias.asname or alias.name)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == SETTINGS:
                self.modules.add(alias.asname or alias.name)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        called = (isinstance(func, ast.Name) and func.id in self.names) or (
            isinstance(func, ast.Attribute) and func.attr in READERS
            and ast.unparse(func.value) in self.modules | {SETTINGS})
        if called:
            self.reader_calls.append((self._where(), node.lineno))
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if _is_environ(node):
            self.environ_uses.append((self._where(), node.lineno))
        self.generic_visit(node)


def _scan() -> dict[str, _Calls]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        if module == SETTINGS:
            continue
        visitor = _Calls(module)
        visitor.visit(ast.parse(path.read_text("utf-8"), filename=str(path)))
        found[module] = visitor
    return found


def test_the_walker_finds_the_known_entry_points() -> None:
    """On this code base (so an empty walk cannot pass): the code location and `zengshou` read settings."""
    scan = _scan()
    assert [where for where, _ in scan["dagster_project.definitions"].reader_calls] == ["defs"]
    assert [where for where, _ in scan["dagster_project.cli"].reader_calls] == ["main"]
    assert scan["dagster_project.runner"].environ_uses  # DAGSTER_HOME


def test_the_walker_on_hand_made_sources() -> None:
    source = ("import os\nfrom dagster_project import settings as s\n"
              "from dagster_project.settings import load_settings as ls\n"
              "X = os.environ.get('A')\n"
              "def f():\n    return ls()\n"
              "def g():\n    def inner():\n        return s.load_settings()\n    return inner\n"
              "def h(settings):\n    return settings.load_settings_later()\n")
    visitor = _Calls("m")
    visitor.visit(ast.parse(source))
    assert visitor.reader_calls == [("f", 6), ("g", 9)]
    assert visitor.environ_uses == [(None, 4)]


def test_only_entry_points_read_settings() -> None:
    offenders = [f"{module}:{line} in {where or 'module level (import time)'}"
                 for module, visitor in _scan().items() for where, line in visitor.reader_calls
                 if (module, where) not in ENTRY_POINTS]
    assert offenders == [], ("settings are read by an entry point and passed down as parameters "
                             "(resources.py, Settings fields), not looked up here")


def test_os_environ_only_where_listed() -> None:
    offenders = [f"{module}:{line} in {where or 'module level'}"
                 for module, visitor in _scan().items() for where, line in visitor.environ_uses
                 if (module, where) not in ENVIRON_USES]
    assert offenders == [], "os.environ outside settings.py: a setting belongs in settings.load_settings"
    unused = {key for key in ENVIRON_USES
              if not any(w == key[1] for w, _ in _scan()[key[0]].environ_uses)}
    assert unused == set(), "listed but no longer used: remove from ENVIRON_USES"


def test_entry_points_exist() -> None:
    """Each listed entry point still calls a reader (a rename would otherwise widen nothing silently)."""
    scan = _scan()
    for module, function in ENTRY_POINTS:
        assert any(where == function for where, _ in scan[module].reader_calls), (module, function)
