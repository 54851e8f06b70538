"""Round 12 (issue 26): a soup of fine-tunes. Teach the same drawings three times, each with its own seed, and
average the taught weights. Chosen on the tuning twins with writers 16-20 as the people (never 21-30).

    python benchmarks/personal_soup.py cache      # teach each twin each writer's drawings once per candidate recipe
    python benchmarks/personal_soup.py choose     # every candidate scored from the kept readings; the rule picks one

Rounds 9-11 changed what teaching does; the held-out writers then read differently from the tuning ones, a drawing
or two at a time (writers made worse by one drawing; MNIST drops one or two digits over the goal). Part of that is
the fine-tune's own noise: which distortions of the 30 drawings it saw, which MNIST digits were replayed, in what
order. A uniform "model soup" (Wortsman et al., 2022) averages the weights of fine-tunes that start from the same
network and differ only in such choices; it kept their gain and was steadier than any one of them on other tasks.
Here each fine-tune of the soup has its own seed (personal.Recipe.soup): the first is the shipped fine-tune, seed
for seed. Candidates: the shipped fine-tune (3 epochs at 2e-4, one seed); a soup of 3 at 2e-4; a soup of 3 at 5e-4
(Round 10's harder teaching, which forgot too much alone). Each with 8 repeats and 16 MNIST digits replayed per
drawing, every layer learning, as shipped, and each with and without Round 9's blend: 6. A soup of 3 triples the
teaching time (the ensemble's 15 s to about 45 s; the goal allows 90 s). Teaching, scoring and forgetting are
measured as in Round 10 (benchmarks/personal_wise.py), whose code this reuses.

The rule, fixed before any candidate was scored (Round 10's): of the candidates that make no writer of 16-20 worse
for any of the four models and cost every model at most 0.3 points of MNIST, the one with the lowest error ratio for
the ensemble (the best model); ties (to 3 decimals) go to the lowest mean error ratio over the four models, then to
the smallest largest MNIST drop, then to the earlier in CANDIDATES' order, whose first is the shipped recipe
(personal.RECIPE): it is replaced only by a candidate that beats it by this rule.
CANDIDATES' order is personal_wise.run_round's: FINE_TUNES in order, each with the blend and then without.
Writes benchmarks/results/personal-soup-choice.json.
"""

from __future__ import annotations

from dataclasses import replace

import personal_wise
from personal_blend import FINE_TUNE

FINE_TUNES = {  # the first is the shipped fine-tune (personal.RECIPE without its blend)
    "one fine-tune at 2e-4": FINE_TUNE,
    "a soup of 3 at 2e-4": replace(FINE_TUNE, soup=3),
    "a soup of 3 at 5e-4": replace(FINE_TUNE, soup=3, learning_rate=5e-4),
}


if __name__ == "__main__":
    personal_wise.run_round(__doc__, "round12", FINE_TUNES, "personal-soup-choice.json")
