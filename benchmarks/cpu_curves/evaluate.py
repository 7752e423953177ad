"""LAW_SELECTION_16 Part 10: today's law, bands and probe on curves trained here, which nothing was chosen on.

    python benchmarks/cpu_curves/evaluate.py               # parts A-D (A, B, D without the probe run)
    python benchmarks/cpu_curves/evaluate.py --probe-lr F  # write the recommended probe's LR (step,lr) to F
    python benchmarks/cpu_curves/evaluate.py --part 11     # Part 11's replication (a wider, deeper model; A-C)

The runs are `tests/data/curves/lrplan_cpu_tiny/curves.csv.gz` (made by `benchmarks/cpu_curves/train.py`; the
README there says how). The protocol is the one pre-registered in Part 10 of `benchmarks/LAW_SELECTION_16.md`.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import law_accuracy as LA  # noqa: E402

from lrplan.laws import bands, driver  # noqa: E402
from lrplan.laws.history import History  # noqa: E402
from lrplan.laws.probe import describe, recommend, trunk_of  # noqa: E402

DATA = ROOT / "tests/data/curves/lrplan_cpu_tiny"
WINDOW = 300  # 10 % of the runs, as the 19M protocol's 400 of 4,000
FIT = ("constant", "cosine")
HELD = ("linear_d2z", "wsd_linear20", "wsd_linear10", "wsd_linear5", "wsd_1sqrt20", "wsds_3")
PLAN_STEPS = 3000
PROBE = "probe"  # the recommended probe's run name in the data, once trained
MIN_INSIDE = 5  # Part 10's pass: at least 5 of the 6 finals inside the band

PARTS = {  # Part 11 (pre-registered in LAW_SELECTION_16.md): a replication on other runs, the same rules
    11: {"DATA": ROOT / "tests/data/curves/lrplan_cpu_small", "WINDOW": 400, "PLAN_STEPS": 4000,
         "HELD": ("linear_d2z", "wsd_linear20", "wsd_linear10", "wsd_1sqrt20"), "MIN_INSIDE": 3},
}


def load() -> dict:
    return LA.load_gpt19m(DATA)


def fit(curves: list):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return driver.fit(curves, window=WINDOW)


def members(fl, c) -> bands.Members:
    """Every member's final (row 0 the centre) and the gain term, as `predict` computes them."""
    ms = bands.members_of(fl.uncertainty, fl.params)
    m = np.array([[driver.predict(dataclasses.replace(fl, params=p), c.lr, c.steps[-1:])[0]] for p in ms])
    twin = driver.predict(fl, bands.constant_twin_lr(c.lr), c.steps[-1:])[0]
    return bands.Members(m, bands.fit_rmse(fl), [twin - m[0, 0]])


def part_a(C: dict, fit_names: tuple[str, ...], title: str) -> dict:
    fl = fit([C[n] for n in fit_names])
    rows = {}
    for n in HELD:
        m = members(fl, C[n])
        lo, hi = bands.final_band(m)
        obs = float(C[n].loss[-1])
        rows[n] = (obs, float(np.asarray(m)[0, 0]), float(lo[0]), float(hi[0]), m)
    inside = [lo <= obs <= hi for obs, _, lo, hi, _ in rows.values()]
    width = float(np.mean([hi - lo for _, _, lo, hi, _ in rows.values()]))
    obs_all = [r[0] for r in rows.values()]
    pin = ties = right = tot = 0
    for a, b in itertools.combinations(HELD, 2):
        d = rows[a][0] - rows[b][0]
        if abs(d) <= LA.PAIR_GAP:
            continue
        lo, hi = bands.difference_band(rows[a][4], rows[b][4])
        tot += 1
        pin += bool(lo[0] <= d <= hi[0])
        ties += bool(lo[0] <= 0 <= hi[0])
        right += bool(np.sign(d) == np.sign(rows[a][1] - rows[b][1]))
    err = [r[1] - r[0] for r in rows.values()]
    print(f"{title}: fitted on {' + '.join(fit_names)} from step {WINDOW} ({len(fl.uncertainty.get('members', [])) + 1 if fl.uncertainty else 1} members; flags: {', '.join(fl.flags) or 'none'})")
    for n, (obs, c, lo, hi, _) in rows.items():
        print(f"  {n:14s} observed {obs:.4f}  predicted {c:.4f}  error {c - obs:+.4f}  band {lo:.4f}..{hi:.4f} "
              f"(width {hi - lo:.4f}){'' if lo <= obs <= hi else '  OUTSIDE'}")
    print(f"  coverage {sum(inside)} of {len(inside)}; mean width {width:.4f} (the {len(inside)} finals span "
          f"{max(obs_all) - min(obs_all):.4f}); mean |final| {np.mean(np.abs(err)):.4f}, mean signed "
          f"{np.mean(err):+.4f}; pairs (> {LA.PAIR_GAP}): {tot}, ranked right {right}, observed difference inside "
          f"its band {pin}, ties {ties}")
    return {"fl": fl, "inside": sum(inside), "n": len(inside), "width": width, "mean_abs": float(np.mean(np.abs(err))),
            "right": right, "pairs": tot}


def part_b(C: dict) -> None:
    LA.register()
    print("B (exploratory): K0 (today) and K13 on A's protocol")
    for cand in ("K0", "K13"):
        fl = LA.fit([C[n] for n in FIT], cand, WINDOW)
        rows = LA.evaluate(fl, C, HELD, WINDOW)
        ok, tot = LA.pairs(rows, HELD)
        signed = ", ".join(f"{n} {rows[n][1] - rows[n][0]:+.4f}" for n in HELD)
        print(f"  {cand:4s} mean |final| {LA.mean_final(rows, HELD):.4f}, MAE {LA.mean_mae(rows, HELD):.5f}, pairs "
              f"{ok} of {tot}; signed: {signed}")


def recommended(C: dict, fl):
    hists = [History.from_array(C[n].lr) for n in HELD]
    trunk = trunk_of([C["constant"]])
    rec = recommend(fl, hists, trunk, PLAN_STEPS, max_runs=1)
    return rec, trunk


def part_d(C: dict) -> None:
    LA.register()
    names = [n for n in ("constant_peak_x0.33", "wsd_linear20_peak_x0.33") if n in C]
    if len(names) < 2:
        print("D: the x0.33 runs are missing")
        return
    print("D (exploratory): fit constant + cosine + constant_peak_x0.33; predict wsd_linear20 at both peaks")
    for cand in ("K0", "K13"):
        fl = LA.fit([C[n] for n in ("constant", "cosine", "constant_peak_x0.33")], cand, WINDOW)
        rows = LA.evaluate(fl, C, ("wsd_linear20", "wsd_linear20_peak_x0.33"), WINDOW)
        print(f"  {cand:4s} " + "; ".join(f"{n} observed {o:.4f} predicted {p:.4f} error {p - o:+.4f}"
                                          for n, (o, p, _) in rows.items()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe-lr", default=None, help="write the recommended probe's LR at every update (step,lr)")
    ap.add_argument("--part", type=int, choices=[10, *PARTS], default=10, help="which pre-registered check (default 10)")
    a = ap.parse_args()
    if a.part in PARTS:
        globals().update(PARTS[a.part])
    C = load()
    if a.probe_lr:
        fl = fit([C[n] for n in FIT])
        rec, trunk = recommended(C, fl)
        p = rec.probes[0]
        print(describe(p, rec))
        lr = p.lr(trunk)
        with open(a.probe_lr, "w") as fh:
            fh.write("step,lr\n" + "".join(f"{k},{float(v)!r}\n" for k, v in enumerate(lr)))
        print(f"wrote {a.probe_lr}: {lr.size:,} updates; branch {p.branch:,}, decay {p.decay:,}, eval every "
              f"{p.eval_every:,} from update {p.branch - 1:,}")
        return
    before = part_a(C, FIT, "A (confirmatory)")
    ok = before["inside"] >= MIN_INSIDE and before["width"] < 0.1
    print(f"  A: {'PASS' if ok else 'FAIL'} (pre-registered: at least {MIN_INSIDE} of {len(HELD)} inside, mean width "
          "below 0.1)")
    part_b(C)
    rec, _ = recommended(C, before["fl"])
    print("C (prospective): the probe recommended for the choice between A's runs: " + describe(rec.probes[0], rec))
    if PROBE in C:
        after = part_a(C, FIT + (PROBE,), "C, after: the probe added to the fit")
        passed = after["mean_abs"] <= 0.5 * before["mean_abs"]
        print(f"  C: mean |final| {before['mean_abs']:.4f} -> {after['mean_abs']:.4f}, pairs right "
              f"{before['right']} -> {after['right']} of {before['pairs']}, coverage {before['inside']} -> "
              f"{after['inside']} of {len(HELD)}: {'PASS' if passed else 'FAIL'} (pre-registered: at most half)")
    else:
        print("  C: the probe has not been trained yet (see --probe-lr)")
    if a.part == 10:
        part_d(C)


if __name__ == "__main__":
    main()
