"""Quality over training: every kept checkpoint of a run measured over repeated sample
draws, as tidy rows and as TensorBoard scalars.

    python -m reproduce.evaluate --kept RUN [RUN ...] [--draws 5] [--samples 2000]
        [--full-samples 10000] [--csv PATH]

For each run (a checkpoint folder) this restores, one after another, every checkpoint
kept for good (`kept/`, see --keep-steps / --keep-every of the training scripts) and the
run's latest one, and measures each `--draws` times, on `--samples` fresh samples a draw
(draw d uses sample seed d): the spread over draws is the evaluation's own noise. The
latest checkpoint and the steps named by --full-steps are measured with --full-samples
samples a draw instead (the per-class FIDs need about 500 samples of a class).

What is measured depends on the model's `evaluations` (models/base.py):

- classifier (MNIST models): classifier_fid (against the test set's judge features),
  classifier_score, kl_uniform (judge's class histogram against uniform),
  confident_share (the share of samples the judge labels with probability >= 0.9: legible
  digits), blog_psnr_mean (the DRAGAN blog's PSNR, mean over digits) and blog_psnr_9
  (its digit 9, the one the blog shows);
- conditional (CGAN, ACGAN): label_accuracy and, per digit k, label_accuracy_k,
  class_diversity_k (mean RMS pixel distance between pairs of 100 samples asked for k)
  and, with enough samples, class_fid_k (against the test images of digit k);
- categorical_code (InfoGAN): c1_matching (the categorical code matched to the judge's
  digits); the continuous codes swept over [-2, 2] code standard deviations for fixed
  noise and digit: code{1,2}_{slant,ink}_rho, the mean over digits of the Spearman rank
  correlation between the code's value and the digit's shear moment (slant) or ink mass
  (stroke width), in absolute value;
- sprites (DCGAN Pokemon): pca_fd and nn_ratio (reproduce/eval_sprites.py);
- pairs (CycleGAN): psnr_ab / psnr_ba and l1_ab / l1_ba against the true pairs, cycle_l1_a
  / cycle_l1_b (A -> B -> A against A), each draw a bootstrap resample of the images;
  domain_b_share_ab / domain_a_share_ba, the share of translated A (B) that the domain
  judge (reproduce/domain_judge.py, trained on the real sprites of the species it does not
  hold out) calls B (A) and finds within the range of real sprites, and
  domain_typical_ab / domain_typical_ba, the share within that range, each draw a
  bootstrap resample of the held-out species' sprites.

Beside each run's rows come the real data's (model "real"), measured over the same draws:
the floor (real training images against the test set: for a run trained on the test set
too, images drawn from its own training pool, test included, and the row says so), the
ceiling (the judge on real test digits; the domain judge on the held-out real sprites:
domain_judge_accuracy, domain_b_share_b, domain_a_share_a, and the real sprites'
share in its range, domain_typical_*) and the baselines (the
identity translation; for the domain shares, the untranslated sprites judged).

Rows (CSV, --csv; one per measure, draw and checkpoint): run, model, key, seed, step,
epochs, measure, draw, value, samples, reference. `samples` is the count a draw measured:
--samples (--full-samples), or a measure's own where it takes another (the sprite
measures: as many samples as the held-out half of the real sprites; the pair measures:
the pairs, or the held-out species' pairs).

TensorBoard: `eval/<measure>` (the mean over draws) at each checkpoint's step, in an
event file `*.eval` of the run's log folder (replaced on every evaluation), so
`tensorboard --logdir` shows quality beside the losses.
"""

import csv
import glob
import os

import numpy as np

import utils
from errors import DataError
from models.checkpoints import kept_checkpoints
from reproduce import metrics

FIELDS = ("run", "model", "key", "seed", "step", "epochs", "measure", "draw", "value",
          "samples", "reference")
NUM_CLASSES = 10
CONFIDENT = 0.9           # a sample the judge labels with at least this probability is legible
CLASS_FID_MIN = 500        # samples of a class below which no class FID is computed
DIVERSITY_PAIRS = 100      # samples of a class whose pairwise distances give its diversity
SWEEP = np.linspace(-2.0, 2.0, 9)   # InfoGAN code values, in code standard deviations
SWEEP_NOISE = 20           # noise vectors per digit and draw in the code sweep
EVENT_SUFFIX = ".eval"


# ---- image statistics -------------------------------------------------------------------

def slant(images):
    """Shear moment per image [n, h, w(, 1)]: sum I (x - cx)(y - cy) / sum I (y - cy)^2,
    i.e. how far x moves per row (positive: the top leans right)."""
    img = np.asarray(images, np.float64).reshape(len(images), images.shape[1], images.shape[2])
    h, w = img.shape[1:]
    yy, xx = np.mgrid[:h, :w]
    mass = img.sum(axis=(1, 2)) + 1e-12
    cy = (img * yy).sum(axis=(1, 2)) / mass
    cx = (img * xx).sum(axis=(1, 2)) / mass
    dy = yy[None] - cy[:, None, None]
    dx = xx[None] - cx[:, None, None]
    return -(img * dx * dy).sum(axis=(1, 2)) / ((img * dy * dy).sum(axis=(1, 2)) + 1e-12)


def ink(images):
    """Ink mass per image: the mean intensity (a thicker stroke has more)."""
    return np.asarray(images, np.float64).reshape(len(images), -1).mean(axis=1)


def spearman(x, y):
    """Spearman's rank correlation of two 1-D arrays (0 where one is constant)."""
    rx = np.argsort(np.argsort(x)).astype(np.float64)
    ry = np.argsort(np.argsort(y)).astype(np.float64)
    rx -= rx.mean()
    ry -= ry.mean()
    denom = np.sqrt((rx * rx).sum() * (ry * ry).sum())
    return float((rx * ry).sum() / denom) if denom > 0 else 0.0


def diversity(images, rng, pairs=DIVERSITY_PAIRS):
    """Mean RMS pixel distance between the distinct pairs of (at most) `pairs` images."""
    images = np.asarray(images, np.float64)
    if len(images) > pairs:
        images = images[rng.choice(len(images), pairs, replace=False)]
    flat = images.reshape(len(images), -1)
    if len(flat) < 2:
        return float("nan")
    sq = (flat ** 2).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * flat @ flat.T, 0.0) / flat.shape[1]
    iu = np.triu_indices(len(flat), 1)
    return float(np.sqrt(d2[iu]).mean())


# ---- the real data's rows ---------------------------------------------------------------

class ClassifierContext:
    """The judge of a data set and its real-data features, shared by the runs measured."""

    def __init__(self, dataset, data_dir, threads, log):
        from reproduce import judge as judge_lib
        import data as data_lib
        if dataset not in judge_lib.TARGETS:
            raise DataError("the classifier metrics have judges for %s only, not %r"
                            % (" and ".join(judge_lib.TARGETS), dataset))
        self.judge = judge_lib.load_judge(dataset, data_dir=data_dir, threads=threads, log=log)
        self.train = data_lib.load_idx_dataset(dataset, data_dir=data_dir, splits=("train",))
        self.test = data_lib.load_idx_dataset(dataset, data_dir=data_dir, splits=("test",))
        self.test_p, self.test_f = self.judge.predict(self.test.images)
        self._floors = {}

    def close(self):
        self.judge.close()

    def test_features_of(self, digit):
        return self.test_f[self.test.labels == digit]

    def floor_rows(self, pool, draws, n):
        """The real data's rows over `draws` draws of `n` images: pool "train" (the
        training split against the test set) or "train+test" (the training pool of a run
        that saw the test set, against that test set)."""
        key = (pool, draws, n)
        if key in self._floors:
            return self._floors[key]
        images, labels = self.train.images, self.train.labels
        reference = "floor: %d real training images against the %d test images" % (
            n, len(self.test.images))
        if pool == "train+test":
            images = np.concatenate([images, self.test.images])
            labels = np.concatenate([labels, self.test.labels])
            reference = ("floor: %d images drawn from the run's training pool (train + test, "
                         "the test set included) against the test set" % n)
        rows = []
        for d in range(draws):
            rng = utils.make_rng(d, "quality-real")
            pick = rng.choice(len(images), min(n, len(images)), replace=False)
            probs, feats = self.judge.predict(images[pick])
            hist = metrics.class_histogram(np.argmax(probs, 1), NUM_CLASSES)
            rows += [("classifier_fid", d, metrics.frechet_distance_of(feats, self.test_f),
                      reference),
                     ("classifier_score", d, metrics.classifier_score(probs),
                      "real training images"),
                     ("kl_uniform", d, metrics.kl_to_uniform(hist), "real training images"),
                     ("confident_share", d, float(np.mean(probs.max(1) >= CONFIDENT)),
                      "real training images")]
            tpick = rng.choice(len(self.test.images), min(n, len(self.test.images)),
                               replace=False)
            tdigits = np.argmax(self.test_p[tpick], 1)
            acc, per = metrics.per_class_accuracy(tdigits, self.test.labels[tpick], NUM_CLASSES)
            rows.append(("label_accuracy", d, acc, "ceiling: the judge on real test digits"))
            for k in range(NUM_CLASSES):
                rows.append(("label_accuracy_%d" % k, d, float(per[k]),
                             "ceiling: the judge on real test digits"))
                of_k = self.test.images[tpick][self.test.labels[tpick] == k]
                rows.append(("class_diversity_%d" % k, d, diversity(of_k, rng),
                             "real test digits"))
                if n // NUM_CLASSES >= CLASS_FID_MIN:
                    train_k = self.train.images[self.train.labels == k]
                    sub = train_k[rng.choice(len(train_k), n // NUM_CLASSES, replace=False)]
                    rows.append(("class_fid_%d" % k, d, metrics.frechet_distance_of(
                        self.judge.predict(sub)[1], self.test_features_of(k)),
                        "floor: real training digits against test digits"))
        self._floors[key] = rows
        return rows


# ---- one checkpoint -----------------------------------------------------------------------

def _draw(model, n, seed):
    from reproduce.evaluate import draw_samples
    return draw_samples(model, n, seed)


def classifier_rows(model, ctx, draws, n):
    """(measure, draw, value) of a restored MNIST model."""
    rows = []
    evaluations = model.evaluations
    for d in range(draws):
        images, requested = _draw(model, n, d)
        probs, feats = ctx.judge.predict(images)
        digits = np.argmax(probs, 1)
        hist = metrics.class_histogram(digits, NUM_CLASSES)
        rows += [("classifier_fid", d, metrics.frechet_distance_of(feats, ctx.test_f)),
                 ("classifier_score", d, metrics.classifier_score(probs)),
                 ("kl_uniform", d, metrics.kl_to_uniform(hist)),
                 ("confident_share", d, float(np.mean(probs.max(1) >= CONFIDENT)))]
        gen = metrics.binarise(metrics.to_uint8(images[..., 0]))
        real = metrics.binarise(metrics.to_uint8(ctx.test.images[..., 0]))
        psnr = metrics.psnr_per_class(metrics.class_mean_images(real, ctx.test.labels, 10),
                                      metrics.class_mean_images(gen, digits, 10), peak=255.0)
        finite = psnr[np.isfinite(psnr)]
        rows.append(("blog_psnr_mean", d, float(finite.mean()) if len(finite) else np.nan))
        rows.append(("blog_psnr_9", d, float(psnr[9])))       # the DRAGAN blog's digit
        if "conditional" in evaluations and requested is not None:
            rng = utils.make_rng(d, "quality-diversity")
            acc, per = metrics.per_class_accuracy(digits, requested, NUM_CLASSES)
            rows.append(("label_accuracy", d, acc))
            for k in range(NUM_CLASSES):
                asked = requested == k
                rows.append(("label_accuracy_%d" % k, d, float(per[k])))
                rows.append(("class_diversity_%d" % k, d, diversity(images[asked], rng)))
                if asked.sum() >= CLASS_FID_MIN:
                    rows.append(("class_fid_%d" % k, d, metrics.frechet_distance_of(
                        feats[asked], ctx.test_features_of(k))))
        if "categorical_code" in evaluations and requested is not None:
            acc, _ = metrics.matching_accuracy(requested, digits, NUM_CLASSES, NUM_CLASSES)
            rows.append(("c1_matching", d, acc))
            rows += code_sweep_rows(model, d)
    return rows


def code_sweep_rows(model, d):
    """InfoGAN's continuous codes swept for fixed noise and digit (draw d's noise)."""
    cfg = model.config
    rng = utils.make_rng(d, "quality-sweep")
    values = SWEEP * cfg.code_std
    k = len(values)
    rhos = {(c, m): [] for c in (1, 2) for m in ("slant", "ink")}
    for digit in range(model.num_labels):
        z = rng.uniform(-1.0, 1.0, (SWEEP_NOISE, cfg.z_dim))
        for code in (1, 2):
            zz = np.repeat(z, k, axis=0)
            swept = np.tile(values, SWEEP_NOISE)[:, None]
            still = np.zeros_like(swept)
            c1, c2 = (swept, still) if code == 1 else (still, swept)
            feed = model._sampler_feed(zz, np.full(len(zz), digit), c1, c2)
            images = np.asarray(model.sess.run(model.sampler, feed))
            for name, stat in (("slant", slant), ("ink", ink)):
                s = stat(images).reshape(SWEEP_NOISE, k)
                rhos[(code, name)].append(np.mean([spearman(values, row) for row in s]))
    return [("code%d_%s_rho" % (c, m), d, float(np.mean(np.abs(v))))
            for (c, m), v in sorted(rhos.items())]


def sprite_rows(model, draws, n=None):
    """(measure, draw, value, samples) of a restored DCGAN Pokemon: each draw is as many
    samples as the held-out half of the real sprites (whatever `n` asks)."""
    from reproduce import eval_sprites
    reference, held_out = eval_sprites.halves(model.dataset.images)
    basis = eval_sprites.pca_basis(reference)
    ref_features = eval_sprites.project(reference, basis)
    floor_nn = float(np.median(eval_sprites.nearest_rms(held_out, reference)))
    rows = []
    for d in range(draws):
        s = _draw(model, len(held_out), d)[0]
        rows.append(("pca_fd", d, metrics.frechet_distance_of(
            eval_sprites.project(s, basis), ref_features), len(s)))
        rows.append(("nn_ratio", d, float(np.median(eval_sprites.nearest_rms(s, reference)))
                     / floor_nn, len(s)))
    return rows


def sprite_reference_rows(model, draws):
    """(measure, draw, value, reference, samples): the held-out half of the real sprites
    against the other half."""
    from reproduce import eval_sprites
    reference, held_out = eval_sprites.halves(model.dataset.images)
    basis = eval_sprites.pca_basis(reference)
    fd = metrics.frechet_distance_of(eval_sprites.project(held_out, basis),
                                     eval_sprites.project(reference, basis))
    floor = "floor: the other half of the real sprites"
    return ([("pca_fd", d, fd, floor, len(held_out)) for d in range(draws)]
            + [("nn_ratio", d, 1.0, floor, len(held_out)) for d in range(draws)])


def _pairs(model):
    """(names, A, B) of the pairs: the file names in both domain folders, in A's order."""
    from data import load_domain
    cfg = model.config
    names_a, a = load_domain(model.dataset.source, cfg.image_size, cfg.channels, cfg.image_fit)
    names_b, b = load_domain(model.dataset.source_b, cfg.image_size, cfg.channels,
                             cfg.image_fit)
    index_b = {name: i for i, name in enumerate(names_b)}
    shared = [(i, index_b[name]) for i, name in enumerate(names_a) if name in index_b]
    if not shared:
        raise DataError("no file name is in both %s and %s: the paired measures need the "
                        "same names in both folders" % (model.dataset.source,
                                                        model.dataset.source_b))
    ia, ib = (np.array(x) for x in zip(*shared))
    return [names_a[i] for i in ia], a[ia], b[ib]


def domain_judge_of(model, contexts=None):
    """(A, B, judge, held-out mask) of the run's true pairs and of the judge of its two
    domains (reproduce/domain_judge.py): loaded and trained once per evaluation and kept
    in `contexts` for every checkpoint and for the real rows."""
    from reproduce import domain_judge
    cfg = model.config
    key = ("domain_judge", os.path.abspath(str(model.dataset.source)),
           os.path.abspath(str(model.dataset.source_b)), cfg.image_size, cfg.channels,
           cfg.image_fit)
    if contexts is not None and key in contexts:
        return contexts[key]
    names, a, b = _pairs(model)
    judge = domain_judge.train(names, a, b)[0]
    found = (a, b, judge, judge.held_out)
    if contexts is not None:
        contexts[key] = found
    return found


def pair_rows(model, draws, contexts=None):
    """(measure, draw, value, samples) of a restored CycleGAN against the true pairs."""
    a, b, judge, test = domain_judge_of(model, contexts)
    ab, ba = model.translate(a, "AB"), model.translate(b, "BA")
    aba, bab = model.translate(ab, "BA"), model.translate(ba, "AB")
    rows = [r + (len(a),) for r in _bootstrap_pairs(draws, a, b, dict(ab=ab, ba=ba, aba=aba,
                                                                     bab=bab))]
    ab_a, ab_b = judge.judged(ab[test])
    ba_a, ba_b = judge.judged(ba[test])
    return rows + _bootstrap_domains(draws, test, dict(
        domain_b_share_ab=ab_b, domain_a_share_ba=ba_a, domain_typical_ab=ab_a | ab_b,
        domain_typical_ba=ba_a | ba_b))


def pair_reference_rows(model, draws, contexts=None):
    """(measure, draw, value, reference, samples) of the real pairs: the identity baseline
    and the domain judge's ceiling."""
    a, b, judge, test = domain_judge_of(model, contexts)
    identity = "baseline: the identity (the untranslated image)"
    rows = [(m, d, v, identity, len(a)) for m, d, v in
            _bootstrap_pairs(draws, a, b, dict(ab=a, ba=b, aba=a, bab=b))]
    a_as_a, a_as_b = judge.judged(a[test])
    b_as_a, b_as_b = judge.judged(b[test])
    ceiling = "ceiling: the domain judge on held-out real sprites"
    for measure, called, reference in (
            ("domain_b_share_ab", a_as_b, "baseline: the identity (untranslated A judged B "
                                          "by the domain judge)"),
            ("domain_a_share_ba", b_as_a, "baseline: the identity (untranslated B judged A "
                                          "by the domain judge)"),
            ("domain_b_share_b", b_as_b, ceiling + " (real B judged B)"),
            ("domain_a_share_a", a_as_a, ceiling + " (real A judged A)"),
            ("domain_typical_ab", b_as_a | b_as_b, ceiling + " (real B in its range)"),
            ("domain_typical_ba", a_as_a | a_as_b, ceiling + " (real A in its range)"),
            ("domain_judge_accuracy", np.stack([b_as_b, a_as_a], axis=1), ceiling)):
        rows += [(m, d, v, reference, k) for m, d, v, k in
                 _bootstrap_domains(draws, test, {measure: called})]
    return rows


def _bootstrap_domains(draws, test, calls):
    """(measure, draw, share, samples) per draw: each boolean array of `calls` (one entry,
    or one row, per held-out pair) averaged over a bootstrap resample of the held-out
    pairs (the same resample for every measure of a draw)."""
    rows, n = [], int(np.sum(test))
    for d in range(draws):
        pick = utils.make_rng(d, "quality-domains").choice(n, n, replace=True)
        for measure in sorted(calls):
            rows.append((measure, d, float(np.mean(calls[measure][pick])), n))
    return rows


def _bootstrap_pairs(draws, a, b, out):
    rows = []
    for d in range(draws):
        pick = utils.make_rng(d, "quality-pairs").choice(len(a), len(a), replace=True)
        for name, got, truth in (("ab", out["ab"], b), ("ba", out["ba"], a)):
            diff = got[pick] - truth[pick]
            mse = float(np.mean(diff ** 2))
            rows.append(("psnr_" + name, d, 10.0 * np.log10(1.0 / mse) if mse > 0 else np.inf))
            rows.append(("l1_" + name, d, float(np.mean(np.abs(diff)))))
        rows.append(("cycle_l1_a", d, float(np.mean(np.abs(out["aba"][pick] - a[pick])))))
        rows.append(("cycle_l1_b", d, float(np.mean(np.abs(out["bab"][pick] - b[pick])))))
    return rows


# ---- a run ---------------------------------------------------------------------------------

def measure_rows(model, contexts, draws, n, data_dir, threads, log, real=False):
    """(measure, draw, value) of a restored model at its current checkpoint; `real`: the
    (measure, draw, value, reference) of the real data it is compared with (the floor of
    a run trained on the test set too is drawn from its own pool, test included). A row
    may end in its own sample count where that is not `n` (e.g. the sprite measures draw
    as many samples as there are held-out real sprites)."""
    ev = model.evaluations
    if "pairs" in ev:
        return (pair_reference_rows if real else pair_rows)(model, draws, contexts)
    if "sprites" in ev:
        return sprite_reference_rows(model, draws) if real else sprite_rows(model, draws)
    key = model.config.dataset
    if key not in contexts:
        contexts[key] = ClassifierContext(key, data_dir or model.config.data_dir, threads, log)
    if real:
        pool = "train+test" if "test" in (model.config.idx_splits or "") else "train"
        return contexts[key].floor_rows(pool, draws, n)
    return classifier_rows(model, contexts[key], draws, n)


def evaluate_kept(path, contexts, draws=5, samples=2000, full_samples=10000, full_steps=(),
                  data_dir=None, threads=1, tensorboard=True, log=print):
    """Tidy rows (dicts of FIELDS) of every kept checkpoint of run `path` and its latest,
    with the real data's rows at the same sample counts; writes `eval/*` scalars into the
    run's log folder (`tensorboard`)."""
    from reproduce.evaluate import open_run, run_folder
    model, latest, last_step = open_run(path, data_dir, threads)
    rows = []
    try:
        folder = run_folder(path)
        checkpoints = dict(kept_checkpoints(folder))
        checkpoints[last_step] = latest
        cfg = model.config
        base = dict(run=os.path.abspath(folder), model=model.model_name,
                    key=type(model).registry_key(), seed=cfg.seed)
        means = {}
        for step in sorted(checkpoints):
            n = full_samples if step == last_step or step in full_steps else samples
            model.saver.restore(model.sess, checkpoints[step])
            log("%s: step %d, %d draws of %d samples" % (model.model_name, step, draws, n))
            found = measure_rows(model, contexts, draws, n, data_dir, threads, log)
            for measure, d, value, *count in found:
                rows.append(dict(base, step=step, epochs=round(step / model.steps_per_epoch, 3),
                                 measure=measure, draw=d, value=float(value),
                                 samples=count[0] if count else n, reference=""))
            for measure in sorted({r[0] for r in found}):
                values = [r[2] for r in found if r[0] == measure]
                means.setdefault(step, {})[measure] = float(np.mean(values))
            for measure, d, value, ref, *count in measure_rows(
                    model, contexts, draws, n, data_dir, threads, log, real=True):
                rows.append(dict(base, model="real", step=step, epochs="", measure=measure,
                                 draw=d, value=float(value), samples=count[0] if count else n,
                                 reference=ref))
        if tensorboard:
            write_scalars(model.log_folder, means, {
                step: os.path.getmtime(prefix + ".index") for step, prefix in checkpoints.items()
                if os.path.exists(prefix + ".index")})
    finally:
        model.close()
    return rows


def write_scalars(log_folder, means, wall_times=None):
    """`eval/<measure>` scalars {step: {measure: value}} into an `*.eval` event file of
    `log_folder`, replacing the one an earlier evaluation wrote."""
    from tf_compat import tf
    os.makedirs(log_folder, exist_ok=True)
    for old in glob.glob(os.path.join(log_folder, "events.out.tfevents.*" + EVENT_SUFFIX)):
        os.remove(old)
    writer = tf.summary.FileWriter(log_folder, filename_suffix=EVENT_SUFFIX)
    try:
        for step in sorted(means):
            summary = tf.Summary(value=[tf.Summary.Value(tag="eval/" + m, simple_value=v)
                                        for m, v in sorted(means[step].items())
                                        if np.isfinite(v)])
            event = tf.Event(step=step, summary=summary)
            if wall_times and step in wall_times:
                event.wall_time = wall_times[step]    # when the checkpoint was written
            writer.add_event(event)
    finally:
        writer.close()


def read_scalars(log_folder, tags=None):
    """{tag: (steps, values)} of a run's TensorBoard event files (a resumed run's later
    files win for a step written twice); `tags` None: every scalar."""
    from tf_compat import tf
    found = {}
    verbosity = tf.logging.get_verbosity()
    tf.logging.set_verbosity(tf.logging.ERROR)      # summary_iterator's deprecation notice
    for path in sorted(glob.glob(os.path.join(log_folder, "events.out.tfevents.*")),
                       key=os.path.getmtime):
        try:
            for event in tf.train.summary_iterator(path):
                for value in event.summary.value:
                    if (tags is None or value.tag in tags) and value.HasField("simple_value"):
                        found.setdefault(value.tag, {})[event.step] = value.simple_value
        except (tf.errors.DataLossError, OSError):
            continue            # a file cut short by a crash: keep what was read
    tf.logging.set_verbosity(verbosity)
    return {tag: (np.array(sorted(v)), np.array([v[s] for s in sorted(v)]))
            for tag, v in found.items()}


def write_csv(path, rows):
    utils.ensure_dir(os.path.dirname(os.path.abspath(path)))
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in FIELDS})
    os.replace(tmp, path)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def summary(rows):
    """A readable table: per run and step, each measure's mean ± std over draws, beside
    the real data's."""
    groups = {}
    for r in rows:
        who = "real" if r["model"] == "real" else "%s seed %s" % (r["model"], r["seed"])
        groups.setdefault((r["run"], int(r["step"]), r["measure"], who), []).append(
            float(r["value"]))
    lines, last = [], None
    for (run, step, measure, who), values in sorted(groups.items()):
        if (run, step) != last:
            lines.append("%s, step %d:" % (run, step))
            last = (run, step)
        lines.append("  %-22s %-18s %.4f ± %.4f (%d draws)" % (
            measure, who, np.mean(values), metrics.sample_std(values), len(values)))
    return "\n".join(lines)
