"""Reading digits from a photo of paper (issue 39): what a photo file holds, the ink of the number on it, and
photos made for measuring.

Owns `load_photo` (a file's bytes -> an RGB array, EXIF rotation honoured, with typed errors for what is no image,
damaged, or too large), `photo_ink` (a photo -> the number's ink, ready for the numbers segmentation: the light
evened out, the paper's rules taken away, deskewed, one row of writing kept, the strokes measured and thickened to
MNIST's width) and `made` (photos of pen or MNIST digits on paper, for benchmarks/paper.py and tests). Every image
step is an OpenCV call (docs/experiments.md says why OpenCV). `mnist_app.numbers.read_number` calls
`photo_ink` for a grey or RGB uint8 array; the canvas's RGBA keeps its own path.
"""

from .files import MAX_SIDE, NotAnImageError, PhotoError, PhotoTooLargeError, check_photo, load_photo
from .ink import NotAPhotoOfANumberError, PhotoInk, photo_ink, thickened

__all__ = [
    "MAX_SIDE",
    "NotAPhotoOfANumberError",
    "NotAnImageError",
    "PhotoError",
    "PhotoInk",
    "PhotoTooLargeError",
    "check_photo",
    "load_photo",
    "photo_ink",
    "thickened",
]
