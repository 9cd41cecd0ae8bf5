"""Every place a model is named agrees with the registry (models.MODELS): the reference
recipes and files, `scripts/run_<name>.py`, the README's model table, the evaluation's
measurements, and the files docs/adding-a-model.md names; and every relative link of the
README and docs/ (and every docs/ page the code names) leads to a file that exists."""

import ast
import os
import re

import pytest

from models import MODELS, get_model
from models.cli import main
from reproduce import evaluate, experiments, reference

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _read(path="README.md"):
    with open(os.path.join(REPO, path), encoding="utf-8") as f:
        return f.read()


def _readme():
    return _read("README.md")


def _section(text, title):
    match = re.search(r"^## %s\n(.*?)(?=^## )" % re.escape(title), text, re.S | re.M)
    assert match, "README has no section %r" % title
    return match.group(1)


def _markdown_files():
    """README.md and every page under docs/, as paths relative to the repository."""
    pages = ["README.md"]
    for folder, _, names in os.walk(os.path.join(REPO, "docs")):
        pages += sorted(os.path.relpath(os.path.join(folder, n), REPO) for n in names
                        if n.endswith(".md"))
    return pages


def _anchor(heading):
    """GitHub's anchor of a heading: lower case, punctuation but '-' dropped, spaces '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


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


def test_the_recipes_read_run_folders_and_epochs_from_the_model_classes():
    """No model fact is retyped in reproduce/experiments.py: the run folder a training
    job leaves follows its flags (a batch size changes it), an epoch's steps the data set
    and the model's batches a step."""
    assert experiments.run_folder("dragan") == "DRAGAN_mnist_64_128/DRAGAN"
    assert experiments.run_folder("dragan", ["--batch-size", "32"]) == "DRAGAN_mnist_32_128/DRAGAN"
    assert experiments.run_folder("cyclegan") == "CycleGAN_pokemon_1/CycleGAN"
    assert experiments.run_folder("dcgan_pokemon") == "DCGAN_pokemon_256_100/DCGAN"
    assert experiments.steps_per_epoch("dragan") == 70000 // 64
    assert experiments.steps_per_epoch("wgan") == 60000 // 32 // 5    # train split, n_critic
    trains = [j for name in experiments.EXPERIMENTS for j in experiments.jobs_of(name)
              if j.kind == "train"]
    assert {re.fullmatch(r"scripts/run_(\w+)\.py", j.argv[1]).group(1) for j in trains} \
        == set(MODELS)
    for j in trains:
        model = re.fullmatch(r"scripts/run_(\w+)\.py", j.argv[1]).group(1)
        checkpoint_dir = j.argv[j.argv.index("--checkpoint-dir") + 1]
        assert j.outputs == ("%s/%s/state.json" % (
            checkpoint_dir, experiments.run_folder(model, j.argv[2:])),)


def test_measured_wall_times_are_data_not_code():
    """What a recipe took lives in reproduce/published/results_data/measured.json (a
    rerun changes data, not code): no budget in reproduce/experiments.py names a wall
    time, every measured entry is a recipe's, and the recipe's budget line shows it."""
    measured = experiments.utils.read_json(os.path.join(REPO, experiments.MEASURED))
    assert set(measured) <= set(experiments.EXPERIMENTS) and "cgan" in measured
    for name, recipe in experiments.EXPERIMENTS.items():
        plan = recipe["budget"]() if callable(recipe["budget"]) else recipe["budget"]
        assert not re.search(r"measured|\d+:\d\d\b|minutes wall", plan, re.I), (name, plan)
        if name in measured:
            assert experiments.budget_of(name) == "%s; %s" % (plan, measured[name])


def test_adding_a_model_names_files_that_exist():
    text = _read(os.path.join("docs", "adding-a-model.md"))
    named = set(re.findall(
        r"`((?:models|scripts|tests|reproduce|docs)/[\w/<>.-]+|README\.md)`", text))
    assert len(named) >= 7
    for path in named:
        concrete = path.replace("<name>", "dragan")
        assert os.path.exists(os.path.join(REPO, concrete)), path


def test_every_models_help_is_named_after_its_own_script(capsys):
    for name in MODELS:
        with pytest.raises(SystemExit):
            main(get_model(name), ["--help"])
        assert capsys.readouterr().out.startswith("usage: run_%s.py" % name), name


def test_every_relative_link_of_the_readme_and_docs_resolves():
    pages = _markdown_files()
    assert len(pages) > 10, pages
    checked = 0
    for page in pages:
        text = re.sub(r"```.*?```", "", _read(page), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            path = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            assert os.path.exists(os.path.join(REPO, path)), (page, target)
            if anchor:
                headings = re.findall(r"^#+ (.*)$", _read(path), re.M)
                assert anchor in {_anchor(h) for h in headings}, (page, target)
            checked += 1
    assert checked >= 20


def test_every_docs_page_is_linked_from_the_readme_and_every_one_named_exists():
    readme = _readme()
    for page in _markdown_files()[1:]:
        assert "](%s)" % page.replace(os.sep, "/") in readme, page
    named = set()
    for folder in ("models", "reproduce", "tests", "scripts"):
        for root, _, names in os.walk(os.path.join(REPO, folder)):
            for name in names:
                if name.endswith(".py"):
                    with open(os.path.join(root, name), encoding="utf-8") as f:
                        named |= set(re.findall(r"docs/[\w/.-]+\.md", f.read()))
    for page in _markdown_files():
        named |= set(re.findall(r"docs/[\w/<>.-]+\.md", _read(page)))
    assert len(named) >= 15
    for path in named:
        assert os.path.exists(os.path.join(REPO, path.replace("<name>", "dragan"))), path


def test_every_registered_model_carries_its_blog_card():
    from models.cards import CARDS
    for key in MODELS:
        card = get_model(key).card()
        assert card is CARDS[key] and card.key == key
        assert card.unit in ("steps", "epochs") and card.first > 0
        assert all(p > 0 for p in card.shown)       # DCGAN shows 50 and 100 of its 40
