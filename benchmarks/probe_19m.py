"""Does the probe ``lrplan probe`` recommends close the gap on real runs? (issue 16 point 3)

On ``lrplan_gpt19m_code``: fit the default law on ``constant`` + ``cosine`` (from step 400, as
``benchmarks/law_accuracy.py``), and ask :func:`lrplan.laws.probe.recommend` which probe would best tell its
members apart for the choice between the set's 16 full-length shapes at the main peak. The set holds three real
probes, cooldowns branched off ``constant`` (``wsd_branch_25/50/75``: at steps 800/1,600/2,400, 1-sqrt to 0 over
200/400/600 updates): the recommendation is made among those (their real LRs), then the law is refitted with the
recommended one added and scored on the 16 shapes, before and after. Every probe's after-numbers are printed too,
so one can see whether the recommended one is the best of the three; and what the CLI would recommend among its
own candidates (linear cooldowns off the same trunk).

    python benchmarks/probe_19m.py
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from law_accuracy import PAIR_GAP, WINDOW19, full_length, load_gpt19m  # noqa: E402

from lrplan.laws import driver  # noqa: E402
from lrplan.laws.history import History  # noqa: E402
from lrplan.laws.probe import Probe, candidates, describe, recommend, spread_text, trunk_of  # noqa: E402
from lrplan.laws.shapes import pairs_right  # noqa: E402

FIT = ("constant", "cosine")
BRANCHES = {"wsd_branch_25": (800, 200), "wsd_branch_50": (1600, 400), "wsd_branch_75": (2400, 600)}


def _fit(curves):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return driver.fit(curves, window=WINDOW19)


def scores(fl, C, names) -> tuple[float, float, int, int]:
    """(mean |final error|, mean signed final error, pairs right, pairs) on ``names``."""
    obs = np.array([C[n].loss[-1] for n in names])
    pred = np.array([float(driver.predict(fl, C[n].lr, np.array([C[n].lr.size - 1]))[0]) for n in names])
    ok, tot = pairs_right(pred, obs, PAIR_GAP)
    return float(np.mean(np.abs(pred - obs))), float(np.mean(pred - obs)), ok, tot


def run() -> dict:
    C = load_gpt19m()
    names = [n for n in C if full_length(n) and n not in FIT]
    fl = _fit([C[n] for n in FIT])
    hists = [History.from_array(C[n].lr) for n in names]
    trunk = trunk_of([C["constant"]])
    real = [Probe(b, d, max(d // 15, 1), d, trunk.name, given_lr=C[n].lr) for n, (b, d) in BRANCHES.items()]
    rec = recommend(fl, hists, trunk, 4000, probes=real, max_runs=1)
    chosen = next(n for n, (b, d) in BRANCHES.items() if (b, d) == (rec.probes[0].branch, rec.probes[0].decay))
    out = {"before": scores(fl, C, names), "recommended": chosen, "spread_before": rec.spread_before,
           "spread": {n: s for n, (_, s) in zip(BRANCHES, rec.scores)}, "after": {}}
    for n in BRANCHES:
        out["after"][n] = scores(_fit([C[m] for m in FIT + (n,)]), C, names)
    own = recommend(fl, hists, trunk, 4000, probes=candidates(trunk))
    out["cli"] = [describe(p, own) for p in own.probes]
    out["members"] = rec.members
    return out


def main() -> None:
    r = run()
    b = r["before"]
    print(f"law fitted on constant + cosine ({r['members']} members); decision: the 16 shapes' finals")
    print(f"  before any probe: mean |final| {b[0]:.4f}, mean signed {b[1]:+.4f}, pairs {b[2]} of {b[3]}; "
          f"expected spread of the decision {spread_text(r['spread_before'])}")
    for n, s in r["spread"].items():
        a = r["after"][n]
        mark = "  <- recommended" if n == r["recommended"] else ""
        print(f"  + {n:14s} expected spread {spread_text(s)}; after refitting: mean |final| {a[0]:.4f}, "
              f"mean signed {a[1]:+.4f}, pairs {a[2]} of {a[3]}{mark}")
    print("what `lrplan probe` would recommend among its own candidates (linear cooldowns off `constant`):")
    for line in r["cli"]:
        print("  " + line)


if __name__ == "__main__":
    main()
