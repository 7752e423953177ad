"""Derive the compact CSVs of the Hägele-style model-size series (SlimPajama and OpenWebText2, 33M-360M) from the
Schaipp/Hägele wandb JSON dumps. Run from the repository root (needs the shared copy of fabian-sp/lr-scheduling @
8ace3a3, MIT):

    python tests/data/curves/schaipp2025_sizes/derive.py /work/shared/data/curves/schaipp2025_lr-scheduling

Same format and rules as ``../schaipp2025_124m/derive.py`` and ``../schaipp2025_more/derive.py`` (``step,lr,loss``;
``loss`` = ``val_loss`` sorted by iter, duplicates averaged; ``lr`` = logged ``train_lr`` interpolated, informational).
Sources: the top-level ``data/`` files whose names start with ``sl``, ``ann0.2_`` or ``openwebtext2_``, grouped by
(dataset, n_layer, n_embd) from their configs (the ``sl53``/``sl166`` prefixes do not name the model size). Per group:

* ``constant_<T>``: the ``wsd`` run with ``wsd_fract_decay`` 0 (exactly one per group, logged from step 0);
* ``wsd-<decay>-0.2_<T>``: the ``ann0.2_*`` cooldown branches (``decay_type`` unset = the codebase's default,
  linear; the check below confirms it), whose logs start at or before the cooldown: spliced onto the constant run
  for the steps before their first logged step;
* ``cosine10_<T>``: the ``cos`` runs; all of them end at 10 % of their own peak (read off ``train_lr``), which is
  twice the WSD peak.

The two peaks of each folder are written to its ``peaks.json`` (``{"wsd": ..., "cosine": ...}``). Every rebuilt
per-step LR (``lrplan.laws.reference_curves.schaipp_lr`` from the file name and the folder's peak) is checked against
the logged ``train_lr`` at every logged step; a mismatch aborts.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any


ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT))
from lrplan.laws.reference_curves import schaipp_spec  # noqa: E402

PREFIXES = ("sl", "ann0.2_", "openwebtext2_")
# (n_layer, n_embd) -> model label (non-embedding + embedding params, rounded to millions)
MODELS = {(8, 384): "33m", (8, 512): "53m", (10, 512): "60m", (12, 640): "93m", (12, 768): "124m",
          (16, 768): "152m", (12, 896): "166m", (24, 768): "209m", (24, 1024): "360m"}


def _more_derive() -> Any:
    """``../schaipp2025_more/derive.py``: its ``write_spliced`` (one splice-check-write for both folders) and its
    ``_series`` (the 124M folder's reader of the wandb histories)."""
    path = Path(__file__).resolve().parents[1] / "schaipp2025_more" / "derive.py"
    spec = importlib.util.spec_from_file_location("schaipp2025_more_derive", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_more = _more_derive()
_series = _more._series


def _groups(data: Path) -> dict[str, dict[str, Any]]:
    """folder -> {"peaks": {"wsd": p, "cosine": q}, "base": name, "runs": {name: history}}."""
    groups: dict[str, dict[str, Any]] = {}
    for path in sorted(data.glob("*.json")):
        if not path.name.startswith(PREFIXES):
            continue
        h = json.loads(path.read_text())
        c = h["config"]
        folder = f"{c['dataset']}_{MODELS[(c['n_layer'], c['n_embd'])]}"
        g = groups.setdefault(folder, {"peaks": {}, "base": None, "runs": {}})
        T, sched = int(c["iterations"]), c["scheduler"]
        if sched == "wsd":
            kind = "wsd"
            frac = float(c["wsd_fract_decay"])
            if frac == 0:
                name = f"constant_{T}"
                assert g["base"] is None, (folder, "two constant runs")
                g["base"] = name
            else:
                name = f"wsd-{c.get('decay_type') or 'linear'}-{frac:g}_{T}"
        elif sched == "cos":
            kind = "cosine"
            l_it, l_lr = _series(h, "train", "train_lr")
            # the LR logged at iter T (one step past the schedule; 1e-7 relative above the end value) names the run
            final = l_lr[l_it == T][0] / float(c["lr"])
            pct = round(100 * final)
            assert abs(final - pct / 100) < 1e-6, (path.name, final)
            name = f"cosine{pct}_{T}" if pct else f"cosine_{T}"
        else:
            raise SystemExit(f"{path.name}: unexpected scheduler {sched!r}")
        assert g["peaks"].setdefault(kind, float(c["lr"])) == float(c["lr"]), (path.name, g["peaks"])
        assert name not in g["runs"], (folder, name)
        g["runs"][name] = h
    return groups


def main(src: Path) -> None:
    data = src / "data"
    out_root = Path(__file__).parent
    for folder, g in sorted(_groups(data).items()):
        if g["base"] is None:
            raise SystemExit(f"{folder}: no constant base run")
        out = out_root / folder
        out.mkdir(exist_ok=True)
        (out / "peaks.json").write_text(json.dumps(g["peaks"]) + "\n")
        base = g["runs"][g["base"]]
        for name, h in sorted(g["runs"].items()):
            spec = schaipp_spec(name)
            peak = g["peaks"]["cosine" if spec["kind"] == "cos" else "wsd"]
            spliced = name != g["base"] and _series(h, "val", "val_loss")[0][0] > 0
            assert not spliced or name.startswith("wsd-"), (folder, name)
            _more.write_spliced(out, folder, name, h, [base] if spliced else [], spec, peak)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
