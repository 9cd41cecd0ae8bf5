"""The 2-D mode-collapse study: GAN vs DRAGAN (blog and paper penalty forms) vs WGAN-GP.

    python -m reproduce.toy [--seeds 10] [--steps 5000] [--datasets ring8 grid25 swissroll]
    python -m reproduce.toy --setting gan_toy [--steps N] [--phases 4]

Data (reproduce/metrics.py `toy_spec`): 8 Gaussians on a ring, 25 on a grid, and the
swiss roll of the DRAGAN paper's toy figure. Small MLPs (TF1 graph, glorot-uniform
kernels, zero biases, drawn in NumPy from the seed):
  G: z [bs, 16] ~ N(0, 1) -> dense 64 + relu -> dense 64 + relu -> dense 2
  D: x [bs, 2] -> dense 64 + relu -> dense 64 + relu -> dense 1 (logit / critic)
All seeds of a method train in one graph, their weights stacked on a seed axis (one
session call for every seed; each seed's updates stay its own).
Methods (everything else shared: batch 64, Adam lr 1e-3 (--lr), beta1 0.5, beta2 0.9,
the same data, noise and initial weights per seed; the DRAGAN paper's notebook uses
Adam 1e-4 with the same betas, so `--lr 1e-4` with more --steps is its optimizer):
  gan           non-saturating GAN (Goodfellow et al. 2014), 1 D step per G step
  dragan_blog   + 0.25 * DRAGAN penalty, alpha per coordinate, the blog's norm over axis
                1 (on [bs, 2] inputs: one norm per sample, as the paper's)
  dragan_paper  + 10 * DRAGAN penalty, alpha per sample (Kodali et al. 2017)
  wgan_gp       critic loss + 10 * gradient penalty at real/fake interpolates, 5 critic
                steps per G step (Gulrajani et al. 2017)
DRAGAN's perturbation is the blog's and the paper notebook's: x_p = x + 0.5 std(x) U[0,1)
(std over the seed's batch). The losses and penalties are models/losses.py's; the
penalties add 1e-12 under the gradient norm's square root (`PENALTY_EPSILON`).

Metrics on 2,500 samples per run (metrics.toy_metrics): modes covered (>= 20 high-quality
samples, PacGAN's rule), share of high-quality samples (within 3 std of a mode centre,
of the noise-free curve for the swiss roll, whose "modes" are 20 pieces of the roll),
and reverse KL(generated || data) over modes. A run "collapsed" if it covers fewer than
half of the modes. Writes `toy_study.json`, `toy_study.md` (the table), one scatter
plot per data set (rows: methods, columns: the first --plot-seeds seeds; data in grey)
and the plotted samples (`toy_samples.npz`) into --out. Each run uses one thread by
default (`--threads`), so other work keeps a core.

    python -m reproduce.toy --redraw reproduce/published/toy

draws a study folder's scatter plots again from its toy_samples.npz, without training.

`--setting gan_toy` swaps the project's networks, batch, optimizer and data for those of
WGAN-GP's toy code (gan_toy.py in igul222/improved_wgan_training), likely (not verified)
the lineage of the DRAGAN paper's swiss-roll comparison: G 2-d N(0, 1) noise -> 3 x
(dense 512 + relu) -> dense 2, D 2 -> 3 x (dense 512 + relu) -> dense 1, He-uniform hidden
kernels, glorot-uniform output kernels, zero biases; batch 256; Adam 1e-4 (0.5, 0.9);
WGAN-GP's penalty weight 0.1 (its LAMBDA) with 5 critic steps. Its data sets are
gan_toy.py's (metrics.GANTOY_DATASETS): swissroll_gantoy (scikit-learn's swiss roll
definition, noise 0.25, columns 0 and 2, / 7.5, drawn here in NumPy), ring8_gantoy (8
Gaussians, radius 2, std 0.02, / 1.414) and grid25_gantoy (25, spacing 2, std 0.05,
/ 2.828; gan_toy.py cycles through 100,000 points drawn once, here every batch is
fresh). gan_toy.py has only WGAN (clipping) and WGAN-GP modes, 5 critic steps each; GAN
and both DRAGAN forms keep the project's 1 D step per G step and DRAGAN's weights (blog
0.25, paper 10). Its loop does the critic steps before the generator step, as here
(its first iteration has no generator step; here every one does). It also records
--phases (default 4) phases of training: D's raw output on a 128 x 128 grid over
[-3, 3]^2 (gan_toy.py's level-set plot) and 512 samples, drawn per data set as
toy_levels_<data>.png (rows: methods, columns: phases; the first seed) and kept in
toy_levels.npz (redrawn by --redraw).
"""

import argparse
import math
import os
import sys
import time

import numpy as np

import utils
from models import losses
from models.optimizers import TF1Adam
from reproduce import metrics, plots
from tf_compat import SessionPolicy, tf

PROG = "python -m reproduce.toy"
METHODS = ("gan", "dragan_blog", "dragan_paper", "wgan_gp")
# The project's setting (`--setting project`); these keys are its JSON budget's.
DEFAULTS = dict(steps=5000, batch_size=64, z_dim=16, hidden=64, lr=1e-3, beta1=0.5,
                beta2=0.9, eval_samples=2500)
# ... and its facts outside the budget: 2 hidden layers, glorot-uniform kernels, WGAN-GP's
# penalty weight 10.
MODEL = dict(depth=2, init="glorot", gp_lambda=10.0)
# `--setting gan_toy`: WGAN-GP's toy code (gan_toy.py, igul222/improved_wgan_training):
# 2-d N(0, 1) noise, 3 hidden ReLU layers of 512 in G and D, He-uniform hidden kernels
# and glorot-uniform output kernels (its tflib Linear 'he' and default), batch 256, Adam
# 1e-4 (0.5, 0.9), WGAN-GP penalty weight 0.1; 100,000 generator steps (its ITERS).
GAN_TOY = dict(steps=100000, batch_size=256, z_dim=2, hidden=512, lr=1e-4, beta1=0.5,
               beta2=0.9, eval_samples=2500, depth=3, init="he", gp_lambda=0.1)
SETTINGS = dict(project=DEFAULTS, gan_toy=GAN_TOY)
SETTING_DATASETS = dict(project=metrics.TOY_DATASETS, gan_toy=metrics.GANTOY_DATASETS)
ALL_DATASETS = metrics.TOY_DATASETS + metrics.GANTOY_DATASETS
N_CRITIC = dict(gan=1, dragan_blog=1, dragan_paper=1, wgan_gp=5)
DRAGAN_LAMBDA = dict(dragan_blog=0.25, dragan_paper=10.0)
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "toy")
SAMPLES_FILE = "toy_samples.npz"
LEVELS_FILE = "toy_levels.npz"
# The scatter plots' half-widths, and of D's level-set grid; gan_toy.py draws [-3, 3]^2.
EXTENTS = dict(ring8=2.4, grid25=4.8, swissroll=2.2, swissroll_gantoy=3.0,
               ring8_gantoy=3.0, grid25_gantoy=3.0)
LEVEL_POINTS = 128          # D's level sets: on a 128 x 128 grid (gan_toy.py's N_POINTS)
PHASE_SAMPLES = 512         # G's samples (and data points) drawn per phase


def _uniform(rng, limit, fan_in, fan_out):
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32)


def initial_weights(seed, name, sizes, init="glorot"):
    """[(kernel [in, out], bias [out])] of an MLP, drawn in NumPy from (seed, name): a
    seed's networks start the same whatever the method and however many seeds run beside
    it. Biases are zero; kernels uniform in +-limit, with
      init "glorot": limit sqrt(6 / (fan_in + fan_out)) for every layer (the project's);
      init "he": sqrt(6 / fan_in) for the hidden layers (ReLU after them) and glorot's
        for the output layer (gan_toy.py: tflib's Linear 'he' and its default).
    """
    if init not in ("glorot", "he"):
        raise ValueError("init must be 'glorot' or 'he', got %r" % (init,))
    rng = utils.make_rng(seed, "toy-init", name)
    out = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        hidden = i < len(sizes) - 2
        limit = math.sqrt(6.0 / a) if init == "he" and hidden else math.sqrt(6.0 / (a + b))
        out.append((_uniform(rng, limit, a, b), np.zeros(b, np.float32)))
    return out


def phase_steps(steps, phases):
    """The generator steps after which the phases are recorded: `phases` evenly spaced
    ones ending at `steps` (fewer when steps < phases)."""
    return sorted({max(1, int(round(steps * (j + 1) / float(phases)))) for j in range(phases)})


def _stacked_mlp(x, seeds, sizes, scope, init="glorot"):
    """x [S, n, sizes[0]] -> [S, n, sizes[-1]]: S independent MLPs (one per seed), ReLU
    between dense layers; their weights [S, in, out] start as `initial_weights`."""
    with tf.variable_scope(scope, reuse=tf.AUTO_REUSE):
        per_seed = [initial_weights(seed, scope, sizes, init) for seed in seeds]
        net = x
        for i in range(len(sizes) - 1):
            kernel = tf.get_variable("fc%d/kernel" % (i + 1), initializer=tf.constant(
                np.stack([w[i][0] for w in per_seed])))                 # [S, in, out]
            bias = tf.get_variable("fc%d/bias" % (i + 1), initializer=tf.constant(
                np.stack([w[i][1] for w in per_seed])[:, None, :]))     # [S, 1, out]
            net = tf.matmul(net, kernel) + bias
            if i < len(sizes) - 2:
                net = tf.nn.relu(net)
        return net


# Under the penalties' gradient-norm square root (losses.gradient_slopes): a small ReLU
# MLP can have an exactly zero input gradient (every unit dead), where sqrt's derivative
# is infinite and the update NaN.
PENALTY_EPSILON = 1e-12


class ToyGAN:
    """One method on one toy data set, for several seeds at once.

    Each seed has its own G and D (weights stacked on a leading seed axis, so one
    session call trains every seed); the losses are summed over seeds, which leaves every
    seed's gradients, and so its Adam updates (elementwise), its own. `settings` override
    DEFAULTS and MODEL (the project's setting; GAN_TOY is gan_toy.py's).
    """

    def __init__(self, method, seeds, threads=1, **settings):
        if method not in METHODS:
            raise ValueError("unknown method %r: use one of %s" % (method, ", ".join(METHODS)))
        self.method, self.seeds = method, list(seeds)
        self.s = s = dict(DEFAULTS, **MODEL)
        s.update(settings)
        bs, S, h = s["batch_size"], len(self.seeds), s["hidden"]
        hidden = [h] * s["depth"]
        # One thread count for both pools, seed 0, CPU-drawn initial values, op determinism
        # (tf_compat.SessionPolicy: the models' session policy).
        self.policy = SessionPolicy(threads, threads, seed=0)
        self.graph = self.policy.graph()
        with self.graph.as_default():
            self.x = tf.placeholder(tf.float32, [S, bs, 2], name="x")
            self.z = tf.placeholder(tf.float32, [S, None, s["z_dim"]], name="z")
            self.g_z = tf.placeholder(tf.float32, [S, bs, s["z_dim"]], name="g_z")
            self.x_p = tf.placeholder(tf.float32, [S, bs, 2], name="x_perturbed")
            self.alpha = tf.placeholder(tf.float32, [S, bs, None], name="alpha")
            self.grid = tf.placeholder(tf.float32, [S, None, 2], name="grid")

            def d(v):
                return _stacked_mlp(v, self.seeds, [2] + hidden + [1], "discriminator",
                                    s["init"])

            def g(v):
                return _stacked_mlp(v, self.seeds, [s["z_dim"]] + hidden + [2], "generator",
                                    s["init"])

            def per_sample(fn):
                """fn as losses.* want it: [S*bs, 2] points -> [S*bs, 1] logits."""
                return lambda v: tf.reshape(fn(tf.reshape(v, [S, bs, 2])), [S * bs, 1])

            def flat(v):
                return tf.reshape(v, [S * bs, -1])

            fake = g(self.g_z)                                  # [S, bs, 2]
            self.samples = g(self.z)                            # [S, n, 2]
            real_logit = d(self.x)                              # [S, bs, 1]
            fake_logit = d(tf.stop_gradient(fake))              # D's step: G fixed
            g_logit = d(fake)
            self.grid_logit = d(self.grid)                      # D's level sets
            # The losses (models/losses.py) average over every seed's samples at once;
            # times S that is the sum over seeds of per-seed means, whose gradients are
            # each seed's own.
            if method == "wgan_gp":
                # Critic: mean(D(fake)) - mean(D(real)), Keras-GAN's targets +1 / -1;
                # penalty at real/fake interpolates, alpha per sample, weight gp_lambda
                # (10; gan_toy.py's 0.1).
                gp, _, _ = losses.wgan_gp_penalty(
                    per_sample(d), flat(self.x), flat(tf.stop_gradient(fake)),
                    self.alpha_flat(S, bs), epsilon=PENALTY_EPSILON)
                self.d_loss = S * (losses.wasserstein(fake_logit, 1)
                                   + losses.wasserstein(real_logit, -1)) \
                    + s["gp_lambda"] * S * gp
                self.g_loss = S * losses.wasserstein(g_logit, -1)
            else:
                self.d_loss = S * losses.gan_losses(real_logit, fake_logit)["d_loss"]
                self.g_loss = S * losses.sigmoid_cross_entropy(g_logit, 1)
                if method.startswith("dragan"):
                    # alpha per coordinate and the norm over axis 1 (blog), or per sample
                    # and per-sample norms (paper): on [n, 2] inputs both norms are one
                    # per sample. Weight 0.25 (blog) or 10 (paper).
                    blog = method == "dragan_blog"
                    gp, _ = losses.dragan_penalty(
                        per_sample(d), flat(self.x), flat(self.x_p), self.alpha_flat(S, bs),
                        norm="blog" if blog else "sample", epsilon=PENALTY_EPSILON)
                    self.d_loss = self.d_loss + DRAGAN_LAMBDA[method] * S * gp
            d_vars = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope="discriminator")
            g_vars = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope="generator")
            self.lr = tf.placeholder(tf.float32, [], name="learning_rate")
            # TF1's Adam per player (gan_toy.py's), built by the models' one update builder:
            # the gradients and the fetched loss are computed before any variable changes.
            self.d_op = TF1Adam(d_vars, self.lr, s["beta1"], s["beta2"]).update(
                self.d_loss, reads=[self.d_loss])
            self.g_op = TF1Adam(g_vars, self.lr, s["beta1"], s["beta2"]).update(
                self.g_loss, reads=[self.g_loss])
            init = tf.global_variables_initializer()
        self.graph.finalize()
        self.sess = self.policy.session(self.graph)
        self.policy.initialize(self.sess, init)

    def alpha_flat(self, S, bs):
        """The fed alpha as [S*bs, 1 or 2] (per sample or per coordinate)."""
        return tf.reshape(self.alpha, [S * bs, -1])

    def _draws(self, dataset, rngs):
        """Real batch, noise, perturbed batch and alpha of every seed, stacked [S, ...]."""
        bs, zd = self.s["batch_size"], self.s["z_dim"]
        x = np.stack([metrics.toy_sample(dataset, bs, r) for r in rngs])
        z = np.stack([r.standard_normal((bs, zd)) for r in rngs]).astype(np.float32)
        # x_p = x + 0.5 * std(x) * U[0,1) with the std over the seed's batch (the blog's).
        x_p = np.stack([xi + 0.5 * xi.std() * r.random(xi.shape) for xi, r in zip(x, rngs)])
        width = 2 if self.method == "dragan_blog" else 1      # per coordinate / per sample
        alpha = np.stack([r.random((bs, width)) for r in rngs])
        return {self.x: x, self.g_z: z, self.x_p: x_p.astype(np.float32),
                self.alpha: alpha.astype(np.float32)}

    def train(self, dataset, phases=()):
        """Train for `steps` generator steps; returns the last (d_loss, g_loss) sums and
        the `phase` records after each generator step count in `phases`."""
        s = self.s
        d_loss = g_loss = float("nan")
        records = []
        for step in range(s["steps"]):
            # A seed's data, noise and alpha depend on (seed, step) only: every method sees
            # the same data batches and noise for a seed.
            rngs = [utils.make_rng(seed, "toy", dataset, step) for seed in self.seeds]
            lr = s["lr"]
            for _ in range(N_CRITIC[self.method]):
                feed = self._draws(dataset, rngs)
                feed[self.lr] = lr
                _, d_loss = self.sess.run([self.d_op, self.d_loss], feed)
            z = np.stack([r.standard_normal((s["batch_size"], s["z_dim"])) for r in rngs])
            _, g_loss = self.sess.run([self.g_op, self.g_loss],
                                      {self.g_z: z.astype(np.float32), self.lr: lr})
            if step + 1 in phases:
                records.append(self.phase(EXTENTS[dataset]))
        return float(d_loss), float(g_loss), records

    def levels(self, extent, points=LEVEL_POINTS, chunk=4096):
        """[S, points, points]: every seed's D (raw output: logit or critic value) on a
        grid over [-extent, extent]^2, [i, j] at (x_j, y_i)."""
        axis = np.linspace(-extent, extent, points, dtype=np.float32)
        xy = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)        # row: y
        S = len(self.seeds)
        out = [self.sess.run(self.grid_logit, {self.grid: np.broadcast_to(
            xy[i:i + chunk], (S,) + xy[i:i + chunk].shape)})[..., 0]
            for i in range(0, len(xy), chunk)]
        return np.concatenate(out, axis=1).reshape(S, points, points)

    def phase(self, extent, n=PHASE_SAMPLES):
        """A phase of training: dict levels [S, g, g] (D on the grid) and samples [S, n, 2]
        (G of the same noise at every phase, seeded by the seed)."""
        z = np.stack([utils.make_rng(seed, "toy-phase").standard_normal((n, self.s["z_dim"]))
                      for seed in self.seeds]).astype(np.float32)
        return dict(levels=self.levels(extent), samples=self.sess.run(self.samples, {self.z: z}))

    def sample(self, n):
        """[S, n, 2]: n samples of every seed's generator (seeded by the seed)."""
        z = np.stack([utils.make_rng(seed, "toy-eval").standard_normal((n, self.s["z_dim"]))
                      for seed in self.seeds]).astype(np.float32)
        return self.sess.run(self.samples, {self.z: z})

    def close(self):
        self.sess.close()


def run_method(dataset, method, seeds, threads=1, phases=0, **settings):
    """Train `method` on `dataset` for every seed; returns [(metrics dict, samples [n, 2],
    phases)] per seed, phases None or (with `phases` > 0) dict steps [T] (generator steps
    done), levels [T, g, g] and samples [T, PHASE_SAMPLES, 2] (ToyGAN.phase)."""
    start = time.time()
    model = ToyGAN(method, seeds, threads=threads, **settings)
    at = phase_steps(model.s["steps"], phases) if phases else []
    try:
        _, _, records = model.train(dataset, at)
        samples = model.sample(model.s["eval_samples"])
    finally:
        model.close()
    seconds = round((time.time() - start) / len(seeds), 2)
    out = []
    for i, (seed, points) in enumerate(zip(seeds, samples)):
        result = metrics.toy_metrics(dataset, points)
        result.update(dataset=dataset, method=method, seed=seed, seconds=seconds)
        seen = None if not records else dict(
            steps=np.array(at, np.int64), levels=np.stack([r["levels"][i] for r in records]),
            samples=np.stack([r["samples"][i] for r in records]))
        out.append((result, points, seen))
    return out


def _run_all(tasks, seeds, jobs, settings):
    """run_method for every (dataset, method) in `tasks`, in order, yielding each one's
    results as they come in order; with jobs > 1 the runs train `jobs` at a time in spawned
    processes (each run builds its own graph from its seeds, so the numbers are the same),
    the runs with the most critic steps (WGAN-GP's, the longest) started first so that
    the processes finish together; their results are still yielded in task order."""
    if jobs == 1:
        for dataset, method in tasks:
            yield run_method(dataset, method, seeds, **settings)
        return
    import concurrent.futures
    import multiprocessing
    with concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [None] * len(tasks)
        for i in sorted(range(len(tasks)), key=lambda i: -N_CRITIC[tasks[i][1]]):
            futures[i] = pool.submit(run_method, tasks[i][0], tasks[i][1], list(seeds),
                                     **settings)
        try:
            for future in futures:
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def summarise(runs):
    """Per (dataset, method): mean and sample std (n - 1) of the metrics over seeds, and
    the collapsed seeds."""
    groups = {}
    for r in runs:
        groups.setdefault((r["dataset"], r["method"]), []).append(r)
    rows = []
    for (dataset, method), rs in groups.items():
        covered = np.array([r["modes_covered"] for r in rs], float)
        hq = np.array([r["high_quality"] for r in rs], float)
        rkl = np.array([r["reverse_kl"] for r in rs], float)
        rkl = rkl[np.isfinite(rkl)]
        k = rs[0]["num_modes"]
        rows.append(dict(dataset=dataset, method=method, seeds=len(rs), num_modes=k,
                         modes_mean=float(covered.mean()), modes_std=metrics.sample_std(covered),
                         all_modes=int(np.sum(covered == k)),
                         collapsed=int(np.sum(covered < k / 2.0)),
                         high_quality_mean=float(hq.mean()),
                         high_quality_std=metrics.sample_std(hq),
                         reverse_kl_mean=float(rkl.mean()) if len(rkl) else float("nan"),
                         reverse_kl_std=metrics.sample_std(rkl) if len(rkl) else float("nan")))
    order = {m: i for i, m in enumerate(METHODS)}
    rows.sort(key=lambda r: (ALL_DATASETS.index(r["dataset"]), order[r["method"]]))
    return rows


def study_label(study):
    """How the results page names a study's setting and budget."""
    b = study["budget"]
    if b.get("setting") == "gan_toy":
        return ("gan_toy.py's setting: MLPs of %d x %d, batch %d, Adam lr %g, WGAN-GP lambda "
                "%g; %s generator steps, %.1f%% of its %s" % (
                    b["depth"], b["hidden"], b["batch_size"], b["lr"], b["gp_lambda"],
                    "{:,}".format(b["steps"]), 100.0 * b["steps"] / GAN_TOY["steps"],
                    "{:,}".format(GAN_TOY["steps"])))
    return "the project's setting: MLPs of %d x %d, batch %d, Adam lr %g; %s generator steps" % (
        MODEL["depth"], b.get("hidden", DEFAULTS["hidden"]), b["batch_size"],
        b.get("lr", DEFAULTS["lr"]), "{:,}".format(b["steps"]))


def study_summary(study):
    """The study's rows, recomputed from its runs (every study on the page with the same
    statistics: sample standard deviations; a study written before kept population ones)."""
    return summarise(study["runs"])


def table(rows):
    """The study's Markdown table."""
    lines = ["| data | method | seeds | modes covered (mean ± std) | seeds with all modes | "
             "collapsed seeds (< half) | high-quality samples | reverse KL |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %s | %d | %.1f ± %.1f of %d | %d | %d | %.1f%% ± %.1f | %.3f ± %.3f |"
                     % (r["dataset"], r["method"], r["seeds"], r["modes_mean"], r["modes_std"],
                        r["num_modes"], r["all_modes"], r["collapsed"],
                        100 * r["high_quality_mean"], 100 * r["high_quality_std"],
                        r["reverse_kl_mean"], r["reverse_kl_std"]))
    return "\n".join(lines)


def _json_safe(obj):
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    return obj


def plot_dataset(folder, dataset, methods, seeds, samples):
    """Write folder/toy_<dataset>.png: rows `methods`, columns `seeds`, the data in grey.

    Args:
      samples: [len(methods), len(seeds), n, 2] generated points; the grey data are n
        points drawn from (seed 0, "toy-real").
    Returns:
      the PNG's path.
    """
    real = metrics.toy_sample(dataset, samples.shape[2], utils.make_rng(0, "toy-real"))
    return plots.scatter_panels(
        os.path.join(folder, "toy_%s.png" % dataset), real,
        [list(per_method) for per_method in samples], row_labels=list(methods),
        col_labels=["seed %d" % seed for seed in seeds], extent=EXTENTS[dataset])


def save_samples(folder, methods, seeds, samples, command=""):
    """Write folder/toy_samples.npz atomically: `methods` [M] and `seeds` [P] (str, int
    arrays), `command` (the one that trained them, a str scalar) and, per data set in
    `samples` (dict name -> [M, P, n, 2]), its float32 array."""
    path = os.path.join(folder, SAMPLES_FILE)
    arrays = {name: np.asarray(v, np.float32) for name, v in samples.items()}
    with utils.atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, methods=np.array(methods, str), seeds=np.array(seeds, np.int64),
                            command=np.array(command, str), **arrays)
    return path


def load_samples(folder):
    """(methods, seeds, {data set: [M, P, n, 2]}) from folder/toy_samples.npz.

    Raises:
      FileNotFoundError: the folder has no samples file.
    """
    with np.load(os.path.join(folder, SAMPLES_FILE)) as npz:
        names = [k for k in npz.files if k not in ("methods", "seeds", "command")]
        order = [d for d in ALL_DATASETS if d in names]
        return ([str(m) for m in npz["methods"]], [int(s) for s in npz["seeds"]],
                {d: npz[d] for d in order})


def plot_levels(folder, dataset, methods, seed, steps, levels, samples):
    """Write folder/toy_levels_<dataset>.png: one seed's D level sets (filled contours of
    its raw output, colours scaled per panel) behind the data (orange) and G's samples
    (green); rows `methods`, columns the phases of training.

    Args:
      steps: [T] generator steps done at each phase.
      levels: [len(methods), T, g, g] D on the grid over [-EXTENTS[dataset], ...]^2.
      samples: [len(methods), T, n, 2]; the data are n points drawn from (seed 0,
        "toy-real").
    Returns:
      the PNG's path.
    """
    real = metrics.toy_sample(dataset, samples.shape[-2], utils.make_rng(0, "toy-real"))
    return plots.level_panels(
        os.path.join(folder, "toy_levels_%s.png" % dataset), real,
        [[(levels[m, t], samples[m, t]) for t in range(len(steps))] for m in range(len(methods))],
        extent=EXTENTS[dataset], row_labels=list(methods),
        col_labels=["step %d" % step for step in steps],
        corner_label="%s, seed %d; darker: higher D" % (dataset, seed))


def save_levels(folder, methods, seeds, steps, phases, command=""):
    """Write folder/toy_levels.npz atomically: `methods`, `seeds`, `steps` [T], `command`
    and per data set in `phases` (dict name -> (levels [M, P, T, g, g], samples [M, P, T,
    n, 2])) levels_<name> and samples_<name>, float32."""
    path = os.path.join(folder, LEVELS_FILE)
    arrays = {}
    for name, (levels, samples) in phases.items():
        arrays["levels_" + name] = np.asarray(levels, np.float32)
        arrays["samples_" + name] = np.asarray(samples, np.float32)
    with utils.atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, methods=np.array(methods, str), seeds=np.array(seeds, np.int64),
                            steps=np.array(steps, np.int64), command=np.array(command, str),
                            **arrays)
    return path


def load_levels(folder):
    """(methods, seeds, steps, {data set: (levels, samples)}) from folder/toy_levels.npz."""
    with np.load(os.path.join(folder, LEVELS_FILE)) as npz:
        order = [d for d in ALL_DATASETS if "levels_" + d in npz.files]
        return ([str(m) for m in npz["methods"]], [int(s) for s in npz["seeds"]],
                [int(s) for s in npz["steps"]],
                {d: (npz["levels_" + d], npz["samples_" + d]) for d in order})


def redraw(folder):
    """Draw a study folder's scatter plots again from its saved samples, and its level-set
    figures from its toy_levels.npz if it has one; returns the paths."""
    methods, seeds, samples = load_samples(folder)
    paths = [plot_dataset(folder, dataset, methods, seeds, points)
             for dataset, points in samples.items()]
    if os.path.isfile(os.path.join(folder, LEVELS_FILE)):
        methods, seeds, steps, phases = load_levels(folder)
        paths += [plot_levels(folder, dataset, methods, seeds[0], steps, levels[:, 0],
                              points[:, 0]) for dataset, (levels, points) in phases.items()]
    return paths


def _parser():
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="project",
                        help="networks, batch, optimizer and data: the project's, or WGAN-GP's "
                             "toy code's (gan_toy.py: MLPs of 3 x 512, batch 256, Adam 1e-4, "
                             "WGAN-GP lambda 0.1, its scaled data sets *_gantoy) "
                             "[default: project]")
    parser.add_argument("--datasets", nargs="+", choices=ALL_DATASETS,
                        help="of the setting [default: all three of the setting's: %s; %s]"
                        % (" ".join(metrics.TOY_DATASETS), " ".join(metrics.GANTOY_DATASETS)))
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS),
                        help="[default: all four]")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 per data set and "
                        "method [default: 10]")
    parser.add_argument("--steps", type=int,
                        help="generator steps per run [default: %d (project), %d (gan_toy, "
                             "gan_toy.py's ITERS)]" % (DEFAULTS["steps"], GAN_TOY["steps"]))
    parser.add_argument("--lr", type=float,
                        help="Adam learning rate of every method [default: %g (project), "
                             "%g (gan_toy)]" % (DEFAULTS["lr"], GAN_TOY["lr"]))
    parser.add_argument("--phases", type=int,
                        help="phases of training at which D's level sets and G's samples "
                             "are recorded (evenly spaced, the last at the end), drawn as "
                             "toy_levels_<data>.png (rows: methods, columns: phases; the "
                             "first plotted seed) and kept in %s [default: 0 (project), "
                             "4 (gan_toy)]" % LEVELS_FILE)
    parser.add_argument("--eval-samples", type=int, default=DEFAULTS["eval_samples"],
                        help="samples measured per run [default: %(default)s, PacGAN's]")
    parser.add_argument("--plot-seeds", type=int, default=5,
                        help="seeds shown per method in the scatter plots [default: 5]")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads per run "
                        "[default: 1]")
    parser.add_argument("--jobs", type=int, default=1,
                        help="(data set, method) runs trained at once, each in its own process "
                             "(the numbers do not depend on it) [default: 1]")
    parser.add_argument("--out", default=DEFAULT_OUT, help="output folder [default: "
                        "reproduce/published/toy]")
    parser.add_argument("--redraw", metavar="DIR", help="only draw the scatter plots of the "
                        "study in DIR again, from its %s (and its level sets from %s, if "
                        "any; no training; the other flags are ignored)"
                        % (SAMPLES_FILE, LEVELS_FILE))
    return parser


def _train_all(args, command):
    """Every (data set, method, seed) run of the study, printing a line per run and
    drawing each data set's plots (and saving their samples) when its last method is
    done. Returns the runs' results."""
    runs, shown, plotted, seen, phased = [], {}, {}, {}, {}
    plot_seeds = list(range(min(args.seeds, args.plot_seeds)))
    tasks = [(dataset, method) for dataset in args.datasets for method in args.methods]
    settings = dict(threads=args.threads, steps=args.steps, lr=args.lr,
                    eval_samples=args.eval_samples)
    if args.setting != "project":
        settings = dict(SETTINGS[args.setting], **settings)
    if args.phases:
        settings["phases"] = args.phases
    utils.ensure_dir(args.out)
    for (dataset, method), finished in zip(tasks, _run_all(tasks, range(args.seeds),
                                                           args.jobs, settings)):
        for result, samples, phases in finished:
            seed = result["seed"]
            runs.append(result)
            if seed < args.plot_seeds:
                shown[(dataset, method, seed)] = samples
                seen[(dataset, method, seed)] = phases
            print("%s %s seed %d: %d/%d modes, %.1f%% high quality, reverse KL %.3f "
                  "(%.1f s a seed)" % (dataset, method, seed, result["modes_covered"],
                                       result["num_modes"], 100 * result["high_quality"],
                                       result["reverse_kl"], result["seconds"]), flush=True)
        if method == args.methods[-1] and plot_seeds:
            plotted[dataset] = np.array([[shown[(dataset, m, s)] for s in plot_seeds]
                                         for m in args.methods])    # [M, P, n, 2]
            plot_dataset(args.out, dataset, args.methods, plot_seeds, plotted[dataset])
            save_samples(args.out, args.methods, plot_seeds, plotted, command)
            if args.phases:
                records = [[seen[(dataset, m, s)] for s in plot_seeds] for m in args.methods]
                steps = records[0][0]["steps"]
                phased[dataset] = tuple(np.array([[r[key] for r in row] for row in records])
                                        for key in ("levels", "samples"))   # [M, P, T, ...]
                plot_levels(args.out, dataset, args.methods, plot_seeds[0], steps,
                            phased[dataset][0][:, 0], phased[dataset][1][:, 0])
                save_levels(args.out, args.methods, plot_seeds, steps, phased, command)
    return runs


def _write_study(args, command, runs, seconds):
    """toy_study.json and toy_study.md of the finished runs; returns the table."""
    rows = summarise(runs)
    budget = dict(seeds=args.seeds, steps=args.steps, eval_samples=args.eval_samples,
                  threads=args.threads, seconds=round(seconds, 1), lr=args.lr,
                  **{k: v for k, v in SETTINGS[args.setting].items()
                     if k not in ("steps", "eval_samples", "lr")},
                  n_critic=N_CRITIC)
    if args.setting != "project":       # the project's budget keeps its keys
        budget.update(setting=args.setting, dragan_lambda=DRAGAN_LAMBDA, phases=args.phases)
    utils.write_json(os.path.join(args.out, "toy_study.json"), _json_safe(dict(
        command=command, budget=budget, summary=rows, runs=runs)))
    text = table(rows)
    with open(os.path.join(args.out, "toy_study.md"), "w") as f:
        f.write("Command: `%s` (%d runs, %.0f s)\n\n%s\n" % (command, len(runs),
                                                           budget["seconds"], text))
    return text


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.redraw:
        if not os.path.isfile(os.path.join(args.redraw, SAMPLES_FILE)):
            print("%s: error: %s has no %s (a study written before the samples were saved: "
                  "run it again)" % (PROG, args.redraw, SAMPLES_FILE), file=sys.stderr)
            return 1
        for path in redraw(args.redraw):
            print("wrote %s" % path)
        return 0
    setting = SETTINGS[args.setting]
    args.datasets = args.datasets or list(SETTING_DATASETS[args.setting])
    foreign = [d for d in args.datasets if d not in SETTING_DATASETS[args.setting]]
    if foreign:
        parser.error("--datasets %s: not of --setting %s (its data sets: %s)" % (
            " ".join(foreign), args.setting, " ".join(SETTING_DATASETS[args.setting])))
    args.steps = setting["steps"] if args.steps is None else args.steps
    args.lr = setting["lr"] if args.lr is None else args.lr
    args.phases = (4 if args.setting == "gan_toy" else 0) if args.phases is None else args.phases
    if args.seeds < 1 or args.steps < 1 or args.jobs < 1 or args.threads < 1 \
            or args.eval_samples < 10 or args.phases < 0:
        parser.error("--seeds, --steps, --jobs and --threads must be >= 1, --eval-samples "
                     ">= 10, --phases >= 0")
    if not (math.isfinite(args.lr) and 0 < args.lr <= 1):
        parser.error("--lr must be in (0, 1], got %s" % args.lr)
    command = "%s %s" % (PROG, " ".join(sys.argv[1:] if argv is None else argv))
    start = time.time()
    try:
        runs = _train_all(args, command)
    except OSError as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        return 1
    print(_write_study(args, command, runs, time.time() - start))
    print("wrote %s" % args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
