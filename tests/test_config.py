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


@pytest.mark.parametrize("changes,field", [({"lambd": -1.0}, "lambd"), ({"batch_size": 0}, "batch_size"),
                                           ({"gp_norm": "l1"}, "gp_norm"), ({"beta1": 1.5}, "beta1")])
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
