"""The Draw page's Photo mode: a photo of digits written on paper (the camera, or a PNG or JPEG file) read as a
whole number by mnist_app.numbers.read_number; the photo with a box round each digit, the number, the digits it is
unsure of, each digit's 28x28 image and ten bars, and Save (Number mode's), which keeps each digit under its label.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from mnist_app import models, numbers, photos
from mnist_app.reports.plots import boxed
from mnist_app.ui import number, sketchpad

TYPES = ["png", "jpg", "jpeg"]  # HEIC only where Pillow has a HEIF plugin: none is installed, so none is offered
SHOWN = 1000  # px: the photo is shown (with its boxes) at most this wide


def take() -> bytes | None:
    """The photo's bytes: from the camera, or an uploaded file (the upload wins when both are there)."""
    upload = st.file_uploader("A photo of digits on paper (PNG or JPEG)", type=TYPES, key="photo_file")
    with st.expander("Or take one with the camera"):
        shot = st.camera_input("Photograph the number", key="photo_camera")
    chosen = upload or shot
    return None if chosen is None else chosen.getvalue()


def read(data: bytes | None, model: models.Model) -> tuple[np.ndarray | None, numbers.NumberReading | None, str]:
    """(the photo, its reading, what went wrong): the photo read, or a bad file's plain message."""
    if data is None:
        return None, None, ""
    try:
        photo = photos.load_photo(data)
        return photo, numbers.read_number(photo, model), ""
    except (photos.PhotoError, numbers.NumberImageError) as bad:
        return None, None, str(bad)


def headline(reading: numbers.NumberReading | None, problem: str, label: str) -> tuple[str, str]:
    """(headline, caption) for the page's fixed box."""
    if problem:
        return problem, f"Upload a PNG or JPEG photo of digits written on paper · {label}"
    if reading is None:
        return "Photograph a number", f"Write a number on paper, then upload a photo or take one · {label}"
    if not reading.digits:
        return reading.message or "No digits found", f"Nothing on this photo is read as a digit · {label}"
    return number.headline(reading, label)


def details(photo: np.ndarray, reading: numbers.NumberReading, model: models.Model, name: str, store) -> None:
    """The photo with its boxes, each digit as the model saw it with its bars, and Number mode's Save."""
    scale = min(1.0, SHOWN / photo.shape[1])
    shown = photo[:: max(int(round(1 / scale)), 1), :: max(int(round(1 / scale)), 1)]
    step = photo.shape[1] / shown.shape[1]
    shrink = [tuple(int(v / step) for v in box) for box in reading.boxes]
    st.image(boxed(shown, list(zip(shrink, [d.sure for d in reading.digits], strict=True)), []), caption=CAPTION)
    sketch = sketchpad.Sketch(image=photo, brush=None, digit=None)
    number.details(sketch, reading, model, name, store, show_drawing=False)


CAPTION = "Green: a digit read surely; amber: unsure. Numbered as read. Below: each digit as the model saw it."
