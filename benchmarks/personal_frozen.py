"""Round 11 (issue 26): what is frozen. Teach only a network's last layers, harder, and keep the rest as shipped.
Chosen on the tuning twins with writers 16-20 as the people (never 21-30).

    python benchmarks/personal_frozen.py cache      # teach each twin each writer's drawings once per fine-tune
    python benchmarks/personal_frozen.py choose     # every candidate scored from the kept readings; the rule picks one

Rounds 7 and 10 found that teaching every layer harder (a higher rate, more epochs) fixed more of a person's
misreadings but forgot more of MNIST than the goal allows. The issue names "what is frozen" among the recipe's knobs,
and no round has tried it: a network whose lower layers keep the features MNIST and the training writers taught it,
and whose last layers alone learn the person's drawings (personal.Recipe.train_top; the kinds' `train_top`), may
bear a higher rate before it forgets. Candidates: the shipped fine-tune (every layer, 3 epochs at 2e-4); the output
layer alone, 3 epochs at 1e-3 and at 3e-3, and 6 epochs at 3e-3; the last two layers (for the CNN, its dense layer
and the output), 3 epochs at 5e-4 and at 1e-3. Each with 8 repeats and 16 MNIST digits replayed per drawing, as
shipped, and each with and without Round 9's blend of the taught drawings: 12, the first of them the shipped recipe.
Teaching, scoring and forgetting are measured as in Round 10 (benchmarks/personal_wise.py), whose code this reuses.

The rule, fixed before any candidate was scored (Round 10's): of the candidates that make no writer of 16-20 worse
for any of the four models and cost every model at most 0.3 points of MNIST, the one with the lowest error ratio for
the ensemble (the best model); ties (to 3 decimals) go to the lowest mean error ratio over the four models, then to
the smallest largest MNIST drop, then to the earlier in CANDIDATES' order, whose first is the shipped recipe
(personal.RECIPE): it is replaced only by a candidate that beats it by this rule.
CANDIDATES' order is personal_wise.run_round's: FINE_TUNES in order, each with the blend and then without.
Writes benchmarks/results/personal-frozen-choice.json.
"""

from __future__ import annotations

from dataclasses import replace

import personal_wise
from personal_blend import FINE_TUNE

FINE_TUNES = {  # the first is the shipped fine-tune (personal.RECIPE without its blend)
    "every layer, 3 epochs at 2e-4": FINE_TUNE,
    "output layer, 3 epochs at 1e-3": replace(FINE_TUNE, train_top=1, learning_rate=1e-3),
    "output layer, 3 epochs at 3e-3": replace(FINE_TUNE, train_top=1, learning_rate=3e-3),
    "output layer, 6 epochs at 3e-3": replace(FINE_TUNE, train_top=1, learning_rate=3e-3, epochs=6),
    "last 2 layers, 3 epochs at 5e-4": replace(FINE_TUNE, train_top=2, learning_rate=5e-4),
    "last 2 layers, 3 epochs at 1e-3": replace(FINE_TUNE, train_top=2, learning_rate=1e-3),
}


if __name__ == "__main__":
    personal_wise.run_round(__doc__, "round11", FINE_TUNES, "personal-frozen-choice.json")
