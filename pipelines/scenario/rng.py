"""Where every random draw of the scenario comes from.

Every draw comes from `rng_for(seed, stream, *keys)`, a numpy Generator seeded from the scenario seed and fixed
integer keys (stream, provider, week or day). Nothing random lives at module level, and because each week of
incidents and each day of rows has its own key, a day's files do not depend on the range asked for.
"""

from __future__ import annotations

import numpy as np

# rng streams (the first key after the seed)
S_INCIDENTS, S_RANKS, S_CROWD, S_REQUESTS, S_CLIENTS, S_BURSTS, S_STATUS, S_MALFORMED, S_RANK_WALK = range(1, 10)


def rng_for(seed: int, *keys: int) -> np.random.Generator:
    """A numpy Generator for one stream of the scenario: seeded from the seed and integer keys only."""
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, *(int(k) for k in keys)]))
