"""Read TorchTitan's Python config registry (``config_registry.py``, TorchTitan after 0.2.2: "TOML to Python Dataclass
Registry", 9810191, 2026-02-23) without running it: the ``ast`` of the registry functions.

A registry function returns a ``Trainer.Config(...)`` (TorchTitan runs it with ``--module M --config NAME``,
``torchtitan/config/manager.py``), or derives one from another registry function of the same file and changes it
(``config = llama3_8b()``, ``config.training.steps = 20``, ``return config``). :func:`read` finds the function,
follows such derivations and reads the three sections the schedule depends on:

* ``optimizer=``: ``default_adamw(lr=...)`` (its default ``lr`` 8e-4), ``OptimizersContainer.Config(lr=...)``
  (2026-02), or ``param_groups=[ParamGroupConfig(optimizer_kwargs={"lr": ...}), ...]`` (the first group's LR);
* ``lr_scheduler=LRSchedulersContainer.Config(warmup_steps=..., decay_ratio=..., decay_type=...,
  min_lr_factor=..., total_steps=...)``;
* ``training=TrainingConfig(steps=..., local_batch_size=..., global_batch_size=..., seq_len=...)``, or the
  token-budget fields of 2026-08 (``num_tokens_per_microbatch_per_dp_rank``, ``num_tokens_per_train_step``,
  ``max_context_length``).

Values are Python literals, arithmetic on them (``4 * 4096``, ``2**21``) and names bound to such values at module
level or earlier in the function. Nothing of the file is imported or executed; what cannot be read this way (a
value computed by a call, a section built by a helper) is one :class:`lrplan.errors.LrplanError` line naming the
file and line.
"""

from __future__ import annotations

import ast
import copy
import math
import operator
from dataclasses import dataclass, field
from typing import Any, Optional

from lrplan.errors import LrplanError

__all__ = ["PyConfig", "read", "registry_functions"]

SECTIONS = ("optimizer", "lr_scheduler", "training")
TRAINING_FIELDS = ("steps", "local_batch_size", "global_batch_size", "seq_len", "num_tokens_per_microbatch_per_dp_rank",
                   "num_tokens_per_train_step", "max_context_length")
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}


class _Unreadable(Exception):
    def __init__(self, node: ast.AST, why: str):
        super().__init__(why)
        self.node = node
        self.why = why


@dataclass
class PyConfig:
    """What one registry function configures: the sections (``optimizer``: ``{"lr"}``; ``lr_scheduler`` and
    ``training``: the fields it sets), with the line each field was set on."""

    name: str
    line: int
    sections: dict[str, dict[str, Any]] = field(default_factory=lambda: {s: {} for s in SECTIONS})
    lines: dict[str, int] = field(default_factory=dict)  # "lr_scheduler.warmup_steps" -> line
    notes: list[str] = field(default_factory=list)
    set_sections: set[str] = field(default_factory=set)  # the sections the function gives


def _last_name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return f"{_dotted(node.func)}(...)"
    return type(node).__name__


class _Values:
    """Literal values: constants, +-*/ // % ** on numbers, tuples/lists/dicts of values, bound names."""

    def __init__(self, env: dict[str, Any]):
        self.env = env

    def __call__(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            raise _Unreadable(node, f"{node.id} is not a literal value bound in this file")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self(node.operand)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise _Unreadable(node, "a sign before a non-number")
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            a, b = self(node.left), self(node.right)
            if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in (a, b)):
                raise _Unreadable(node, "arithmetic on a non-number")
            if isinstance(node.op, ast.Pow) and (abs(b) > 1024 or abs(a) > 2**64):
                raise _Unreadable(node, "a power too large to evaluate")
            try:
                v = _BINOPS[type(node.op)](a, b)
            except (ZeroDivisionError, OverflowError) as e:
                raise _Unreadable(node, str(e)) from None
            if isinstance(v, float) and not math.isfinite(v):
                raise _Unreadable(node, "a non-finite value")
            return v
        if isinstance(node, ast.List):
            return [self(e) for e in node.elts]
        if isinstance(node, ast.Tuple):
            return tuple(self(e) for e in node.elts)
        if isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                raise _Unreadable(node, "a ** splat in a dict")
            return {self(k): self(v) for k, v in zip(node.keys, node.values)}  # type: ignore[arg-type]
        raise _Unreadable(node, f"{_dotted(node)} is computed, not a literal")


def registry_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """Top-level functions that build a config: annotated ``-> ...Config`` or returning a ``...Config(...)`` call
    (or a name bound to one, or to another registry function's result)."""
    out: dict[str, ast.FunctionDef] = {}
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}

    def builds(fn: ast.FunctionDef) -> bool:
        ann = fn.returns
        if ann is not None and _dotted(ann).endswith("Config"):
            return True
        for node in ast.walk(fn):
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
                if _last_name(node.value.func) == "Config" or _last_name(node.value.func) in defs:
                    return True
        return False

    for name, fn in defs.items():
        if not name.startswith("_") and builds(fn):
            out[name] = fn
    return out


def _module_env(tree: ast.Module) -> dict[str, Any]:
    """Module-level names bound to literal values (``LR = 3e-4``, ``SEQ = 2**13``)."""
    env: dict[str, Any] = {}
    values = _Values(env)
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is None or len(targets) != 1 or not isinstance(targets[0], ast.Name):
                continue
            try:
                env[targets[0].id] = values(node.value)
            except _Unreadable:
                env.pop(targets[0].id, None)
    return env


def _sets_schedule(target: ast.AST) -> bool:
    """``target`` is ``x.optimizer``, ``x.lr_scheduler.warmup_steps``, ``x.training.steps``, ... (a schedule field)."""
    attrs = []
    while isinstance(target, ast.Attribute):
        attrs.append(target.attr)
        target = target.value
    return bool(attrs) and attrs[-1] in SECTIONS


class _Reader:
    def __init__(self, source: str, tree: ast.Module):
        self.source = source
        self.fns = registry_functions(tree)
        self.env = _module_env(tree)
        self.stack: list[str] = []

    def fail(self, node: ast.AST, why: str) -> LrplanError:
        return LrplanError(f"{self.source}:{getattr(node, 'lineno', '?')}: {why}")

    # -- sections
    def section(self, cfg: PyConfig, name: str, call: ast.AST, values: _Values) -> None:
        if not isinstance(call, ast.Call):
            raise self.fail(call, f"{name}={_dotted(call)}: lrplan reads a {name} built by a call with keyword arguments "
                                  f"(e.g. {'default_adamw(lr=3e-4)' if name == 'optimizer' else name + '=...Config(...)'})")
        cfg.set_sections.add(name)
        if any(kw.arg is None for kw in call.keywords) or call.args:
            bad = next((kw.value for kw in call.keywords if kw.arg is None), call.args[0] if call.args else call)
            raise self.fail(bad, f"{name}={_dotted(call.func)}(...) has positional or ** arguments; lrplan reads keyword arguments only")
        kws = {kw.arg: kw.value for kw in call.keywords}
        sec = cfg.sections[name] = {}
        if name == "optimizer":
            self.optimizer(cfg, call, kws, values)
            return
        for k, v in kws.items():
            if name == "training" and k not in TRAINING_FIELDS:
                continue  # fields that do not shape the schedule (dataset, compile, ...): never read
            try:
                sec[k] = values(v)
            except _Unreadable as e:
                raise self.fail(e.node, f"{name}.{k}: {e.why}; lrplan reads the config without running it (write the value)") from None
            cfg.lines[f"{name}.{k}"] = v.lineno

    def optimizer(self, cfg: PyConfig, call: ast.Call, kws: dict[str, ast.AST], values: _Values) -> None:
        fn = _last_name(call.func)
        sec = cfg.sections["optimizer"]
        try:
            if "lr" in kws:
                sec["lr"] = values(kws["lr"])
                cfg.lines["optimizer.lr"] = kws["lr"].lineno
            elif "param_groups" in kws:
                groups = kws["param_groups"]
                if not isinstance(groups, (ast.List, ast.Tuple)) or not groups.elts:
                    raise _Unreadable(groups, "param_groups is not a list of ParamGroupConfig(...)")
                lrs = []
                for g in groups.elts:
                    gk = {kw.arg: kw.value for kw in g.keywords} if isinstance(g, ast.Call) else {}
                    okw = gk.get("optimizer_kwargs")
                    if not isinstance(okw, ast.Dict):
                        raise _Unreadable(g, "a param group without optimizer_kwargs={...}")
                    d = values(okw)
                    if "lr" not in d:
                        raise _Unreadable(okw, "a param group's optimizer_kwargs has no lr (TorchTitan requires it)")
                    lrs.append((d["lr"], _dotted(gk["pattern"]) if "pattern" in gk and not isinstance(gk["pattern"], ast.Constant)
                                else gk["pattern"].value if "pattern" in gk else "?"))
                    cfg.lines.setdefault("optimizer.lr", okw.lineno)
                sec["lr"] = lrs[0][0]
                if len({v for v, _ in lrs}) > 1:
                    cfg.notes.append(f"optimizer has {len(lrs)} param groups with LRs {', '.join(f'{v:g}' for v, _ in lrs)}: the spec is "
                                     f"the first group's (pattern {lrs[0][1]!r}); the others run the same schedule scaled to their LR")
            elif fn == "default_adamw":
                sec["lr"] = 8e-4
                cfg.notes.append("default_adamw() without lr: its default 8e-4 is used")
            else:
                raise _Unreadable(call, f"optimizer={_dotted(call.func)}(...) sets no lr")
        except _Unreadable as e:
            raise self.fail(e.node, f"optimizer: {e.why}; lrplan reads default_adamw(lr=...), ...Config(lr=...) or "
                                    "param_groups=[ParamGroupConfig(optimizer_kwargs={'lr': ...})]") from None

    def trainer_call(self, call: ast.Call) -> Optional[ast.Call]:
        """The call in ``call``'s tree that takes the schedule's sections (``Trainer.Config``; nested for RL)."""
        for node in ast.walk(call):
            if isinstance(node, ast.Call) and any(kw.arg in SECTIONS for kw in node.keywords):
                return node
        return None

    # -- functions
    def function(self, name: str) -> PyConfig:
        fn = self.fns[name]
        if name in self.stack:
            raise self.fail(fn, f"{name}() derives from itself ({' -> '.join(self.stack + [name])})")
        self.stack.append(name)
        try:
            return self._function(fn)
        finally:
            self.stack.pop()

    def _function(self, fn: ast.FunctionDef) -> PyConfig:
        env = dict(self.env)
        values = _Values(env)
        configs: dict[str, PyConfig] = {}  # local names bound to a config
        for stmt in fn.body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                value = stmt.value
                if value is None:
                    continue
                for t in targets:
                    self.assign(t, value, env, values, configs, fn)
            elif isinstance(stmt, ast.Return):
                if stmt.value is None:
                    raise self.fail(stmt, f"{fn.name}() returns nothing")
                return self.value_config(stmt.value, values, configs, fn)
            elif isinstance(stmt, ast.AugAssign):
                if _sets_schedule(stmt.target):
                    raise self.fail(stmt, f"{_dotted(stmt.target)} is changed with an augmented assignment; write the value")
            elif not isinstance(stmt, (ast.Expr, ast.Pass, ast.Import, ast.ImportFrom, ast.FunctionDef)):
                for node in ast.walk(stmt):  # if / for / with / try: what they set cannot be read statically
                    targets = (node.targets if isinstance(node, ast.Assign) else [node.target]
                               if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
                    if any(_sets_schedule(t) for t in targets) or isinstance(node, ast.Return):
                        raise self.fail(node, f"{fn.name}() sets the schedule or returns inside a {type(stmt).__name__.lower()} "
                                              "statement; lrplan reads straight-line registry functions only")
        raise self.fail(fn, f"{fn.name}() has no return statement lrplan can follow")

    def value_config(self, node: ast.AST, values: _Values, configs: dict[str, PyConfig], fn: ast.FunctionDef) -> PyConfig:
        if isinstance(node, ast.Name) and node.id in configs:
            return configs[node.id]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in self.fns:
            if node.args or node.keywords:
                raise self.fail(node, f"{node.func.id}(...) is called with arguments; lrplan follows argument-free registry functions")
            return copy.deepcopy(self.function(node.func.id))
        if isinstance(node, ast.Call):
            cfg = PyConfig(fn.name, fn.lineno)
            call = self.trainer_call(node)
            if call is not None:
                for kw in call.keywords:
                    if kw.arg in SECTIONS:
                        self.section(cfg, kw.arg, kw.value, values)
            return cfg
        raise self.fail(node, f"{fn.name}() returns {_dotted(node)}, not a config lrplan can read")

    def assign(self, target: ast.AST, value: ast.AST, env: dict, values: _Values, configs: dict[str, PyConfig],
               fn: ast.FunctionDef) -> None:
        if isinstance(target, ast.Name):
            configs.pop(target.id, None)
            env.pop(target.id, None)
            if isinstance(value, ast.Call) and (_last_name(value.func) == "Config" or _last_name(value.func) in self.fns
                                                or self.trainer_call(value) is not None):
                try:
                    configs[target.id] = self.value_config(value, values, configs, fn)
                except LrplanError:
                    if self.trainer_call(value) is not None or _last_name(value.func) in self.fns:
                        raise
                return
            if isinstance(value, ast.Name) and value.id in configs:
                configs[target.id] = configs[value.id]
                return
            try:
                env[target.id] = values(value)
            except _Unreadable:
                pass  # a local that is not a value (model_spec = ...): unused by the schedule, or an error where used
            return
        if isinstance(target, ast.Attribute):
            path = []
            node: ast.AST = target
            while isinstance(node, ast.Attribute):
                path.append(node.attr)
                node = node.value
            path.reverse()
            if not isinstance(node, ast.Name) or node.id not in configs or not path or path[0] not in SECTIONS:
                return  # config.checkpoint.interval = ..., or an unrelated object
            cfg = configs[node.id]
            if len(path) == 1:
                self.section(cfg, path[0], value, values)
                return
            if len(path) != 2:
                raise self.fail(target, f"{_dotted(target)}: lrplan reads section.field assignments only")
            sec, key = path
            if sec == "training" and key not in TRAINING_FIELDS:
                return
            if sec == "optimizer" and key != "lr":
                return
            try:
                cfg.sections[sec][key] = values(value)
            except _Unreadable as e:
                raise self.fail(e.node, f"{sec}.{key}: {e.why}; lrplan reads the config without running it (write the value)") from None
            cfg.set_sections.add(sec)
            cfg.lines[f"{sec}.{key}"] = target.lineno


def read(text: str, source: str, name: Optional[str] = None) -> PyConfig:
    """The registry function ``name`` of the Python source ``text`` (the only one when ``name`` is None); a file
    that is not Python, has no registry function, or several without ``name``, is one line naming the file."""
    try:
        tree = ast.parse(text, filename=source)
    except SyntaxError as e:
        raise LrplanError(f"{source}:{e.lineno or '?'}: not valid Python ({e.msg}); lrplan reads TorchTitan TOML files, "
                          "Python config registries (config_registry.py) and JSON config dumps") from None
    reader = _Reader(source, tree)
    names = list(reader.fns)
    if not names:
        raise LrplanError(f"{source}: no TorchTitan registry function (a def returning Trainer.Config(...)) in this Python file")
    if name is None:
        if len(names) > 1:
            raise LrplanError(f"{source}: {len(names)} configs ({', '.join(names)}); pick one with --config NAME "
                              f"(as TorchTitan's --config)")
        name = names[0]
    elif name not in reader.fns:
        raise LrplanError(f"{source}: no config {name!r}; the file has {', '.join(names)}")
    return reader.function(name)
