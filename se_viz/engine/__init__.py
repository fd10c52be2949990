"""The engine: find the SE blocks of any PyTorch model and capture what they compute.

``blocks`` recognises SE blocks by structure and names them (``SE_s_b`` where the network follows
the ResNet stage layout); ``capture`` hooks them for one forward pass and returns a
:class:`~se_viz.engine.capture.Capture` of plain NumPy arrays. Everything else in se_viz reads
captures; nothing else touches hooks.
"""
