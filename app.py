"""mnist-app: draw a digit and watch four models read it, then see how they were trained. Run: streamlit run app.py"""

import os
from pathlib import Path

# BLAS on one thread, set before the first page imports NumPy (OpenBLAS reads it once, when it loads; Streamlit's
# server does not import NumPy itself). The server's reads are small batches (a drawing, a number's candidates) for
# many visitors at once, on threads of their own: a second BLAS thread only waits for a core that a browser, another
# visitor or the training engine holds (benchmarks/draw_page.py's pen-up, with Chromium beside the server, is where it
# shows). The engine's workers train on one thread too (engine.ONE_THREAD).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

PAGES = Path(__file__).parent / "mnist_app" / "ui"


def main() -> None:
    import streamlit as st

    from mnist_app.ui.cache import keep_keras_state, warm_up_models
    from mnist_app.ui.runs import training_on
    from mnist_app.ui.store import remember_visitor

    keep_keras_state()  # the models are loaded once per server: Streamlit must not clear Keras after each run

    # a picture of our own (a 7 as drawn on the canvas): an emoji makes Streamlit import its list of every emoji (0.08 s
    # of a fresh server's first page), and a Material icon makes every browser fetch the favicon from Google's fonts
    st.set_page_config(page_title="mnist-app", page_icon=str(PAGES / "icon.png"), layout="wide")
    pages = [
        st.Page(PAGES / "draw.py", title="Draw", icon=":material/draw:", default=True),
        st.Page(PAGES / "diagnostics.py", title="Diagnostics", icon=":material/analytics:"),
        st.Page(PAGES / "drawings.py", title="Drawings", icon=":material/gesture:"),
    ]
    if training_on():  # MNIST_APP_TRAINING=off removes the page, for public deployments
        pages.append(st.Page(PAGES / "train.py", title="Train", icon=":material/model_training:"))
    page = st.navigation(pages)
    remember_visitor()  # the visitor's secret in their cookie, from the sidebar: a reload keeps their drawings and runs
    try:
        page.run()
    finally:  # also after a page's st.stop(): start loading the other models once this page is drawn
        warm_up_models()


# Streamlit runs this file as __main__. The embedded engine's worker processes are spawned, and a spawned process
# imports the parent's main file as __mp_main__: there it must not run the app (nor import it, nor load every model).
if __name__ == "__main__":
    main()
