"""The CycleGAN domain judge (reproduce/domain_judge.py)."""

import numpy as np
import pytest

from errors import DataError
from reproduce import domain_judge
from reproduce.control_pair import hue_matrix


def _sprites(species_count=60, forms=2, size=12, seed=0):
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
    # Background (white) pixels do not count: a blank image has no colour features.
    assert not domain_judge.colour_features(np.ones((1, 4, 4, 3))).any()
    with pytest.raises(DataError, match="one side empty"):
        domain_judge.train(names[:1], a[:1], b[:1])
