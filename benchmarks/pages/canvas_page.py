"""A bare page with the Draw page's own canvas (sketchpad.show) that keeps what the canvas hands over: run by
benchmarks/canvas_drawings.py, never by hand. ?brush= sets the slider; every rerun with a drawing writes its RGBA
image and Fabric's strokes to $CANVAS_CAPTURE/latest.npz and says how many strokes it holds."""

import json
import os
from pathlib import Path

import numpy as np
import streamlit as st

from mnist_app.ui import sketchpad

if "brush" not in st.session_state and "brush" in st.query_params:
    st.session_state.brush = int(st.query_params["brush"])
sketch = sketchpad.show()
if sketch.image is None or not sketch.strokes:
    st.write("empty canvas")
else:
    target = Path(os.environ["CANVAS_CAPTURE"])
    np.savez(target / "partial.npz", image=sketch.image, strokes=json.dumps(sketch.strokes), brush=sketch.brush)
    os.replace(target / "partial.npz", target / "latest.npz")  # whole files only: the driver copies it at once
    st.write(f"held strokes: {len(sketch.strokes)}")
