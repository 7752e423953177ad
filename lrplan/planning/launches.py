"""``lrplan plan --export FW -o DIR``: one ready config per WSD branch or WSD-S segment, the launch order, and
the per-step CSV of the planned run(s). Every config is produced by :func:`lrplan.frameworks.export.export`, so
it comes with that framework's simulated LRs; the files say where they differ from the plan."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lrplan import frameworks
from lrplan.errors import LrplanError

if TYPE_CHECKING:  # pragma: no cover
    from lrplan.frameworks.export import Export
    from lrplan.planning.planner import PlanResult
    from lrplan.spec.models import Spec


@dataclass
class Launch:
    """One job: train from ``resume_step`` (0 = from scratch) to ``end_step`` with config ``export``; the plan's
    LRs for its steps are ``lr`` (steps ``resume_step .. end_step-1``). ``resumes_from``: the launch whose final
    checkpoint it starts from; ``needed_by``: the launches that start from its final checkpoint (save it)."""

    name: str
    resume_step: int
    end_step: int
    spec: "Spec"
    export: "Export"
    lr: np.ndarray
    resumes_from: str | None = None
    needed_by: list[str] = field(default_factory=list)


def _segment_spec(spec: "Spec", steps: int, decay: int | None) -> "Spec":
    from lrplan.planning.branches import percent_warmup
    from lrplan.spec.models import Replace

    sched = spec.model_dump(mode="json", by_alias=True, exclude_none=True)["schedule"]
    sched.pop("rewarmup", None)
    if percent_warmup(spec):  # a percentage of the whole run, not of this job
        sched["warmup"] = next((seg.end for seg in spec.schedule_plan().segments if seg.phase == "warmup"), 0)
    if decay is None:  # the WSD trunk: warmup then stable
        sched = {k: v for k, v in sched.items() if k in ("peak_lr", "warmup", "warmup_shape", "warmup_init_lr")}
        sched["kind"] = "constant"
    else:
        sched["kind"] = "wsd"
        sched["decay"] = decay
        if spec.clock_unit() == "tokens":  # a decay of N steps on the token clock is the tokens those steps take
            t = spec.schedule_plan().tokens_at(np.array([steps - decay, steps], dtype=np.int64))
            assert t is not None  # the token clock has tokens
            sched["decay"] = f"{int(t[1] - t[0])} tokens"
    return spec.derive(budget={"budgets": None, "tokens": None, "steps": steps}, schedule=Replace(sched))


def launches(spec: "Spec", res: "PlanResult", framework: str, version: str | None = None) -> list[Launch]:
    """The jobs to run for the plan, in order, each with its exported config."""
    from lrplan.frameworks.export import export
    from lrplan.planning.branches import wsd_branch_specs

    if framework not in frameworks.exportable_plans():
        raise LrplanError(f"--export supports {', '.join(frameworks.exportable_plans())} (got {framework!r})")
    if spec.schedule.kind == "wsd-s" and any(s.phase == "rewarmup" for s in spec.schedule_plan().segments):
        raise LrplanError("--export of WSD-S with a re-warmup is not supported: the frameworks' WSD has no re-warmup; use lrplan.torch.LRPlanScheduler")
    out: list[Launch] = []
    if spec.schedule.kind == "wsd-s":
        lr = spec.render().lr
        prev = 0
        for c in res.checkpoints:
            seg = _segment_spec(spec, c.checkpoint_step, c.decay_steps)
            e = export(seg, framework, version)
            out.append(Launch(f"segment-{c.index}", prev, c.checkpoint_step, seg, e, lr[prev : c.checkpoint_step],
                              resumes_from=out[-1].name if out else None))
            if len(out) > 1:
                out[-2].needed_by.append(out[-1].name)
            prev = c.checkpoint_step
        return out
    # the trunk runs in pieces that end at the branch points, so each branch's checkpoint is a piece's final save
    # (the frameworks save at the end of training; none saves at a list of steps)
    points = [c.branch_point_step for c in res.checkpoints]
    trunks: list[Launch] = []
    prev = 0
    for i, bp in enumerate(points):
        if bp == prev and trunks:  # two branches off the same step share a piece
            continue
        piece = _segment_spec(spec, bp, None)
        name = "trunk" if len(set(points)) == 1 else f"trunk-{len(trunks) + 1}"
        trunks.append(Launch(name, prev, bp, piece, export(piece, framework, version), piece.render().lr[prev:bp],
                             resumes_from=trunks[-1].name if trunks else None))
        if len(trunks) > 1:
            trunks[-2].needed_by.append(trunks[-1].name)
        prev = bp
    out += trunks
    for c, b in zip(res.checkpoints, wsd_branch_specs(spec)):
        lr = b.render().lr
        src = next(j for j in trunks if j.end_step == c.branch_point_step)
        src.needed_by.append(f"branch-{c.index}")
        out.append(Launch(f"branch-{c.index}", c.branch_point_step, c.checkpoint_step, b, export(b, framework, version),
                          lr[c.branch_point_step :], resumes_from=src.name))
    return out


def deviation(job: Launch) -> tuple[bool, float]:
    """Whether the framework, run with the job's config, uses the planned LR on each of the job's steps
    (to rtol 1e-12, the frameworks' operation order), and the max absolute deviation."""
    from lrplan.frameworks.export import compare

    got = job.export.lr[job.resume_step : job.end_step]
    if got.size != job.lr.size:
        return False, float("inf")
    exact, mx, _, _ = compare(got, job.lr)
    return exact, mx


_EXTS = sorted({e for n in frameworks.exportable_plans() for e in frameworks.get(n).plan_export.ext.values()} | {"csv"})  # type: ignore[union-attr]
_EXPORT_FILE = re.compile(rf"(trunk(-\d+)?|branch-\d+|segment-\d+)\.({'|'.join(_EXTS)})|wsd-s-run\.csv|LAUNCH\.md")


def _prepare_dir(out_dir: Path, planned: set[str]) -> None:
    """Create ``out_dir``; refuse one that holds files of an earlier export this one would not replace (a stale
    ``segment-3.args`` beside a new LAUNCH.md listing two launches would be run by mistake)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise LrplanError(f"cannot export to {out_dir}: it exists and is not a directory") from None
    except OSError as e:
        raise LrplanError(f"cannot create {out_dir}: {e.strerror or e}") from None
    stale = sorted(f.name for f in out_dir.iterdir() if _EXPORT_FILE.fullmatch(f.name) and f.name not in planned)
    if stale:
        raise LrplanError(f"{out_dir} holds files of an earlier export that this one would not replace "
                          f"({', '.join(stale[:4])}{', ...' if len(stale) > 4 else ''}): use an empty directory or "
                          "remove them")


def _with_flag(snippet: str, flag: str) -> str:
    """A command-line snippet (``--a 1 \\`` lines, comments before) with ``flag`` added as its last argument, so a
    resumed launch pasted as written carries it (Megatron: ``--override-opt-param-scheduler``)."""
    lines = snippet.rstrip("\n").split("\n")
    last = max((i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")), default=None)
    if last is None:
        return snippet
    lines[last] = lines[last].rstrip() + " \\"
    lines.insert(last + 1, flag)
    return "\n".join(lines) + "\n"


def export_plan(spec: "Spec", res: "PlanResult", framework: str, out_dir: Path, version: str | None = None) -> list[Path]:
    """Write the launches' configs, a LAUNCH.md with the order and resume points, and the per-step CSV(s)."""
    from lrplan.output.table import atomic_output, table_chunks

    jobs = launches(spec, res, framework, version)
    plan_export = frameworks.get(framework).plan_export
    assert plan_export is not None  # launches() refuses the others
    exts = {j.name: plan_export.ext[j.export.version] for j in jobs}
    planned = {f"{n}.{e}" for n, e in exts.items()} | {"LAUNCH.md"}
    planned |= {"wsd-s-run.csv"} if res.kind == "wsd-s" else {f"{j.name}.csv" for j in jobs if j.name.startswith("branch")}
    _prepare_dir(out_dir, planned)
    from lrplan.output.table import check_output

    for name in sorted(planned):  # an export never replaces its own spec (e.g. a spec named branch-1.csv)
        check_output(str(out_dir / name), [spec.source] if spec.source else [])
    written: list[Path] = []
    lines = [f"# {spec.name or spec.source or 'plan'}: {res.kind} for {len(res.checkpoints)} budgets on {framework}", ""]
    for i, j in enumerate(jobs, 1):
        path = out_dir / f"{j.name}.{exts[j.name]}"
        resume = "from scratch" if j.resume_step == 0 else f"resume from the checkpoint after update {j.resume_step:,}"
        if plan_export.resume_flag and j.resume_step:
            resume += f" with {plan_export.resume_flag}"
        if j.resumes_from:
            resume += f" ({j.resumes_from}'s final checkpoint)"
        exact, dev = deviation(j)
        verdict = "runs the planned LRs exactly" if exact else f"max deviation from the plan on its steps: {dev:.3g}"
        keep = (f"; save its final checkpoint (after update {j.end_step:,}): {' and '.join(j.needed_by)} "
                f"{'start' if len(j.needed_by) > 1 else 'starts'} from it" if j.needed_by else "")
        head = f"# launch {i} of {len(jobs)} ({j.name}): {resume}; train to update {j.end_step:,}{keep}; {verdict}\n"
        snippet = j.export.snippet if j.export.snippet.endswith("\n") else j.export.snippet + "\n"
        args = [ln for ln in snippet.splitlines() if not ln.lstrip().startswith("#")]
        if plan_export.resume_flag and j.resume_step and not any(plan_export.resume_flag in ln for ln in args):
            snippet = _with_flag(snippet, plan_export.resume_flag)
        with atomic_output(str(path)) as fh:
            fh.write(head.encode() + snippet.encode())
        written.append(path)
        lines.append(f"{i}. `{path.name}`: {resume}; train to update {j.end_step:,}{keep}; {verdict}.")
    if res.kind == "wsd-s":
        csv = out_dir / "wsd-s-run.csv"
        with atomic_output(str(csv)) as fh:
            for chunk in table_chunks(spec.schedule_plan()):
                fh.write(chunk)
        written.append(csv)
        lines += ["", f"`{csv.name}`: the LR of every update of the single WSD-S run."]
    else:
        for j in (j for j in jobs if j.name.startswith("branch")):
            csv = out_dir / f"{j.name}.csv"
            with atomic_output(str(csv)) as fh:
                for chunk in table_chunks(j.spec.schedule_plan()):
                    fh.write(chunk)
            written.append(csv)
        lines += ["", "`branch-N.csv`: the LR of every update of trunk + branch N."]
    readme = out_dir / "LAUNCH.md"
    with atomic_output(str(readme)) as fh:
        fh.write(("\n".join(lines) + "\n").encode())
    written.append(readme)
    return written
