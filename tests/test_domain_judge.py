"""The CycleGAN domain judge (reproduce/domain_judge.py) and its rows in quality.py."""

import numpy as np
import pytest

from errors import DataError
from reproduce import domain_judge, quality
from reproduce.control_pair import hue_matrix


def _sprites(species_count=120, forms=2, size=12, seed=0):
    """(names, A, B): white 12x12 sprites, each species a block in its own warm palette
    (red high, blue low) in two forms; B is A hue-rotated by 120 degrees (the control)."""
    rng = np.random.default_rng(seed)
    names, images = [], []
    for s in range(species_count):
        palette = np.stack([rng.uniform(0.6, 0.9, 3), rng.uniform(0.1, 0.6, 3),
                            rng.uniform(0.0, 0.3, 3)], axis=1)        # 3 colours of RGB
        for f in range(forms):
            image = np.ones((size, size, 3), np.float32)
            top, left = rng.integers(0, 4, 2)
            block = palette[rng.integers(0, 3, (6, 6))]
            image[top:top + 6, left:left + 6] = block
            names.append("mon%d%s.png" % (s, "-mega" if f else ""))
            images.append(image)
    a = np.stack(images)
    b = np.clip(a @ hue_matrix(120).T, 0.0, 1.0).astype(np.float32)
    return names, a, b


def test_species_split_keeps_a_species_and_its_forms_on_one_side():
    names = ["pikachu.png", "pikachu-alola-cap.png", "charizard-mega-x.png", "charizard.png",
             "tapu-koko.png", "tapu-lele.png"] + ["mon%d.png" % i for i in range(200)]
    test = domain_judge.species_split(names)
    held = {domain_judge.species(n) for n, t in zip(names, test) if t}
    kept = {domain_judge.species(n) for n, t in zip(names, test) if not t}
    assert held and kept and not held & kept
    assert domain_judge.species("charizard-mega-x.png") == "charizard"
    # A species' side depends on its name only, not on the other names in the folder.
    assert list(domain_judge.species_split(names[:6])) == list(test[:6])
    assert 0.1 < test.mean() < 0.4


def test_judge_tells_sprites_from_their_recoloured_copies_on_held_out_species():
    names, a, b = _sprites()
    judge, test = domain_judge.train(names, a, b)
    assert test.any() and not test.all()
    assert judge.calls_b(b[test]).mean() > 0.9 and judge.calls_b(a[test]).mean() < 0.1
    assert judge.info["test_accuracy"] > 0.9
    assert judge.info["test_pairs"] == int(test.sum())
    # Deterministic: trained again, the same weights.
    again, _ = domain_judge.train(names, a, b)
    np.testing.assert_array_equal(again.weights, judge.weights)
    # The range check: the held-out real sprites are in it, noise is not (whatever the
    # judge would call it).
    assert judge.typical(np.concatenate([a[test], b[test]])).mean() > 0.9
    noise = np.random.default_rng(1).random((20,) + a.shape[1:])
    assert not judge.typical(noise).any()
    assert not any(x.any() for x in judge.judged(noise))
    # Background (white) pixels do not count: a blank image has no colour features.
    assert not domain_judge.colour_features(np.ones((1, 4, 4, 3))).any()
    with pytest.raises(DataError, match="one side empty"):
        domain_judge.train(names[:1], a[:1], b[:1])


class _FakeCycleGAN:
    """A translator that knows the true map (hue +-120 degrees), for the pair rows."""

    def __init__(self, identity=False, noise=False):
        self.identity, self.noise = identity, noise
        self.config = type("C", (), dict(image_size=12, channels=3, image_fit="pad"))()
        self.dataset = type("D", (), dict(source="/a", source_b="/b"))()

    def translate(self, images, direction):
        if self.identity:
            return images
        if self.noise:
            return np.random.default_rng(len(direction)).random(images.shape)
        degrees = 120 if direction == "AB" else -120
        return np.clip(images @ hue_matrix(degrees).T, 0.0, 1.0).astype(np.float32)


def test_pair_rows_carry_the_domain_shares_beside_the_ceiling_and_the_identity(monkeypatch):
    names, a, b = _sprites()
    monkeypatch.setattr(quality, "_pairs", lambda model: (names, a, b))
    contexts = {}
    model = _FakeCycleGAN()
    rows = quality.pair_rows(model, 3, contexts)
    real = quality.pair_reference_rows(model, 3, contexts)
    assert len(contexts) == 1                       # one judge for both
    held = int(contexts[next(iter(contexts))][2].held_out.sum())   # (A, B, judge, mask)
    mine = {(m, d): (v, k) for m, d, v, k in rows if m.startswith("domain_")}
    assert sorted(mine) == [(m, d) for m in ("domain_a_share_ba", "domain_b_share_ab",
                                             "domain_typical_ab", "domain_typical_ba")
                            for d in range(3)]
    assert {k for _, k in mine.values()} == {held}
    assert {k for m, d, v, k in rows if m == "psnr_ab"} == {len(a)}
    ref = {(m, d): (v, r) for m, d, v, r, _ in real}
    for d in range(3):
        assert ref[("domain_b_share_ab", d)][1].startswith("baseline: the identity")
        assert ref[("domain_b_share_b", d)][1].startswith("ceiling: the domain judge")
        assert ref[("domain_judge_accuracy", d)][1].startswith("ceiling: the domain judge")
        # The true map translates A into what B is: judged like real B, on the same
        # resample; the untranslated A (the identity, the floor) is not.
        assert mine[("domain_b_share_ab", d)][0] == ref[("domain_b_share_b", d)][0] > 0.9
        assert mine[("domain_a_share_ba", d)][0] == ref[("domain_a_share_a", d)][0] > 0.9
        assert ref[("domain_b_share_ab", d)][0] < 0.1
        assert ref[("domain_judge_accuracy", d)][0] == pytest.approx(
            (ref[("domain_b_share_b", d)][0] + ref[("domain_a_share_a", d)][0]) / 2)
    assert len({ref[("domain_b_share_b", d)][0] for d in range(3)}
               | {ref[("domain_b_share_ab", d)][0] for d in range(3)}) > 1   # resampled
    # A model that learned nothing (the identity) scores the baseline exactly.
    lazy = {(m, d): v for m, d, v, _ in quality.pair_rows(_FakeCycleGAN(identity=True), 3,
                                                          contexts)}
    for d in range(3):
        assert lazy[("domain_b_share_ab", d)] == ref[("domain_b_share_ab", d)][0]
    # One that draws noise is judged neither A nor B: out of the real sprites' range.
    noisy = {(m, d): v for m, d, v, _ in quality.pair_rows(_FakeCycleGAN(noise=True), 3,
                                                           contexts)}
    assert all(noisy[(m, d)] == 0.0 for d in range(3) for m in (
        "domain_b_share_ab", "domain_a_share_ba", "domain_typical_ab"))


def test_the_judged_shiny_claim_is_decided_against_the_identity_baseline():
    import pandas as pd
    from reproduce import claims
    claim = [c for c in claims.CLAIMS if c.id == "cyclegan_judged_shiny"]
    assert len(claim) == 1 and claim[0].measure == "domain_b_share_ab"
    assert "floor" in claim[0].note and "ceiling" in claim[0].note

    def measures(model_share):
        rows = []
        for seed in (547, 548):
            for d in range(3):
                for model, value, ref in (("CycleGAN", model_share + 0.01 * d, ""),
                                          ("real", 0.24 + 0.01 * d, "baseline: the identity")):
                    rows.append(dict(recipe="cyclegan", run="r%d" % seed, model=model,
                                     key="cyclegan", seed=seed, step=13320, epochs=10.0,
                                     measure="domain_b_share_ab", draw=d, value=value,
                                     samples=275, reference=ref))
        return pd.DataFrame(rows)

    def verdict(share):
        return claims.decide(measures(share), claim)[0]["verdict"]
    assert verdict(0.6) == "holds"
    assert verdict(0.24) == "does not hold"        # no better than the untranslated sprites
