"""The project keeps its promises to a newcomer: two commands, pinned requirements, honest docs."""

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

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


def test_figures_and_analysis_take_only_records_from_the_engine():
    """They compute on plain arrays: from the engine they may name its records, never run it."""
    allowed = {"Capture", "BlockInfo", "stage_of"}
    paths = [
        ROOT / "se_viz" / "export.py",
        *(ROOT / "se_viz" / "figures").rglob("*.py"),
        *(ROOT / "se_viz" / "analysis").rglob("*.py"),
    ]
    for path in paths:
        engine = {m for m in _imported_modules(path) if m.startswith("se_viz.engine.")}
        names = {m.rsplit(".", 1)[1] for m in engine if m.count(".") >= 3}
        assert names <= allowed, f"{path.relative_to(ROOT)} takes {sorted(names - allowed)} from the engine"


def _imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module ``path`` imports, as absolute dotted names (relative imports resolved)."""
    import ast

    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found |= {f"{module}.{a.name}" for a in node.names}
    return found


@pytest.mark.parametrize("package", ["loading", "channels", "datasets"])
def test_the_library_never_imports_the_demo_model(package):
    """The demo is a guest: it registers its builder, samples and offline image sets; the loader,
    the channel studies and the gate datasets never name it (issue 26.2)."""
    for path in (ROOT / "se_viz" / package).rglob("*.py"):
        demo = {m for m in _imported_modules(path) if m == "se_viz.demo" or m.startswith("se_viz.demo.")}
        assert not demo, f"{path.relative_to(ROOT)} imports {sorted(demo)}"


def test_the_layering_check_sees_relative_imports(tmp_path):
    """The check above catches the import that used to be there (``from ..demo.mini import``)."""
    fake = tmp_path / "se_viz" / "loading" / "probe.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from ..demo.mini import build_mini\nfrom . import catalog\nimport se_viz.demo\n")
    found = _imported_modules(fake, tmp_path)
    assert {"se_viz.demo.mini", "se_viz.loading.catalog", "se_viz.demo"} <= found


def test_the_demo_registers_what_the_catalog_needs():
    """The catalog's offline teaching model builds through the registered builder, and its
    generated samples come from the registry, credited to the module that really makes them."""
    from se_viz.loading.build import BUILDERS
    from se_viz.loading.samples import synthetic_samples

    teaching = [e for e in se_viz.catalog() if e.teaching]
    assert len(teaching) == 1 and teaching[0].builder in BUILDERS
    credits = {s.credit for s in synthetic_samples()}
    assert credits == {"generated by se_viz.demo.synthetic"}
    assert importlib.util.find_spec("se_viz.demo.synthetic") is not None  # the credit names a real module
    # The offline image sets are registered, and only the teaching model knows their classes.
    from se_viz.channels.images import fitting_sets
    from se_viz.loading.image_sets import offline_sets

    assert {"generated", "plain"} <= set(offline_sets())
    assert fitting_sets(se_viz.load_model(se_viz.MINI_MODEL)) == ["generated", "plain"]
