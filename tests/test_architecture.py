"""The package's shape: the import graph of ``lrplan/`` has no cycle, the library never imports the CLI, public
import paths resolve, and the CLI's start-up stays light.

Every ``import`` counts, also those inside functions (a lazy import that closes a circle is still a circle).
``from pkg import sub`` where ``sub`` is a module is an edge to ``pkg.sub`` only (its parent package is already
loaded by then)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "lrplan"


def _modules() -> dict[str, Path]:
    mods = {}
    for p in PKG.rglob("*.py"):
        parts = list(p.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = p
    return mods


def import_graph() -> dict[str, set[str]]:
    """Module -> the lrplan modules it imports (anywhere in its body)."""
    mods = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in mods]
                plain = [a for a in node.names if f"{base}.{a.name}" not in mods]
                targets = subs + ([base] if plain or not subs else [])
            else:
                continue
            for t in targets:
                if t == "lrplan" or t.startswith("lrplan."):
                    r = resolve(t)
                    if r and r != mod:
                        graph[mod].add(r)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_imports():  # the walker itself: it finds the edges we know exist
    g = import_graph()
    assert "lrplan.spec.models" in g["lrplan.spec.loading"]
    assert "lrplan.cli.console" in g["lrplan.cli.render"]
    assert len(g) > 40


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_library_never_imports_the_cli():
    bad = {m: sorted(e for e in deps if e == "lrplan.cli" or e.startswith("lrplan.cli."))
           for m, deps in import_graph().items()
           if not (m == "lrplan.cli" or m.startswith("lrplan.cli.")) and m != "lrplan.__main__"}
    bad = {m: d for m, d in bad.items() if d}
    assert not bad, f"library modules importing the CLI: {bad}"


def test_cli_commands_import_only_console_from_the_cli():
    """A command module talks to the library, to ``console`` and to ``progress`` (the shared skin); commands do
    not import each other's internals (``render --plot`` reuses ``cli.plot.write_plot`` and ``render --format FW``
    ``cli.frameworks``)."""
    shared = {"lrplan.cli.console", "lrplan.cli.progress"}
    allowed = shared | {"lrplan.cli.plot", "lrplan.cli.frameworks"}
    for m, deps in import_graph().items():
        if m.startswith("lrplan.cli.") and m not in shared:
            extra = {d for d in deps if d.startswith("lrplan.cli")} - allowed - {m}
            assert not extra, f"{m} imports {sorted(extra)}"


def test_every_root_module_has_a_reason():
    """Only the public entry points stay at the package root; everything else lives in a folder."""
    root = sorted(p.name for p in PKG.glob("*.py"))
    assert root == ["__init__.py", "__main__.py", "errors.py", "torch.py"], root


@pytest.mark.parametrize("name", ["load_spec", "Spec", "SpecError", "LrplanError", "Rendered", "fit", "predict",
                                  "plan", "convention", "export", "__version__"])
def test_public_names_resolve(name):
    code = ("import lrplan, importlib, pkgutil\n"
            f"obj = getattr(lrplan, {name!r})\n"
            # importing every submodule must not shadow the public name (e.g. a package called lrplan/plan/)
            "for m in pkgutil.walk_packages(lrplan.__path__, 'lrplan.'):\n"
            "    if m.name not in ('lrplan.torch', 'lrplan.__main__'):\n"
            "        importlib.import_module(m.name)\n"
            f"assert getattr(lrplan, {name!r}) is obj, 'shadowed'\n"
            f"print(callable(obj) or isinstance(obj, str))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"


def test_public_import_paths():
    import lrplan
    import lrplan.torch  # noqa: F401  (the optional PyTorch scheduler; importable without calling torch)
    from lrplan import SpecError, load_spec, plan
    from lrplan.errors import LrplanError

    assert issubclass(SpecError, LrplanError) and lrplan.SpecError is SpecError
    spec = load_spec({"budget": {"budgets": [1000, 2000]}, "schedule": {"kind": "wsd-s", "peak_lr": 1e-3, "decay": "10%"}})
    assert [c.checkpoint_step for c in plan(spec).checkpoints] == [1000, 2100]


def test_cli_start_up_is_light():
    code = ("import sys, lrplan.cli\n"
            "heavy = [m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy', 'pydantic', 'yaml', 'plotext', 'torch')]\n"
            "print(heavy)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
