"""The law registry (``lrplan.laws.registry.LAWS``) is the one place a law is named: it drives ``lrplan fit --law``
(help, check), every registered law has the parts the generic driver needs, and a toy law registered here -- no
other module touched -- is fitted, saved, reloaded and predicted through the library and the CLI."""

from __future__ import annotations

import ast
import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import lrplan.laws
from lrplan.cli import app
from lrplan.laws import Curve, FittedLaw, fit, get_law
from lrplan.laws.base import FitModel, LawSpec, Prepared, in_domain
from lrplan.laws.reference_curves import mpl_lr
from lrplan.laws.registry import LAWS, Entry, accepted_names, canonical, cli_help
from lrplan.laws.resolve import ResolvedLaw, loss_floor
from lrplan.laws.warmup import WARMUP_CONVENTIONS, split_lr

runner = CliRunner()
PKG = Path(lrplan.laws.__file__).parent


# ----------------------------------------------------------------------------- a toy law, defined only here
class ConstPowerModel(FitModel):
    """``L = L0 + A * S1^-alpha`` (no annealing term): the forward-area part of both built-in laws."""

    names = ("L0", "A", "alpha")
    log_idx = (1,)
    bounds = [(None, None), (-10, 5), (0.01, 2.0)]

    def __init__(self, warmup: str) -> None:
        self.warmup = warmup

    def prepare(self, c, steps, y):
        area, _ = split_lr(c.lr[: int(steps.max()) + 1], self.warmup)
        return Prepared(c.name, steps, y, np.cumsum(area)[steps], None)

    def value_jac(self, th, p):
        L0, A, alpha = th
        logS = np.log(p.S)
        pw = np.exp(-alpha * logS)
        return L0 + A * pw, np.column_stack([np.ones_like(pw), pw, -A * pw * logS])

    def starts(self, lldl, annealing):
        return [np.array(lldl[:3]), np.array([0.5 * lldl[0], 1.0, 0.5])]


def _toy_predict(params, lr, steps, warmup):
    area, _ = split_lr(np.asarray(lr, dtype=float), warmup)
    return params["L0"] + params["A"] * np.cumsum(area)[np.asarray(steps)] ** -params["alpha"]


TOY = LawSpec(name="const-power", params=("L0", "A", "alpha"), defaults={},
              domains={"L0": (0.0, np.inf, False, True), "A": (0.0, np.inf, False, True),
                       "alpha": (0.0, np.inf, True, True)},
              default_warmup="area", predict=_toy_predict, loss_bound=lambda p, peak, lr=None: p["L0"],
              fit_model=ConstPowerModel)
TRUE = {"L0": 2.9, "A": 1.4, "alpha": 0.45}


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(LAWS, "const-power", Entry(TOY, aliases=("cp",), summary="3 params, no annealing"))
    return TOY


def _toy_curves() -> list[Curve]:
    out = []
    for name in ("constant_24000", "cosine_24000"):
        lr = mpl_lr(name)
        steps = np.arange(2500, lr.size, 200)
        out.append(Curve(name, steps, _toy_predict(TRUE, lr, steps, "area"), lr))
    return out


# ------------------------------------------------------------------------------------------------ tests
def test_registry_drives_fit_law_help_and_check():
    res = runner.invoke(app, ["fit", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert res.exit_code == 0
    assert cli_help() in " ".join(res.stdout.split())
    for name, entry in LAWS.items():
        assert f"{name} ({entry.summary})" in cli_help()
    res = runner.invoke(app, ["fit", "x.csv", "--law", "chinchilla"])
    assert res.exit_code == 2 and "unknown law; choose multi-power or momentum" in res.stderr


def test_registry_names_and_aliases():
    assert list(LAWS) == ["multi-power", "momentum"]
    assert accepted_names() == ["multi-power", "mpl", "momentum", "mtl"]
    assert canonical("mpl") == "multi-power" and canonical("chinchilla") is None
    with pytest.raises(ValueError, match="unknown law 'chinchilla'"):
        get_law("chinchilla")


@pytest.mark.parametrize("name", list(LAWS))
def test_every_registered_law_has_the_required_parts(name):
    spec = get_law(name)
    assert isinstance(spec, LawSpec) and spec.name == name
    for alias in LAWS[name].aliases:
        assert get_law(alias) is spec
    assert set(spec.all_params) == set(spec.domains)
    assert all(in_domain(v, spec.domains[k]) for k, v in spec.defaults.items())
    assert spec.default_warmup in WARMUP_CONVENTIONS
    model = spec.fit_model(spec.default_warmup)
    assert isinstance(model, FitModel)
    assert len(model.bounds) == len(model.names) and all(0 <= i < len(model.names) for i in model.log_idx)
    assert set(model.annealing) <= set(model.names) and model.amplitude in model.names
    for annealing in (True, False):
        starts = model.screening_model().starts(np.array([3.0, 1.0, 0.5, 300.0]), annealing)
        assert starts and all(s.shape == (len(model.screening_model().names),) for s in starts)
    lr = mpl_lr("cosine_24000")
    params = {**spec.defaults, **plausible_params(name)}
    y = spec.predict(params, lr, np.array([3000, 23999]), spec.default_warmup)
    assert np.all(np.isfinite(y)) and y[1] < y[0]
    assert math.isfinite(spec.loss_bound(params, 3e-4, lr)) and spec.loss_bound(params, 3e-4, lr) < y[1]


def plausible_params(name: str) -> dict[str, float]:
    """Plausible parameters of each registered law (a registered law without an entry here fails loudly)."""
    return {"multi-power": {"L0": 3.0, "A": 2.0, "alpha": 0.5, "B": 40.0, "C": 2.0, "beta": 1.0, "gamma": 0.0,
                            "rho": 0.7, "kappa": 0.7},
            "momentum": {"L0": 3.2, "A": 0.55, "alpha": 0.76, "C": 0.4, "lam": 0.999}}[name]


def test_a_toy_law_fits_and_predicts_through_the_generic_driver(toy):
    curves = _toy_curves()
    fl = fit(curves, law="cp")
    assert fl.law == "const-power" and list(fl.params) == ["L0", "A", "alpha"] and fl.warmup == "area"
    for k, v in TRUE.items():
        assert fl.params[k] == pytest.approx(v, rel=1e-3), fl.params
    assert fl.flags == ()  # no annealing terms: nothing to flag as unidentifiable
    assert all(m["r2"] > 0.9999 for m in fl.metrics.values())
    lr = mpl_lr("cosine_72000")
    steps = np.arange(3000, lr.size, 1000)
    back = FittedLaw.from_dict(yaml.safe_load(yaml.safe_dump(fl.to_dict())))
    np.testing.assert_allclose(back.predict(lr, steps), _toy_predict(TRUE, lr, steps, "area"), rtol=1e-3)
    assert loss_floor(ResolvedLaw(back, "toy", {}), lr) == 0.0  # no fitted peak LR recorded
    with_peak = dataclasses.replace(back, meta={**back.meta, "peak_lr": 3e-4})
    assert loss_floor(ResolvedLaw(with_peak, "toy", {}), lr) == back.params["L0"]  # the toy's own loss_bound
    with pytest.raises(ValueError, match="not an option of the const-power law"):
        fit(curves, law="const-power", rho=0.5)
    with pytest.raises(ValueError, match="law 'const-power' has no parameter 'B'"):
        FittedLaw.from_dict({**fl.to_dict(), "params": {**fl.params, "B": 1.0}})


def test_a_toy_law_through_the_cli(toy, tmp_path):
    log = tmp_path / "runs.csv"
    rows = ["run,step,lr,loss"]
    for c in _toy_curves():
        rows += [f"{c.name},{s},{float(c.lr[s])!r},{v:.6f}" for s, v in zip(c.steps.tolist(), c.loss.tolist())]
    log.write_text("\n".join(rows) + "\n")
    law = tmp_path / "law.yaml"
    res = runner.invoke(app, ["fit", str(log), "--law", "CP", "-o", str(law)])
    assert res.exit_code == 0, res.stderr
    d = yaml.safe_load(law.read_text())
    assert d["law"] == "const-power" and law.read_text().startswith("# const-power law fitted by `lrplan fit`")
    (tmp_path / "lr.csv").write_text("step,lr\n" + "".join(f"{s},3e-4\n" for s in range(0, 30000, 100)))
    res = runner.invoke(app, ["predict", "--lr-csv", str(tmp_path / "lr.csv"), "--law", str(law)])
    assert res.exit_code == 0, res.stderr
    final = float(res.stdout.split("predicted final loss ")[1].split()[0])
    assert final == pytest.approx(_toy_predict(d["params"], np.full(29901, 3e-4), [29900], "area")[0], abs=1e-4)
    assert all(m["r2"] > 0.999 for m in d["metrics"].values())


def test_law_modules_never_import_the_package_facade():
    """``lrplan.laws`` loads its public names lazily from its modules, so none of them may import it back."""
    for path in PKG.rglob("*.py"):
        if path.name == "__init__.py" and path.parent == PKG:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "lrplan.laws":
                subs = [a.name for a in node.names if (PKG / f"{a.name}.py").exists() or (PKG / a.name).is_dir()]
                assert len(subs) == len(node.names), f"{path.name} imports the facade: {ast.unparse(node)}"
            if isinstance(node, ast.Import):
                assert all(a.name != "lrplan.laws" for a in node.names), f"{path.name}: import lrplan.laws"
