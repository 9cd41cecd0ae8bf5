"""Every registered model's `Built` record: each update phase changes only the trainable
variables of the scopes it names, and every trainable variable is some phase's.

The models are built as their reference recipe builds them (`reproduce.gpu_audit`: the
recipe's config on random images of its data's shape) with batch 4 (CycleGAN with 4
filters), and run each phase of one training step once, fed the way `trainer.step_runs`
feeds it.
"""

import numpy as np
import pytest

import models
import utils
from reproduce import gpu_audit


def _top(variable):
    return variable.op.name.split("/")[0]


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_each_phase_changes_only_the_variables_of_its_scopes(name, tmp_path):
    small = dict(gf=4, df=4, sample_num=12) if name == "cyclegan" else dict(batch_size=4)
    model = gpu_audit.build_model(name, "float32", small, folder=str(tmp_path))
    with model:
        model.open()
        trainable = model.graph.get_collection("trainable_variables")
        scopes = {s for p in model.phases for s in p.scopes}
        assert {_top(v) for v in trainable} <= scopes, "a trainable variable in no phase"
        assert scopes <= {_top(v) for v in trainable}, "a phase names a scope with no variable"
        rng = utils.make_rng(model.config.seed, "step", 0)
        for phase, r, feed in model.step_runs(0, rng):
            if r:
                continue        # a critic's further iterations: the same update
            before = model.sess.run(trainable)
            model.sess.run(phase.train_op, feed)
            after = model.sess.run(trainable)
            moved = {_top(v) for v, a, b in zip(trainable, before, after)
                     if not np.array_equal(a, b)}
            assert moved, "%s: phase %s changed nothing" % (name, phase.name)
            assert moved <= set(phase.scopes), "%s: phase %s changed %s, outside %s" % (
                name, phase.name, sorted(moved - set(phase.scopes)), phase.scopes)
