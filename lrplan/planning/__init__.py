"""Multi-budget WSD / WSD-S planning (``lrplan plan``).

* ``branches``: branch points (WSD) and checkpoints (WSD-S) per budget;
* ``costs``: compute of WSD, WSD-S, cyclic cosine and cosine per budget;
* ``losses``: predicted losses at the checkpoints, and ``--optimize``;
* ``planner``: :class:`~lrplan.planning.planner.PlanResult`, ``make_plan`` and the public :func:`lrplan.plan`;
* ``launches``: the jobs to run (trunk, branches, segments), each with its framework config (``--export``).

(The package is ``planning``, not ``plan``: ``lrplan.plan`` is the public function and must stay callable.)
"""
