"""CLI glue for framework export and import: ``lrplan render SPEC --format <framework>``, ``lrplan render SPEC
--convention <framework>`` and ``lrplan import <framework> ...``. The choices come from the framework registry
(:mod:`lrplan.frameworks`, light); the work happens in :mod:`lrplan.frameworks.export` and the frameworks'
importers, imported inside the functions."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from lrplan import frameworks
from lrplan.cli.console import Output, PlainText

if TYPE_CHECKING:  # pragma: no cover

    from lrplan.frameworks.export import Export


class _Format(str, Enum):
    @classmethod
    def parse(cls, value: "str | _Format") -> "_Format":
        """``--format`` value -> member; an unknown one is one ``error:`` line listing the known ones."""
        if isinstance(value, cls):
            return value
        v = str(value).strip().lower().replace("_", "-")
        for m in cls:
            if m.value == v:
                return m
        from lrplan.errors import LrplanError

        raise LrplanError(f"unknown format {value!r}; known: {', '.join(m.value for m in cls)}")


# `lrplan render --format`: a per-step table (csv, json) or a framework config snippet (one member per framework of
# the registry, olmo_core = "olmo-core")
RenderFormat = _Format("RenderFormat", [(v.replace("-", "_"), v) for v in ("csv", "json", *frameworks.names())])
RenderFormat.__doc__ = "``lrplan render --format``: a per-step table (csv, json) or a framework config snippet."


def _err(line: str) -> None:
    sys.stderr.write(line + "\n")


def _same_terminal() -> bool:
    """stdout and stderr are one terminal (what a person running lrplan sees): each line on it once."""
    import os

    try:
        if not (sys.stdout.isatty() and sys.stderr.isatty()):
            return False
        return os.ttyname(sys.stdout.fileno()) == os.ttyname(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):  # a replaced stream (tests), no file descriptor
        return False


def _print_export(e: "Export", quiet: bool, what: str) -> None:
    """The stderr summary: warnings always, the rest unless ``quiet``. (``render --format FW`` on a terminal skips it
    when the snippet carries it as comments: :func:`render_framework`.)"""
    if e.exact:
        if not quiet:
            _err(f"{e.framework} {e.version}: exact — every update's LR equals the spec ({what})")
    else:
        for w in e.warnings[:1]:
            _err(f"warning: {w}")
        for d in e.differences:
            _err(f"  {d}")
    for w in e.warnings[1:] if not e.exact else e.warnings:
        _err(f"warning: {w}")
    if not quiet:
        for n in e.notes:
            _err(f"note: {n}")
    if e.recipe and (not e.exact or not quiet):
        for i, line in enumerate(e.recipe.splitlines()):
            _err(("recipe: " if i == 0 else "  ") + line)


def render_framework(
    spec_path: Path,
    fmt: str,
    convention: Optional[str],
    version: Optional[str],
    sample_based: bool,
    output: Optional[str],
    every: Optional[int],
    quiet: bool,
) -> None:
    """``render --format <framework>`` (snippet) or ``render --convention <framework>`` (per-step table).

    The report (exact / NOT EXACT, differences, warnings, notes, recipe) goes to stderr; the snippet also carries
    it as comments (except DeepSpeed's JSON, which has none). When the snippet goes to a terminal, stderr shows there
    too: the report is then printed once, in the snippet."""
    from lrplan.errors import LrplanError
    from lrplan.frameworks.export import export
    from lrplan.output.table import atomic_output, check_output
    from lrplan.spec.loading import load_spec

    if convention is not None and fmt not in ("csv", "json"):
        raise LrplanError(f"--convention writes a per-step table: use it with --format csv or json, not {fmt}")
    fw = convention if convention is not None else fmt
    if (version is not None or sample_based) and fw not in frameworks.names() and convention is None:
        raise LrplanError("--framework-version and --sample-based need --format <framework> or --convention <framework>")
    frameworks.resolve(fw, version)  # unknown framework / version: one line, before any work
    check_output(output, [spec_path])  # -o SPEC: refused before any work (atomic_output checks again)
    spec = load_spec(spec_path)
    e = export(spec, fw, version, sample_based)
    if convention is None:
        one_screen = output in (None, "-") and _same_terminal()
        if not (one_screen and e.annotated):
            _print_export(e, quiet, "snippet checked with lrplan's simulator")
        with atomic_output(output, inputs=[spec_path]) as fh:
            fh.write(e.snippet.encode())
        return
    from lrplan.output.table import table_chunks

    _print_export(e, quiet, f"the table is what {e.framework} runs with the config of --format {e.framework}")
    from lrplan.schedules.render import with_lr_fn

    plan = with_lr_fn(spec.schedule_plan(), e.lr_at, getattr(e.lrs, "lr_range", None))  # streamed: any length
    if output is None and every is None and sys.stdout.isatty():  # a preview, like plain render on a terminal
        every = max(1, plan.total_steps // 8)
        _err("(a preview; the full table: add -o FILE, or pipe the output)")
    with atomic_output(output, inputs=[spec_path]) as fh:
        for chunk in table_chunks(plan, fmt, every):  # type: ignore[arg-type]
            fh.write(chunk)


def _or(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else "".join(names)


def _import_args() -> str:
    return "; ".join(f"{n}: {frameworks.get(n).import_args}" for n in frameworks.importable())


def complete_importable(incomplete: str) -> list[str]:
    """Shell completion for import's FRAMEWORK: the frameworks that can be imported (from the registry)."""
    return [n for n in frameworks.importable() if n.startswith(incomplete)]


def _takes(fw: str, key: str) -> bool:
    """Whether framework ``fw``'s importer takes the ``lrplan import`` option ``key`` (a keyword of its ``from_cli``)."""
    import inspect

    return key in inspect.signature(frameworks.get(fw).importer.from_cli).parameters


def import_(
    framework: Annotated[str, typer.Argument(metavar="FRAMEWORK", click_type=PlainText(), autocompletion=complete_importable, help=f"{_or(frameworks.importable())}.", show_default=False)],
    args: Annotated[Optional[list[str]], typer.Argument(metavar="ARGS", click_type=PlainText(), help=f"{_import_args()}.", show_default=False)] = None,
    output: Output = None,
    config: Annotated[Optional[str], typer.Option("--config", metavar="NAME", click_type=PlainText(), help="torchtitan: the function of a Python config registry (config_registry.py) to read, as TorchTitan's --config.", show_default=False)] = None,
    framework_version: Annotated[Optional[str], typer.Option("--framework-version", metavar="V", click_type=PlainText(), help="torchtitan: the TorchTitan the config runs on (0.1, 0.2, 0.3, or the checkout's date YYYY-MM-DD; default: what its fields date it to). hf: the transformers version (before 4.52 Trainer floors the updates per epoch).", show_default=False)] = None,
    dataset_rows: Annotated[Optional[int], typer.Option("--dataset-rows", metavar="N", help="hf, epoch-based (no max_steps): rows of the train dataset the Trainer sees; with --world-size, max_steps is computed as Trainer does.", show_default=False)] = None,
    world_size: Annotated[Optional[int], typer.Option("--world-size", metavar="K", help="hf: data-parallel processes (GPUs) of the run, with --dataset-rows.", show_default=False)] = None,
    steps_per_epoch: Annotated[Optional[int], typer.Option("--steps-per-epoch", metavar="S", help="hf, epoch-based: optimizer updates per epoch (Trainer's 'Num update steps per epoch'); max_steps = ceil(num_train_epochs * S).", show_default=False)] = None,
) -> None:
    """Print the lrplan spec (YAML) equivalent to a framework config: what the framework really runs.

    Examples:

        lrplan import megatron -- --lr 3e-4 --train-iters 1000 --lr-decay-style cosine

        lrplan import torchtitan schedules/data/torchtitan.toml -o imported.yaml

        lrplan import torchtitan schedules/data/tt_registry.py --config pretrain

        lrplan import hf schedules/data/hf_training_args.yaml

        lrplan import hf schedules/data/hf_sft.yaml --steps-per-epoch 1200
    """
    from lrplan.errors import LrplanError
    from lrplan.output.table import atomic_output, check_output

    fw = framework.lower().replace("_", "-")
    args = list(args or [])
    if fw not in frameworks.importable():
        raise LrplanError(f"unknown framework {framework!r} for import; known: {', '.join(frameworks.importable())}")
    given = {"--config": config, "--framework-version": framework_version, "--dataset-rows": dataset_rows,
             "--world-size": world_size, "--steps-per-epoch": steps_per_epoch}
    options = {}
    for flag, value in given.items():
        if value is None:
            continue
        key = flag[2:].replace("-", "_")
        if not _takes(fw, key):
            fws = [n for n in frameworks.importable() if _takes(n, key)]
            raise LrplanError(f"{flag} applies to lrplan import {' and '.join(fws)}, not {fw}")
        options[key] = value
    # -o naming the config it reads (a file argument) is refused, before any work; Megatron's arguments name no
    # file lrplan reads, but an -o that is one of them is refused all the same
    check_output(output, args)
    imp = frameworks.get(fw).importer.from_cli(args, **options)
    for w in getattr(imp, "warnings", []):
        _err(f"warning: {w}")
    for n in imp.notes:
        _err(f"note: {n}")
    if not imp.exact:  # pragma: no cover - the phases fallback is exact by construction
        _err(f"warning: the spec deviates from what {fw} runs by up to {imp.max_abs_dev:.3g}")
    with atomic_output(output, inputs=args) as fh:
        fh.write(imp.yaml.encode())
