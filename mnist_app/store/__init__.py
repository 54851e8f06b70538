"""The drawing store: what people draw with its true label, kept to measure and train the models. Connecting
(database.py), the tables and their Alembic migrations (schema.py, migrations/), what is accepted (checks.py),
saved drawings (drawings.py), every model's reading of them (readings.py), files in and out (files.py), who owns
what (visitors.py) and the command line (`python -m mnist_app.store.cli`).

Imports models and the foundation; never training, reports or ui.
"""
