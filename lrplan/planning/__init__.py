"""Multi-budget WSD / WSD-S planning: branch points and costs (``branches``), per-launch framework configs
(``launches``). The public entry point is :func:`lrplan.plan`.

(The package is ``planning``, not ``plan``: ``lrplan.plan`` is the public function and must stay callable.)
"""
