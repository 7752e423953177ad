#!/usr/bin/env python3
"""Write ``lrplan/frameworks/megatron/flags.json``: every command-line flag of Megatron-LM with its arity, read from
Megatron-LM's own argument parser, never typed by hand.

Usage (a Megatron-LM checkout, e.g. ``git archive <commit> megatron LICENSE | tar x -C /tmp/mlm``)::

    python conformance/megatron_flags.py /tmp/mlm d98e8a64ddf34856e74b24714e3bedb2f5a39553 [--out PATH]

It imports ``megatron.training.arguments`` from the checkout and calls ``add_megatron_arguments`` (what
``parse_args`` calls) on a fresh ``argparse.ArgumentParser(allow_abbrev=False)``. That covers both kinds of
Megatron flags: the literal ``add_argument`` calls of ``arguments.py`` and the flags that
``ArgumentGroupFactory`` (``megatron/training/argument_utils.py``) generates from config dataclasses
(``TrainingConfig`` and ``SchedulerConfig`` in ``megatron/training/config/training_config.py``:
``--global-batch-size``, ``--train-iters``, ``--lr-warmup-*``, ``--lr-decay-*``, ``--step-batch-size-schedule``...;
``TransformerConfig``, ``LoggerConfig``...). For each action of the parser it records the option strings, the
``dest``, the ``nargs`` (0 for store_true/store_false/store_const/count), and the ``type`` when it is int/float/str.

Needs torch (the parser's modules import it) and the checkout's Python dependencies; Triton kernels are not
needed to build the parser: a module whose import fails only for lack of ``triton`` is replaced by a stand-in
(listed in the output's ``stubbed``). ``typing.override`` (Python 3.12) is added on 3.11.
``tests/frameworks/test_megatron_flags.py`` checks the table against the vendored ``arguments.py`` and
``training_config.py`` (tests/data/megatron_source/) and, when a checkout is given in ``MEGATRON_LM_SRC``,
re-runs this script and compares.
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import json
import sys
import types
import typing
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "lrplan" / "frameworks" / "megatron" / "flags.json"
MISSING_OK = {"triton"}


class _Stand(types.ModuleType):
    __path__: list[str] = []

    def __getattr__(self, k: str):
        if k.startswith("__"):
            raise AttributeError(k)
        return _Stand(f"{self.__name__}.{k}")

    def __call__(self, *a, **kw):
        return a[0] if len(a) == 1 and callable(a[0]) and not kw else self


def _install(root: str, stubbed: list[str]) -> None:
    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "megatron" and not name.startswith("megatron."):
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path or [root])
            if spec is None or spec.loader is None:
                return spec
            inner = spec.loader

            class Loader(importlib.abc.Loader):
                def create_module(self, s):
                    return None

                def exec_module(self, m):
                    try:
                        inner.exec_module(m)
                    except ModuleNotFoundError as e:
                        if (e.name or "").split(".")[0] not in MISSING_OK:
                            raise
                        stubbed.append(m.__name__)
                        m.__class__ = _Stand

            spec.loader = Loader()
            return spec

    if not hasattr(typing, "override"):
        typing.override = lambda f: f  # type: ignore[attr-defined]
    sys.meta_path.insert(0, Finder())
    sys.path.insert(0, root)


def _nargs(a: argparse.Action):
    if a.nargs is None:
        return 1 if a.option_strings else None
    return a.nargs


def table(root: str) -> tuple[dict, list[str]]:
    import warnings

    stubbed: list[str] = []
    _install(root, stubbed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from megatron.training.arguments import add_megatron_arguments

        p = argparse.ArgumentParser(allow_abbrev=False)
        add_megatron_arguments(p)
    flags: dict[str, dict] = {}
    for a in p._actions:
        if isinstance(a, argparse._HelpAction):
            continue
        t = getattr(a.type, "__name__", None) if a.type in (int, float, str) else None
        entry = {"dest": a.dest, "nargs": _nargs(a)}
        if t:
            entry["type"] = t
        for opt in a.option_strings:
            flags[opt] = entry
    return dict(sorted(flags.items())), sorted(set(stubbed))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkout", help="a Megatron-LM checkout (containing megatron/training/arguments.py)")
    ap.add_argument("commit", help="the commit of the checkout (recorded in the output)")
    ap.add_argument("--out", default=str(OUT))
    a = ap.parse_args()
    flags, stubbed = table(a.checkout)
    doc = {
        "source": {"repo": "NVIDIA/Megatron-LM", "commit": a.commit,
                   "read": "megatron.training.arguments.add_megatron_arguments(argparse.ArgumentParser(allow_abbrev=False))"},
        "generated_by": "conformance/megatron_flags.py",
        "stubbed": stubbed,
        "flags": flags,
    }
    text = "{\n" + ",\n".join(
        f"  {json.dumps(k)}: " + (json.dumps(v) if k != "flags" else "{\n" + ",\n".join(
            f"    {json.dumps(f)}: {json.dumps(e, sort_keys=True)}" for f, e in v.items()) + "\n  }")
        for k, v in doc.items()) + "\n}\n"
    Path(a.out).write_text(text)
    print(f"{len(flags)} flags -> {a.out}")


if __name__ == "__main__":
    main()
