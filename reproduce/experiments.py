"""The blog experiments as recipes of jobs: their commands and budgets, and a runner.

    python -m reproduce.experiments                        # every recipe and its commands
    python -m reproduce.experiments dragan_vs_gan_mnist    # one recipe's commands
    python -m reproduce.experiments run dragan_vs_gan_mnist_short [--seeds 547 548 549]
        [--jobs N] [--runs DIR] [--ray ADDRESS]           # run them (reproduce/runner.py)

A recipe is a list of jobs (reproduce/runner.py `Job`): each a training run, an
evaluation, a judge or a toy study, with the CPU threads or GPU it needs, the files it
leaves and the jobs it waits for (an evaluation waits for its runs and for the judge).
Recipes with a seed dimension make their jobs once per seed (`--seeds`).

The printed commands are the jobs' commands, to paste after `RUNS=runs` (any folder):
they name the interpreter `.venv/bin/python` and paths relative to the repository and
to $RUNS only. `run` executes the same commands: N at a time in their own processes
here (--jobs, default 1), or as Ray tasks on an existing cluster (--ray ADDRESS, or
`auto`; `pip install -r requirements-cluster.txt`), with $RUNS the --runs folder
(default `runs`; on a cluster one that every node sees at the same path). Running it
again skips the finished jobs and resumes the interrupted ones from their checkpoints.
Ctrl-C or SIGTERM stops it: the running jobs save checkpoints first (exit 130 / 143). A
second `run` of the same recipe on the same runs folder is refused while one runs.

RESULTS.md (`python -m reproduce.collect --runs $RUNS`, then `python -m reproduce.render`)
prints every recipe's commands beside its tables and figures, so each published number
names its command.
"""

import argparse
import functools
import os
import sys

import utils
from errors import GanReproError, report
from reproduce import runner
from reproduce.runner import job

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PY = runner.PY
PROG = "python -m reproduce.experiments"
THREADS = ["--intra-op-threads", "1", "--inter-op-threads", "1"]
MNIST_JUDGE = job("judge_mnist", "judge", ["python", "-m", "reproduce.judge", "--dataset", "mnist"])


def _class_and_config(model, flags):
    """The model class registered as `model` and the config `scripts/run_<model>.py`
    trains with under `flags`."""
    from models import get_model
    from models.cli import config_of
    cls = get_model(model)
    return cls, config_of(cls, flags)


def run_folder(model, flags=()):
    """The checkpoint folder below --checkpoint-dir of `scripts/run_<model>.py` with
    `flags`, e.g. DRAGAN_mnist_64_128/DRAGAN: read from the model's class and the config
    the flags give (`GANModel.run_path`), never retyped here."""
    cls, config = _class_and_config(model, flags)
    return cls.run_path(config)


def steps_per_epoch(model, *flags):
    """Training steps of an epoch of `scripts/run_<model>.py` with `flags` on an IDX data
    set (its size is a fact of the data set: data.idx_examples)."""
    import data
    cls, config = _class_and_config(model, flags)
    return cls.steps_per_epoch_of(config, data.idx_examples(config.dataset, config.idx_splits,
                                                            config.train_subset))


def train(model, folder, seed, *flags, name=None, after=(), steps=None):
    """A training job of scripts/run_<model>.py writing under `folder` ("$RUNS/...")."""
    argv = ["python", "scripts/run_%s.py" % model] + list(flags) + ["--seed", str(seed)]
    argv += THREADS + ["--checkpoint-dir", folder + "/checkpoint", "--result-dir",
                       folder + "/results", "--log-dir", folder + "/logs"]
    return job(name or "%s_seed%d" % (model, seed), "train", argv, after=after,
               outputs=[folder + "/checkpoint/" + run_folder(model, argv[2:]) + "/state.json"])


def evaluate(name, folder, runs, json_name="eval.json", after=(), samples=None):
    """An evaluation job of the training jobs `runs` (their checkpoint folders), writing
    folder/json_name."""
    argv = ["python", "-m", "reproduce.evaluate"] + [
        os.path.dirname(r.outputs[0]) for r in runs]
    argv += (["--samples", str(samples)] if samples else []) + [
        "--json", folder + "/" + json_name, "--figures", folder + "/figures"]
    return job(name, "evaluate", argv, after=after, outputs=[folder + "/" + json_name])


# ---- the recipes ----------------------------------------------------------------------
# Each: blog, budget (how long it takes, in words), jobs(seeds) -> [Job], seeds (the
# default seed list, or None for a recipe without a seed dimension).

MNIST_LOG = ["--log-every", "100"]


def _dragan_vs_gan_staged(seeds):
    """Both models to 2, 4 and 6 epochs (resumed each time), evaluated at each."""
    jobs = [MNIST_JUDGE]
    for seed in seeds:
        folder = "$RUNS/dragan_vs_gan_mnist/seed%d" % seed
        before = ["judge_mnist"]
        for epochs in (2, 4, 6):
            runs = [train(m, folder, seed, "--epochs", str(epochs), *MNIST_LOG,
                          name="%s_seed%d_%dep" % (m, seed, epochs), after=before[1:])
                    for m in ("dragan", "gan")]
            ev = evaluate("eval_seed%d_%dep" % (seed, epochs), folder, runs,
                          "eval_%dep.json" % epochs,
                          after=["judge_mnist"] + [r.name for r in runs])
            jobs += runs + [ev]
            before = ["judge_mnist", ev.name]     # resume only after the evaluation read it
    return jobs


def _dragan_vs_gan_short(seeds, steps=200):
    """Both models for `steps` steps per seed, each seed's pair evaluated."""
    jobs = [MNIST_JUDGE]
    for seed in seeds:
        folder = "$RUNS/dragan_vs_gan_mnist_short/seed%d" % seed
        runs = [train(m, folder, seed, "--max-steps", str(steps), "--save-every", "100",
                      "--log-every", "50") for m in ("dragan", "gan")]
        jobs += runs + [evaluate("eval_seed%d" % seed, folder, runs,
                                 after=["judge_mnist"] + [r.name for r in runs])]
    return jobs


def _toy(out, *flags, threads=1):
    return lambda seeds: [job("toy", "toy", ["python", "-m", "reproduce.toy"] + list(flags) + [
        "--out", out], threads=threads, outputs=[out + "/toy_study.json"])]


def _blog_run(name, *flags):
    """Train `name` at the blog's defaults (plus `flags`, e.g. a shorter budget), then
    evaluate it with the classifier metrics."""
    def jobs(seeds):
        out = [MNIST_JUDGE]
        for seed in seeds:
            folder = "$RUNS/%s/seed%d" % (name, seed)
            t = train(name, folder, seed, *flags)
            out += [t, evaluate("eval_%s_seed%d" % (name, seed), folder, [t],
                                after=["judge_mnist", t.name])]
        return out
    return jobs


def _judgeless(name, *flags):
    """Train `name` (Pokemon data: no judge), then its own evaluation (CycleGAN: the true
    pairs; the Pokemon DCGAN: reproduce/eval_sprites.py)."""
    def jobs(seeds):
        out = []
        for seed in seeds:
            folder = "$RUNS/%s/seed%d" % (name, seed)
            t = train(name, folder, seed, *flags)
            out += [t, evaluate("eval_%s_seed%d" % (name, seed), folder, [t],
                                after=[t.name])]
        return out
    return jobs


SHORT_SEEDS = (547, 548, 549)
PUBLISHED = "reproduce/published"     # the page, its figures and data, the toy studies
RESULTS_DATA = PUBLISHED + "/results_data"

EXPERIMENTS = {
    "judges": dict(
        blog="(project) the classifiers every metric uses",
        budget="MNIST 2 epochs, Fashion-MNIST 3 epochs, 1 thread, seed 547; cached after the "
               "first training",
        seeds=None,
        jobs=lambda seeds: [MNIST_JUDGE, job("judge_fashion_mnist", "judge", [
            "python", "-m", "reproduce.judge", "--dataset", "fashion-mnist"])]),
    "dragan_vs_gan_mnist_short": dict(
        blog="DRAGAN 对模型倒塌问题的处理: DRAGAN against a plain GAN over seeds, short runs",
        budget="200 steps of 64 each (0.18 epochs), 3 seeds, one thread per run, blog "
               "defaults otherwise, then each seed's pair evaluated (10,000 samples)",
        seeds=SHORT_SEEDS, jobs=_dragan_vs_gan_short),
    "dragan_vs_gan_mnist": dict(
        blog="DRAGAN 对模型倒塌问题的处理: DRAGAN against a plain GAN, PSNR per digit",
        budget=lambda: "2, 4 and 6 epochs (%d steps of 64 an epoch) per model and seed, each "
               "stage resumed from the one before (a resumed run's losses equal an unbroken "
               "run's) and evaluated; one thread per run, blog defaults otherwise"
               % steps_per_epoch("dragan"),
        seeds=SHORT_SEEDS, jobs=_dragan_vs_gan_staged),
    "toy_study": dict(
        blog="DRAGAN paper's toy figure and the usual mode-collapse test (8-Gaussian ring, "
             "25-Gaussian grid, swiss roll)",
        budget="10 seeds x 3 data sets x 4 methods, 5,000 generator steps of batch 64, "
               "1 thread; reproduce/toy.py has the networks",
        seeds=None, jobs=_toy(PUBLISHED + "/toy", "--seeds", "10", "--steps", "5000")),
    "toy_study_lr1e-4": dict(
        blog="the toy study with the DRAGAN paper notebook's optimizer (Adam 1e-4, beta1 0.5, "
             "beta2 0.9) for GAN and both DRAGAN penalty forms, 30,000 generator steps",
        budget="10 seeds x 3 data sets x 3 methods, batch 64, 1 thread per run, two runs "
               "at a time",
        seeds=None, jobs=_toy(PUBLISHED + "/toy_lr1e-4", "--seeds", "10", "--steps", "30000",
                              "--lr", "1e-4", "--methods", "gan", "dragan_blog",
                              "dragan_paper", "--jobs", "2", threads=2)),
    "toy_study_lr1e-4_100k": dict(
        blog="the same at 100,000 generator steps",
        budget="as toy_study_lr1e-4",
        seeds=None, jobs=_toy(PUBLISHED + "/toy_lr1e-4_100k", "--seeds", "10", "--steps",
                              "100000", "--lr", "1e-4", "--methods", "gan", "dragan_blog",
                              "dragan_paper", "--jobs", "2", threads=2)),
    "toy_study_gan_toy": dict(
        blog="the toy study in the setting of WGAN-GP's toy code (gan_toy.py in "
             "igul222/improved_wgan_training, likely - not verified - the lineage of the "
             "DRAGAN paper's swiss-roll comparison): MLPs of 3 x 512, batch 256, Adam 1e-4, "
             "WGAN-GP lambda 0.1; swiss roll and 8 Gaussians scaled as there; D's level "
             "sets at 4 phases of training",
        budget="3 seeds x 2 data sets (swissroll_gantoy, ring8_gantoy) x 4 methods, 7,500 "
               "generator steps of batch 256 (7.5% of gan_toy.py's 100,000), 1 thread per "
               "run, two runs at a time; the 25-Gaussian grid (grid25_gantoy) is left out "
               "(with it an hour holds 5,000 steps)",
        seeds=None, jobs=_toy(PUBLISHED + "/toy_gan_toy", "--setting", "gan_toy", "--seeds", "3",
                              "--steps", "7500", "--datasets", "swissroll_gantoy",
                              "ring8_gantoy", "--jobs", "2", threads=2)),
}

# The other blog experiments at their blog defaults (README "Models"): train, then
# evaluate with the classifier metrics (CycleGAN: its PSNR / L1 against the true pairs).
# Where the blog's length does not fit a session of this project's 2-core machine, a
# stated share of it (`flags`).
BLOG_RUNS = [  # (recipe, blog, budget, flags), in the order blog_results runs them
    ("cgan", "CGAN与GAN的区别", "the blog's: 20,000 iterations (100%)", ()),
    ("wgan", "WGAN与DCGAN的区别", "the blog's: 4,000 iterations (100%)", ()),
    ("acgan", "One Day One GAN, day 4 (ACGAN)", "the blog's: 14,000 iterations (100%)", ()),
    ("cyclegan", "CycleGAN模型原理 (Pokemon regular <-> shiny)",
     "10 of the blog's 200 epochs (5%), 13,320 steps", ("--epochs", "10")),
    ("dcgan_pokemon", "GAN 生成手写数字和 Pokemon 实战 (Pokemon sprites)",
     "500 of the blog's 5,000 epochs (10%), 2,500 steps", ("--epochs", "500")),
    ("dcgan", "GAN 生成手写数字和 Pokemon 实战 (MNIST)", "the blog's: 40 epochs (37,480 steps)",
     ()),
    ("infogan", "Принцип ИнфоГАН", "10,000 of the blog's 40,000 steps (25%)",
     ("--max-steps", "10000")),
    ("wgan_gp", "WGAN-GP与WGAN的区别", "10,000 of the blog's 30,000 iterations (33%)",
     ("--max-steps", "10000")),
]


_JUDGELESS = ("cyclegan", "dcgan_pokemon")
for _name, _blog, _budget, _flags in BLOG_RUNS:
    EXPERIMENTS[_name] = dict(blog=_blog, budget=_budget, seeds=(547,),
                              jobs=(_judgeless if _name in _JUDGELESS else _blog_run)(_name,
                                                                                     *_flags))


def _blog_results(seeds):
    """Every BLOG_RUNS recipe's jobs in one list (the judge once)."""
    out, names = [], set()
    for name, _, _, _ in BLOG_RUNS:
        for j in EXPERIMENTS[name]["jobs"](seeds):
            if j.name not in names:
                names.add(j.name)
                out.append(j)
    return out


EXPERIMENTS["blog_results"] = dict(
    blog="(project) the eight blog runs above in one pool: " + ", ".join(
        n for n, _, _, _ in BLOG_RUNS),
    budget="the sum of theirs; with --jobs 2 the runs go two at a time, one thread each, "
           "in the order listed", seeds=(547,), jobs=_blog_results)
EXPERIMENTS["results_page"] = dict(
    blog="(project) reproduce/published/RESULTS.md: the finished runs collected into tidy "
         "data (reproduce.collect), then the page rendered from that data (reproduce.render)",
    budget="minutes (collect measures the MNIST floors with the judge)", seeds=None,
    jobs=lambda seeds: [
        job("collect", "results", ["python", "-m", "reproduce.collect", "--runs", "$RUNS"]),
        job("render", "results", ["python", "-m", "reproduce.render"], after=["collect"])])


# ---- every blog run over three seeds, at the blog's shown points (blog_seeds) ----------
# Each blog model is trained for seeds 547-549 to its first length; seed 547 alone goes on
# to a longer one. Besides the rolling checkpoints, each run keeps for good (kept/) the
# checkpoints of the blog's shown points and of about 10 evenly spaced steps, which
# `reproduce.evaluate --kept` measures afterwards (quality over training).
CONTROL_HUE = 120
CONTROL_B = "$RUNS/blog_seeds/control_pair/hue%d" % CONTROL_HUE
CONTROL_DATA = job("control_pair", "data", ["python", "-m", "reproduce.control_pair",
                                            CONTROL_B, "--hue", str(CONTROL_HUE)],
                   outputs=[CONTROL_B + "/abra.png"])
# (recipe, model, flags, first length, seed 547's longer length or None, keep flags), from
# the models' blog cards (models/cards.py), cheapest first: the runner starts jobs in this
# order.
# The control pair (B = A recoloured) runs the card's first length only.
SEED_ORDER = (("cgan", "cgan", ()), ("dcgan_pokemon", "dcgan_pokemon", ()), ("wgan", "wgan", ()),
              ("acgan", "acgan", ()), ("cyclegan_control", "cyclegan", ("--domain-b", CONTROL_B)),
              ("infogan", "infogan", ()), ("wgan_gp", "wgan_gp", ()), ("cyclegan", "cyclegan", ()),
              ("dcgan", "dcgan", ()), ("dragan", "dragan", ()), ("gan", "gan", ()))
NO_LONGER = ("cyclegan_control",)


def _length_flags(card, length):
    return ("--max-steps" if card.unit == "steps" else "--epochs", str(length))


def _seed_runs():
    from models.cards import CARDS
    out = []
    for recipe, key, flags in SEED_ORDER:
        card = CARDS[key]
        keep = (("--keep-steps", ",".join(str(s) for s in card.keep_steps))
                if card.keep_steps else ()) + ("--keep-every", str(card.keep_every))
        out.append((recipe, key, flags, _length_flags(card, card.first),
                    _length_flags(card, card.long) if card.long and recipe not in NO_LONGER
                    else None, keep))
    return out


SEED_RUNS = _seed_runs()


def _full_steps(key):
    """The card's shown points as training steps, where the steps of an epoch are a fact
    of the data (IDX data sets); measured with the full sample count."""
    from models.cards import CARDS, steps_of
    card = CARDS[key]
    if card.unit == "steps":
        return card.shown
    try:
        return steps_of(card, card.shown, steps_per_epoch(key))
    except Exception:       # sprites: the epoch's steps depend on the folder; latest only
        return ()


def evaluate_kept(name, train_job, full_steps=(), after=()):
    """A quality-over-training job (reproduce.evaluate --kept) of `train_job`'s run: every
    kept checkpoint and the latest, over 5 draws, into quality.csv beside the run and as
    eval/* TensorBoard scalars in its log folder."""
    run = os.path.dirname(train_job.outputs[0])
    folder = run.split("/checkpoint/")[0]
    argv = ["python", "-m", "reproduce.evaluate", "--kept", run, "--csv",
            folder + "/quality.csv"]
    argv += ["--full-steps"] + [str(s) for s in full_steps] if full_steps else []
    return job(name, "evaluate", argv, after=(train_job.name,) + tuple(after),
               outputs=[folder + "/quality.csv"])


def seed_jobs(seeds, names=None):
    """The jobs of SEED_RUNS (those named `names`, default all) for `seeds`: every first
    length and its evaluation, then seed 547's longer runs and theirs."""
    first, longer = [], []
    needs_judge = False
    for recipe, model, flags, length, long_length, keep in SEED_RUNS:
        if names and recipe not in names:
            continue
        judge = [] if model in _JUDGELESS else ["judge_mnist"]
        needs_judge = needs_judge or bool(judge)
        full = _full_steps(model)
        for seed in seeds:
            folder = "$RUNS/blog_seeds/%s/seed%d" % (recipe, seed)
            base = tuple(flags) + tuple(keep) + ("--log-every", "100")
            after = ["control_pair"] if CONTROL_B in flags else []
            t = train(model, folder, seed, *(base + tuple(length)),
                      name="%s_seed%d" % (recipe, seed), after=after)
            first += [t, evaluate_kept("eval_%s_seed%d" % (recipe, seed), t, full, judge)]
            if long_length and seed == 547:
                t2 = train(model, folder, seed, *(base + tuple(long_length)),
                           name="%s_seed%d_long" % (recipe, seed), after=after + [t.name])
                longer += [t2, evaluate_kept("eval_%s_seed%d_long" % (recipe, seed), t2, full,
                                             judge + ["eval_%s_seed%d" % (recipe, seed)])]
    needs_control = any(CONTROL_B in j.argv for j in first)
    return (([CONTROL_DATA] if needs_control else []) + ([MNIST_JUDGE] if needs_judge else [])
            + first + longer)


EXPERIMENTS["blog_seeds"] = dict(
    blog="(project) every blog run over seeds 547-549 at the blog's shown points, seed 547 "
         "on to a longer length: " + ", ".join(r[0] for r in SEED_RUNS),
    budget="one thread per run, two runs at a time (--jobs 2), cheapest first; about 21 "
           "hours of this 2-core machine in all, with DRAGAN and GAN's six epochs about 2 more "
           "(2-thread ms per iteration: cgan 14, dcgan_pokemon 980, wgan 334, acgan 109, "
           "cyclegan 130, infogan 290, wgan_gp 402, dcgan 123, dragan 196, gan 138)",
    seeds=SHORT_SEEDS, jobs=seed_jobs)


# What a recipe took when it was run for the page, in words (wall time, machine, load):
# data, kept beside the page's other data, so that a rerun changes no code.
MEASURED = RESULTS_DATA + "/measured.json"


@functools.lru_cache(maxsize=1)
def _measured():
    path = os.path.join(REPO, MEASURED)
    return utils.read_json(path) if os.path.exists(path) else {}


def measured_of(name):
    """What recipe `name` took when it was run for the page (MEASURED, read once), or
    None."""
    return _measured().get(name)


def budget_of(name):
    """Recipe `name`'s budget in words (computed where it names a derived fact), with
    what it took when it was run for the page (`measured_of`)."""
    b = EXPERIMENTS[name]["budget"]
    b = b() if callable(b) else b
    measured = measured_of(name)
    return "%s; %s" % (b, measured) if measured else b


def jobs_of(name, seeds=None):
    """The jobs of recipe `name` for `seeds` (None: the recipe's own)."""
    e = EXPERIMENTS[name]
    return e["jobs"](tuple(seeds) if seeds else e["seeds"])


def commands(name, seeds=None):
    """The recipe's commands as a person pastes them, `RUNS=runs` first where used."""
    lines = [runner.command_line(j.argv) for j in jobs_of(name, seeds)]
    return (["RUNS=runs"] if any("$RUNS" in line for line in lines) else []) + lines


def describe(name, seeds=None):
    e = EXPERIMENTS[name]
    seeds_text = "" if not e["seeds"] else "\n  seeds: %s (run ... --seeds to change)" % " ".join(
        str(s) for s in (seeds or e["seeds"]))
    return "%s\n  blog: %s\n  budget: %s%s\n%s" % (name, e["blog"], budget_of(name), seeds_text,
                                                   "\n".join("  $ " + c for c in commands(
                                                       name, seeds)))


def _known(parser, name):
    if name not in EXPERIMENTS:
        parser.error("unknown experiment %s: use one of %s" % (name, ", ".join(EXPERIMENTS)))


def run_main(argv):
    parser = argparse.ArgumentParser(
        prog=PROG + " run", description="Run a recipe's jobs (reproduce/runner.py): here, "
        "N at a time in their own processes, or as Ray tasks on a cluster. Running it again "
        "skips finished jobs and resumes interrupted ones from their checkpoints. Ctrl-C or "
        "SIGTERM: the running jobs finish their step and save a checkpoint, then it exits. "
        "Exit status: 0 every job done, 1 some failed or were skipped, or another run of the "
        "recipe is using the runs folder, 2 bad flags, 130 stopped by Ctrl-C (SIGINT), 143 "
        "stopped by SIGTERM.")
    parser.add_argument("name", metavar="NAME", help="the recipe (%s)" % ", ".join(EXPERIMENTS))
    parser.add_argument("--seeds", nargs="+", metavar="SEED",
                        help="training seeds, one set of jobs each [default: the recipe's]")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="jobs at a time on this machine [default: 1]")
    parser.add_argument("--runs", default="runs", metavar="DIR",
                        help="the runs folder, $RUNS of the commands; with --ray one every "
                             "node sees at the same path [default: runs]")
    parser.add_argument("--ray", metavar="ADDRESS",
                        help="send the jobs to the Ray cluster at ADDRESS ('auto': the one "
                             "this machine belongs to; 'local': a Ray instance started on "
                             "this machine for the run) as tasks with each job's CPU/GPU "
                             "request, instead of running them here (Ray decides how many "
                             "at a time: --jobs does not apply)")
    parser.add_argument("--gpu", action="store_true",
                        help="training and evaluation jobs ask for one GPU each (Ray "
                             "places them on GPU nodes; here they share what is visible)")
    args = parser.parse_args(argv)
    _known(parser, args.name)
    seeds = None
    if args.seeds:
        if EXPERIMENTS[args.name]["seeds"] is None:
            parser.error("%s has no seed dimension: --seeds does not apply" % args.name)
        try:
            seeds = [int(s) for s in args.seeds]
        except ValueError:
            parser.error("bad seed list %s: give integers >= 0, e.g. --seeds 547 548 549"
                         % " ".join(args.seeds))
        if min(seeds) < 0 or len(set(seeds)) != len(seeds):
            parser.error("bad seed list %s: give distinct integers >= 0" % " ".join(args.seeds))
    if args.jobs < 1:
        parser.error("--jobs must be >= 1")
    try:
        jobs = jobs_of(args.name, seeds)
    except GanReproError as e:
        return report(PROG + " run", e)
    if args.gpu:
        jobs = [j._replace(gpus=1) if j.kind in ("train", "evaluate") else j for j in jobs]
    backend = runner.RayBackend(args.ray) if args.ray else runner.LocalBackend(args.jobs)
    try:
        state = runner.run_jobs(jobs, args.runs, args.name, backend,
                                out=lambda line: print(line, flush=True))
    except runner.RecipeBusy as busy:
        print("%s run: error: %s" % (PROG, busy), file=sys.stderr, flush=True)
        return 1
    except runner.Stopped as stopped:
        return 128 + stopped.signum
    return 0 if all(s in ("done", "was done") for s in state.values()) else 1


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["run"]:
        return run_main(argv[1:])
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="recipes to show (%s) [default: all]; `run NAME` runs one "
                             "(`run --help`)" % ", ".join(EXPERIMENTS))
    args = parser.parse_args(argv)
    for n in args.names:
        _known(parser, n)
    try:
        text = "\n\n".join(describe(n) for n in (args.names or EXPERIMENTS))
    except GanReproError as e:          # a recipe's run folder needs its data (e.g. sprites)
        return report(PROG, e)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
