"""A new user's journey, straight from README (issue 8): a fresh venv, the first set-up command, then every
command of the README's tour. Fails when README and behaviour drift apart."""

import os
import re
import shlex
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _block_after(marker: str) -> str:
    i = README.index(marker)
    m = re.search(r"```(?:bash|sh)?\n(.*?)```", README[i:], re.S)
    assert m, f"no code block after {marker!r}"
    return m.group(1)


def _commands(block: str) -> list[str]:
    out = []
    for line in block.splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_second():
    setup = README[README.index("## Set up") : README.index("\n## ", README.index("## Set up") + 5)]
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", setup, re.S)
    assert len(blocks) == 2 and all(len(_commands(b)) == 1 for b in blocks)
    test_cmd = _commands(blocks[1])[0]
    assert test_cmd in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("LRPLAN_SKIP_JOURNEY") == "1", reason="LRPLAN_SKIP_JOURNEY=1")
def test_new_user_journey(tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / ("Scripts" if sys.platform == "win32" else "bin")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["VIRTUAL_ENV"] = str(env_dir)
    env["COLUMNS"] = "120"
    env["NO_COLOR"] = "1"

    def run(cmd: str) -> subprocess.CompletedProcess:
        res = subprocess.run(cmd, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        assert res.returncode == 0, f"$ {cmd}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
        assert "Traceback" not in res.stderr, f"$ {cmd}\n{res.stderr[-3000:]}"
        return res

    setup = README[README.index("## Set up") :]
    first = _commands(re.findall(r"```(?:bash|sh)?\n(.*?)```", setup, re.S)[0])[0]
    res = run(first)
    assert "stable" in res.stdout + res.stderr  # the main job printed the WSD schedule
    assert Path(shlex.split(first.split("&&")[-1])[0]).name == "lrplan"
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for cmd in _commands(_block_after("<!-- journey -->")):
        if re.match(r"^[A-Z_]+=", cmd):  # `OUT=$(mktemp -d)`: each command runs in its own shell; $OUT is set below
            continue
        res = run(cmd.replace("$OUT", str(out_dir)))
        assert res.stdout.strip() or res.stderr.strip(), cmd
