"""Does the Drawings page stay fast with many saved drawings? Times it headless (Streamlit's AppTest).

    python benchmarks/drawings_page.py              # 10,000 MNIST test digits saved as drawings
    python benchmarks/drawings_page.py --count 2000

Fills a fresh SQLite store with real MNIST test digits (each with a 280 px canvas PNG, as the Draw page
saves them), then times the page: the first opening (every model re-reads every drawing), a second
opening (all cached), a gallery page turn, and an opening after one more drawing is saved (one block of
ids re-read). Prints a table; nothing is written.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_app.data import load_mnist
from mnist_app.drawings import DrawingStore, canvas_png
from mnist_app.testing import ROOT


def fill(store: DrawingStore, count: int) -> None:
    """`count` MNIST test digits (repeated past 10,000) saved as the Draw page saves them, in 50 sessions."""
    mnist = load_mnist()
    for k in range(count):
        image, label = mnist.x_test[k % len(mnist.x_test)], int(mnist.y_test[k % len(mnist.y_test)])
        grey = np.asarray(Image.fromarray(image).resize((280, 280), Image.Resampling.BILINEAR))
        canvas = canvas_png(np.dstack([grey, grey, grey, np.full_like(grey, 255)]))
        store.add(image / 255.0, label, canvas_png=canvas, model="numpy-mlp", brush=20, session_id=f"s{k % 50}")


def timed(step) -> tuple[float, object]:
    start = time.perf_counter()
    result = step()
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000, help="drawings to save (default 10,000)")
    args = parser.parse_args(argv)
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'drawings.sqlite'}"
        os.environ["MNIST_APP_DB"] = url
        store = DrawingStore(url)
        seconds, _ = timed(lambda: fill(store, args.count))
        size = Path(tmp, "drawings.sqlite").stat().st_size / 2**20
        print(f"saved {args.count:,} drawings in {seconds:.0f}s ({size:.0f} MiB)")

        def open_page() -> AppTest:
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=1800).run()
            return at.switch_page("mnist_app/ui/drawings.py").run()

        rows = {}
        rows["first opening (every model re-reads every drawing)"], at = timed(open_page)
        assert not at.exception, at.exception
        rows["second opening (cached)"], at = timed(open_page)
        rows["next gallery page"], _ = timed(lambda: at.number_input(key="gallery_page").set_value(2).run())
        store.add(np.zeros((28, 28), np.float32), 0, session_id="one-more")
        rows["opening after one more drawing is saved"], at = timed(open_page)
        assert f"{args.count + 1:,} drawings" in at.caption[0].value
    print(f"\n| Drawings page, {args.count:,} saved drawings (AppTest) | seconds |\n| --- | --- |")
    for what, seconds in rows.items():
        print(f"| {what} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
