"""The live path beside the still path: camera frames → the same :func:`~se_viz.capture` under the
model's lock → a small drawing of the top-3 classes and every block's gates → back into the frame.

Pure library code (no Streamlit, no WebRTC): :mod:`se_viz.ui.live_view` wires it to the browser's
camera with streamlit-webrtc, ``se-viz bench --live`` measures it, and a notebook can call
:class:`LiveProcessor` on any RGB array.

- :mod:`.frame` — one frame's analysis (:class:`LiveResult`), computed exactly like a photo's;
- :mod:`.draw` — the overlay, in the gate heatmap's colour scale;
- :mod:`.history` — the last seconds of gates, for the "gates over time" trace;
- :mod:`.processor` — the per-viewer processor: newest frame wins, freeze as plain data;
- :mod:`.worker` and :mod:`.mailbox` — its frame thread, and the slot that hands each finished
  picture to the stream's sender at once;
- :mod:`.ice` — the ICE servers from the environment (none by default: a classroom LAN needs none).
"""

from .draw import draw_overlay, gate_lut, strip_colour_index
from .frame import LiveResult, analyse_frame
from .history import GateHistory
from .ice import ICE_ENV, ice_servers
from .processor import FrozenFrame, LiveProcessor

__all__ = [
    "ICE_ENV",
    "FrozenFrame",
    "GateHistory",
    "LiveProcessor",
    "LiveResult",
    "analyse_frame",
    "draw_overlay",
    "gate_lut",
    "ice_servers",
    "strip_colour_index",
]
