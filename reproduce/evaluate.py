"""Measure finished runs: python -m reproduce.evaluate RUN [RUN ...].

RUN is a run's checkpoint folder, `<checkpoint_dir>/<run>/<MODEL>` (the one holding
`config.json` and the checkpoints), or `<checkpoint_dir>/<run>`. The model and its
settings come from `config.json`; the latest checkpoint is restored without writing
anything. For every run this draws --samples samples (default 10,000) from the
generator's prior (seeded: the same samples every time) and reports, with the
project's own classifier (the "judge", reproduce/judge.py) of the run's data set:

- classifier FID: Frechet distance of the judge's penultimate features (256-d) between
  the samples and the real test images; the floor beside it is the same distance
  between as many real training images and the test images (no generator can be
  expected to beat it much);
- classifier score: exp(E KL(p(y|x) || p(y))) (the Inception-score form, at most 10),
  beside the real test images' score;
- the class histogram of the samples (the judge's labels) and its KL to uniform (mode
  coverage; the real test set's beside it);
- conditional models (CGAN, ACGAN): the judge's accuracy on the requested label,
  overall and per class (labels balanced);
- InfoGAN: the categorical code c1 (the model's `labels` input) as an unsupervised
  classifier: the judge's digits matched one-to-one to the c1 values in the best way
  (the paper reports about 95%); the identity matching's accuracy beside it;
- the DRAGAN blog's PSNR per digit (reproduce/metrics.py): tiles quantised to 0..255,
  pixels <= 128 set to 0 (binarised), sorted by digit with the judge (the blog did it by
  hand), mean image per digit; PSNR = 10 log10(255^2 / MSE) between the mean real test
  image and the mean generated image of the digit (peak 255 on means in [0, 1], as the
  blog: 48.13 dB above the PSNR with peak 1). Floor: the same between the mean real
  training and test images. `--psnr-from grids` cuts the run's saved 8x8 epoch grids into
  tiles instead of drawing samples (the blog's way);
- CycleGAN: its own evaluation (reproduce/eval_cyclegan.py): PSNR / L1 against the
  true regular/shiny pairs, beside the identity baseline;
- the Pokemon DCGAN (no judge for sprites): reproduce/eval_sprites.py, a Frechet distance
  in the sprites' own pixel-PCA space and the nearest-sprite distance, each beside the
  same for real sprites (its docstring says what it can and cannot tell).

Output: a readable table per run (and, for several runs, one side-by-side table) on
stdout; `--json PATH` writes every number. Exit status: 0, 1 (no run folder / checkpoint
/ data), 2 (bad flags).
"""

import argparse
import glob
import math
import os
import sys

import numpy as np

import data as data_lib
import utils
from errors import CheckpointError, DataError, GanReproError, report
from models import MODELS, get_model
from reproduce import metrics

PROG = "python -m reproduce.evaluate"
# What a model may ask to be measured by (its `evaluations`, see models/base.py).
EVALUATIONS = {
    "classifier": "the judge's FID, score and class histogram, the blog's PSNR per digit",
    "conditional": "the judge's accuracy on the labels the samples were asked for",
    "categorical_code": "InfoGAN's c1 matched one-to-one to the judge's digits",
    "pairs": "CycleGAN's translations against the true regular/shiny pairs",
    "sprites": "the Pokemon DCGAN's pixel-PCA Frechet distance to the sprites, with the "
               "nearest-sprite distance (reproduce/eval_sprites.py)",
}
DEFAULT_SAMPLES = 10000
NUM_CLASSES = 10


# ---- finding and restoring a run ------------------------------------------------------

def run_folder(path):
    """The checkpoint folder holding config.json: `path` or its only model subfolder."""
    if not os.path.isdir(path):
        raise CheckpointError("no run folder %s: give a run's checkpoint folder, e.g. "
                              "checkpoint/DRAGAN_mnist_64_128/DRAGAN" % path)
    if os.path.exists(os.path.join(path, "config.json")):
        return os.path.normpath(path)
    inner = [os.path.join(path, d) for d in sorted(os.listdir(path))
             if os.path.exists(os.path.join(path, d, "config.json"))]
    if len(inner) == 1:
        return os.path.normpath(inner[0])
    raise CheckpointError("%s holds no run (no config.json in it or in one subfolder): give "
                          "a run's checkpoint folder, e.g. checkpoint/DRAGAN_mnist_64_128/DRAGAN"
                          % path)


def model_class(saved):
    """The registered class that wrote a run's config.json (dict): its registry `key`.

    A run written before config.json had one names only its model; the class is then
    the registered one of that model name whose default data set is the run's.
    """
    if saved.get("key"):
        if saved["key"] not in MODELS:
            raise CheckpointError("config.json names model %r, which is not registered "
                                  "(models.MODELS: %s)" % (saved["key"], ", ".join(MODELS)))
        return get_model(saved["key"])
    name, dataset = saved.get("model"), saved.get("config", {}).get("dataset")
    candidates = [key for key in sorted(MODELS) if get_model(key).model_name == name]
    if not candidates:
        raise CheckpointError("config.json names model %r, which is not registered "
                              "(models.MODELS)" % name)
    for key in candidates:
        if get_model(key).Config().dataset == dataset:
            return get_model(key)
    return get_model(candidates[0])


def open_run(path, data_dir=None, threads=1):
    """(model with the latest checkpoint restored, checkpoint path, step) of a run folder."""
    folder = run_folder(path)
    saved = utils.read_json(os.path.join(folder, "config.json"))
    cls = model_class(saved)
    values = dict(saved["config"])
    # The folder may have moved: point the config at where it is now.
    values["checkpoint_dir"] = os.path.dirname(os.path.dirname(os.path.abspath(folder)))
    values.update(intra_op_threads=threads, inter_op_threads=threads)
    if data_dir:
        values["data_dir"] = data_dir
    config = cls.Config.from_dict(values)
    dataset = cls.load_data(config)
    model = cls(config, dataset)
    if os.path.normpath(os.path.abspath(model.checkpoint_folder)) != os.path.abspath(folder):
        model.close()
        raise CheckpointError("%s does not look like the run its config.json describes "
                              "(expected the folder name %s)" % (folder, model.checkpoint_folder))
    try:
        checkpoint, step = model.restore_latest()
    except GanReproError:
        model.close()
        raise
    return model, checkpoint, step


# ---- drawing samples ---------------------------------------------------------------------

def _to_unit(model, images):
    lo, hi = model.output_range
    return np.clip((np.asarray(images, np.float32) - lo) / (hi - lo), 0.0, 1.0)


def draw_samples(model, n, seed=0, chunk=500):
    """(samples [n, H, W, C] in [0, 1], requested labels [n] or None), seeded."""
    images, labels, i = [], [], 0
    total = 0
    while total < n:
        feed, requested = model.prior_feed(utils.make_rng(seed, "evaluate", i), chunk)
        batch = _to_unit(model, model.sess.run(model.sampler, feed))
        images.append(batch)
        labels.append(requested)
        total += len(batch)
        i += 1
    images = np.concatenate(images)[:n]
    requested = None if labels[0] is None else np.concatenate(labels)[:n]
    return images, requested


def grid_tiles(model):
    """Tiles [n, h, w, 1] in [0, 1] of the run's saved epoch grids (the blog's source)."""
    paths = sorted(glob.glob(os.path.join(model.result_folder, "%s_epoch*_test_all_classes.png"
                                          % model.model_name)))
    if not paths:
        raise DataError("no epoch grids (%s_epoch*_test_all_classes.png) in %s: use "
                        "--psnr-from samples" % (model.model_name, model.result_folder))
    from skimage import io as skio
    h, w = model.image_shape[:2]
    tiles = [metrics.tiles_from_grid(skio.imread(p), h, w) for p in paths]
    tiles = np.concatenate(tiles)
    if tiles.ndim == 3:
        tiles = tiles[..., None]
    return tiles[..., :1].astype(np.float32) / 255.0, paths


# ---- the measurements ------------------------------------------------------------------------

def real_sets(dataset, n, data_dir=None, seed=0):
    """(test images, test labels, n training images, their labels) of an IDX data set."""
    if dataset not in data_lib.IDX_DATASETS:
        raise DataError("the classifier metrics need MNIST or Fashion-MNIST, not %r" % dataset)
    train = data_lib.load_idx_dataset(dataset, data_dir=data_dir, splits=("train",))
    test = data_lib.load_idx_dataset(dataset, data_dir=data_dir, splits=("test",))
    pick = utils.make_rng(seed, "evaluate-real").permutation(len(train.images))[:n]
    return test.images, test.labels, train.images[pick], train.labels[pick]


def blog_psnr(gen_tiles, gen_digits, real_images, real_labels):
    """The blog's PSNR per digit between mean binarised real and generated images.

    Returns:
      (psnr [10] (inf: identical means, NaN: no tile of that digit), tiles per digit [10],
       generated means [10, h, w], real means [10, h, w]).
    """
    gen = metrics.binarise(metrics.to_uint8(gen_tiles[..., 0]))
    real = metrics.binarise(metrics.to_uint8(real_images[..., 0]))
    gen_means = metrics.class_mean_images(gen, gen_digits, NUM_CLASSES)
    real_means = metrics.class_mean_images(real, real_labels, NUM_CLASSES)
    return (metrics.psnr_per_class(real_means, gen_means, peak=255.0),
            metrics.class_histogram(gen_digits, NUM_CLASSES), gen_means, real_means)


def real_floor(judge, test_x, test_y, train_x, train_y):
    """The real-data values every generated set is compared with."""
    test_p, test_f = judge.predict(test_x)
    train_p, train_f = judge.predict(train_x)
    psnr, _, _, _ = blog_psnr(train_x, train_y, test_x, test_y)
    hist = metrics.class_histogram(np.argmax(test_p, 1), NUM_CLASSES)
    return dict(fid=metrics.frechet_distance_of(train_f, test_f),
                score=metrics.classifier_score(test_p), histogram=hist.tolist(),
                kl_uniform=metrics.kl_to_uniform(hist), psnr=psnr.tolist(),
                test_images=int(len(test_x)), train_images=int(len(train_x)),
                test_features=test_f)


def evaluate_samples(judge, samples, requested, floor, test_x, test_y, evaluations,
                     psnr_tiles=None):
    """Every classifier metric of generated samples [n, h, w, 1] in [0, 1], with the
    model's extra `evaluations` ("conditional", "categorical_code") on the labels the
    samples were asked for (`requested`)."""
    probs, feats = judge.predict(samples)
    digits = np.argmax(probs, axis=1)
    hist = metrics.class_histogram(digits, NUM_CLASSES)
    result = dict(fid=metrics.frechet_distance_of(feats, floor["test_features"]),
                  score=metrics.classifier_score(probs), histogram=hist.tolist(),
                  kl_uniform=metrics.kl_to_uniform(hist), samples=int(len(samples)))
    if "conditional" in evaluations and requested is not None:
        accuracy, per_class = metrics.per_class_accuracy(digits, requested, NUM_CLASSES)
        result["conditional"] = dict(accuracy=accuracy, per_class=per_class.tolist())
    if "categorical_code" in evaluations and requested is not None:
        accuracy, mapping = metrics.matching_accuracy(requested, digits, NUM_CLASSES, NUM_CLASSES)
        result["infogan_c1"] = dict(matching_accuracy=accuracy, mapping=mapping.tolist(),
                                    identity_accuracy=float(np.mean(requested == digits)))
    tiles, tile_digits, source = samples, digits, "samples"
    if psnr_tiles is not None:
        tiles, source = psnr_tiles
        tile_digits = np.argmax(judge.predict(tiles)[0], axis=1)
        source = "grids: %d tiles of %d files" % (len(tiles), len(source))
    psnr, counts, gen_means, real_means = blog_psnr(tiles, tile_digits, test_x, test_y)
    result["blog_psnr"] = dict(per_digit=psnr.tolist(), tiles_per_digit=counts.tolist(),
                               source=source, peak=255)
    result["_means"] = (gen_means, real_means)
    return result


def evaluate_run(path, judges, samples=DEFAULT_SAMPLES, seed=0, data_dir=None, threads=1,
                 psnr_from="samples", retrain_judge=False, log=print):
    """All metrics of one run (dict, JSON-ready but for the private `_means`)."""
    from reproduce import judge as judge_lib
    model, checkpoint, step = open_run(path, data_dir, threads)
    try:
        cfg = model.config
        info = dict(run=os.path.abspath(run_folder(path)), model=model.model_name,
                    checkpoint=checkpoint, step=step, dataset=cfg.dataset,
                    result_folder=os.path.abspath(model.result_folder),
                    log_folder=os.path.abspath(model.log_folder),
                    epochs_done=round(step / model.steps_per_epoch, 2),
                    train_seed=cfg.seed,
                    command=utils.read_json(os.path.join(run_folder(path), "config.json")
                                            ).get("command"))
        if "pairs" in model.evaluations:
            from reproduce import eval_cyclegan
            info["cyclegan"] = eval_cyclegan.evaluate(model)
            return info
        if "sprites" in model.evaluations:
            from reproduce import eval_sprites
            info["sprites"] = eval_sprites.evaluate(model, draw_samples, seed)
            info["seed"] = seed
            return info
        key = cfg.dataset
        if key not in judge_lib.TARGETS:
            raise DataError("%s was trained on %r: the classifier metrics have judges for %s "
                            "only" % (info["run"], key, " and ".join(judge_lib.TARGETS)))
        if key not in judges:
            judge = judge_lib.load_judge(cfg.dataset, data_dir=cfg.data_dir, retrain=retrain_judge,
                                         threads=threads, log=log)
            test_x, test_y, train_x, train_y = real_sets(cfg.dataset, samples, cfg.data_dir)
            judges[key] = (judge, real_floor(judge, test_x, test_y, train_x, train_y),
                           test_x, test_y)
        judge, floor, test_x, test_y = judges[key]
        info["judge"] = judge.info
        images, requested = draw_samples(model, samples, seed)
        tiles = grid_tiles(model) if psnr_from == "grids" else None
        info.update(evaluate_samples(judge, images, requested, floor, test_x, test_y,
                                     model.evaluations, tiles))
        info["real"] = {k: v for k, v in floor.items() if k != "test_features"}
        info["seed"] = seed
        return info
    finally:
        model.close()


# ---- tables ------------------------------------------------------------------------------

def _num(value, digits=2):
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf"
    return "%.*f" % (digits, value)


def _label(r):
    return "%s (step %d)" % (r["model"], r["step"])


def table(results):
    """Side-by-side Markdown tables of runs' results (classifier metrics, blog PSNR)."""
    judged = [r for r in results if "fid" in r]
    lines = []
    if judged:
        real = judged[0]["real"]
        head = [_label(r) for r in judged] + ["real data (floor)"]
        lines += ["| metric | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
        rows = [("classifier FID (vs test)", [_num(r["fid"]) for r in judged],
                 _num(real["fid"]) + " (train vs test)"),
                ("classifier score (max 10)", [_num(r["score"]) for r in judged],
                 _num(real["score"]) + " (test)"),
                ("KL(histogram || uniform)", [_num(r["kl_uniform"], 4) for r in judged],
                 _num(real["kl_uniform"], 4) + " (test)"),
                ("class histogram (judge)", [" ".join(map(str, r["histogram"])) for r in judged],
                 " ".join(map(str, real["histogram"]))),
                ("blog PSNR, mean over digits (dB)",
                 [_psnr_mean(r["blog_psnr"]["per_digit"]) for r in judged],
                 _psnr_mean(real["psnr"]) + " (train vs test)")]
        if any("conditional" in r for r in judged):
            rows.append(("accuracy on the requested label (per digit 0..9)",
                         ["%s%% (%s)" % (_num(r["conditional"]["accuracy"] * 100, 1), " ".join(
                             _num(float(a) * 100, 0) for a in r["conditional"]["per_class"]))
                          if "conditional" in r else "-" for r in judged], "-"))
        if any("infogan_c1" in r for r in judged):
            rows.append(("InfoGAN c1 matched to digits",
                         [_num(r["infogan_c1"]["matching_accuracy"] * 100, 1) + "%"
                          if "infogan_c1" in r else "-" for r in judged], "-"))
        for name, values, floor in rows:
            lines.append("| %s | %s | %s |" % (name, " | ".join(values), floor))
        lines += ["", "The DRAGAN blog's PSNR per digit (dB, peak 255 on mean binarised images "
                  "in [0, 1]; higher: closer to the real mean):", ""]
        lines += ["| digit | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
        for d in range(NUM_CLASSES):
            lines.append("| %d | %s | %s |" % (d, " | ".join(
                "%s (%d)" % (_num(r["blog_psnr"]["per_digit"][d]),
                             r["blog_psnr"]["tiles_per_digit"][d]) for r in judged),
                _num(real["psnr"][d])))
        lines.append("")
        lines.append("(in brackets: generated tiles the judge put in that digit)")
    for r in results:
        if "cyclegan" in r:
            from reproduce import eval_cyclegan
            lines += ["", "%s (PSNR / L1 against the true pairs):" % _label(r), "", "```",
                      eval_cyclegan.table(_floats(r["cyclegan"])), "```"]
        if "sprites" in r:
            lines += ["", sprites_table([r])]
    return "\n".join(lines)


def sprites_table(results):
    """Markdown: the sprite measure of runs, beside its real-sprite floor."""
    real = results[0]["sprites"]
    head = [_label(r) for r in results] + ["real sprites (floor)"]
    lines = ["| measure | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    lines.append("| pixel-PCA Frechet distance to the reference half (%d components) | %s | "
                 "%s (the other half) |" % (real["components"], " | ".join(
                     "%s ± %s (%d draws of %d)" % (_num(r["sprites"]["pca_fd"]),
                                                   _num(r["sprites"]["pca_fd_std"]),
                                                   r["sprites"]["draws"], r["sprites"]["held_out"])
                     for r in results), _num(real["floor_pca_fd"])))
    lines.append("| median RMS distance to the nearest reference sprite | %s | %s |" % (
        " | ".join("%s (ratio %s)" % (_num(r["sprites"]["nn_rms_median"], 4),
                                      _num(r["sprites"]["nn_ratio"])) for r in results),
        _num(real["floor_nn_rms_median"], 4)))
    return "\n".join(lines)


def _floats(obj):
    """JSON's "inf" / "nan" strings back to floats (a results dict read from a file)."""
    if isinstance(obj, dict):
        return {k: _floats(v) for k, v in obj.items()}
    if isinstance(obj, str) and obj in ("inf", "-inf", "nan"):
        return float(obj)
    return obj


def _psnr_mean(per_digit):
    """The mean of the finite PSNRs, naming the digits without any tile (NaN)."""
    missing = [d for d, v in enumerate(per_digit) if math.isnan(float(v))]   # JSON: "nan"
    text = _num(_finite_mean(per_digit))
    return text + (" (no tile of %s)" % ",".join(map(str, missing)) if missing else "")


def _finite_mean(values):
    values = np.asarray([v for v in values if v is not None], np.float64)
    values = values[np.isfinite(values)]
    return float(values.mean()) if len(values) else float("nan")


def _json_safe(obj):
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    return obj


def save_mean_images(results, folder):
    """PNG rows of the mean binarised digits (generated, then real) per run."""
    from reproduce import plots
    paths = []
    for r in results:
        if "_means" not in r:
            continue
        gen, real = r["_means"]
        path = os.path.join(folder, "%s_step%d_mean_digits.png" % (r["model"], r["step"]))
        plots.image_row(path, np.concatenate([gen, real]),
                        labels=["G %d" % d for d in range(10)] + ["real %d" % d for d in range(10)],
                        columns=NUM_CLASSES)
        r["mean_digits_png"] = os.path.abspath(path)
        paths.append(path)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="RUN",
                        help="a run's checkpoint folder, "
                             "e.g. checkpoint/DRAGAN_mnist_64_128/DRAGAN")
    parser.add_argument("--samples", type=int, default=DEFAULT_SAMPLES,
                        help="samples drawn per run (and real images of the floor) "
                             "[default: %(default)s; with --kept 2000 a draw]")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawn samples "
                        "[default: 0]")
    parser.add_argument("--psnr-from", choices=("samples", "grids"), default="samples",
                        help="tiles of the blog's PSNR: the drawn samples, or the run's saved "
                             "epoch grids cut into tiles (the blog's way) [default: samples]")
    parser.add_argument("--data-dir", default=None, help="where the data is, if not where the "
                        "run found it")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write every number "
                        "as JSON to PATH")
    parser.add_argument("--figures", default=None, metavar="DIR", help="also write the mean "
                        "binarised digits of each run as PNG into DIR")
    parser.add_argument("--retrain-judge", action="store_true",
                        help="train the judge again even if it is cached")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow threads "
                        "[default: 1]")
    kept = parser.add_argument_group(
        "quality over training (reproduce/quality.py)",
        "--kept measures every checkpoint a run kept for good (--keep-steps, --keep-every) "
        "and its latest, each over --draws draws of --samples samples (the latest and "
        "--full-steps with --full-samples), with the real data's floor, ceiling or "
        "baseline at the same counts; writes tidy rows (--csv) and eval/* TensorBoard "
        "scalars into each run's log folder")
    kept.add_argument("--kept", action="store_true", help="measure the kept checkpoints")
    kept.add_argument("--draws", type=int, default=5, help="sample draws per checkpoint "
                      "[default: 5]")
    kept.add_argument("--full-samples", type=int, default=DEFAULT_SAMPLES, metavar="N",
                      help="samples a draw at the latest checkpoint and --full-steps "
                      "[default: %(default)s]")
    kept.add_argument("--full-steps", type=int, nargs="*", default=(), metavar="STEP",
                      help="kept steps measured with --full-samples (the blog's shown points)")
    kept.add_argument("--csv", default=None, metavar="PATH", help="write the rows to PATH")
    kept.add_argument("--no-tensorboard", action="store_true",
                      help="do not write eval/* scalars into the runs' log folders")
    args = parser.parse_args(argv)
    if args.samples < 2:
        parser.error("--samples must be >= 2")
    if args.threads < 0:
        parser.error("--threads must be >= 0")
    if args.kept:
        return kept_main(parser, args)
    judges, results = {}, []
    try:
        for path in args.runs:
            results.append(evaluate_run(path, judges, args.samples, args.seed, args.data_dir,
                                        args.threads, args.psnr_from, args.retrain_judge))
        if args.figures:
            save_mean_images(results, args.figures)
        if args.json:
            utils.write_json(args.json, _json_safe(dict(
                command="%s %s" % (PROG, " ".join(sys.argv[1:] if argv is None else argv)),
                samples=args.samples, seed=args.seed, runs=results)))
    except (GanReproError, OSError) as e:
        return report(PROG, e)
    finally:
        for judge, _, _, _ in judges.values():
            judge.close()
    for r in results:
        print("%s: %s, step %d (%.2f epochs), %s" % (_label(r), r["run"], r["step"],
                                                    r["epochs_done"], r["checkpoint"]))
    print(table(results))
    if args.json:
        print("wrote %s" % args.json)
    return 0


def kept_main(parser, args):
    """`--kept`: every kept checkpoint of each run over draws (reproduce/quality.py)."""
    from reproduce import quality
    if args.draws < 2:
        parser.error("--draws must be >= 2 (the spread over draws is the evaluation's noise)")
    if args.full_samples < 2:
        parser.error("--full-samples must be >= 2")
    if args.samples == DEFAULT_SAMPLES:
        args.samples = 2000
    contexts, rows = {}, []
    try:
        for path in args.runs:
            rows += quality.evaluate_kept(path, contexts, args.draws, args.samples,
                                          args.full_samples, tuple(args.full_steps),
                                          args.data_dir, args.threads,
                                          not args.no_tensorboard)
        if args.csv:
            quality.write_csv(args.csv, rows)
    except (GanReproError, OSError) as e:
        return report(PROG, e)
    finally:
        for ctx in contexts.values():
            ctx.close()
    print(quality.summary(rows))
    if args.csv:
        print("wrote %s" % args.csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
