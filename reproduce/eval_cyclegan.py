"""Measure a trained CycleGAN against the true pairs: python -m reproduce.eval_cyclegan.

The two domains hold the same Pokemon under the same file names (regular/NAME.png and
shiny/NAME.png), so the translation has a ground truth. For every file name present in
both folders this restores the latest checkpoint of the run the flags name (the same
flags as `scripts/run_cyclegan.py`), translates A/NAME with G_AB and compares it with
B/NAME, and B/NAME with G_BA against A/NAME, at the model's image size and with the
training preprocessing (alpha on white, padded/resized).

Figures, per direction, on images in [0, 1] (the generator's tanh output mapped by
(y + 1) / 2, unquantised):
  PSNR  = 10 * log10(1 / MSE) with peak 1 and MSE the mean squared error over every
          pixel of every image (the PSNR of the set's mean MSE). The mean of per-image
          PSNRs is not used: a pair of identical images has PSNR inf (the sprites have a
          few byte-identical regular/shiny pairs), which would make the baseline's mean
          inf. It is inf only when every pair is identical. The JSON also has the median
          of the per-image PSNRs;
  L1    = mean absolute difference over every pixel of every image (= the mean of the
          per-image L1s: all images have one size);
next to the identity baseline (the untranslated image against its pair). The model is
useful only where it beats that baseline; "better on" counts the images whose model
MSE (PSNR) / L1 is lower than the baseline's.

Evaluation uses every shared name, training images included: training is unpaired, so
the pairs themselves are never shown to the model.

Exit status: 0, 1 (no checkpoint / bad data), 2 (bad flags).
"""

import math
import sys

import numpy as np

import utils
from errors import GanReproError, report
from models.config import build_parser
from data import load_domain
from models.cyclegan import CycleGAN, CycleGANConfig

PROG = "python -m reproduce.eval_cyclegan"
DIRECTIONS = (("AB", "A -> B"), ("BA", "B -> A"))


def image_errors(predicted, target):
    """Per-image (MSE, L1) of two [N, H, W, C] arrays in [0, 1]."""
    diff = np.asarray(predicted, np.float64) - np.asarray(target, np.float64)
    axes = tuple(range(1, diff.ndim))
    return np.mean(diff ** 2, axis=axes), np.mean(np.abs(diff), axis=axes)


def psnr(mse, peak=1.0):
    """10 * log10(peak^2 / mse), elementwise; inf where mse == 0."""
    mse = np.asarray(mse, np.float64)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(peak ** 2 / mse)


def compare(translated, source, target):
    """Scores of a translation and of the identity baseline against the true pairs.

    Args:
      translated: the model's images [N, H, W, C] in [0, 1].
      source: the untranslated images (the baseline), same shape.
      target: the true pairs, same shape.
    Returns:
      dict n; model_psnr, baseline_psnr (PSNR of the mean MSE, peak 1); model_l1,
      baseline_l1 (mean L1); model_median_psnr, baseline_median_psnr (median of the
      per-image PSNRs); identical_pairs (source == target: per-image baseline PSNR inf);
      better_psnr / better_l1 (images where the model's MSE / L1 is lower than the
      baseline's).
    """
    model_mse, model_l1 = image_errors(translated, target)
    base_mse, base_l1 = image_errors(source, target)
    return dict(n=int(len(target)),
                model_psnr=float(psnr(np.mean(model_mse))),
                baseline_psnr=float(psnr(np.mean(base_mse))),
                model_l1=float(np.mean(model_l1)), baseline_l1=float(np.mean(base_l1)),
                model_median_psnr=float(np.median(psnr(model_mse))),
                baseline_median_psnr=float(np.median(psnr(base_mse))),
                identical_pairs=int(np.sum(base_mse == 0)),
                better_psnr=int(np.sum(model_mse < base_mse)),
                better_l1=int(np.sum(model_l1 < base_l1)))


def evaluate(model, batch_size=64):
    """Scores of a restored model on every file name both of its folders hold.

    Returns:
      dict names (count), folders, and per direction ("AB", "BA") the dict of `compare`.
    """
    cfg = model.config
    folder_a, folder_b = model.dataset.source, model.dataset.source_b
    names_a, images_a = load_domain(folder_a, cfg.image_size, cfg.channels, cfg.image_fit)
    names_b, images_b = load_domain(folder_b, cfg.image_size, cfg.channels, cfg.image_fit)
    index_b = {name: i for i, name in enumerate(names_b)}
    shared = [(i, index_b[name]) for i, name in enumerate(names_a) if name in index_b]
    if not shared:
        raise GanReproError("no file name is in both %s and %s: the evaluation needs the "
                            "same names in both folders" % (folder_a, folder_b))
    ia, ib = (np.array(x) for x in zip(*shared))
    a, b = images_a[ia], images_b[ib]
    return dict(names=len(shared), folder_a=folder_a, folder_b=folder_b,
                AB=compare(model.translate(a, "AB", batch_size), a, b),
                BA=compare(model.translate(b, "BA", batch_size), b, a))


def _number(value, digits):
    return "inf" if math.isinf(value) else "%.*f" % (digits, value)


def table(results):
    """The readable table of `evaluate`'s results."""
    lines = ["%-8s %10s %14s %9s %12s   %s" % ("", "PSNR (dB)", "baseline PSNR", "L1",
                                                 "baseline L1", "model better on (PSNR / L1)")]
    for key, label in DIRECTIONS:
        r = results[key]
        lines.append("%-8s %10s %14s %9s %12s   %d / %d and %d / %d" % (
            label, _number(r["model_psnr"], 2), _number(r["baseline_psnr"], 2),
            _number(r["model_l1"], 4), _number(r["baseline_l1"], 4),
            r["better_psnr"], r["n"], r["better_l1"], r["n"]))
    return "\n".join(lines)


def verdict(r):
    """One line: does the model beat the identity baseline (PSNR, L1)?"""
    psnr_better = r["model_psnr"] > r["baseline_psnr"]
    l1_better = r["model_l1"] < r["baseline_l1"]
    if psnr_better and l1_better:
        return "the model beats the identity baseline (PSNR and L1)"
    if psnr_better or l1_better:
        return "the model beats the identity baseline on %s only" % (
            "PSNR" if psnr_better else "L1")
    return "the model does not beat the identity baseline"


def _json_safe(obj):
    """inf -> "inf" (JSON has no infinity)."""
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, float) and math.isinf(obj):
        return "inf" if obj > 0 else "-inf"
    return obj


def main(argv=None):
    parser = build_parser(CycleGANConfig, prog=PROG, description=__doc__.strip())
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="also write the results as JSON to PATH")
    parser.add_argument("--eval-batch-size", type=int, default=64, metavar="N",
                        help="images per generator run [default: 64]")
    args = vars(parser.parse_args(argv))
    json_path, eval_batch = args.pop("json"), max(1, args.pop("eval_batch_size"))
    try:
        config = CycleGANConfig.from_dict(args)
        dataset = CycleGAN.load_data(config)
        with CycleGAN(config, dataset) as model:
            checkpoint, step = model.restore_latest()
            results = evaluate(model, eval_batch)
    except (GanReproError, OSError) as e:
        return report(PROG, e)
    results.update(checkpoint=checkpoint, step=step, image_size=config.image_size,
                   psnr_peak=1.0, value_range=[0.0, 1.0])
    print("CycleGAN %s (step %d)\n%d names in both %s (A) and %s (B) (%d identical "
          "pairs), %dx%d; PSNR = 10 log10(1 / MSE) over all images, peak 1 on [0, 1]; "
          "L1 = mean |difference| on [0, 1]; baseline = the untranslated image vs its pair"
          % (checkpoint, step, results["names"], results["folder_a"], results["folder_b"],
             results["AB"]["identical_pairs"], config.image_size, config.image_size))
    print(table(results))
    for key, label in DIRECTIONS:
        print("%s: %s" % (label, verdict(results[key])))
    if json_path:
        utils.write_json(json_path, _json_safe(results))
        print("wrote %s" % json_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
