"""A market in a manager's terms (ODD 8.7): the optional ``business:`` section.

A manager knows the customer base, the revenue per customer per month, the margin,
the fee a costly mistake earns and how many customers make one a year, the annual
churn and how many overcharges customers find. :func:`mapped` turns these into the
model's parameters by the formulas of ODD 8.7, when the scenario is built; a key the
file sets itself wins and may not also be stated here. :class:`Money` turns the
model's money back into the manager's currency: one model unit is one encounter's
price, and the simulated firm's customers stand for the real customer base.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from trustsim.schema import Section

if TYPE_CHECKING:
    from trustsim.config import Scenario

PERIODS_PER_YEAR = {"week": 52, "month": 12, "quarter": 4, "year": 1}

SWITCH_GIVEN_SEARCH = 0.34
"""Of the customers who reconsider the market, the share who switch or leave in the
calibrated baseline (ODD 8.4, ``switch_given_search``): a churn hazard of h a week
needs customers to reconsider at about h / 0.34 a week."""

MAPPED = {
    "margin": "firms.*.unit_cost",
    "mistake_fee": "firms.*.mistake_revenue",
    "mistake_share": "market.mistake_rate",
    "annual_churn": "market.review_rate",
    "discovered": "market.discovery",
}
"""Which model parameter each stated business figure sets (``*``: every firm)."""


class Business(Section):
    """ODD 8.7: the market in business terms; each figure may cite its ``sources``."""

    currency: str = Field("GBP", min_length=1, max_length=12, description="currency code")
    period: Literal["week", "month", "quarter", "year"] = Field(
        "month", description="the period of revenue_per_customer"
    )
    firm: str | None = Field(None, description="whose customer base (default: the first firm)")
    customers: float = Field(gt=0, description="the firm's real customer base")
    revenue_per_customer: float = Field(gt=0, description="revenue per customer per period")
    margin: float | None = Field(None, gt=0, lt=1, description="contribution margin on it")
    mistake_fee: float | None = Field(
        None, ge=0, description="what a costly mistake earns the firm (an overage fee)"
    )
    mistake_share: float | None = Field(
        None, ge=0, lt=1, description="share of customers who make a costly mistake a year"
    )
    annual_churn: float | None = Field(
        None, gt=0, lt=1, description="share of customers who leave a year"
    )
    discovered: float | None = Field(
        None, ge=0, le=1, description="share of overcharges customers find out"
    )
    sources: dict[str, str] = Field(
        default_factory=dict, description="where each figure comes from, by key"
    )

    @model_validator(mode="after")
    def _known_sources(self) -> Business:
        fields = set(type(self).model_fields) - {"sources"}
        unknown = sorted(set(self.sources) - fields)
        if unknown:
            raise ValueError(
                f"sources: no business figure {unknown[0]!r}; allowed: {', '.join(sorted(fields))}"
            )
        return self

    @property
    def periods_per_year(self) -> int:
        """How many of ``period`` make a year."""
        return PERIODS_PER_YEAR[self.period]


def stated(scenario: Scenario) -> Business:
    """The scenario's business section, or one clear error if it has none."""
    if scenario.business is None:
        raise ValueError("business: this scenario has no business section (ODD 8.7)")
    return scenario.business


def encounters_per_year(scenario: Scenario) -> float:
    """ODD 8.7: a customer's encounters a year, ``need_rate * steps_per_year`` (trust's
    effect on purchase frequency is left out: at the mean it is small)."""
    return scenario.market.need_rate * scenario.market.steps_per_year


def business_firm(scenario: Scenario) -> int:
    """The index of the firm whose customer base ``business.customers`` is."""
    name = stated(scenario).firm
    return 0 if name is None else scenario.firm_names.index(name)


def unit_value(scenario: Scenario) -> float:
    """ODD 8.7: the currency value of one model money unit (one encounter at price 1):
    the year's revenue per customer over the year's encounters at the firm's price."""
    b = stated(scenario)
    price = scenario.firms[business_firm(scenario)].price
    yearly = b.revenue_per_customer * b.periods_per_year
    return yearly / (encounters_per_year(scenario) * price)


def mapped(scenario: Scenario) -> dict[str, Any]:
    """ODD 8.7: the model parameters the business figures set, as dotted overrides."""
    b = scenario.business
    if b is None:
        return {}
    k = encounters_per_year(scenario)
    out: dict[str, Any] = {}
    for firm in scenario.firm_names:
        if b.margin is not None:
            out[f"firms.{firm}.unit_cost"] = _price(scenario, firm) * (1.0 - b.margin)
        if b.mistake_fee is not None:
            out[f"firms.{firm}.mistake_revenue"] = b.mistake_fee / unit_value(scenario)
    if b.mistake_share is not None:  # P(no opportunity in k encounters) = 1 - share
        out["market.mistake_rate"] = 1.0 - (1.0 - b.mistake_share) ** (1.0 / k)
    if b.annual_churn is not None:
        weekly = -math.log(1.0 - b.annual_churn) / scenario.market.steps_per_year
        out["market.review_rate"] = min(1.0, weekly / SWITCH_GIVEN_SEARCH)
    if b.discovered is not None:
        out["market.discovery"] = b.discovered
    return out


def _price(scenario: Scenario, firm: str) -> float:
    return scenario.firms[scenario.firm_names.index(firm)].price


def short(value: float) -> str:
    """An amount as a manager reads it: ``25.3m``, ``1.2bn``, ``950``."""
    size = abs(value)
    for cut, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if size >= cut:
            return f"{value / cut:,.3g}{suffix}"
    return f"{value:,.0f}"


class Money:
    """Model money in a report's words: the manager's currency, scaled from the
    simulated firm to the real customer base (``scale`` real customers per simulated
    one), or model units where the scenario has no ``business:`` section."""

    def __init__(self, scenario: Scenario) -> None:
        b = scenario.business
        self.business = b
        if b is None:
            self.unit, self.scale, self.currency = 1.0, 1.0, ""
            return
        firm = scenario.firms[business_firm(scenario)]
        simulated = scenario.population.size * firm.initial_share
        self.unit = unit_value(scenario)
        self.scale = b.customers / simulated if simulated > 0 else float("nan")
        self.currency = b.currency

    @property
    def factor(self) -> float:
        """Currency per model unit of one simulated market's money."""
        return self.unit * self.scale

    def __call__(self, amount: float, *, sign: bool = False) -> str:
        """``amount`` (model units) as text: ``GBP 12.3m`` or ``1,234``."""
        value = amount * self.factor
        if not self.currency:
            return f"{value:+,.0f}" if sign else f"{value:,.0f}"
        mark = "-" if value < 0 else ("+" if sign and value > 0 else "")
        return f"{mark}{self.currency} {short(abs(value))}"

    def interval(self, low: float, high: float) -> str:
        """``[GBP 1.2m to GBP 3.4m]``-style bounds, signed."""
        return f"{self(low, sign=True)} to {self(high, sign=True)}"

    def units(self) -> str:
        """What the money in a report is, in one sentence."""
        if self.business is None:
            return (
                "Money is in model units (one unit is the price of one service encounter; "
                "the scenario has no business: section, ODD 8.7)."
            )
        b = self.business
        return (
            f"Money is in {b.currency}, scaled to {b.customers:,.0f} customers: each simulated "
            f"customer of the firm stands for {self.scale:,.0f} real ones, and one model unit "
            f"(one encounter's price) is {b.currency} {self.unit:,.2f} (ODD 8.7)."
        )
