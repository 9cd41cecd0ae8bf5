"""Every recorded reference trajectory (a few steps on a fixed small subset, 2
threads) still comes out as recorded. Regenerate one only with
`python -m reproduce.record NAME`."""

import numpy as np
import pytest
from conftest import background

from reproduce import reference


@pytest.fixture(scope="module")
def fresh_runs():
    """name -> Future of a fresh run of every recipe, the slowest first, in fresh processes;
    started at collection (see conftest)."""
    names = sorted(reference.recipe_names(), key=reference.expected_cost, reverse=True)
    return background("reference", lambda: reference.run_many(names, workers=2))


@pytest.mark.parametrize("name", reference.recipe_names())
def test_trajectory_matches_the_recorded_one(name, fresh_runs):
    recorded = reference.load(name)
    assert recorded["regenerate"] == "python -m reproduce.record %s" % name
    assert len(recorded["losses"]["d_loss"]) == reference.RECIPES[name]["max_steps"]
    fresh = fresh_runs[name].result()
    exact, worst = reference.compare(recorded["losses"], fresh)
    for key, values in recorded["losses"].items():
        np.testing.assert_allclose(fresh[key], values, rtol=reference.RTOL, atol=reference.ATOL,
                                   err_msg=key)
    # the run learns something: the losses move away from their first values
    assert any(not np.allclose(v[0], v[-1]) for v in fresh.values())
    print("bit-exact" if exact else "max relative difference %.3g" % worst)
