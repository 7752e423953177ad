"""Shell completion offers the values lrplan knows, from their registries, not file names."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lrplan.frameworks import names
from lrplan.schedules import FAMILIES


def complete(words: str) -> list[str]:
    """What bash completion offers after ``words`` (as the script from ``lrplan --show-completion bash`` asks)."""
    parts = words.split(" ")
    env = dict(os.environ, COMP_WORDS=words, COMP_CWORD=str(len(parts) - 1), _LRPLAN_COMPLETE="complete_bash")
    code = "import sys; sys.argv[0] = 'lrplan'; from lrplan.cli import main; main()"
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    return [ln for ln in r.stdout.splitlines() if ln]


@pytest.mark.parametrize("words,want", [
    ("lrplan render x.yaml --format ", ["csv", "json", *names()]),
    ("lrplan render x.yaml --format o", ["olmo-core"]),
    ("lrplan render x.yaml --convention t", ["torchtitan"]),
    ("lrplan plot x.yaml --convention ", list(names())),
    ("lrplan plan x.yaml --export m", ["megatron"]),
    ("lrplan plan x.yaml --export ", ["megatron", "torchtitan", "hf"]),  # only what plan --export writes
    ("lrplan fit log.csv --format t", ["tensorboard"]),
    ("lrplan list ", [*FAMILIES, "shapes"]),
    ("lrplan list wsd", ["wsd", "wsdc", "wsd-s"]),
    ("lrplan plot x.yaml --law builtin:mpl-4", ["builtin:mpl-400m"]),
    ("lrplan plan x.yaml --law ", ["builtin:mpl-100m", "builtin:mpl-25m", "builtin:mpl-400m"]),
])
def test_completion_offers_known_values(words, want):
    assert complete(words) == want


def test_framework_versions_complete():
    got = complete("lrplan render x.yaml --framework-version 0.")
    assert "0.2" in got and "0.3" in got and "0.16" in got


def test_import_completes_the_importable_frameworks():
    from lrplan.frameworks import importable

    assert complete("lrplan import ") == list(importable())
    assert complete("lrplan import t") == ["torchtitan"]
