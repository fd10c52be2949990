"""The engine: find the SE blocks (and other channel gates) of any PyTorch model and capture them.

``blocks`` recognises SE blocks by structure, ``probe`` finds every other module that scales its
input per channel (ECA, CBAM's channel gate, SE with ``torch.sigmoid`` …); ``blocks`` names them
(``SE_s_b`` where the network follows the ResNet stage layout) and gives each its ``kind``
(named, with the tests both finders share, in ``kinds``);
``capture`` hooks them for one forward pass and returns a
:class:`~se_viz.engine.capture.Capture` of plain NumPy arrays. Everything else in se_viz reads
captures; nothing else touches hooks.
"""
