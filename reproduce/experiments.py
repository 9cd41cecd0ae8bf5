"""The blog experiments as recipes: the exact commands and budget of each.

    python -m reproduce.experiments            # list every experiment and its commands
    python -m reproduce.experiments dragan_vs_gan_mnist   # one experiment's commands

RESULTS.md (`python -m reproduce.results`) prints the commands of every experiment it
shows beside its tables and figures, so each published number names its command.
Outputs go under `runs/<experiment>/` (ignored by git).
"""

import argparse
import sys

PY = ".venv/bin/python"

# DRAGAN vs GAN on MNIST at an equal budget, the two runs side by side with one thread
# each (one core each of the 2-core CPU, oneDNN kernels on). Measured here: 4 epochs
# (4,372 steps each) took DRAGAN 49:25 (26:41 + 22:44 resumed, 1.47 steps/s) and GAN
# 34:31 (18:41 + 15:50, 2.11 steps/s) with other work sharing the machine at times; the
# seed-548 pair on an otherwise idle machine took DRAGAN 38:46 (1.88 steps/s) and GAN
# 26:25 (2.76 steps/s), a rate at which about 6 epochs of DRAGAN fit in the hour; the
# seed-547 pair was resumed to 6 epochs as well (the last recipe commands).
MNIST_HOUR_EPOCHS = 4
_MNIST_DIRS = ("--intra-op-threads 1 --inter-op-threads 1 "
               "--checkpoint-dir runs/mnist_hour/checkpoint --result-dir runs/mnist_hour/results "
               "--log-dir runs/mnist_hour/logs --log-every 100")

_MNIST_RUNS = ("runs/mnist_hour/checkpoint/DRAGAN_mnist_64_128/DRAGAN "
               "runs/mnist_hour/checkpoint/GAN_mnist_64_128/GAN")

EXPERIMENTS = {
    "judges": dict(
        blog="(project) the classifiers every metric uses",
        budget="MNIST 2 epochs, Fashion-MNIST 3 epochs, 1 thread, seed 547; cached after the "
               "first training",
        commands=["%s -m reproduce.judge --dataset mnist" % PY,
                  "%s -m reproduce.judge --dataset fashion-mnist" % PY]),
    "dragan_vs_gan_mnist": dict(
        blog="DRAGAN 对模型倒塌问题的处理: DRAGAN against a plain GAN, PSNR per digit",
        budget="%d epochs each (%d steps of 64), seed 547, one thread each (the two run side "
               "by side), blog defaults otherwise; measured at 2 epochs too, then resumed "
               "(a resumed run's losses equal an unbroken run's), and at 6 epochs (the hour at "
               "the idle-machine rate)"
               % (MNIST_HOUR_EPOCHS, MNIST_HOUR_EPOCHS * 1093),
        commands=[
            "%s scripts/run_dragan.py --epochs 2 %s" % (PY, _MNIST_DIRS),
            "%s scripts/run_gan.py --epochs 2 %s" % (PY, _MNIST_DIRS),
            "%s -m reproduce.evaluate %s --json runs/mnist_hour/eval_2ep.json "
            "--figures runs/mnist_hour/figures" % (PY, _MNIST_RUNS),
            "%s scripts/run_dragan.py --epochs %d %s" % (PY, MNIST_HOUR_EPOCHS, _MNIST_DIRS),
            "%s scripts/run_gan.py --epochs %d %s" % (PY, MNIST_HOUR_EPOCHS, _MNIST_DIRS),
            "%s -m reproduce.evaluate %s --json runs/mnist_hour/eval.json "
            "--figures runs/mnist_hour/figures" % (PY, _MNIST_RUNS),
            "%s scripts/run_dragan.py --epochs 6 %s" % (PY, _MNIST_DIRS),
            "%s scripts/run_gan.py --epochs 6 %s" % (PY, _MNIST_DIRS),
            "%s -m reproduce.evaluate %s --json runs/mnist_hour/eval_6ep.json "
            "--figures runs/mnist_hour/figures" % (PY, _MNIST_RUNS)]),
    "dragan_vs_gan_mnist_seed548": dict(
        blog="the same comparison with a second training seed, to see the seed noise",
        budget="as dragan_vs_gan_mnist, 4 epochs each, seed 548",
        commands=[
            "%s scripts/run_dragan.py --epochs %d --seed 548 %s" % (
                PY, MNIST_HOUR_EPOCHS, _MNIST_DIRS.replace("mnist_hour", "mnist_seed548")),
            "%s scripts/run_gan.py --epochs %d --seed 548 %s" % (
                PY, MNIST_HOUR_EPOCHS, _MNIST_DIRS.replace("mnist_hour", "mnist_seed548")),
            "%s -m reproduce.evaluate %s --json runs/mnist_seed548/eval.json "
            "--figures runs/mnist_seed548/figures"
            % (PY, _MNIST_RUNS.replace("mnist_hour", "mnist_seed548"))]),
    "toy_study": dict(
        blog="DRAGAN paper's toy figure and the usual mode-collapse test (8-Gaussian ring, "
             "25-Gaussian grid, swiss roll)",
        budget="10 seeds x 3 data sets x 4 methods, 5,000 generator steps of batch 64, "
               "1 thread (21 minutes wall, 18 CPU minutes on the shared 2-core CPU); "
               "reproduce/toy.py has the networks",
        commands=["%s -m reproduce.toy --seeds 10 --steps 5000" % PY]),
    "toy_study_lr1e-4": dict(
        blog="the toy study with the DRAGAN paper notebook's optimizer (Adam 1e-4, beta1 0.5, "
             "beta2 0.9) for GAN and both DRAGAN penalty forms, at two lengths",
        budget="10 seeds x 3 data sets x 3 methods, 30,000 and 100,000 generator steps of "
               "batch 64, 1 thread per run, two runs at a time (--jobs 2; 13 and 36 minutes "
               "wall)",
        commands=["%s -m reproduce.toy --seeds 10 --steps %d --lr 1e-4 --methods gan "
                  "dragan_blog dragan_paper --jobs 2 --out reproduce/toy_lr1e-4%s"
                  % (PY, steps, suffix) for steps, suffix in ((30000, ""), (100000, "_100k"))]),
    "results_page": dict(
        blog="(project) reproduce/RESULTS.md from the finished runs above",
        budget="seconds",
        commands=["%s -m reproduce.results --eval runs/mnist_hour/eval_6ep.json --eval "
                  "runs/mnist_hour/eval.json --eval runs/mnist_seed548/eval.json --eval "
                  "runs/mnist_hour/eval_2ep.json "
                  "--toy reproduce/toy --toy reproduce/toy_lr1e-4 "
                  "--toy reproduce/toy_lr1e-4_100k" % PY]),
}

# The other blog experiments at their blog defaults (README "Models"): train, then
# evaluate with the classifier metrics (CycleGAN: its PSNR / L1 against the true pairs).
_BLOG_RUNS = [
    ("dcgan", "GAN 生成手写数字和 Pokemon 实战 (MNIST)", "40 epochs", "DCGAN_mnist_64_100/DCGAN"),
    ("wgan", "WGAN与DCGAN的区别", "4,000 steps", "WGAN_mnist_32_100/WGAN"),
    ("wgan_gp", "WGAN-GP与WGAN的区别", "30,000 steps", "WGAN_GP_mnist_32_100/WGAN_GP"),
    ("cgan", "CGAN与GAN的区别", "20,000 steps", "CGAN_mnist_32_100/CGAN"),
    ("acgan", "One Day One GAN, day 4 (ACGAN)", "14,000 steps", "ACGAN_mnist_32_100/ACGAN"),
    ("infogan", "Принцип ИнфоГАН", "40,000 steps", "InfoGAN_mnist_64_100/InfoGAN"),
]
for _name, _blog, _budget, _folder in _BLOG_RUNS:
    EXPERIMENTS[_name] = dict(
        blog=_blog, budget="the blog's: %s (seed 547)" % _budget,
        commands=["%s scripts/run_%s.py --checkpoint-dir runs/%s/checkpoint --result-dir "
                  "runs/%s/results --log-dir runs/%s/logs" % (PY, _name, _name, _name, _name),
                  "%s -m reproduce.evaluate runs/%s/checkpoint/%s --json runs/%s/eval.json"
                  % (PY, _name, _folder.split("/")[0], _name)])
EXPERIMENTS["cyclegan"] = dict(
    blog="CycleGAN模型原理 (Pokemon regular <-> shiny)", budget="the blog's: 200 epochs",
    commands=["%s scripts/run_cyclegan.py --checkpoint-dir runs/cyclegan/checkpoint "
              "--result-dir runs/cyclegan/results --log-dir runs/cyclegan/logs" % PY,
              "%s -m reproduce.evaluate runs/cyclegan/checkpoint/CycleGAN_pokemon_1 "
              "--json runs/cyclegan/eval.json" % PY])


def describe(name):
    e = EXPERIMENTS[name]
    return "%s\n  blog: %s\n  budget: %s\n%s" % (name, e["blog"], e["budget"], "\n".join(
        "  $ " + c for c in e["commands"]))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m reproduce.experiments", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="experiments to show (%s) [default: all]" % ", ".join(EXPERIMENTS))
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in EXPERIMENTS]
    if unknown:
        parser.error("unknown experiment %s: use %s" % (", ".join(unknown), ", ".join(EXPERIMENTS)))
    print("\n\n".join(describe(n) for n in (args.names or EXPERIMENTS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
