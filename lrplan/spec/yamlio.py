"""YAML with line numbers: parse once keeping the node tree (duplicate keys are errors), find the line of a field
path, and attach file:line to a :class:`lrplan.errors.SpecError` (after dagster's ``source_position`` approach,
``../shared/notes/style.md`` §4)."""

from __future__ import annotations

from typing import Any

from lrplan.errors import Problem, SpecError


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` through libyaml's parser when PyYAML has it (the same constructor, so the same values;
    ~5x faster on a law file); a document it rejects is parsed again in Python, so errors read the same."""
    import yaml

    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)  # noqa: S506 (a safe loader)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def _yaml_loader():
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):  # type: ignore[override]
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor`: merged by SafeLoader, explicit keys win
                    continue
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, (str, int, float, bool, type(None))):
                    raise yaml.constructor.ConstructorError(
                        None, None, f"a key must be a plain name, not a {type(key).__name__}", key_node.start_mark
                    )
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first at line {seen[key]})", key_node.start_mark
                    )
                seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader


MAX_NODES = 100_000  # values in a spec once its aliases are expanded: far above any real spec


def expanded_size(node: Any) -> int:
    """How many values ``node`` stands for once every alias is expanded: an alias is the same node object
    where it is used, so a "billion laughs" bomb counts in full without being built."""
    import yaml

    sizes: dict[int, int] = {}
    stack = [(node, False)]
    while stack:  # iterative post-order, so a deep document cannot exhaust the recursion limit
        n, done = stack.pop()
        if id(n) in sizes:
            continue
        kids = ([x for kv in n.value for x in kv] if isinstance(n, yaml.MappingNode)
                else list(n.value) if isinstance(n, yaml.SequenceNode) else [])
        if done or not kids:
            sizes[id(n)] = 1 + sum(sizes.get(id(k), 0) for k in kids)
            continue
        if any(k is n for k in kids):  # a node that contains itself (recursive alias): refuse as a bomb
            return MAX_NODES + 1
        stack.append((n, True))
        stack.extend((k, False) for k in kids if id(k) not in sizes)
        if len(sizes) > MAX_NODES:
            return len(sizes)
    return sizes[id(node)]


def load_yaml(text: str, source: str) -> tuple[Any, Any]:
    """Parse YAML once, keeping the node tree for line numbers. Duplicate keys are errors."""
    import yaml

    loader = None
    try:
        loader = _yaml_loader()(text)
        node = loader.get_single_node()
        if node is not None and expanded_size(node) > MAX_NODES:
            raise SpecError([Problem((), f"YAML aliases expand to more than {MAX_NODES:,} values (an alias bomb?); "
                                         "write the values out")], source)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        msg = " ".join(str(x) for x in (e.context, e.problem) if x)
        raise SpecError([Problem((), f"invalid YAML: {msg}", line)], source) from None
    except yaml.YAMLError as e:  # e.g. ReaderError: control characters
        raise SpecError([Problem((), f"invalid YAML: {' '.join(str(e).split())}")], source) from None
    except RecursionError:
        raise SpecError([Problem((), "invalid YAML: nested too deeply")], source) from None
    except (ValueError, TypeError, OverflowError) as e:  # e.g. an integer of more than 4300 digits
        msg = str(e).splitlines()[0]
        msg = "a number with more than 4300 digits" if "Exceeds the limit" in msg else msg[:120]
        raise SpecError([Problem((), f"invalid YAML value: {msg}")], source) from None
    finally:
        if loader is not None:
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




def located(err: SpecError, source: str | None, node: Any) -> SpecError:
    """``err`` naming ``source`` and, through the YAML node tree, each problem's line."""
    return err.with_source(source, (lambda loc: line_of(node, loc)) if node is not None else None)
