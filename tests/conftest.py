import os

from hypothesis import settings

# "ci" (the default, what `.ci/run` uses): the same examples on every run, so a green CI stays green; "dev" explores
settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True, database=None)
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
