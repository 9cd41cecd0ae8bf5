"""Every place a model is named agrees with the registry (models.MODELS): the reference
recipes and files, `scripts/run_<name>.py`, the README's model table, the evaluation's
measurements, and the files README "Adding a model" names."""

import ast
import os
import re

import pytest

from models import MODELS, get_model
from models.cli import main
from reproduce import evaluate, experiments, reference

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _readme():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        return f.read()


def _section(text, title):
    match = re.search(r"^## %s\n(.*?)(?=^## )" % re.escape(title), text, re.S | re.M)
    assert match, "README has no section %r" % title
    return match.group(1)


def test_the_reference_recipes_are_the_registered_models():
    assert sorted(reference.RECIPES) == sorted(MODELS)


def test_every_registered_model_has_its_script_and_every_script_its_model():
    scripts = sorted(name[len("run_"):-len(".py")] for name in os.listdir(
        os.path.join(REPO, "scripts")) if re.fullmatch(r"run_\w+\.py", name))
    assert scripts == sorted(MODELS)
    for name, (module, class_name) in MODELS.items():
        with open(os.path.join(REPO, "scripts", "run_%s.py" % name), encoding="utf-8") as f:
            tree = ast.parse(f.read())
        imports = {(node.module, alias.name) for node in ast.walk(tree)
                   if isinstance(node, ast.ImportFrom) for alias in node.names}
        calls = {node.args[0].id for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and getattr(node.func, "id", None) == "main" and node.args
                 and isinstance(node.args[0], ast.Name)}
        assert (module, class_name) in imports and ("models.cli", "main") in imports, name
        assert calls == {class_name}, name


def test_the_readme_model_table_lists_every_registered_model_once():
    table = _section(_readme(), "Models")
    listed = re.findall(r"^\|[^|]+\| `\.venv/bin/python scripts/run_(\w+)\.py` \|", table, re.M)
    assert sorted(listed) == sorted(MODELS)


def test_every_model_asks_only_for_evaluations_the_evaluation_has():
    for name in MODELS:
        cls = get_model(name)
        assert cls.evaluations and set(cls.evaluations) <= set(evaluate.EVALUATIONS), name
        assert cls.registry_key() == name


def test_every_registered_model_has_a_blog_experiment():
    commands = [c for name in experiments.EXPERIMENTS for c in experiments.commands(name)]
    for name in MODELS:
        assert any("scripts/run_%s.py " % name in c for c in commands), name


def test_adding_a_model_names_files_that_exist():
    text = _section(_readme(), "Adding a model")
    named = set(re.findall(r"`((?:models|scripts|tests|reproduce)/[\w/<>.]+|README\.md)`", text))
    assert len(named) >= 6
    for path in named:
        concrete = path.replace("<name>", "dragan")
        assert os.path.exists(os.path.join(REPO, concrete)), path


def test_every_models_help_is_named_after_its_own_script(capsys):
    for name in MODELS:
        with pytest.raises(SystemExit):
            main(get_model(name), ["--help"])
        assert capsys.readouterr().out.startswith("usage: run_%s.py" % name), name
