"""se_viz — see what Squeeze-and-Excitation blocks do. Run: `make run` or `streamlit run app.py`."""

import os

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import streamlit as st  # noqa: E402

st.set_page_config(page_title="se_viz — SE channel attention", page_icon="🔎", layout="wide")

from se_viz import ui  # noqa: E402  (after set_page_config: importing may be slow)

st.title("se_viz — what Squeeze-and-Excitation blocks do")
st.markdown(
    "An SE block looks at a feature map **u** with C channels, **squeezes** each channel to one "
    "number, passes those numbers through a tiny two-layer network (**excitation**), and "
    "**scales** every channel by the resulting gate in [0, 1]. Upload a photo to see which "
    "channels each block amplifies and which it suppresses."
)
squeeze, excite, scale = st.columns(3)
with squeeze:
    st.markdown("**Squeeze** — global average per channel")
    st.latex(r"z_c = \frac{1}{H \cdot W} \sum_{i=1}^{H} \sum_{j=1}^{W} u_c(i, j)")
with excite:
    st.markdown("**Excitation** — the gates")
    st.latex(r"s = \sigma\left(W_2\, \delta(W_1 z)\right)")
with scale:
    st.markdown("**Scale** — recalibrate each channel")
    st.latex(r"\tilde{x}_c = s_c \cdot u_c")
st.caption("δ = ReLU, σ = sigmoid; W₁ reduces C channels to C/r, W₂ expands back (Hu et al., "
           "“Squeeze-and-Excitation Networks”, CVPR 2018).")

ui.main()
