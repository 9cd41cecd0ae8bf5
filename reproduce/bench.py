"""Speed of every model: the bare training iteration and the full loop, against the
machine's measured matmul ceiling.

    python -m reproduce.bench                      # all models, this configuration
    python -m reproduce.bench dragan --tf-defaults # DRAGAN, and beside it TensorFlow's defaults

Per model, in a fresh process each (so peak memory is the model's own):
- bare iteration: one training step's update ops only (every phase, n_critic
  times for critics), feeds made beforehand from the data in memory; the time
  is the median over `--rounds` + 1 rounds of `--round-steps` iterations;
- full loop: the real `GANModel.train()` loop at the model's default cadence
  (losses and summaries every step, progress lines, grids every `sample_every`
  steps, checkpoints every `save_every` steps and at each epoch end): the loop's
  per-step time between grids and checkpoints over `--rounds` rounds after
  `--warmup` steps, plus the measured time of one grid and one checkpoint spread
  over the steps between them;
- loop overhead: the bare rounds are taken inside the loop, between its rounds (the
  loop pauses for them), so each loop round is compared with the mean of the bare
  rounds on either side of it (median over rounds), under the same load; by wall
  time ("loop overhead") and by the process's CPU time ("CPU overhead", which a
  busy machine disturbs less);
- FLOPs per iteration: the registered FLOP statistics (MatMul, Conv2D and its
  gradients, element-wise ops) of every op a phase's update depends on, counted
  from the graph, times the phase's repeats;
- the ceiling: a 2048x2048 float32 matmul in a session with the models' thread
  counts, median GFLOP/s over 10 runs after warm-up;
- peak memory: the process's maximum resident set (and the GPU's peak, if any).

Then the data: each data set found is decoded once into a fresh cache (IDX files
or an image folder) and loaded again from that cache; both times are printed.

Prints a table and writes the figures as JSON. Runs unchanged on a GPU.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The configurations a model can be measured in: environment set before TensorFlow loads.
CONFIGURATIONS = {
    "project": {"TF_ENABLE_ONEDNN_OPTS": "1"},      # the project's defaults (tf_compat)
    "tf-defaults": {"TF_ENABLE_ONEDNN_OPTS": "0"},  # TensorFlow's own defaults
}


# ---- measurements, run inside one worker process --------------------------------

def matmul_ceiling(threads=2, n=2048, runs=10):
    """Median GFLOP/s of an n x n float32 matmul (the data stays on the device)."""
    import numpy as np

    from tf_compat import SessionPolicy, tf
    policy = SessionPolicy(threads, threads, seed=0)    # the models' session policy
    graph = policy.graph()
    with graph.as_default():
        a = tf.Variable(tf.random_uniform([n, n]))
        b = tf.Variable(tf.random_uniform([n, n]))
        # Sum to a scalar so the fetch does not copy the product back.
        product = tf.reduce_sum(tf.matmul(a, b))
        init = tf.global_variables_initializer()
    with policy.session(graph) as sess:
        policy.initialize(sess, init)
        for _ in range(3):
            sess.run(product)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            sess.run(product)
            times.append(time.perf_counter() - t)
    return 2.0 * n ** 3 / float(np.median(times)) / 1e9


def update_flops(model):
    """FLOPs of one training step's updates: for each phase, the registered FLOP
    statistics of every op its train_op depends on, times the phase's repeats."""
    from tensorflow.python.framework import ops as tf_ops
    total = 0
    for phase in model.phases:
        seen, stack, flops = set(), [phase.train_op], 0
        while stack:
            op = stack.pop()
            if op.name in seen:
                continue
            seen.add(op.name)
            try:
                flops += tf_ops.get_stats_for_node_def(model.graph, op.node_def, "flops").value or 0
            except ValueError:     # no statistics registered for this op type (no FLOPs)
                pass
            stack.extend(t.op for t in op.inputs)
            stack.extend(op.control_inputs)
        total += flops * phase.repeat
    return total


def _bare_rounds(model, round_steps):
    """A function of n: (wall, process CPU) seconds per bare iteration over n iterations."""
    import utils
    feeds = [[(phase.train_op, feed) for phase, _, feed in
              model.step_runs(s, utils.make_rng(0, "bench", s))] for s in range(round_steps)]

    def one_round(n):
        t, cpu = time.perf_counter(), time.process_time()
        for i in range(n):
            for train_op, feed in feeds[i % len(feeds)]:
                model.sess.run(train_op, feed)
        return (time.perf_counter() - t) / n, (time.process_time() - cpu) / n

    return one_round


def full_loop(model, warmup, rounds, round_steps):
    """The full loop at the default cadence beside the bare iteration, interleaved (see the
    module doc).

    Before each timed round of `model.train()` (and after the last) the loop pauses for a
    round of bare iterations, so every loop round has a bare round on either side of it in
    time, under the same load.

    Returns dict: per round the loop's seconds per step between grids and checkpoints
    (`loop_rounds`, wall; `loop_cpu_rounds`, process CPU) and the bare rounds' seconds per
    iteration (`bare_rounds`, `bare_cpu_rounds`, one more than the loop's), the grid's and
    the checkpoint's seconds (`grid_s`, `save_s`) and how many of each a step carries on
    average (`per_grid`, `per_save`)."""
    starts, pauses = [], []          # run_step (wall, CPU) start times; grid/save pauses
    bare_rounds = []
    grids, save = model.save_training_grids, model.save
    bare = _bare_rounds(model, round_steps)
    bare(warmup)                     # its session-run signature built before timing
    boundaries = {warmup + r * round_steps for r in range(rounds + 1)}

    def timed(fn):
        def wrapper(*args):
            t, cpu = time.perf_counter(), time.process_time()
            out = fn(*args)
            pauses.append((t, time.perf_counter() - t, time.process_time() - cpu))
            return out
        return wrapper

    class TimedTrainer(model.Trainer):
        def run_step(self, step):
            if step in boundaries:       # a pause of the loop, like a grid's
                t, cpu = time.perf_counter(), time.process_time()
                bare_rounds.append(bare(round_steps))
                pauses.append((t, time.perf_counter() - t, time.process_time() - cpu))
            starts.append((time.perf_counter(), time.process_time()))
            return super().run_step(step)

    model.Trainer, model.save_training_grids, model.save = (
        TimedTrainer, timed(grids), timed(save))
    try:
        model.config.max_steps = warmup + rounds * round_steps + 1
        model.train()
    finally:
        del model.Trainer, model.save_training_grids, model.save    # the class's again
    loop_rounds, loop_cpu_rounds = [], []
    for r in range(rounds):
        first = warmup + r * round_steps
        (a, a_cpu), (b, b_cpu) = starts[first], starts[first + round_steps]
        inside = [p for p in pauses if a <= p[0] < b]
        loop_rounds.append((b - a - sum(p[1] for p in inside)) / round_steps)
        loop_cpu_rounds.append((b_cpu - a_cpu - sum(p[2] for p in inside)) / round_steps)
    # A grid and a checkpoint of this model, timed once more each after the loop.
    grid_s = _median_time(lambda: model.save_training_grids(model.config.max_steps), 2)
    save_s = _median_time(lambda: model.save(model.config.max_steps), 2)
    cfg = model.config
    per_save = 1.0 / model.steps_per_epoch + (1.0 / cfg.save_every if cfg.save_every else 0.0)
    per_grid = 1.0 / cfg.sample_every + 1.0 / model.steps_per_epoch   # + the epoch-end grid
    return dict(loop_rounds=loop_rounds, loop_cpu_rounds=loop_cpu_rounds,
                bare_rounds=[w for w, _ in bare_rounds],
                bare_cpu_rounds=[c for _, c in bare_rounds],
                grid_s=grid_s, save_s=save_s, per_grid=per_grid, per_save=per_save)


def loop_overhead(loop):
    """The loop's overhead over the bare iteration from `full_loop`'s figures: each loop
    round against the mean of the bare rounds on either side of it (median over rounds),
    plus the grids and checkpoints spread over the steps, relative to the bare iteration.

    Returns (overhead by wall time, overhead by process CPU time), e.g. 0.02 for 2%."""
    def paired(loop_rounds, bare_rounds):
        return statistics.median(
            x / (0.5 * (bare_rounds[r] + bare_rounds[r + 1])) for r, x in enumerate(loop_rounds))
    # the grids and checkpoints by wall time in both (what share of a step they take)
    pauses = loop["grid_s"] * loop["per_grid"] + loop["save_s"] * loop["per_save"]
    pauses /= statistics.median(loop["bare_rounds"])
    wall = paired(loop["loop_rounds"], loop["bare_rounds"]) - 1.0 + pauses
    cpu = paired(loop["loop_cpu_rounds"], loop["bare_cpu_rounds"]) - 1.0 + pauses
    return wall, cpu


def _median_time(fn, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def peak_memory_mib():
    """(host peak resident MiB, GPU peak MiB or None)."""
    host = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    gpu = None
    try:
        import tensorflow
        if tensorflow.config.list_physical_devices("GPU"):
            gpu = tensorflow.config.experimental.get_memory_info("GPU:0")["peak"] / 2.0 ** 20
    except (ValueError, RuntimeError, KeyError):
        pass
    return host, gpu


def measure(name, warmup, rounds, round_steps, data_dir=None):
    """Every figure of one model in this process (the worker's job)."""
    import contextlib
    import io

    from models import get_model
    from tf_compat import onednn_enabled, tf
    cls = get_model(name)
    with tempfile.TemporaryDirectory() as tmp:
        config = cls.Config(data_dir=data_dir, checkpoint_dir=os.path.join(tmp, "checkpoint"),
                            result_dir=os.path.join(tmp, "results"),
                            log_dir=os.path.join(tmp, "logs"))
        with contextlib.redirect_stdout(io.StringIO()):
            dataset = cls.load_data(config)
        with cls(config, dataset) as model:
            model.open()
            flops = update_flops(model)
            with contextlib.redirect_stdout(io.StringIO()):
                loop = full_loop(model, warmup, rounds, round_steps)
            threads = config.intra_op_threads
    bare = statistics.median(loop["bare_rounds"])
    overhead, overhead_cpu = loop_overhead(loop)
    host, gpu = peak_memory_mib()
    return dict(model=name, batch_size=config.batch_size, bare_s=bare,
                loop_s=bare * (1.0 + overhead), loop_overhead=overhead,
                loop_overhead_cpu=overhead_cpu, rounds=loop,
                grid_s=loop["grid_s"], checkpoint_s=loop["save_s"],
                sample_every=config.sample_every, save_every=config.save_every,
                gflop_per_it=flops / 1e9, gflops=flops / 1e9 / bare,
                ceiling_gflops=matmul_ceiling(threads), peak_host_mib=host, peak_gpu_mib=gpu,
                onednn=onednn_enabled(), tensorflow=tf.__version__,
                device="GPU" if gpu is not None else "CPU", threads=threads)


def data_load_times(data_dir=None):
    """[(data set, images, decode seconds, cached-load seconds)] of each data set found,
    decoded into a fresh cache (the user's cache is left alone). `data_dir` is the folder
    holding mnist/ and fashion-mnist/ (default: the usual lookup); the sprites are looked
    up in $GAN_DATA_DIR/pokemon/regular."""
    import data
    from errors import GanReproError
    loaders = {
        "mnist": lambda: data.load_idx_dataset("mnist", data_dir=data_dir, download=False),
        "fashion-mnist": lambda: data.load_idx_dataset("fashion-mnist", data_dir=data_dir,
                                                       download=False),
        "pokemon": lambda: data.load_image_folder(
            data.locate_named_folder("pokemon"), size=(40, 40), channels=3,
            preprocess="none", split="all"),
    }
    rows, saved = [], os.environ.get("GAN_REPRO_CACHE_DIR")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["GAN_REPRO_CACHE_DIR"] = cache
        try:
            for name, load in loaders.items():
                try:
                    times = [_median_time(load, 1) for _ in range(2)]
                except GanReproError:
                    continue                       # not on this machine
                rows.append((name, len(load().images), times[0], times[1]))
        finally:
            if saved is None:
                os.environ.pop("GAN_REPRO_CACHE_DIR")
            else:
                os.environ["GAN_REPRO_CACHE_DIR"] = saved
    return rows


# ---- the command ------------------------------------------------------------------

def run_worker(name, configuration, args):
    """Measure one model in a fresh process with `configuration`'s environment."""
    env = dict(os.environ, **CONFIGURATIONS[configuration])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    command = [sys.executable, "-m", "reproduce.bench", "--worker", name,
               "--warmup", str(args.warmup), "--rounds", str(args.rounds),
               "--round-steps", str(args.round_steps)]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        message = (done.stderr.strip().splitlines() or ["exit status %d" % done.returncode])[-1]
        return dict(model=name, configuration=configuration, error=message)
    return dict(json.loads(lines[-1]), configuration=configuration)


def table(results):
    head = ("model", "configuration", "batch", "bare ms/it", "bare it/s", "loop it/s",
            "loop overhead", "GFLOP/it", "GFLOP/s", "% of ceiling", "peak MiB",
            "CPU overhead")
    rows = [head]
    for r in results:
        if "error" in r:
            rows.append((r["model"], r["configuration"], "error: " + r["error"]) + ("",) * 9)
            continue
        rows.append((r["model"], r["configuration"], str(r["batch_size"]),
                     "%.1f" % (1000 * r["bare_s"]), "%.2f" % (1 / r["bare_s"]),
                     "%.2f" % (1 / r["loop_s"]), "%+.1f%%" % (100 * r["loop_overhead"]),
                     "%.2f" % r["gflop_per_it"], "%.1f" % r["gflops"],
                     "%.0f%%" % (100 * r["gflops"] / r["ceiling_gflops"]),
                     "%.0f" % r["peak_host_mib"],
                     "%+.1f%%" % (100 * r["loop_overhead_cpu"]) if "loop_overhead_cpu" in r
                     else ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv=None):
    from models import MODELS
    parser = argparse.ArgumentParser(prog="python -m reproduce.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help="models to measure (default: all): " + ", ".join(MODELS))
    parser.add_argument("--tf-defaults", action="store_true",
                        help="also measure each model with TensorFlow's defaults "
                             "(TF_ENABLE_ONEDNN_OPTS=0), beside the project's")
    parser.add_argument("--warmup", type=_positive, default=3,
                        help="iterations before timing (default 3)")
    parser.add_argument("--rounds", type=_positive, default=3,
                        help="timed rounds; the median is reported (default 3)")
    parser.add_argument("--round-steps", type=_positive, default=10,
                        help="iterations per round (default 10)")
    parser.add_argument("--data-dir", default=None,
                        help="where the data is (default: $GAN_DATA_DIR, then the cache)")
    parser.add_argument("--json", default="bench.json", metavar="PATH",
                        help="write the figures here (default bench.json)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        from errors import GanReproError
        try:
            result = measure(args.worker, args.warmup, args.rounds, args.round_steps,
                             args.data_dir)
        except GanReproError as e:
            print("bench: %s: %s" % (args.worker, e), file=sys.stderr)
            return 1
        print(json.dumps(result))
        return 0
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        parser.error("unknown model(s) %s: use %s" % (", ".join(unknown), ", ".join(MODELS)))
    configurations = ["project"] + (["tf-defaults"] if args.tf_defaults else [])
    results = []
    for name in args.models or list(MODELS):
        for configuration in configurations:     # side by side, model by model
            results.append(run_worker(name, configuration, args))
            print(table(results[-1:]).splitlines()[-1], flush=True)
    print()
    print(table(results))
    for configuration in configurations:
        ceilings = [r["ceiling_gflops"] for r in results
                    if "error" not in r and r["configuration"] == configuration]
        if ceilings:
            print("matmul ceiling, %s (2048^2 float32, the models' threads): median %.1f "
                  "GFLOP/s over its %d processes (%.1f-%.1f)" % (
                      configuration, statistics.median(ceilings), len(ceilings),
                      min(ceilings), max(ceilings)))
    loads = data_load_times(args.data_dir)
    print()
    for name, n, decode, cached in loads:
        print("data %s: %d images, decoded in %.2f s, from the cache in %.2f s"
              % (name, n, decode, cached))
    with open(args.json, "w") as f:
        json.dump(dict(results=results, data=[dict(dataset=name, images=n, decode_s=decode,
                                                   cached_s=cached)
                                              for name, n, decode, cached in loads]),
                  f, indent=1, sort_keys=True)
    print("figures written to %s" % args.json)
    return 1 if any("error" in r for r in results) else 0


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a whole number" % text) from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1, got %d" % value)
    return value


if __name__ == "__main__":
    sys.exit(main())
