"""The YAML budget spec: pydantic models, loading with ``file:line`` errors, and building the schedule.

>>> spec = load_spec({"budget": {"tokens": "1M", "tokens_per_step": 1000}, "schedule": {"kind": "constant", "peak_lr": 1e-3}})
>>> spec.schedule_plan().total_steps
1000
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional, Union

from pydantic import Field, PlainValidator, PrivateAttr, ValidationError, field_validator, model_validator

from lrplan.errors import Problem, SpecError, spec_error
from lrplan.schedules import FAMILIES, BuildContext
from lrplan.schedules.base import LengthT, StrictModel
from lrplan.units import Length, parse_count, round_half_up, si

if TYPE_CHECKING:  # pragma: no cover
    import yaml

    from lrplan.render import Rendered, SchedulePlan

Count = Annotated[int, PlainValidator(parse_count)]
PositiveCount = Annotated[int, PlainValidator(lambda v: _positive(parse_count(v)))]


def _positive(n: int) -> int:
    if n <= 0:
        raise ValueError(f"must be positive (got {n})")
    return n


class Budget(StrictModel):
    """How long the run is (``tokens`` or ``steps``, or several ``budgets``) and how many tokens a step takes."""

    tokens: Optional[PositiveCount] = Field(None, description="training tokens, e.g. 100B")
    steps: Optional[PositiveCount] = Field(None, description="optimizer steps, e.g. 50000")
    budgets: Optional[list[LengthT]] = Field(None, description="several budgets (WSD/WSD-S plans): tokens like 52B or steps")
    batch_size: Optional[PositiveCount] = Field(None, description="global batch size in sequences per optimizer step")
    seq_len: Optional[PositiveCount] = Field(None, description="sequence length in tokens")
    tokens_per_step: Optional[PositiveCount] = Field(None, description="tokens per optimizer step (instead of batch_size x seq_len)")

    @model_validator(mode="after")
    def _consistent(self) -> "Budget":
        given = [k for k in ("tokens", "steps", "budgets") if getattr(self, k) is not None]
        if len(given) != 1:
            msg = "give exactly one of tokens, steps or budgets" + (f" (got {', '.join(given)})" if given else "")
            raise ValueError(msg)
        if self.tokens_per_step is not None and self.batch_size and self.seq_len:
            if self.tokens_per_step != self.batch_size * self.seq_len:
                raise ValueError(
                    f"tokens_per_step ({self.tokens_per_step}) != batch_size x seq_len ({self.batch_size * self.seq_len}); give one or make them agree"
                )
        return self

    @property
    def step_tokens(self) -> int | None:
        if self.tokens_per_step is not None:
            return self.tokens_per_step
        if self.batch_size is not None and self.seq_len is not None:
            return self.batch_size * self.seq_len
        return None


class Model(StrictModel):
    """Optional model facts for cost estimates (``lrplan plan``)."""

    params: Optional[PositiveCount] = Field(None, description="parameter count N for 6*N*D FLOPs, e.g. 1.2B")
    tokens_per_second: Optional[PositiveCount] = Field(None, description="training throughput of the whole job, tokens/s")
    gpus: Optional[PositiveCount] = Field(None, description="GPUs the job runs on (for GPU-hours)")


def _schedule_union():
    classes = tuple(FAMILIES.values())
    return Annotated[Union[classes], Field(discriminator="kind")]  # type: ignore[valid-type]


ScheduleSpec = _schedule_union()


class Spec(StrictModel):
    """A whole spec file: ``budget``, ``schedule`` and optional ``name``, ``model``, ``version``."""

    version: int = Field(1, description="spec format version (1)")
    name: Optional[str] = None
    budget: Budget
    schedule: ScheduleSpec  # type: ignore[valid-type]
    model: Optional[Model] = None

    _source: Optional[str] = PrivateAttr(None)
    _base_dir: Optional[Path] = PrivateAttr(None)
    _plan: Any = PrivateAttr(None)

    @field_validator("version")
    @classmethod
    def _v1(cls, v: int) -> int:
        if v != 1:
            raise ValueError(f"unknown spec version {v}; this lrplan reads version 1")
        return v

    # -- derived -------------------------------------------------------------------------------------------
    def context(self) -> BuildContext:
        """The build context: budget in steps, tokens per step, budgets in steps (rounding noted)."""
        b = self.budget
        tps = b.step_tokens
        ctx = BuildContext(total_steps=0, tokens_per_step=tps, batch_size=b.batch_size, base_dir=self._base_dir)
        if b.steps is not None:
            ctx.total_steps = b.steps
        elif b.tokens is not None:
            if not tps:
                raise spec_error(("budget", "tokens"), "a token budget needs tokens per step: add batch_size and seq_len (or tokens_per_step)")
            exact = b.tokens / tps
            ctx.total_steps = round_half_up(exact)
            if ctx.total_steps * tps != b.tokens:
                ctx.notes.append(
                    f"budget.tokens: {si(b.tokens)} tokens = {exact:.6g} steps of {tps:,} tokens, rounded to "
                    f"{ctx.total_steps} steps ({ctx.total_steps * tps:,} tokens)"
                )
            if ctx.total_steps <= 0:
                raise spec_error(("budget", "tokens"), f"{b.tokens} tokens is less than one step of {tps} tokens")
        else:
            assert b.budgets is not None
            steps = []
            for i, length in enumerate(b.budgets):
                if length.unit == "percent":
                    raise spec_error(("budget", "budgets", i), "a budget cannot be a percentage; give tokens (52B) or steps")
                steps.append(ctx.steps(length, ("budget", "budgets", i)))
            for i, s in enumerate(steps):
                if s <= 0:
                    raise spec_error(("budget", "budgets", i), "a budget must be at least one step")
                if i and s <= steps[i - 1]:
                    raise spec_error(("budget", "budgets", i), f"budgets must strictly increase ({b.budgets[i]} after {b.budgets[i - 1]})")
            ctx.budgets = steps
            ctx.total_steps = steps[-1]
        return ctx

    def schedule_plan(self) -> "SchedulePlan":
        """Build (once) and return the resolved schedule: segments, total steps, notes."""
        if self._plan is None:
            from lrplan.render import SchedulePlan

            ctx = self.context()
            total = self.schedule.total_steps(ctx)
            ctx.total_steps = total
            try:
                timeline = self.schedule.build(ctx)
            except ValueError as e:  # a helper refused a length
                raise spec_error(("schedule",), str(e)) from None
            self._plan = SchedulePlan(timeline.segments, total, ctx.tokens_per_step, ctx.notes, self)
            if timeline.end != total:  # pragma: no cover - a family bug, not user input
                raise AssertionError(f"{self.schedule.kind} built {timeline.end} steps, expected {total}")
        return self._plan

    def render(self) -> "Rendered":
        """Per-update LRs for the whole run (``.step``, ``.tokens``, ``.lr`` numpy arrays; ``.phases``)."""
        return self.schedule_plan().render()

    @property
    def source(self) -> str | None:
        return self._source


# ------------------------------------------------------------------------------------------------- loading


def _yaml_loader():
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):  # type: ignore[override]
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first at line {seen[key]})", key_node.start_mark
                    )
                seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


def load_yaml(text: str, source: str) -> tuple[Any, Any]:
    """Parse YAML once, keeping the node tree for line numbers. Duplicate keys are errors."""
    import yaml

    loader = _yaml_loader()(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        msg = " ".join(str(x) for x in (e.context, e.problem) if x)
        raise SpecError([Problem((), f"invalid YAML: {msg}", line)], source) from None
    except yaml.YAMLError as e:
        raise SpecError([Problem((), f"invalid YAML: {e}")], source) from None
    finally:
        loader.dispose()
    return data, node


def line_of(node: Any, loc: tuple) -> int | None:
    """Line of the deepest node along ``loc`` (field path) in a YAML node tree; unknown segments are skipped."""
    import yaml

    if node is None:
        return None
    line = node.start_mark.line + 1
    for seg in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(seg, str):
            hit = next(((k, v) for k, v in node.value if getattr(k, "value", None) == seg), None)
            if hit is None:
                continue
            line, node = hit[0].start_mark.line + 1, hit[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(seg, int) and seg < len(node.value):
            node = node.value[seg]
            line = node.start_mark.line + 1
        else:
            continue
    return line


def _clean_loc(loc: tuple, data: Any) -> tuple:
    """Drop pydantic's internal segments (union tags, function names) so the path matches the YAML."""
    out: list[Any] = []
    cur = data
    for seg in loc:
        if isinstance(cur, dict) and isinstance(seg, str) and seg in cur:
            out.append(seg)
            cur = cur[seg]
        elif isinstance(cur, list) and isinstance(seg, int) and seg < len(cur):
            out.append(seg)
            cur = cur[seg]
        elif isinstance(seg, str) and (seg in FAMILIES or seg.startswith(("function-", "list[", "union[", "int", "str", "float", "literal"))):
            continue
        elif isinstance(cur, dict) and isinstance(seg, str):
            out.append(seg)  # a missing or unknown key: keep its name
            cur = None
        else:
            continue
    return tuple(out)


def _value_at(data: Any, loc: tuple) -> Any:
    cur = data
    for seg in loc:
        try:
            cur = cur[seg]
        except (KeyError, IndexError, TypeError):
            return None
    return cur


def _problems(err: ValidationError, data: Any) -> list[Problem]:
    probs: list[Problem] = []
    seen: set[tuple] = set()
    for e in err.errors(include_url=False):
        loc = _clean_loc(tuple(e["loc"]), data)
        msg = str(e["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        kind = e["type"]
        if kind == "extra_forbidden":
            parent = _value_at(data, loc[:-1])
            known = _known_fields(loc[:-1], data)
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            msg = f"unknown field {loc[-1]!r}" + (f"; did you mean {close[0]!r}?" if close else "") + (
                f" (known: {', '.join(known)})" if known and not close else ""
            )
            del parent
        elif kind == "missing":
            msg = f"missing required field {loc[-1]!r}"
        elif kind in ("literal_error", "enum"):
            got = e.get("input")
            exp = e.get("ctx", {}).get("expected", "")
            choices = [c.strip().strip("'") for c in exp.replace(" or ", ", ").split(",") if c.strip()]
            close = difflib.get_close_matches(str(got), choices, n=1)
            msg = f"{got!r} is not one of: {', '.join(choices)}" + (f"; did you mean {close[0]!r}?" if close else "")
        elif "input" in e and "got" not in msg and kind not in ("model_type", "dict_type") and not isinstance(e["input"], (dict, list)):
            msg = f"{msg} (got {e['input']!r})"
        key = (loc, msg)
        if key in seen:
            continue
        seen.add(key)
        probs.append(Problem(loc, msg))
    return probs


def _known_fields(loc: tuple, data: Any) -> list[str]:
    if loc == ():
        return list(Spec.model_fields)
    if loc == ("budget",):
        return list(Budget.model_fields)
    if loc == ("model",):
        return list(Model.model_fields)
    if loc and loc[0] == "schedule":
        kind = _value_at(data, ("schedule", "kind"))
        cls = FAMILIES.get(kind) if isinstance(kind, str) else None
        if cls is not None and len(loc) == 1:
            return [f for f in cls.model_fields if f != "kind"]
    return []


def _precheck(data: Any) -> None:
    if not isinstance(data, dict):
        raise spec_error((), f"a spec is a mapping with budget: and schedule: (got {type(data).__name__})")
    sched = data.get("schedule")
    if isinstance(sched, dict):
        kind = sched.get("kind")
        if kind is None:
            raise spec_error(("schedule",), f"missing 'kind'; choose from: {', '.join(FAMILIES)}")
        if not isinstance(kind, str) or kind not in FAMILIES:
            close = difflib.get_close_matches(str(kind), list(FAMILIES), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise spec_error(("schedule", "kind"), f"unknown schedule kind {kind!r}; {hint}choose from: {', '.join(FAMILIES)}")


def load_spec(source: Union[str, Path, dict]) -> Spec:
    """Load and fully validate a spec from a YAML file path, a YAML string, or a dict.

    Raises :class:`lrplan.SpecError` whose message is one line per problem, ``file:line: field.path: what``.
    """
    node = None
    base_dir: Path | None = None
    name: str | None = None
    if isinstance(source, dict):
        data = source
    else:
        text: str
        if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and (source.endswith((".yaml", ".yml")) or Path(source).exists())):
            path = Path(source)
            name = str(source)
            try:
                raw = path.read_bytes()
            except OSError as e:
                raise SpecError([Problem((), f"cannot read spec: {e.strerror or e}")], name) from None
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise SpecError([Problem((), f"not UTF-8 text (byte {e.start}); save the spec as UTF-8")], name) from None
            base_dir = path.parent
        else:
            text = str(source)
            name = "<string>"
        data, node = load_yaml(text, name)
    try:
        _precheck(data)
        try:
            spec = Spec.model_validate(data)
        except ValidationError as e:
            raise SpecError(_problems(e, data)) from None
        spec._source = name
        spec._base_dir = base_dir
        spec.schedule_plan()  # resolve lengths now, so every error surfaces at load time
    except SpecError as e:
        raise e.with_source(name, (lambda loc: line_of(node, loc)) if node is not None else None) from None
    return spec
