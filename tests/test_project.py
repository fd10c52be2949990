"""The project keeps its promises to a newcomer: two commands, pinned requirements, honest docs."""

import re
import tomllib
from pathlib import Path

import se_viz

ROOT = Path(__file__).resolve().parent.parent


def test_readme_opens_with_the_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = text.split("```", 2)[1]
    assert "make run" in first_block and "make test" in first_block


def test_readme_lists_every_catalog_model():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for entry in se_viz.catalog():
        assert f"`{entry.id}`" in text, entry.id


def test_requirements_are_pinned():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][\w.\-+]*", line), f"{name}: {line}"
    reqs = (ROOT / "requirements.txt").read_text()
    assert "torch==2.14.1" in reqs and "torchvision==0.29.1" in reqs


def test_pyproject_declares_the_console_command():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["scripts"]["se-viz"] == "se_viz.cli:main"
    pinned = {
        line.split("==")[0].lower()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line
    }
    declared = {d.lower() for d in data["project"]["dependencies"]}
    assert declared <= pinned, declared - pinned


def test_ci_runs_the_readme_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "chromium" in ci


def test_streamlit_only_in_the_ui_layer():
    for path in (ROOT / "se_viz").rglob("*.py"):
        if "ui" in path.relative_to(ROOT / "se_viz").parts:
            continue
        assert not re.search(r"^\s*(import|from)\s+streamlit", path.read_text(), re.M), path


def test_figures_and_export_do_not_touch_torch():
    paths = [
        ROOT / "se_viz" / "export.py",
        *(ROOT / "se_viz" / "figures").rglob("*.py"),
        *(ROOT / "se_viz" / "analysis").rglob("*.py"),
    ]
    for path in paths:
        src = path.read_text()
        assert not re.search(r"^\s*(import|from)\s+torch", src, re.M), path
