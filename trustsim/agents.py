"""Mesa agents: ``Customer`` is a handle onto its row of the state arrays,
``Firm`` holds a firm's configuration and its live accounts.

Handles carry no state of their own, so the compiled phases stay the single
source of truth; they exist for inspection, drawing and the classroom app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from trustsim import rules
from trustsim.config import Firm as FirmConfig

if TYPE_CHECKING:
    from trustsim.model import TrustModel


class Customer(mesa.Agent):
    """Customer ``index``: a view onto row ``index`` of ``model.state``."""

    model: TrustModel

    def __init__(self, model: TrustModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def provider(self) -> int | None:
        """The customer's firm index, or None for a prospect."""
        f = int(self.model.state.provider[self.index])
        return None if f < 0 else f

    @property
    def neighbours(self) -> np.ndarray:
        """The customer's neighbours on the network, in ascending order."""
        return self.model.network.neighbours(self.index)

    def beliefs(self, firm: int) -> dict[str, float]:
        """Ability, benevolence and integrity this customer sees in ``firm``."""
        values = self.model.state.beliefs[self.index, firm]
        return dict(zip(rules.ASPECTS, map(float, values), strict=True))

    def trust(self, firm: int) -> dict[str, float]:
        """Cognitive, affective and overall trust in ``firm``."""
        c, f, t = self.model.trust_of(np.array([self.index]), np.array([firm]))
        return {"cognitive": float(c[0]), "affective": float(f[0]), "overall": float(t[0])}


class Firm(mesa.Agent):
    """A firm: its strategy (a config record) and its accounts in the model."""

    model: TrustModel

    def __init__(self, model: TrustModel, index: int, config: FirmConfig) -> None:
        super().__init__(model)
        self.index = index
        self.config = config

    @property
    def name(self) -> str:
        """The firm's name, as in the scenario."""
        return self.config.name

    @property
    def customers(self) -> int:
        """How many customers the firm has now."""
        return int(np.count_nonzero(self.model.state.provider == self.index))

    @property
    def cumulative_profit(self) -> float:
        """The firm's profit summed over the steps so far."""
        return float(self.model.accounts.cumulative_profit[self.index])
