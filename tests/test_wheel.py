"""The package as users install it: a wheel, installed outside the checkout, finds its catalog and
bundled model and captures with it."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import json, se_viz
from se_viz import i18n
from PIL import Image
lm = se_viz.load_model(se_viz.MINI_MODEL)
cap = se_viz.capture(lm.model, lm.preprocess([Image.new("RGB", (64, 64), (200, 30, 30))]))
print(json.dumps({"file": se_viz.__file__, "shelf": str(lm.source.path),
                  "catalog": len(se_viz.catalog()), "blocks": cap.block_names,
                  "source": lm.source.kind,
                  "catalogue": str(i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "se_viz.mo")}))
"""


def test_every_subpackage_ships_in_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "se_viz").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject.toml [tool.setuptools] packages: {sorted(found - listed)}"


def test_installed_wheel_loads_and_captures_with_the_bundled_model(tmp_path):
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
    )
    wheel = next(wheels.glob("se_viz-*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        cwd=tmp_path,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("SE_VIZ_MODELS_DIR", None)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], check=True, cwd=tmp_path, env=env, capture_output=True, text=True
    ).stdout
    import json

    result = json.loads(out.strip().splitlines()[-1])
    assert result["file"].startswith(str(target)), result["file"]
    assert result["shelf"].startswith(str(target / "se_viz" / "model_files")), result["shelf"]
    assert result["source"] == "bundled" and result["catalog"] >= 2
    assert result["blocks"][0] == "SE_2_1"
    # The Chinese interface's compiled catalogue ships with the code, outside the checkout.
    assert result["catalogue"].startswith(str(target)) and Path(result["catalogue"]).is_file()
