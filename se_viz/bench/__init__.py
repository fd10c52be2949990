"""Every benchmark of se_viz, apart from the library it measures: the ``se-viz bench`` and
``se-viz bench-datasets`` commands call these modules; library packages never import them.

- :mod:`.capture` — what hooking costs beside a plain forward pass, and the knock-out sweep;
- :mod:`.capture_throughput` — ``se-viz capture``: plain timm loop vs the local engine vs Ray;
- :mod:`.capture_nodes` — the Ray capture on one one-CPU node against two (:mod:`.ray_cluster`);
- :mod:`.datasets` — reading big gate datasets (time and peak memory, CLI and app);
- :mod:`.browser` — how long each view takes to appear in Chromium;
- :mod:`.live` — the Live tab: frame rates and lag with a video file as the camera.
"""
