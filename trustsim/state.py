"""Struct-of-arrays customer state, firm parameters and firm accounts.

Customer ``i``'s view of firm ``f`` is row ``i``, column ``f`` of each (N, M)
array; ``beliefs`` is (N, M, 3) with the aspects ability, benevolence,
integrity (``trustsim.rules.ASPECTS``). ``provider`` is -1 for a prospect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


class Ledger:
    """Per-firm flows of the current step, one column per flow of
    ``layout.LEDGER_FLOWS``: ``ledger.churns`` is the array of churns by firm (a
    view: writing writes the flows).

    Kernels write their chunk's rows of ``part``, records of dtype ``layout.LEDGER``
    (``part[c, f].churns``) over the float array ``chunks``; ``kernels.add_chunks``
    sums them into ``table`` in chunk order, so the flows never depend on the thread
    count. A plain class over float arrays,
    not a record array: a step reads the flows some thirty times from Python, and
    a ``recarray`` attribute costs 4 microseconds.
    """

    def __init__(self, n_firms: int, n_customers: int) -> None:
        flows = len(LEDGER_FLOWS)
        self.table = np.zeros((n_firms, flows))  # (M, flows)
        # the kernels' rows, (chunks, M, flows), zero between phases; part: as records
        self.chunks = np.zeros((chunks(n_customers), n_firms, flows))
        self.part = self.chunks.view(LEDGER)[..., 0]

    def __getattr__(self, name: str) -> np.ndarray:
        if name not in COLUMN:
            raise AttributeError(f"a ledger has no flow {name!r}")
        return self.table[:, COLUMN[name]]

    def __setattr__(self, name: str, value: Any) -> None:
        if name in COLUMN:  # ledger.costs += x: the column was changed in place
            self.table[:, COLUMN[name]] = value
        else:
            object.__setattr__(self, name, value)

    def flows(self) -> dict[str, np.ndarray]:
        """The flows by name (views of the ledger, not copies)."""
        return {name: self.table[:, k] for name, k in COLUMN.items()}


COLUMN = {name: k for k, name in enumerate(LEDGER_FLOWS)}


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
