"""Struct-of-arrays customer state, firm parameters and firm accounts.

Customer ``i``'s view of firm ``f`` is row ``i``, column ``f`` of each (N, M)
array; ``beliefs`` is (N, M, 3) with the aspects ability, benevolence,
integrity (``trustsim.rules.ASPECTS``). ``provider`` is -1 for a prospect.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trustsim.layout import LEDGER, LEDGER_FLOWS, chunks

NO_PROVIDER = -1
# per-customer events of a step, in the order of the panel's columns
PANEL_EVENTS = (
    "warned",
    "exploited",
    "discovered",
    "failed",
    "complained",
    "recovered",
    "breached",
    "left",
)


@dataclass
class CustomerState:
    """All customer state; scratch flags are reset at the start of every step."""

    beliefs: np.ndarray  # (N, M, 3) in [0, 1]
    balance: np.ndarray  # (N, M) emotional bank account e
    identification: np.ndarray  # (N, M) s in [0, 1], fixed
    propensity: np.ndarray  # (N,) prior of all beliefs
    talkativeness: np.ndarray  # (N,) Gamma, mean 1
    provider: np.ndarray  # (N,) firm index or NO_PROVIDER
    tenure: np.ndarray  # (N,) steps with the current provider
    cohort: np.ndarray  # (N,) still with the provider it had at t = 0
    aware: np.ndarray  # (N, M) knows the firm (its consideration set); always its provider
    played: np.ndarray = field(init=False)  # (N,) chosen by a person, not by 7.5 (classroom)
    # this step's events (the panel's columns, ODD 8)
    served: np.ndarray = field(init=False)  # provider when the step began
    warned: np.ndarray = field(init=False)
    exploited: np.ndarray = field(init=False)
    discovered: np.ndarray = field(init=False)
    failed: np.ndarray = field(init=False)
    complained: np.ndarray = field(init=False)
    recovered: np.ndarray = field(init=False)
    breached: np.ndarray = field(init=False)
    left: np.ndarray = field(init=False)
    stars: np.ndarray = field(init=False)  # stars a review would give (0: no encounter)
    story: np.ndarray = field(init=False)
    story_firm: np.ndarray = field(init=False)
    story_evidence: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = self.n
        self.played = np.zeros(n, dtype=bool)
        # the week's scratch arrays, allocated once; reset_events gives their values
        self.served = np.empty_like(self.provider)
        for name in PANEL_EVENTS:
            setattr(self, name, np.empty(n, dtype=bool))
        self.stars, self.story_evidence = np.empty(n), np.empty(n)
        self.story = np.empty(n, dtype=np.int8)
        self.story_firm = np.empty(n, dtype=np.int64)
        self.reset_events()

    @property
    def n(self) -> int:
        """Number of customers."""
        return int(self.provider.size)

    @property
    def n_firms(self) -> int:
        """Number of firms."""
        return int(self.balance.shape[1])

    def reset_events(self) -> None:
        """Clear this step's event flags (ODD 3: at the start of a week), in place:
        whoever keeps last week's flags (the panel) keeps a copy."""
        self.served[:] = self.provider
        for name in PANEL_EVENTS:
            getattr(self, name)[:] = False
        self.stars[:] = 0.0
        self.story[:] = 0
        self.story_firm[:] = NO_PROVIDER
        self.story_evidence[:] = 0.0


class Ledger(np.recarray):
    """Per-firm flows of the current step: one record per firm (``layout.LEDGER``);
    ``ledger.churns`` is the array of churns by firm (a view: writing writes the flows)."""

    @classmethod
    def empty(cls, n_firms: int) -> Ledger:
        """A ledger of zeros for ``n_firms`` firms."""
        return np.zeros(n_firms, dtype=LEDGER).view(cls)

    def part(self, n: int) -> np.ndarray:
        """Zeroed ledger rows for the kernels, one per chunk of ``n`` customers and firm."""
        return np.zeros((chunks(n), self.size), dtype=LEDGER)

    def add(self, part: np.ndarray) -> np.ndarray:
        """Add the kernels' rows, summed over chunks in chunk order (so the result never
        depends on the thread count); returns what they added, (M, flows)."""
        added = part.view(np.float64).reshape(*part.shape, len(LEDGER_FLOWS)).sum(axis=0)
        self.view(np.ndarray).view(np.float64).reshape(self.size, -1)[:] += added
        return added

    def flows(self) -> dict[str, np.ndarray]:
        """The flows by name (views of the ledger, not copies)."""
        return {name: self.view(np.ndarray)[name] for name in LEDGER_FLOWS}


@dataclass
class Accounts:
    """Per-firm stocks that accumulate over the run."""

    cumulative_profit: np.ndarray
    npv: np.ndarray
    review_log: list[tuple[np.ndarray, np.ndarray]]  # per entry: (count, star sum)
    review_count: np.ndarray  # running totals of the log, so a step costs O(1) in the run
    star_sum: np.ndarray

    @classmethod
    def empty(cls, n_firms: int) -> Accounts:
        """Accounts of zeros for ``m`` firms."""
        return cls(np.zeros(n_firms), np.zeros(n_firms), [], np.zeros(n_firms), np.zeros(n_firms))

    def add_reviews(self, count: np.ndarray, star_sum: np.ndarray) -> None:
        """Log this step's new reviews per firm (count and sum of their stars)."""
        self.review_log.append((count, star_sum))
        self.review_count = self.review_count + count
        self.star_sum = self.star_sum + star_sum

    def reviews(self, window: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Review count and star sum over the whole run or the last ``window`` entries."""
        if window is None:
            return self.review_count, self.star_sum
        log = self.review_log[-window:]
        if not log:
            return np.zeros_like(self.npv), np.zeros_like(self.npv)
        counts, stars = zip(*log, strict=True)
        return np.sum(counts, axis=0), np.sum(stars, axis=0)
