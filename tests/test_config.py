"""models/config.py: validation, unknown keys, generated command line."""

import pytest

from errors import ConfigError
from models.config import build_parser
from models.dragan import DRAGANConfig


def test_blog_defaults():
    cfg = DRAGANConfig()
    assert (cfg.z_dim, cfg.batch_size, cfg.d_lr, cfg.g_lr, cfg.beta1) == (128, 64, 1e-3, 1e-3, 0.5)
    assert (cfg.lambd, cfg.alpha_per, cfg.gp_norm, cfg.sample_every) == (0.25, "pixel", "blog", 10)
    assert cfg.epochs == 1000 and cfg.dataset == "mnist"


def test_unknown_key_is_rejected_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"lamda \(did you mean lambd\?\)"):
        DRAGANConfig.from_dict({"lamda": 10})


@pytest.mark.parametrize("changes,field", [({"lambd": -1.0}, "lambd"),
                                           ({"batch_size": 0}, "batch_size"),
                                           ({"gp_norm": "l1"}, "gp_norm"),
                                           ({"beta1": 1.5}, "beta1")])
def test_out_of_range_values_are_rejected(changes, field):
    with pytest.raises(ConfigError, match=field):
        DRAGANConfig(**changes)


def test_folder_dataset_needs_a_data_dir():
    with pytest.raises(ConfigError, match="data-dir"):
        DRAGANConfig(dataset="folder")


def test_parser_has_a_flag_per_field_with_defaults_and_bounds(capsys):
    parser = build_parser(DRAGANConfig)
    args = parser.parse_args(["--z-dim", "62", "--no-deterministic", "--gp-norm", "sample"])
    cfg = DRAGANConfig.from_dict(vars(args))
    assert cfg.z_dim == 62 and cfg.deterministic is False and cfg.gp_norm == "sample"
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--batch-size", "0"])
    assert exit_info.value.code == 2
    assert "must be >= 1" in capsys.readouterr().err


def test_resume_mismatches_ignore_run_length_and_folders():
    cfg = DRAGANConfig()
    saved = DRAGANConfig(epochs=3, max_steps=10, checkpoint_dir="elsewhere").to_dict()
    assert cfg.resume_mismatches(saved) == []
    saved["lambd"] = 10.0
    assert cfg.resume_mismatches(saved) == [("lambd", 10.0, 0.25)]


def test_a_renamed_setting_is_read_under_its_former_name():
    """CGAN's and ACGAN's `shared_adam_iterations` (bool) is `adam_counter`, CycleGAN's
    name: a config.json written before the rename builds, resumes, and the former flags
    still parse (not listed in --help)."""
    from models.cgan import CGANConfig
    old = CGANConfig().to_dict()
    old["shared_adam_iterations"] = old.pop("adam_counter") == "shared"
    assert CGANConfig.from_dict(old) == CGANConfig()
    assert CGANConfig().resume_mismatches(old) == []
    old["shared_adam_iterations"] = False
    assert CGANConfig.from_dict(old).adam_counter == "separate"
    assert CGANConfig().resume_mismatches(old) == [("adam_counter", "separate", "shared")]
    parser = build_parser(CGANConfig)
    assert parser.parse_args([]).adam_counter == "shared"
    assert parser.parse_args(["--no-shared-adam-iterations"]).adam_counter == "separate"
    assert parser.parse_args(["--shared-adam-iterations"]).adam_counter == "shared"
    assert "shared-adam-iterations" not in parser.format_help()


def test_a_setting_is_declared_once_and_a_model_gives_only_defaults():
    import pytest as _pytest

    from models.config import TrainConfig, default, setting
    with _pytest.raises(TypeError, match="no such setting"):
        type("Bad", (TrainConfig,), {"lambda_gp": default(1.0, "a paper")})
    with _pytest.raises(TypeError, match="declared already"):
        type("Bad", (TrainConfig,), {"epochs": setting(int, 3, "epochs again")})
    Shorter = type("Shorter", (TrainConfig,), {"epochs": default(3, "a blog", note="short")})
    epochs = {f.name: f for f in __import__("dataclasses").fields(Shorter)}["epochs"]
    assert Shorter().epochs == 3 and epochs.metadata["source"] == "a blog"
    assert epochs.metadata["help"] == "epochs to train (short)"
    assert epochs.metadata["minimum"] == 1 and epochs.metadata["resumable"]
