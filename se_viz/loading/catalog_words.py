"""The built-in catalog's names and sources, marked for the translation catalogue.

``models/catalog.toml`` is data, which Babel cannot read; this copy of its human words lets a
translator see them (``tests/test_zh_shell_words.py`` checks it lists every built-in entry).
:attr:`se_viz.loading.catalog.CatalogEntry.shown_name` translates a built-in name where shown;
a user's own catalog is shown as its author wrote it.
"""

from __future__ import annotations

from se_viz.i18n import N_

__all__ = ["NAMES", "SOURCES"]

NAMES = (
    N_("SE-ResNet-50 (paper authors' weights)"),
    N_("SE-ResNet-18 (legacy port)"),
    N_("SE-ResNet-101 (paper authors' weights)"),
    N_("SE-ResNeXt-50 32x4d (paper authors' weights)"),
    N_("SENet-154 (paper authors' weights, ILSVRC 2017 winner)"),
    N_("SE-ResNet-50 (timm, ResNet Strikes Back A1 recipe)"),
    N_("SE-ResNet-50 (timm, RandAugment recipe)"),
    N_("SE-ResNeXt-50 32x4d (timm)"),
    N_("SE-ResNeXt-26d 32x4d (timm)"),
    N_("EfficientNet-B0 (timm; SE in every MBConv block)"),
    N_("SE-ResNet mini — synthetic shapes, works offline"),
    N_("ECA-ResNet-50d (ECA: 1-D convolution across channels)"),
    N_("ECA-ResNet-26t (ECA: 1-D convolution across channels)"),
    N_("CBAM-ResNet-26 (timm's CBAM layers; structure only, no published weights)"),
)
SOURCES = (
    N_(
        "Original Caffe weights released by the SE paper's authors, ported to PyTorch (Cadene) and "
        "hosted by timm"
    ),
    N_("Legacy SENet port (Cadene's pretrained-models.pytorch), hosted by timm"),
    N_("Original weights released by the SE paper's authors, ported by Cadene, hosted by timm"),
    N_("Trained by timm (Ross Wightman) with the 'ResNet strikes back' A1 recipe"),
    N_("Trained by timm (Ross Wightman) with the RA2 recipe"),
    N_("Trained by timm (Ross Wightman) with RandAugment + CutMix"),
    N_("Trained by timm (Ross Wightman), 'bag of tricks' recipe"),
    N_("Trained by timm (Ross Wightman) with the RA recipe"),
    N_("Trained by this project on generated images (see models/se_resnet_mini.md)"),
    N_("Trained by Alibaba MIIL, hosted by timm"),
    N_("timm's ResNet-26 with attn_layer='cbam' (timm publishes no CBAM weights): random init"),
)
