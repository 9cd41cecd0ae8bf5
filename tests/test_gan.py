"""The DRAGAN blog's plain GAN: DRAGAN's networks and optimizers without the penalty."""

import numpy as np
import pytest
from conftest import fake_dataset

import utils
from errors import ConfigError
from models.cli import main
from models.dragan import DRAGAN, DRAGANConfig
from models.gan import GAN, GANConfig


def make(run_dirs, cls=GAN, config_cls=GANConfig, **changes):
    settings = dict(batch_size=8, log_every=1000, save_every=0, sample_every=1000, **run_dirs)
    settings.update(changes)
    return cls(config_cls(**settings), fake_dataset(max(48, settings["batch_size"])))


def test_same_networks_as_dragan_and_no_penalty(run_dirs):
    gan = make(run_dirs, batch_size=64)
    dragan = make(run_dirs, DRAGAN, DRAGANConfig, batch_size=64)
    assert utils.count_params(gan.variables("discriminator")) == 6559169
    assert utils.count_params(gan.variables("generator")) == 6707777
    shapes = lambda m: sorted((v.op.name, v.get_shape().as_list())    # noqa: E731
                              for v in m.variables(""))
    assert shapes(gan) == shapes(dragan)
    placeholders = {op.name for op in gan.graph.get_operations() if op.type == "Placeholder"}
    assert "perturbed_images" not in placeholders and "alpha" not in placeholders
    assert set(gan.phases[0].fetches) == {"d_loss", "d_loss_real", "d_loss_fake"}
    assert gan.model_dir == "GAN_mnist_64_128"


def test_d_loss_is_the_cross_entropy_sum_only(run_dirs):
    with make(run_dirs) as model:
        model.open()
        images, labels = model.batch(0)
        feed = model.step_feed(images, labels, utils.make_rng(0, "step", 0))
        d = model.sess.run(model.phases[0].fetches, feed)
    assert np.isclose(d["d_loss"], d["d_loss_real"] + d["d_loss_fake"], rtol=1e-6)


def test_trains_and_differs_from_dragan_with_the_same_seed(tmp_path):
    def dirs(name):
        return {k: str(tmp_path / name / k) for k in ("checkpoint_dir", "result_dir", "log_dir")}
    with make(dirs("gan"), max_steps=3) as model:
        gan = model.train(keep_history=True).history
    with make(dirs("dragan"), DRAGAN, DRAGANConfig, max_steps=3) as model:
        dragan = model.train(keep_history=True).history
    assert all(np.isfinite(v) for step in gan for v in step.values())
    # step 1 starts from the same weights and noise: the same cross-entropies...
    assert gan[0]["d_loss_real"] == dragan[0]["d_loss_real"]
    # ...after which the penalty has changed D
    assert gan[2]["d_loss_real"] != dragan[2]["d_loss_real"]


def test_hwalsuklee_preset_sets_its_learning_rates(tmp_path, monkeypatch, capsys):
    seen = {}

    def fake_train(self, keep_history=False):
        seen.update(d_lr=self.config.d_lr, g_lr=self.config.g_lr)
        raise SystemExit(0)
    monkeypatch.setattr(GAN, "train", fake_train)
    monkeypatch.setattr(GAN, "load_data", classmethod(lambda cls, config: fake_dataset(64)))
    try:
        main(GAN, ["--preset", "hwalsuklee", "--checkpoint-dir", str(tmp_path)])
    except SystemExit:
        pass
    assert seen == dict(d_lr=2e-4, g_lr=1e-3)


class _SweepGAN(GAN):
    """GAN with one extra fixed grid, to test the base class's extra grids."""

    def build_model(self):
        built = super().build_model()
        z = np.repeat(np.linspace(-1, 1, 8, dtype=np.float32)[:, None], self.config.z_dim, 1)
        self.extra_grids = {"sweep": ({self.sample_z_input: np.repeat(z, 8, 0)}, (8, 8))}
        return built


def test_extra_grids_are_saved_and_summarised_with_the_fixed_noise_grid(run_dirs):
    import glob
    import os

    from skimage import io as skio

    from tf_compat import tf
    with make(run_dirs, cls=_SweepGAN, max_steps=2, sample_every=2) as model:
        model.train()
    folder = os.path.join(run_dirs["result_dir"], "GAN_mnist_8_128", "GAN")
    sweep = skio.imread(os.path.join(folder, "GAN_sweep_00_0002.png"))
    assert sweep.shape == (224, 224)
    # rows share one z: the 8 tiles of a row are equal
    assert all(np.array_equal(sweep[:28, :28], sweep[:28, 28 * j:28 * (j + 1)]) for j in range(8))
    assert os.path.exists(os.path.join(folder, "GAN_train_00_0002.png"))
    tags = set()
    for path in glob.glob(os.path.join(run_dirs["log_dir"], "*", "events.out.tfevents.*")):
        for event in tf.train.summary_iterator(path):
            tags.update(v.tag for v in event.summary.value if v.HasField("image"))
    assert tags == {"samples/fixed_noise/image", "samples/sweep/image"}


def test_image_sides_not_divisible_by_4_are_a_config_error(run_dirs):
    dataset = fake_dataset(16, size=30)
    with pytest.raises(ConfigError, match="divisible by 4, got 30x30"):
        GAN(GANConfig(batch_size=8, **run_dirs), dataset)
