"""se_viz — see what Squeeze-and-Excitation blocks do.

The public API: find the SE blocks of a model, load a model or an image, and capture what every
SE block computed (squeeze ``z`` and excitation ``s``) in one forward pass::

    import se_viz
    lm = se_viz.load_model("legacy_seresnet50.in1k")
    img = se_viz.load_image("cat.jpg")
    cap = se_viz.capture(lm.model, lm.preprocess([img]))
    cap.gates["SE_5_2"]            # (1, 2048) sigmoid gates s

The package is laid out as the data flows (see docs/architecture.md): ``engine`` (blocks,
capture), ``loading`` (catalog, weights, hub, build, images), ``analysis`` and ``figures`` (pure),
``export``, ``demo`` (the bundled mini model) and ``ui`` (the only Streamlit code).
"""

from .demo import register as _register_demo
from .engine.blocks import BlockInfo, NoSEBlocksError, find_se_blocks, paper_name
from .engine.capture import Capture, SEHooks, capture
from .errors import InputError, ModelLoadError
from .loading.catalog import DEFAULT_MODEL, MINI_MODEL, CatalogEntry, catalog, catalog_entry
from .loading.images import load_image
from .loading.load import LoadedModel, load_model
from .loading.source import WeightsSource
from .loading.weights import read_weights

# The bundled demo model is a guest: it registers its builder and samples with the loader.
_register_demo()

__version__ = "0.1.0"

__all__ = [
    "BlockInfo",
    "Capture",
    "CatalogEntry",
    "DEFAULT_MODEL",
    "InputError",
    "LoadedModel",
    "MINI_MODEL",
    "ModelLoadError",
    "NoSEBlocksError",
    "SEHooks",
    "WeightsSource",
    "capture",
    "catalog",
    "catalog_entry",
    "find_se_blocks",
    "load_image",
    "load_model",
    "paper_name",
    "read_weights",
]
