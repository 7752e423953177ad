"""The framework registry (:mod:`lrplan.frameworks`) is the one list of frameworks.

* the CLI's choices are the registry's: ``render --format`` / ``--convention``, ``plot --convention``, ``import``,
  ``plan --export``, shell completion;
* every registered framework is a complete folder (simulator, exporter, importer when it says so, its facts);
* no other module keeps a list of framework names, and no module reaches into a simulator's private names.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lrplan import frameworks
from lrplan.cli import app
from lrplan.errors import LrplanError
from lrplan.frameworks import FOLDERS, NAMES, REGISTRY, get

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "lrplan"
runner = CliRunner()


# ------------------------------------------------------------------------------------------ the CLI's choices


def test_render_formats_are_the_tables_and_the_registry():
    from lrplan.cli.frameworks import RenderFormat

    assert [m.value for m in RenderFormat] == ["csv", "json", *NAMES]
    res = runner.invoke(app, ["render", str(ROOT / "schedules/wsd.yaml"), "--format", "nope"])
    assert res.exit_code == 2 and res.stderr.strip() == f"error: unknown format 'nope'; known: csv, json, {', '.join(NAMES)}"


@pytest.mark.parametrize("cmd", [["render"], ["plot"]])
def test_convention_takes_the_registry(cmd):
    for name in NAMES:
        assert frameworks.resolve(name)[0] == name
    res = runner.invoke(app, [*cmd, str(ROOT / "schedules/wsd.yaml"), "--convention", "nope"])
    assert res.exit_code == 2 and res.stderr.startswith(f"error: unknown framework 'nope'; known: {', '.join(NAMES)}")


def test_import_takes_the_importable_frameworks():
    importable = frameworks.importable()
    assert importable == tuple(n for n in NAMES if get(n).import_args is not None) and importable
    res = runner.invoke(app, ["import", "nope", "x"])
    assert res.exit_code == 2 and res.stderr.strip() == f"error: unknown framework 'nope' for import; known: {', '.join(importable)}"
    for name in set(NAMES) - set(importable):
        res = runner.invoke(app, ["import", name, "x"])
        assert res.exit_code == 2 and "for import" in res.stderr
    with pytest.raises(LrplanError, match=f"importable: {', '.join(importable)}"):
        frameworks.import_config("deepspeed", {})


def test_plan_export_takes_the_exportable_frameworks():
    exportable = frameworks.exportable_plans()
    assert exportable == tuple(n for n in NAMES if get(n).plan_export is not None) and exportable
    for name in set(NAMES) - set(exportable):
        res = runner.invoke(app, ["plan", str(ROOT / "schedules/wsd-s.yaml"), "--no-law", "--export", name, "-o", "/nonexistent"])
        assert res.exit_code == 2 and f"--export supports {', '.join(exportable)} (got {name!r})" in res.stderr


def test_completion_offers_the_registry():
    from lrplan.cli import console

    assert console.complete_framework("") == list(NAMES)
    assert console.complete_format("") == ["csv", "json", *NAMES]


# ------------------------------------------------------------------------------------ every framework is complete


@pytest.mark.parametrize("name", NAMES)
def test_registered_framework_has_its_parts(name):
    from lrplan.schedules import DECAY_SHAPES, FAMILIES

    fw = get(name)
    assert fw.name == name and fw.folder == REGISTRY[name] and fw.package == f"lrplan.frameworks.{REGISTRY[name]}"
    assert fw.versions and all(isinstance(v, str) for v in fw.versions)
    assert frameworks.resolve(name) == (name, fw.versions[0])
    assert fw.native_kinds <= set(FAMILIES) and fw.shaped_warmup <= fw.native_kinds
    assert set(fw.native_shapes) <= set(DECAY_SHAPES)
    folder = PKG / "frameworks" / fw.folder
    for module in ("__init__", "simulator", "export"):
        doc = ast.get_docstring(ast.parse((folder / f"{module}.py").read_text()))
        assert doc, f"{fw.folder}/{module}.py has no docstring"
    sim = fw.simulator
    assert callable(sim.validate) and callable(sim.simulate)
    assert frameworks.simulator(name) is sim is frameworks.simulator(fw.folder)
    assert re.search(r"\d+-\d+", sim.__doc__ or ""), "the simulator cites the framework's source lines"
    exp = fw.exporter
    for part in ("candidates", "snippet", "why", "notes"):
        assert callable(getattr(exp, part, None)), f"{fw.folder}/export.py has no {part}()"
    assert isinstance(exp.RECIPE, str) and exp.RECIPE
    if "wsd-s" in fw.native_kinds:  # a per-segment export needs its launch lines
        assert callable(getattr(exp, "relaunch", None))
    assert (folder / "importer.py").exists() == fw.importable
    if fw.importable:
        assert callable(fw.importer.import_config) and callable(fw.importer.from_cli)
    else:
        with pytest.raises(LookupError):
            fw.importer  # noqa: B018
    if fw.plan_export is not None:
        assert set(fw.plan_export.ext) == set(fw.versions)


def test_every_framework_folder_is_registered():
    folders = sorted(p.parent.name for p in (PKG / "frameworks").glob("*/__init__.py"))
    assert folders == sorted(FOLDERS)
    assert NAMES == tuple(REGISTRY) and FOLDERS == tuple(REGISTRY.values())


def test_lookups_normalise_and_refuse():
    assert get("OLMo_core") is get("olmo-core") is get("olmo")
    with pytest.raises(LrplanError, match=f"unknown framework 'nemo'; known: {', '.join(NAMES)}"):
        get("nemo")
    with pytest.raises(ValueError, match="unknown framework 'nemo'"):
        frameworks.simulator("nemo")


def test_the_conformance_generator_records_every_framework():
    tree = ast.parse((ROOT / "conformance" / "generate.py").read_text())
    tables = [n for n in ast.walk(tree) if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "RECORDERS"]
    assert len(tables) == 1
    keys = [k.value for k in tables[0].value.keys]  # type: ignore[union-attr]
    assert keys == list(FOLDERS)


# ------------------------------------------------------------------------------------------ one list, no reaching in


def _library_modules():
    for path in sorted(PKG.rglob("*.py")):
        yield path, ast.parse(path.read_text(), str(path))


def test_no_other_list_of_framework_names():
    """Only the registry lists frameworks: no tuple/list/set of their names, no dict keyed by them, elsewhere in
    ``lrplan/`` (the old FRAMEWORKS, VERSIONS, MODULES, NATIVE, SHAPES, BUILDERS, SNIPPETS, IMPORTABLE, EXPORTABLE,
    EXT tables)."""
    known = set(NAMES) | set(FOLDERS)
    registry = PKG / "frameworks" / "__init__.py"
    # log formats are a namespace of their own (csv, hf, megatron, tensorboard, wandb: what wrote the log), not
    # the frameworks lrplan exports to
    log_formats = PKG / "laws" / "logformats.py"
    found = []
    for path, tree in _library_modules():
        if path in (registry, log_formats):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                items = node.elts
            elif isinstance(node, ast.Dict):
                items = [k for k in node.keys if k is not None]
            else:
                continue
            names = [e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len([n for n in names if n in known]) >= 2:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, f"lists of framework names outside the registry: {found}"


def test_no_module_imports_a_simulators_private_names():
    found = []
    for path, tree in _library_modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and re.fullmatch(r"lrplan\.frameworks\.\w+\.simulator", node.module or ""):
                found += [f"{path.relative_to(ROOT)}: {a.name}" for a in node.names if a.name.startswith("_")]
        aliases = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                   and re.fullmatch(r"lrplan\.frameworks\.\w+", n.module or "") for a in n.names if a.name == "simulator"}
        if path.name != "simulator.py":
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases \
                        and node.attr.startswith("_"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert not found, found


def test_clock_owns_the_rampup_arithmetic():
    from lrplan.spec import clock

    megatron = importlib.import_module("lrplan.frameworks.megatron.simulator")
    assert megatron.rampup_phase is clock.rampup_phase
    tree = ast.parse((PKG / "spec" / "clock.py").read_text())
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m.startswith("lrplan.frameworks")], imported
