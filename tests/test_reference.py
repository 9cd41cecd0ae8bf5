"""The DRAGAN reference trajectory (30 steps, first 640 MNIST images, 2 threads)
still comes out as recorded. Regenerate only with `python -m reproduce.record dragan`."""

import numpy as np

from reproduce import reference


def test_dragan_trajectory_matches_the_recorded_one():
    recorded = reference.load("dragan")
    assert recorded["regenerate"] == "python -m reproduce.record dragan"
    assert len(recorded["losses"]["d_loss"]) == 30
    fresh = reference.run("dragan")
    exact, worst = reference.compare(recorded["losses"], fresh)
    for key, values in recorded["losses"].items():
        np.testing.assert_allclose(fresh[key], values, rtol=reference.RTOL, atol=reference.ATOL,
                                   err_msg=key)
    # the run learns something: D's loss falls from its first steps
    assert np.mean(fresh["d_loss"][-5:]) < np.mean(fresh["d_loss"][:5])
    print("bit-exact" if exact else "max relative difference %.3g" % worst)
