"""Op-by-op profile of a model's training step, beside the same step written by hand.

    python -m reproduce.profile_step                                  # DRAGAN's phases
    python -m reproduce.profile_step dragan --bare ../shared/bench    # and the bare TF1 graph

Builds the model as the side-by-side driver's project worker does (`get_model`, `Config`,
`load_data`, `open`, `step_runs`; each phase's `train_op` and `fetches`) and, with
`--bare DIR`, the bare TF1 DRAGAN graph of DIR's `tf1_model.py` (blog batch, z 128) in the
same process. After warm-up it runs them in turn, one step each, `--rounds` times, with
`RunOptions(trace_level=FULL_TRACE)`, and prints per phase and op type: the nodes the
executed (Grappler-optimised) graph holds and the summed per-node minimum time over the
rounds. The minimum filters out what other processes take (the ratios of the summed
minima hold under load; a wall-clock ratio does not), and the node counts are exact.
Last, "the Adam tail": how long the updates (ops of an `Adam...` name scope or an
update type) ran after the last other op, the median per phase.
"""

import argparse
import collections
import contextlib
import io
import os
import sys
import tempfile



def project_runs(name):
    """(session, [(fetches, feed) per phase run of one step]) of the model `name`."""
    import utils
    from models import get_model
    cls = get_model(name)
    tmp = tempfile.mkdtemp()
    config = cls.Config(checkpoint_dir=os.path.join(tmp, "c"), result_dir=os.path.join(tmp, "r"),
                        log_dir=os.path.join(tmp, "l"))
    with contextlib.redirect_stdout(io.StringIO()):
        dataset = cls.load_data(config)
    model = cls(config, dataset)
    model.open()
    runs = [([phase.train_op, phase.fetches], feed)
            for phase, _, feed in model.step_runs(0, utils.make_rng(0, "bench", 0))]
    return model.sess, runs


def _load(folder, name):
    """Module `name` of the bench folder (shared/bench), by its file, as `name`."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, os.path.join(os.path.abspath(folder),
                                                                     name + ".py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def bare_runs(folder, z_dim=128):
    """The same for the bare TF1 DRAGAN graph of `folder`/tf1_model.py (its D and G runs)."""
    import numpy as np

    from tf_compat import tf
    common = _load(folder, "common")          # tf1_model imports it by that name
    tf1_model = _load(folder, "tf1_model")
    BATCH, synthetic_pool = common.BATCH, common.synthetic_pool
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(0)
        t = tf1_model.build(z_dim)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=graph, config=tf1_model.session_config(2, 2))
    sess.run(init)
    rng = np.random.default_rng(1)
    x = synthetic_pool()[0]
    x_p = x + 0.5 * x.std() * rng.random(x.shape, dtype=np.float32)
    z = rng.uniform(-1.0, 1.0, (BATCH, z_dim)).astype(np.float32)
    return sess, [([t["d_optim"], t["d_loss"]], {t["x"]: x, t["x_p"]: x_p, t["z"]: z}),
                  ([t["g_optim"], t["g_loss"]], {t["z"]: z})]


UPDATES = {"ResourceApplyAdam", "AssignVariableOp", "AssignSubVariableOp",
           "AssignAddVariableOp", "ResourceApplyRMSProp"}
BOOKKEEPING = {"NoOp", "_Retval", "_Arg", "Const", "Identity"}


def _op_type(node):
    label = node.timeline_label
    return label.split(" = ")[1].split("(")[0] if " = " in label else node.node_name


def profile(impls, rounds, warmup=3):
    """{impl: {(phase, op type): [nodes, summed minimum microseconds]}} and
    {impl: [per phase: median Adam tail in microseconds]}."""
    import numpy as np

    from tf_compat import tf
    for sess, runs in impls.values():
        for _ in range(warmup):
            for fetches, feed in runs:
                sess.run(fetches, feed)
    minima = {name: {} for name in impls}
    tails = {name: collections.defaultdict(list) for name in impls}
    options = tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE)
    for _ in range(rounds):
        for name, (sess, runs) in impls.items():
            for k, (fetches, feed) in enumerate(runs):
                meta = tf.RunMetadata()
                sess.run(fetches, feed, options=options, run_metadata=meta)
                nodes = [n for dev in meta.step_stats.dev_stats for n in dev.node_stats]
                for n in nodes:
                    key = (k, _op_type(n), n.node_name)
                    minima[name][key] = min(minima[name].get(key, float("inf")),
                                            n.op_end_rel_micros)
                ends = [(n.all_start_micros + n.all_end_rel_micros,
                         _op_type(n) in UPDATES or n.node_name.split("/")[0].startswith("Adam"))
                        for n in nodes if _op_type(n) not in BOOKKEEPING]
                last_other = max(e for e, update in ends if not update)
                tails[name][k].append(max(e for e, _ in ends) - last_other)
    table = {}
    for name in impls:
        agg = collections.defaultdict(lambda: [0, 0.0])
        for (k, op_type, _), micros in minima[name].items():
            agg[(k, op_type)][0] += 1
            agg[(k, op_type)][1] += micros
        table[name] = dict(agg)
    return table, {name: [float(np.median(tails[name][k])) for k in sorted(tails[name])]
                   for name in impls}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m reproduce.profile_step", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", default="dragan")
    parser.add_argument("--bare", metavar="DIR", default=None,
                        help="also profile the bare TF1 DRAGAN graph of DIR/tf1_model.py "
                             "(the side-by-side driver's folder)")
    parser.add_argument("--rounds", type=int, default=10, help="traced steps of each (default 10)")
    parser.add_argument("--min-ms", type=float, default=0.3,
                        help="list op types above this many ms (default 0.3)")
    args = parser.parse_args(argv)
    impls = {"project": project_runs(args.model)}
    if args.bare:
        impls["bare"] = bare_runs(args.bare)
    table, tails = profile(impls, args.rounds)
    names = list(impls)
    keys = sorted({key for name in names for key in table[name]},
                  key=lambda key: (key[0], -max(table[n].get(key, (0, 0))[1] for n in names)))
    print("phase op" + " " * 37 + "".join("%10s nodes %6s ms" % (n, n[:6]) for n in names))
    for key in keys:
        cells = [table[n].get(key, (0, 0.0)) for n in names]
        if max(c[1] for c in cells) / 1000 >= args.min_ms or len({c[0] for c in cells}) > 1:
            print("%-5d %-39s" % key + "".join("%16d %9.2f" % (c[0], c[1] / 1000) for c in cells))
    phases = sorted({key[0] for name in names for key in table[name]})
    for k in phases:
        print("phase %d total" % k + " " * 32 + "".join(
            "%16d %9.2f" % (sum(c[0] for kk, c in table[n].items() if kk[0] == k),
                            sum(c[1] for kk, c in table[n].items() if kk[0] == k) / 1000)
            for n in names))
    for n in names:
        print("%s: Adam tail (updates after the last other op), median ms per phase: %s" % (
            n, ", ".join("%.1f" % (t / 1000) for t in tails[n])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
