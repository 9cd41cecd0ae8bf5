"""The project as an installed package (pyproject.toml): it declares the layout as it is,
its pins are requirements.txt's, the requirement files install it (editable), its console
entry points answer `--help`, and no file finds the project's imports by editing sys.path."""

import ast
import importlib
import os
import re
import subprocess
import sys
import tomllib

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDERS = ("models", "reproduce", "scripts", "tests")      # every folder holding the code


def _project():
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def _requirements(name):
    """A requirement file's lines without comments and blanks."""
    with open(os.path.join(REPO, name)) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def _python_files():
    found = [n for n in os.listdir(REPO) if n.endswith(".py")]
    for folder in FOLDERS:
        for root, _, names in os.walk(os.path.join(REPO, folder)):
            found += [os.path.relpath(os.path.join(root, n), REPO) for n in names
                      if n.endswith(".py")]
    return sorted(found)


def test_pyproject_declares_the_layout_as_it_is():
    """Every top-level module and every package folder is declared, and nothing else."""
    setuptools = _project()["tool"]["setuptools"]
    modules = sorted(n[:-3] for n in os.listdir(REPO) if n.endswith(".py"))
    packages = sorted(n for n in os.listdir(REPO)
                      if os.path.isfile(os.path.join(REPO, n, "__init__.py")))
    assert sorted(setuptools["py-modules"]) == modules
    assert sorted(setuptools["packages"]) == packages == ["models", "reproduce"]
    for folder in packages:                                 # no package inside a package
        assert not [d for d in os.listdir(os.path.join(REPO, folder))
                    if os.path.isfile(os.path.join(REPO, folder, d, "__init__.py"))], folder


def test_the_pins_are_the_requirement_files_and_each_installs_the_project():
    project = _project()["project"]
    extras = project["optional-dependencies"]
    runtime = _requirements("requirements.txt")
    assert runtime[-1] == "-e ." and _requirements("requirements-gpu.txt")[-1] == "-e ."
    assert sorted(runtime[:-1]) == sorted(project["dependencies"] + extras["test"])
    gpu = [line for line in _requirements("requirements-gpu.txt") if "tensorflow" in line]
    assert gpu == ["tensorflow[and-cuda]==2.21.0"] == extras["gpu"]
    for name, extra in (("requirements-cluster.txt", "cluster"), ("requirements-dev.txt", "dev")):
        lines = _requirements(name)
        assert lines[0] == "-r requirements.txt", name             # which ends with `-e .`
        assert set(lines[1:]) <= set(extras[extra]), name
    assert set(extras["dev"]) == set(extras["test"] + _requirements("requirements-dev.txt")[1:])


def test_no_file_edits_sys_path():
    edits = []
    for path in _python_files():
        with open(os.path.join(REPO, path), encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            changed = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                changed = [node.func.value]                 # sys.path.insert(...), .append
            elif isinstance(node, ast.Assign):
                changed = node.targets                      # sys.path = ...
            elif isinstance(node, ast.AugAssign):
                changed = [node.target]                     # sys.path += ...
            changed = [t.value if isinstance(t, ast.Subscript) else t for t in changed]
            if any(ast.unparse(t) == "sys.path" for t in changed):   # ... or sys.path[:0] =
                edits.append("%s:%d" % (path, node.lineno))
    assert len(_python_files()) > 50 and not edits, edits


def test_the_installed_project_is_this_checkout_from_any_folder(tmp_path):
    """A script's interpreter started elsewhere imports this checkout (the tests would
    otherwise check another one; conftest stops the session first, with the fix)."""
    code = "import models, tf_compat, reproduce.runner as r; print(r.REPO)"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=True)
    assert os.path.realpath(done.stdout.strip()) == os.path.realpath(REPO)


def _entry_points():
    return sorted(_project()["project"]["scripts"].items())


def test_the_console_entry_points_are_documented_and_name_existing_mains():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    assert len(_entry_points()) >= 2
    for command, target in _entry_points():
        assert re.fullmatch(r"gan-repro-[a-z-]+", command)
        module, _, function = target.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), target
        assert "`%s`" % command in readme, command


@pytest.mark.parametrize("command,target", _entry_points())
def test_every_console_entry_point_answers_help(command, target, capsys):
    module, _, function = target.partition(":")
    with pytest.raises(SystemExit) as stop:
        getattr(importlib.import_module(module), function)(["--help"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.startswith("usage: python -m %s" % module), command
