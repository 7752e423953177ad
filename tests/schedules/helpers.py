import numpy as np

import lrplan


def lrs(schedule: dict, steps: int | None = None, **budget) -> np.ndarray:
    b = dict(budget) or {"steps": steps}
    return lrplan.load_spec({"budget": b, "schedule": schedule}).render().lr


def plan(schedule: dict, **budget):
    return lrplan.load_spec({"budget": budget, "schedule": schedule}).schedule_plan()
