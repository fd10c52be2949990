"""se_viz — see what Squeeze-and-Excitation blocks do. Run: `make run` or `streamlit run app.py`."""

import os

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import streamlit as st

st.set_page_config(page_title="se_viz — SE channel attention", page_icon="🔎", layout="wide")

from se_viz import ui  # noqa: E402  (after set_page_config: importing may be slow)

ui.main()
