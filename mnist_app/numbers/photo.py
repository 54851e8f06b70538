"""A photo of paper read as a number: the photo's ink (mnist_app.photos) cut and read as the canvas's is, each
candidate's thin strokes thickened to MNIST's width after the cuts, the boxes mapped back to the photo's pixels."""

from __future__ import annotations

import dataclasses

import numpy as np

from mnist_app import photos

from .pieces import candidates
from .reading import ImageTooLargeError, NumberImageError, NumberReading

NO_DIGITS = "No digits found"


def is_photo(image) -> bool:
    """A grey or RGB uint8 array is a photo or scan; the canvas gives RGBA."""
    return isinstance(image, np.ndarray) and image.dtype == np.uint8 and (image.ndim == 2 or image.shape[-1] == 3)


def read_photo(image: np.ndarray, net, max_digits: int, reading_of) -> NumberReading:
    """The number on a photo; `reading_of` (search's) picks the path. Blank paper, text or a picture read as none."""
    try:
        photos.check_photo(image)
    except photos.PhotoTooLargeError as large:
        raise ImageTooLargeError(str(large)) from None
    except photos.PhotoError as bad:
        raise NumberImageError(str(bad)) from None
    try:
        found = photos.photo_ink(image)
    except photos.NotAPhotoOfANumberError as why:
        return NumberReading(max_digits=max_digits, note=f"{NO_DIGITS}: {why}")
    if found is None:
        return NumberReading(max_digits=max_digits, note=NO_DIGITS)
    pieces = candidates(found.ink, lambda piece: photos.thickened(piece, found.grow))
    reading = reading_of(pieces, net.predict_proba(pieces.images), net.unsure_below, max_digits)
    shape = image.shape[:2]
    digits = tuple(dataclasses.replace(d, box=found.box_in_photo(d.box, shape)) for d in reading.digits)
    marks = tuple(found.box_in_photo(box, shape) for box in reading.marks)
    note = "" if digits else NO_DIGITS
    return dataclasses.replace(reading, digits=digits, marks=marks, note=note)
