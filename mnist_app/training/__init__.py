"""Training beyond train.py's command line: the Train page's knobs, one spec each (settings.py), its runs (jobs.py)
and a run's own process (job_process.py), the runs people keep (kept_runs.py), and teaching a model one person's
handwriting (personal.py).

Imports store, reports, models, data and the foundation; never ui.
"""
