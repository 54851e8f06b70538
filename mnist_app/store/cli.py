"""The drawing store from the command line: `python -m mnist_app.store.cli reread|prune|export|import|upgrade`.

reread   makes every shipped model's missing readings (after a retrain), as the Drawings page would, with progress
prune    deletes the readings of model versions other than today's (once every server runs today's models)
export   writes every shared drawing to an .npz or CSV file, streamed, with writer pseudonyms and no owner (a public
         backup, or a move to another database); private teach drawings stay out
import   adds a file's drawings, shared and owned by nobody (only the admin token deletes them); importing the same
         file twice adds nothing twice
upgrade  brings the store's tables up to this mnist-app's schema (opening a store does it too)

The store is $MNIST_APP_DB's (default: the SQLite file in the user's data folder), or --db's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from mnist_app import models
from mnist_app.store import files as drawing_files
from mnist_app.store import readings
from mnist_app.store.drawings import DrawingStore, StoreError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mnist_app.store.cli", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="an SQLAlchemy URL (default: $MNIST_APP_DB, else the user's SQLite file)")
    commands = parser.add_subparsers(dest="command", required=True)
    reread = commands.add_parser("reread", help="make the shipped models' missing readings")
    reread.add_argument("--models", help="a models folder (default: $MNIST_APP_MODELS, else models/)")
    prune = commands.add_parser("prune", help="delete the readings of other model versions than today's")
    prune.add_argument("--models", help="a models folder (default: $MNIST_APP_MODELS, else models/)")
    export = commands.add_parser("export", help="write every shared drawing to a file")
    export.add_argument("file", type=Path, help="drawings.npz or drawings.csv")
    imported = commands.add_parser("import", help="add a file's drawings")
    imported.add_argument("file", type=Path)
    commands.add_parser("upgrade", help="migrate the store's tables to this mnist-app's schema")
    args = parser.parse_args(argv)
    try:
        store = DrawingStore(args.db)
        print(f"the store: {store.url}, schema version {store.schema_version()}")
        if args.command == "reread":
            _reread(store, args.models)
        elif args.command == "prune":
            directory = _models_dir(args.models)
            today = {name: models.version(name, directory) for name in models.available(directory)}
            print(f"{readings.prune(store, today):,} readings of other model versions deleted")
        elif args.command == "export":
            with open(args.file, "wb") as file:
                count = drawing_files.write(store, file, args.file.suffix.lstrip(".").lower())
            print(f"{count:,} drawings written to {args.file}")
        elif args.command == "import":
            done = drawing_files.import_file(store, args.file)
            print(f"{done.added:,} drawings added, {done.skipped:,} already there")
    except (StoreError, models.ModelLoadError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _models_dir(given: str | None) -> str:
    return given or os.environ.get("MNIST_APP_MODELS") or str(models.MODELS_DIR)


def _reread(store: DrawingStore, directory: str | None) -> None:
    directory = _models_dir(directory)
    for name in models.available(directory):
        version = models.version(name, directory)
        model = models.load(name, directory)
        started = time.perf_counter()

        def say(progress: readings.Progress, name=name) -> None:
            print(f"\r{name}: {progress.done:,} of {progress.total:,} read", end="", flush=True)

        made = readings.fill(store, name, version, model.predict_proba, on_batch=say)
        seconds = time.perf_counter() - started
        if made is None:
            print(f"{name}: another process is making these readings now")
        else:
            print(f"\r{name} (version {version}): {made:,} readings made in {seconds:.1f} s")


if __name__ == "__main__":
    raise SystemExit(main())
