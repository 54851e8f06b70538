"""A photo file's bytes -> an (H, W, 3) uint8 RGB array, with a typed error for everything that is not a photo to read.

Pillow decodes (PNG, JPEG, and what else it opens; HEIC only where a HEIF plugin is installed: none is by default),
the EXIF orientation turns the picture upright (PIL.ImageOps.exif_transpose), and the size is checked before the
pixels are decoded, so a decompression bomb never reaches memory.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = 4000  # px: photos up to 4000x4000 are read (a 12-megapixel phone photo is 4000x3000)
MAX_FILE = 40_000_000  # bytes: a larger upload is refused before it is opened


class PhotoError(ValueError):
    """The photo cannot be read: the message says why, in words for the page."""


class NotAnImageError(PhotoError):
    """The file is no image, or a damaged or truncated one."""


class PhotoTooLargeError(PhotoError):
    """The image is larger than MAX_SIDE on a side (or the file than MAX_FILE bytes)."""


def too_large(width: int, height: int) -> PhotoTooLargeError:
    return PhotoTooLargeError(f"Too large: {width}x{height} pixels; at most {MAX_SIDE}x{MAX_SIDE} are read")


def load_photo(data: bytes) -> np.ndarray:
    """A file's bytes -> (H, W, 3) uint8 RGB, upright as its EXIF says. NotAnImageError or PhotoTooLargeError."""
    if not isinstance(data, bytes | bytearray) or not data:
        raise NotAnImageError("This file is not an image: it is empty")
    if len(data) > MAX_FILE:
        raise PhotoTooLargeError(f"Too large: the file is {len(data) / 1e6:.0f} MB; at most {MAX_FILE // 1_000_000} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width > MAX_SIDE or image.height > MAX_SIDE:
                raise too_large(image.width, image.height)
            image.load()
            upright = ImageOps.exif_transpose(image)
            rgb = np.asarray(upright.convert("RGB"))
    except PhotoTooLargeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
        raise PhotoTooLargeError(f"Too large: {bomb}; at most {MAX_SIDE}x{MAX_SIDE} pixels are read") from None
    except UnidentifiedImageError:
        raise NotAnImageError("This file is not an image (PNG or JPEG)") from None
    except (OSError, SyntaxError, ValueError) as damaged:
        raise NotAnImageError(
            f"This file is not an image that can be read: it is damaged or cut short ({damaged})"
        ) from None
    return np.ascontiguousarray(rgb)


def check_photo(image: np.ndarray) -> None:
    """A photo array is (H, W) or (H, W, 3) uint8, at most MAX_SIDE a side: PhotoError (PhotoTooLargeError) if not."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise PhotoError("a photo must be a uint8 NumPy array")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3) or 0 in image.shape:
        raise PhotoError(f"a photo must be (H, W) grey or (H, W, 3) RGB, got shape {image.shape}")
    if max(image.shape[:2]) > MAX_SIDE:
        raise too_large(image.shape[1], image.shape[0])
