"""mnist-app: draw a digit, watch two neural networks read it. Run: streamlit run app.py"""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).parent / "mnist_app" / "ui"

st.set_page_config(page_title="mnist-app", page_icon="✏️", layout="wide")
st.navigation(
    [
        st.Page(PAGES / "draw.py", title="Draw", icon=":material/draw:", default=True),
        st.Page(PAGES / "diagnostics.py", title="Diagnostics", icon=":material/analytics:"),
        st.Page(PAGES / "drawings.py", title="Drawings", icon=":material/gesture:"),
    ]
).run()
