import os

from hypothesis import settings

# "ci" (the default, what `.ci/run` uses): the same examples on every run, so a green CI stays green; "dev" explores
settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True, database=None)
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_addoption(parser):
    parser.addoption("--fuzz-all", action="store_true", default=False,
                     help="tests/fuzz: run the full 3,120 generated cases (default: a fixed set of 520)")
    parser.addoption("--fuzz-seed", type=int, default=0, help="tests/fuzz: draw the generated cases from this seed")
