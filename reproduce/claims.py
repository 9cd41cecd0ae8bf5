"""The blogs' claims as data, and one function that decides them over seeds against the
evaluation's own noise. No TensorFlow: the results page (reproduce/render.py) calls it.

A claim compares a measure (reproduce/quality.py's names) of one side with another:

- "pair": side a against side b, seed by seed (model against model, step against step,
  or one code's measure against another's in the same run);
- "reach": side a against the real data's value measured beside it (same draws, same
  sample count): the claim holds for a seed whose value is as good as the real one or
  differs from it by less than the noise;
- "beat": side a against the baseline or floor measured beside it (e.g. CycleGAN against
  the identity translation): a seed counts only if a is better beyond the noise;
- "threshold": side a against a constant stated with the claim, calibrated against a
  stated reference (`note`).

The noise. Every value is measured over several sample draws (quality.py); a side's value
for a seed is the mean over its draws, and the noise of a seed's difference is twice
sqrt(sd_a^2 + sd_b^2), with sd the sample standard deviation over draws (of a single
draw's value: how much measuring again moves it). A seed's difference within the noise
counts as no difference ("tie"), beyond it as for or against the claim.

The verdict over seeds: "holds" when every seed (at least two) is for the claim; "does
not hold" when no seed is for it; "undecided" when the seeds disagree, when only one seed
is in, or when the values carry no spread over draws (old single-draw evaluations).
"""

import collections

import numpy as np
import pandas as pd

Side = collections.namedtuple("Side", "recipe key at measure label")
Side.__new__.__defaults__ = (None, None)
Side.__doc__ = """One side of a claim: the rows of `recipe` and model `key` at `at`
(("step", N), ("epochs", N)); `measure` overrides the claim's; `label` names it. `recipe`
may be a tuple, in order of preference: the claim is decided from the first recipe in
which every side has rows (e.g. a rerun with sample draws before an older single-draw
one)."""

Claim = collections.namedtuple("Claim", "id blog text source measure better kind a b "
                                        "threshold note")
Claim.__new__.__defaults__ = (None, None, "")
Claim.__doc__ = """A blog's claim: `id`; `blog` (the card key whose blog makes it); `text`
(the claim, in words); `source` (where the claim comes from); `measure`; `better`
("lower" or "higher"); `kind` ("pair", "reach", "beat", "threshold"); sides `a`, `b`;
`threshold` (for "threshold") and `note` (what calibrates it, or a caveat)."""

MEASURE_LABELS = {
    "classifier_fid": "classifier FID",
    "classifier_score": "classifier score",
    "confident_share": "legible share (judge p >= 0.9)",
    "label_accuracy": "label accuracy",
    "min_class_diversity_ratio": "least varied digit's diversity / real",
    "class_diversity_ratio_7": "digit 7's diversity / real",
    "c1_matching": "c1 matched to digits",
    "code1_slant_rho": "|rank corr.| code 1 vs slant",
    "code2_ink_rho": "|rank corr.| code 2 vs ink",
    "psnr_ab": "PSNR A->B (dB)",
    "psnr_ba": "PSNR B->A (dB)",
    "cycle_l1_a": "cycle L1 A->B->A",
    "domain_b_share_ab": "A->B judged B (domain judge)",
    "domain_a_share_ba": "B->A judged A (domain judge)",
    "pca_fd": "pixel-PCA FD",
    "blog_psnr_9": "blog PSNR, digit 9 (dB)",
    "loss_balance": "g_loss - d_loss, last 500 steps",
}

_IN = "the spec (MODELS.md)"
# DRAGAN against GAN: the blog_seeds reruns (kept checkpoints, 5 sample draws) where they
# are in, else the dragan_vs_gan_mnist runs (one draw each, kept as JSON).
_DRAGAN_RECIPES = (("dragan", "dragan_vs_gan_mnist"), ("gan", "dragan_vs_gan_mnist"))
_ISSUE = "issue 31 (the blog texts)"


def _s(recipe, key, at, measure=None, label=None):
    return Side(recipe, key, at, measure, label)


CLAIMS = [
    Claim("dcgan_digits_50", "dcgan", "DCGAN draws legible digits at 50 epochs", _ISSUE,
          "confident_share", "higher", "threshold",
          _s("dcgan", "dcgan", ("epochs", 50), label="50 epochs"), threshold=0.5,
          note="threshold: half the samples legible (real training digits: about 0.98)"),
    Claim("dcgan_100_vs_50", "dcgan", "100 epochs is clearly better than 50", _ISSUE,
          "classifier_fid", "lower", "pair",
          _s("dcgan", "dcgan", ("epochs", 100), label="100 epochs"),
          _s("dcgan", "dcgan", ("epochs", 50), label="50 epochs")),
    Claim("wgan_gp_vs_wgan_4000", "wgan_gp", "WGAN-GP beats WGAN at the same 4,000 generator "
          "iterations", _IN, "classifier_fid", "lower", "pair",
          _s("wgan_gp", "wgan_gp", ("step", 4000), label="WGAN-GP 4,000"),
          _s("wgan", "wgan", ("step", 4000), label="WGAN 4,000")),
    Claim("wgan_gp_vs_wgan_own", "wgan_gp", "WGAN-GP at 10,000 iterations beats WGAN at its "
          "full 4,000", _IN, "classifier_fid", "lower", "pair",
          _s("wgan_gp", "wgan_gp", ("step", 10000), label="WGAN-GP 10,000"),
          _s("wgan", "wgan", ("step", 4000), label="WGAN 4,000")),
    Claim("cgan_label", "cgan", "CGAN draws the digit it is asked for, as reliably as the "
          "judge reads real digits", _IN, "label_accuracy", "higher", "reach",
          _s("cgan", "cgan", ("step", 20000), label="CGAN 20,000")),
    Claim("cgan_varied", "cgan", "CGAN's every digit is varied: the least varied digit has at "
          "least half the diversity of real ones", _IN, "min_class_diversity_ratio", "higher",
          "threshold", _s("cgan", "cgan", ("step", 20000), label="CGAN 20,000"),
          threshold=0.5, note="diversity: mean RMS distance between samples asked for one "
          "digit, over the same for real test digits (1 = as varied as real)"),
    Claim("acgan_label", "acgan", "ACGAN draws the digit it is asked for, as reliably as the "
          "judge reads real digits", _IN, "label_accuracy", "higher", "reach",
          _s("acgan", "acgan", ("step", 14000), label="ACGAN 14,000")),
    Claim("acgan_varied", "acgan", "ACGAN's every digit is varied: the least varied digit "
          "has at least half the diversity of real ones", _IN, "min_class_diversity_ratio",
          "higher", "threshold", _s("acgan", "acgan", ("step", 14000), label="ACGAN 14,000"),
          threshold=0.5, note="as for CGAN"),
    Claim("acgan_seven", "acgan", "ACGAN's 7s are varied (at least half as varied as real "
          "7s)", "issue 31 (the published grid)", "class_diversity_ratio_7", "higher",
          "threshold", _s("acgan", "acgan", ("step", 14000), label="ACGAN 14,000"),
          threshold=0.5, note="as for CGAN"),
    Claim("infogan_c1_digits", "infogan", "InfoGAN's categorical code picks the digit "
          "(matched one-to-one) as reliably as the judge reads real digits", _IN,
          "c1_matching", "higher", "reach",
          _s("infogan", "infogan", ("step", 16000), label="InfoGAN 16,000"),
          note="real: the judge's accuracy on real test digits"),
    Claim("infogan_code1_slant", "infogan", "code 1 changes the slant (more than code 2 "
          "does)", _ISSUE, "code1_slant_rho", "higher", "pair",
          _s("infogan", "infogan", ("step", 16000), "code1_slant_rho", "code 1"),
          _s("infogan", "infogan", ("step", 16000), "code2_slant_rho", "code 2")),
    Claim("infogan_code2_width", "infogan", "code 2 changes the stroke width (more than code "
          "1 does)", _ISSUE, "code2_ink_rho", "higher", "pair",
          _s("infogan", "infogan", ("step", 16000), "code2_ink_rho", "code 2"),
          _s("infogan", "infogan", ("step", 16000), "code1_ink_rho", "code 1")),
    Claim("cyclegan_control", "cyclegan", "on a pair whose truth is learnable (B = A "
          "hue-rotated by 120 degrees), the translation beats the identity", "issue 31",
          "psnr_ab", "higher", "beat",
          _s("cyclegan_control", "cyclegan", ("epochs", 10), label="control, 10 epochs")),
    Claim("cyclegan_shiny", "cyclegan", "regular -> shiny: the translation beats the "
          "identity against the true shiny sprite", "the page's former headline",
          "psnr_ab", "higher", "beat",
          _s("cyclegan", "cyclegan", ("epochs", 10), label="regular->shiny, 10 epochs"),
          note="shiny palettes differ per species: no domain-wide mapping may exist"),
    Claim("cyclegan_judged_shiny", "cyclegan", "regular -> shiny: translated sprites are "
          "judged shiny (more often than the untranslated regular sprites are)", "issue 31",
          "domain_b_share_ab", "higher", "beat",
          _s("cyclegan", "cyclegan", ("epochs", 10), label="regular->shiny, 10 epochs"),
          note="judge: logistic regression on a sprite's colour histogram, trained on real "
          "regular and shiny sprites of three quarters of the species and measured on the "
          "others' (reproduce/domain_judge.py); baseline (the floor): the untranslated regular "
          "sprites judged shiny (about 0.24 at 64x64); ceiling: real held-out shiny sprites "
          "judged shiny (about 0.63; the judge's accuracy on held-out real sprites about "
          "0.69, since shiny palettes differ per species)"),
    Claim("cyclegan_cycle", "cyclegan", "reconstructions come back: A -> B -> A is closer "
          "to A than the identity baseline B is to A", _IN, "cycle_l1_a", "lower", "threshold",
          _s("cyclegan", "cyclegan", ("epochs", 10), label="regular->shiny, 10 epochs"),
          threshold="l1_ab", note="threshold: the identity baseline's L1 (|A - B|)"),
    Claim("pokemon_100_vs_10", "dcgan_pokemon", "the sprites improve from 10 to the blog's "
          "100 epochs", _ISSUE, "pca_fd", "lower", "pair",
          _s("dcgan_pokemon", "dcgan_pokemon", ("epochs", 100), label="100 epochs"),
          _s("dcgan_pokemon", "dcgan_pokemon", ("epochs", 10), label="10 epochs")),
    Claim("pokemon_end_vs_100", "dcgan_pokemon", "training on (to 1,500 epochs) improves on "
          "the blog's 100", _ISSUE, "pca_fd", "lower", "pair",
          _s("dcgan_pokemon", "dcgan_pokemon", ("epochs", 1500), label="1,500 epochs"),
          _s("dcgan_pokemon", "dcgan_pokemon", ("epochs", 100), label="100 epochs")),
    Claim("dragan_fid_6ep", "dragan", "DRAGAN's samples are closer to MNIST than GAN's "
          "(6 epochs)", "the page's DRAGAN claims", "classifier_fid", "lower", "pair",
          _s(_DRAGAN_RECIPES[0], "dragan", ("epochs", 6), label="DRAGAN"),
          _s(_DRAGAN_RECIPES[1], "gan", ("epochs", 6), label="GAN"),
          note="both trained on all 70,000 MNIST images (the blog's loader), so the FID is "
          "against test images they saw; the floor beside it is recomputed for that case"),
    Claim("dragan_score_6ep", "dragan", "DRAGAN's classifier score is higher than GAN's "
          "(6 epochs)", "the page's DRAGAN claims", "classifier_score", "higher", "pair",
          _s(_DRAGAN_RECIPES[0], "dragan", ("epochs", 6), label="DRAGAN"),
          _s(_DRAGAN_RECIPES[1], "gan", ("epochs", 6), label="GAN")),
    Claim("dragan_psnr9_6ep", "dragan", "DRAGAN's mean 9 is closer to the real mean 9 (the "
          "blog's PSNR, 6 epochs)", _IN, "blog_psnr_9", "higher", "pair",
          _s(_DRAGAN_RECIPES[0], "dragan", ("epochs", 6), label="DRAGAN"),
          _s(_DRAGAN_RECIPES[1], "gan", ("epochs", 6), label="GAN")),
    Claim("dragan_stable", "dragan", "DRAGAN trains more stably: its D does not pull ahead "
          "of its G (smaller g_loss - d_loss over the last 500 steps)",
          "the DRAGAN paper's claim, on the page", "loss_balance", "lower", "pair",
          _s(_DRAGAN_RECIPES[0], "dragan", ("epochs", 6), label="DRAGAN"),
          _s(_DRAGAN_RECIPES[1], "gan", ("epochs", 6), label="GAN"),
          note="from the losses TensorBoard logged every step; its noise is the spread "
          "between five blocks of 100 consecutive steps (reproduce/collect.py), not between "
          "sample draws"),
]


# ---- derived measures ----------------------------------------------------------------

def with_derived(measures):
    """`measures` with the measures claims use that combine others: the least varied
    digit's diversity over the real one's (min_class_diversity_ratio) and digit 7's
    (class_diversity_ratio_7), per run, step and draw."""
    m = measures
    div = m[m.measure.str.startswith("class_diversity_")]
    if div.empty:
        return m
    keys = ["recipe", "key", "seed", "step", "draw", "measure"]
    gen = div[div.model != "real"].set_index(keys)["value"]
    real = div[div.model == "real"].set_index(keys)["value"]
    ratio = (gen / real.reindex(gen.index)).dropna().rename("value").reset_index()
    ratio["digit"] = ratio.measure.str.rsplit("_", n=1).str[-1]
    base = div[div.model != "real"].drop_duplicates(["recipe", "key", "seed", "step", "draw"])
    base = base.drop(columns=["measure", "value", "reference"])
    least = ratio.groupby(["recipe", "key", "seed", "step", "draw"]).value.min().reset_index()
    seven = ratio[ratio.digit == "7"].drop(columns=["measure", "digit"])
    rows = []
    for name, frame in (("min_class_diversity_ratio", least), ("class_diversity_ratio_7",
                                                                 seven)):
        frame = frame.merge(base, on=["recipe", "key", "seed", "step", "draw"])
        frame["measure"], frame["reference"] = name, ""
        rows.append(frame)
    return pd.concat([m] + rows, ignore_index=True)


# ---- deciding -------------------------------------------------------------------------

def _recipes(side):
    return side.recipe if isinstance(side.recipe, tuple) else (side.recipe,)


def _preferred(m, c):
    """Claim `c` with its sides' recipes narrowed to the first one, in order of
    preference, in which every side has rows of its measure (else the first)."""
    sides = [s for s in (c.a, c.b) if s is not None]
    options = _recipes(c.a)
    for i in range(len(options)):
        chosen = [s._replace(recipe=_recipes(s)[min(i, len(_recipes(s)) - 1)])
                  for s in sides]
        if all(not _select(m, s, c.measure).empty for s in chosen):
            break
    else:
        chosen = [s._replace(recipe=_recipes(s)[0]) for s in sides]
    return c._replace(a=chosen[0], b=chosen[1] if len(chosen) > 1 else None)


def _select(m, side, measure, real=False):
    rows = m[(m.recipe == side.recipe) & (m.key == side.key)
             & (m.measure == (side.measure or measure))
             & ((m.model == "real") if real else (m.model != "real"))]
    what, value = side.at
    if what == "step":
        rows = rows[rows.step == value]
    else:
        rows = rows[np.isclose(rows.epochs.astype(float), float(value))]
    return rows


def _per_seed(rows):
    """Per seed: the mean over draws, the sd over draws (NaN with one draw), draws."""
    g = rows.groupby("seed").value
    return pd.DataFrame(dict(mean=g.mean(), sd=g.std(ddof=1), draws=g.count()))


def decide(measures, claims=CLAIMS):
    """Every claim's verdict from the tidy `measures` (a DataFrame with the columns of
    quality.FIELDS plus recipe): a list of dicts (claim fields, the per-seed table, the
    means and sample spreads over seeds, the noise, the seeds for / against / tied, the
    verdict and why)."""
    columns = ["recipe", "run", "model", "key", "seed", "step", "epochs", "measure", "draw",
               "value", "samples", "reference"]
    m = with_derived(measures.reindex(columns=list(dict.fromkeys(columns + list(
        measures.columns)))).astype({"measure": str}) if not measures.empty else
        pd.DataFrame({c: pd.Series(dtype=object) for c in columns}))
    out = []
    for claim in claims:
        c = _preferred(m, claim)
        older = c.a.recipe != _recipes(claim.a)[0]      # decided from a fallback recipe
        a = _per_seed(_select(m, c.a, c.measure))
        if c.kind == "pair":
            b = _per_seed(_select(m, c.b, c.measure))
        elif c.kind in ("reach", "beat"):
            b = _per_seed(_select(m, c.a, c.measure, real=True))
        elif isinstance(c.threshold, str):       # the baseline's value of another measure
            b = _per_seed(_select(m, c.a._replace(measure=c.threshold), c.measure, real=True))
        else:
            b = pd.DataFrame(dict(mean=float(c.threshold), sd=0.0, draws=1), index=a.index)
        both = a.add_suffix("_a").join(b.add_suffix("_b"), how="inner")
        sign = 1.0 if c.better == "higher" else -1.0
        both["diff"] = sign * (both.mean_a - both.mean_b)      # > 0: as the claim says
        both["noise"] = 2.0 * np.sqrt(both.sd_a.fillna(np.nan) ** 2
                                      + both.sd_b.fillna(0.0) ** 2)
        if c.kind == "threshold" and not isinstance(c.threshold, str):
            both["noise"] = 2.0 * both.sd_a
        tol = both.noise.fillna(0.0)
        if c.kind == "reach":
            both["outcome"] = np.where(both["diff"] >= -tol, "for", "against")
        else:
            both["outcome"] = np.where(both["diff"] > tol, "for",
                                       np.where(both["diff"] < -tol, "against", "tie"))
        verdict, why = _verdict(both, c.kind)
        out.append(dict(
            c._asdict(), a_label=(c.a.label or "") + (" (%s runs)" % c.a.recipe if older else ""),
            b_label=_b_label(c),
            measure_label=MEASURE_LABELS.get(c.measure, c.measure),
            seeds=int(len(both)), per_seed=both.reset_index().to_dict("records"),
            a_mean=_mean(both.mean_a), a_sd=_sd(both.mean_a), b_mean=_mean(both.mean_b),
            b_sd=_sd(both.mean_b), diff_mean=_mean(both["diff"]), diff_sd=_sd(both["diff"]),
            noise=_mean(both.noise), draws=int(both.draws_a.min()) if len(both) else 0,
            n_for=int((both.outcome == "for").sum()),
            n_against=int((both.outcome == "against").sum()),
            n_tie=int((both.outcome == "tie").sum()), verdict=verdict, why=why))
    return out


def _b_label(c):
    if c.kind == "pair":
        return c.b.label
    if c.kind == "reach":
        return "real data"
    if c.kind == "beat":
        return "baseline"
    return "threshold %s" % (c.threshold if isinstance(c.threshold, str) else
                             "%g" % c.threshold)


def _verdict(both, kind="pair"):
    n = len(both)
    if n == 0:
        return "undecided", "no run measured yet"
    if both.noise.isna().any():
        return "undecided", "no spread over sample draws (single-draw evaluation)"
    if n < 2:
        return "undecided", "one seed"
    n_for = int((both.outcome == "for").sum())
    if n_for == n:
        return "holds", "every seed, beyond the noise"
    if n_for == 0:
        return "does not hold", ("every seed short of the real value by more than the noise"
                                 if kind == "reach" else
                                 "no seed beyond the noise in the claimed direction")
    return "undecided", "the seeds disagree (%d of %d for)" % (n_for, n)


def _mean(s):
    return float(s.mean()) if len(s) else float("nan")


def _sd(s):
    return float(s.std(ddof=1)) if len(s) > 1 else float("nan")
