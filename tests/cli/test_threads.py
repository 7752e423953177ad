"""The CLI pins numpy's thread pools before numpy loads: --threads N, else LRPLAN_THREADS, else 1."""

from __future__ import annotations

import subprocess
import sys

from lrplan.cli import THREAD_VARS, pin_threads


def test_default_is_one_thread_and_exported_sizes_are_kept():
    env: dict[str, str] = {"OMP_NUM_THREADS": "4"}
    pin_threads(env)
    assert env == {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "4", "MKL_NUM_THREADS": "1"}


def test_lrplan_threads_and_the_option():
    env = {"LRPLAN_THREADS": "3"}
    pin_threads(env)
    assert all(env[v] == "3" for v in THREAD_VARS)
    pin_threads(env, 2)
    assert all(env[v] == "2" for v in THREAD_VARS)


def test_the_running_cli_has_them_set_before_numpy():
    code = ("import os, sys; sys.argv = ['lrplan', '--threads', '2', 'list']\n"
            "from lrplan.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "assert 'numpy' not in sys.modules or os.environ['OPENBLAS_NUM_THREADS'] == '2'\n"
            "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "2 2"
