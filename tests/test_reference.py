"""Every recorded reference trajectory still comes out as recorded (reproduce/reference.py).

- float64, as the suite's environment runs it, at rtol 1e-6 over the first FLOAT64_STEPS
  steps of each recipe: holds on any machine (`python -m reproduce.record --check` runs
  every step);
- float64 with TensorFlow's own kernels (oneDNN off) and one intra-op thread, in fresh
  processes, at rtol 1e-6 over the first PLATFORM_STEPS steps of each recipe: the platform
  independence, shown without a second machine (`python -m reproduce.record --check
  --platforms all` runs every step under oneDNN on/off x 1/2 threads);
- float32: bit-exact where this platform's fingerprint is the recorded one (test id
  `...-golden`); elsewhere (`...-elsewhere`) the losses before any update within 1e-5 of
  the float64 ones and two fresh processes bit-identical over their first ELSEWHERE_STEPS
  steps. The line pytest prints at the
  end says which ran and why.

Regenerate a file only with `python -m reproduce.record NAME`, and only when the math
changed on purpose.
"""

import numpy as np
import pytest
from conftest import background

from models import MODELS
from reproduce import reference

NAMES = sorted(reference.recipe_names(), key=reference.expected_cost, reverse=True)
HERE = reference.fingerprint(reference._COMMON["intra_op_threads"])
DIFFERENCES = {name: reference.fingerprint_differences(reference.load(name)["float32"][
    "fingerprint"], HERE) for name in NAMES}
FLOAT32 = ["%s-%s" % (name, "elsewhere" if DIFFERENCES[name] else "golden")
           for name in reference.recipe_names()]
SUMMARY = []        # lines for the end of the run (conftest)


PLATFORM_STEPS = 2      # of each recipe under TensorFlow's kernels and one thread (every
                        # step: python -m reproduce.record --check --platforms all)
FLOAT64_STEPS = 3       # of each recipe's float64 trajectory compared here (every step:
                        # python -m reproduce.record --check, or the golden float32 test)
ELSEWHERE_STEPS = 3     # of each float32 run on another platform, whose two fresh runs are
                        # compared with each other (not with the recorded bits)


def _groups(workers):
    """The recipes in `workers` groups of about equal cost, each run in one process."""
    groups, cost = [[] for _ in range(workers)], [0] * workers
    for name in NAMES:
        i = cost.index(min(cost))
        groups[i].append(name)
        cost[i] += reference.expected_cost(name)
    return [g for g in groups if g]


def start_runs(workers):
    """Every run the tests need, in fresh processes (a process runs a group of recipes one
    after the other). Returns (label, name) -> Future of {name: result, ...}."""
    jobs = {}
    for i, group in enumerate(_groups(workers)):
        golden = [name for name in group if not DIFFERENCES[name]]
        again = [name for name in group if DIFFERENCES[name]]
        jobs["float64", i] = dict(names=group, dtype="float64", initial=False,
                                  steps=FLOAT64_STEPS)
        if golden:          # every step, against the recorded bits
            jobs["float32", i] = dict(names=golden, dtype="float32", initial=False)
        if again:           # the first steps twice, each against the other
            jobs["float32 elsewhere", i] = dict(names=again, dtype="float32", initial=True,
                                                steps=ELSEWHERE_STEPS)
        jobs["float64 tf-kernels 1 thread", i] = dict(names=group, dtype="float64", onednn=False,
                                                      threads=1, steps=PLATFORM_STEPS,
                                                      initial=False)
        if again:
            jobs["float32 again", i] = dict(names=again, dtype="float32", initial=False,
                                            steps=ELSEWHERE_STEPS)
    futures = reference.run_many(jobs, workers=workers)
    label_of = {"float32 elsewhere": "float32"}
    return {(label_of.get(label, label), name): futures[label, i]
            for (label, i), job in jobs.items() for name in job["names"]}


@pytest.fixture(scope="module")
def fresh_runs():
    """(label, name) -> Future of a fresh run; started at collection (see conftest)."""
    return background("reference", lambda: start_runs(workers=2))


def test_every_registered_model_has_a_reference_file():
    for name in MODELS:       # the recipes are the registered models: tests/test_registry.py
        recorded = reference.load(name)
        assert recorded["regenerate"] == "python -m reproduce.record %s" % name
        for dtype in ("float64", "float32"):
            steps = {len(v) for v in recorded[dtype]["losses"].values()}
            assert steps == {reference.RECIPES[name]["max_steps"]}, (name, dtype)


@pytest.mark.parametrize("name", reference.recipe_names())
def test_float64_trajectory_matches_the_recorded_one(name, fresh_runs):
    recorded = reference.load(name)["float64"]
    fresh = fresh_runs["float64", name].result()[name]
    steps = min(FLOAT64_STEPS, reference.RECIPES[name]["max_steps"])
    assert {len(v) for v in fresh["losses"].values()} == {steps}
    first = {key: values[:steps] for key, values in recorded["losses"].items()}
    reference.assert_close(first, fresh["losses"], reference.FLOAT64_RTOL,
                           reference.FLOAT64_ATOL)
    # the run learns something: the losses move away from their first values
    assert any(not np.allclose(v[0], v[-1]) for v in fresh["losses"].values())
    print("max relative difference %.3g" % reference.compare(first, fresh["losses"])[1])


@pytest.mark.parametrize("name", reference.recipe_names())
def test_float64_with_tensorflow_kernels_and_one_thread_matches_the_recorded_steps(
        name, fresh_runs):
    recorded = reference.load(name)["float64"]
    fresh = fresh_runs["float64 tf-kernels 1 thread", name].result()[name]
    assert fresh["fingerprint"]["onednn"] is False
    assert fresh["fingerprint"]["intra_op_threads"] == 1
    assert recorded["recorded_on"]["intra_op_threads"] != 1     # another platform indeed
    reference.assert_close(recorded["losses"], fresh["losses"], reference.FLOAT64_RTOL,
                           reference.FLOAT64_ATOL, steps=PLATFORM_STEPS)


@pytest.mark.parametrize("case", FLOAT32)
def test_float32(case, fresh_runs):
    name, mode = case.rsplit("-", 1)
    recorded = reference.load(name)
    fresh = fresh_runs["float32", name].result()[name]
    assert fresh["fingerprint"] == HERE
    if mode == "golden":
        exact, worst = reference.compare(recorded["float32"]["losses"], fresh["losses"])
        assert exact, "float32 trajectory not bit-exact on its own platform (max relative " \
                      "difference %.3g)" % worst
        return
    # another platform: what holds everywhere
    initial = recorded["float64"]["initial"]
    assert sorted(fresh["initial"]) == sorted(initial)
    for key, value in initial.items():
        np.testing.assert_allclose(fresh["initial"][key], value, rtol=reference.INITIAL_RTOL,
                                   atol=reference.INITIAL_ATOL, err_msg=key)
    again = fresh_runs["float32 again", name].result()[name]
    assert {len(v) for v in fresh["losses"].values()} == {ELSEWHERE_STEPS}
    assert reference.compare(fresh["losses"], again["losses"])[0], \
        "two fresh float32 runs on this machine differ"


def summary():
    """What the float32 tests checked, for the line pytest prints at the end."""
    golden = [n for n in reference.recipe_names() if not DIFFERENCES[n]]
    other = [n for n in reference.recipe_names() if DIFFERENCES[n]]
    lines = []
    if golden:
        lines.append("reference float32: bit-exact against the golden trajectory (fingerprint "
                     "matched) for %s" % ", ".join(golden))
    if other:
        why = sorted({"%s %s there, %s here" % d for n in other for d in DIFFERENCES[n]})
        lines.append("reference float32: another platform (%s), so checked the losses before "
                     "any update against float64 and two fresh runs for bit-identity over "
                     "their first %d steps, for %s"
                     % ("; ".join(why), ELSEWHERE_STEPS, ", ".join(other)))
    return lines
