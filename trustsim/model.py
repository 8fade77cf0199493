"""``TrustModel``: assembles network, state and firms, and orders the phases."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from trustsim import draws, events, kernels, metrics, phases, rules
from trustsim.agents import Customer, Firm
from trustsim.config import AnyEvent, ConfigError, Scenario, get_dotted, load_scenario
from trustsim.network import build_network
from trustsim.phases import Context
from trustsim.rules import ABILITY
from trustsim.state import (
    NO_PROVIDER,
    PANEL_EVENTS,
    Accounts,
    CustomerState,
    Ledger,
)

AGENT_HANDLES_UP_TO = 20_000


def initial_state(scenario: Scenario, init: draws.InitDraws) -> CustomerState:
    """ODD 5: beliefs at the propensity, empty bank, identification, providers, awareness."""
    n, m = scenario.population.size, len(scenario.firms)
    beliefs = np.repeat(init.propensity[:, None, None], m * 3, axis=1).reshape(n, m, 3)
    promise = np.array([f.promise for f in scenario.firms])
    advertising = np.array([f.advertising for f in scenario.firms])
    beliefs[:, :, ABILITY] = rules.first_impression(
        init.propensity[:, None], promise, advertising, scenario.market.first_impression
    )
    cosine = init.customer_values @ init.firm_values.T
    shares = np.cumsum([f.initial_share for f in scenario.firms])
    provider = np.searchsorted(shares, init.u_provider, side="right")
    provider = np.where(provider < m, provider, NO_PROVIDER).astype(np.int64)
    aware = init.u_aware < scenario.market.initial_awareness
    aware[provider >= 0, provider[provider >= 0]] = True
    return CustomerState(
        beliefs=beliefs,
        balance=np.zeros((n, m)),
        identification=(cosine + 1.0) / 2.0,
        propensity=init.propensity,
        talkativeness=init.talkativeness,
        provider=provider,
        tenure=np.zeros(n, dtype=np.int64),
        cohort=provider >= 0,
        aware=aware,
    )


class TrustModel(mesa.Model):
    """Customer trust on a social network, with firms following trust strategies.

    Parameters
    ----------
    scenario
        A validated :class:`~trustsim.config.Scenario`.
    seed
        Root seed (an int or a SeedSequence); ``None`` draws fresh entropy,
        which is kept in ``self.streams.seed`` so the run can be repeated.
    agent_handles
        Build a Mesa ``Customer`` per customer (default: when N <= 20,000).
    panel_every
        Record the per-customer panel every ``panel_every`` steps (ODD 4,
        observation); ``None`` records none.
    datacollector
        Keep a Mesa ``DataCollector`` (``self.datacollector``) with a model
        reporter ``<metric>_<firm>`` per firm metric, collected every step, as
        Mesa users and ``mesa.batch_run`` expect. ``trustsim.run`` turns it off:
        it reads the same values from the model's own records, and collecting
        through Mesa costs about a third of a step at N = 1,000.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | None = None,
        *,
        seed: int | np.random.SeedSequence | None = None,
        agent_handles: bool | None = None,
        panel_every: int | None = None,
        datacollector: bool = True,
        **overrides: Any,
    ) -> None:
        if panel_every is not None and panel_every < 1:
            raise ValueError(f"panel_every: a whole number >= 1 or None (got {panel_every})")
        scenario = as_scenario(scenario, overrides)
        self.streams = draws.Streams.from_seed(seed)
        super().__init__(rng=self.streams.mesa)
        self.config = scenario
        n = scenario.population.size
        self.network = build_network(scenario.network, n, self.streams.network)
        kernels.prepare()
        self.context = Context.of(scenario, self.network, week=0)
        self.state = initial_state(scenario, draws.init_draws(scenario, self.streams.init))
        m = len(scenario.firms)
        self.ledger = Ledger(m, self.state.n)
        self.accounts = Accounts.empty(m)
        self.cohort_start = np.bincount(self.state.provider[self.state.cohort], minlength=m)
        self.ledger.customers_start[:] = self.cohort_start
        self.firms = [Firm(self, f, cfg) for f, cfg in enumerate(scenario.firms)]
        if agent_handles if agent_handles is not None else n <= AGENT_HANDLES_UP_TO:
            self.customers = [Customer(self, i) for i in range(n)]
        # observation: each collected step's tallies; the metrics are computed from them
        # for all steps at once when asked for (ODD 4), not step by step
        self._observed: list[tuple[int, dict[str, Any]]] = []
        self._firm_records: list[dict[str, Any]] = []
        self._population_records: list[dict[str, Any]] = []
        self._materialized = 0
        self._profit = np.zeros(m)
        self._temporary: dict[str, tuple[int, object]] = {}
        self._shocks = 0
        self.event_log: list[dict[str, Any]] = []  # what happened when (ODD 8a)
        self.panel_every = panel_every
        self._choices: dict[int, int] = {}  # played customers' choices for the next step
        self.panel_records: list[dict[str, np.ndarray]] = []
        self.datacollector = (
            mesa.DataCollector(model_reporters=firm_reporters(scenario)) if datacollector else None
        )
        self.collect()

    @property
    def n_steps(self) -> int:
        """Completed steps (Mesa's ``time`` advances by one per step)."""
        return int(self.time)

    def schedule_override(self, key: str, value: object, steps: int) -> None:
        """Set ``key`` to ``value`` for the next ``steps`` steps, then restore it."""
        previous = get_dotted(self.config, key)
        self.reconfigure({key: value})  # an invalid key or value fails here, before it is kept
        self._temporary[key] = (steps, previous)

    def _expire_overrides(self) -> None:
        for key, (left, previous) in list(self._temporary.items()):
            if left <= 1:
                del self._temporary[key]
                self.reconfigure({key: previous})
            else:
                self._temporary[key] = (left - 1, previous)

    def reconfigure(self, overrides: dict[str, object]) -> None:
        """Change parameters while the model runs (the classroom sliders).

        The state, the network and the accounts stay; the new values apply from
        the next phase on. Keys that shape the world at creation (population,
        network) cannot change live.
        """
        fixed = [k for k in overrides if k.split(".")[0] in ("population", "network")]
        if fixed:
            raise ConfigError(f"{fixed[0]}: cannot change while the model runs; reset instead")
        self.config = self.config.with_overrides(overrides)
        self.context = Context(self.config, self.network, self.context.present)

    def set_in_market(self, firm: int, present: bool) -> None:
        """Bring ``firm`` into the market or take it out (the enter and exit events)."""
        flags = self.context.in_market.copy()
        flags[firm] = present
        self.context = Context(self.config, self.network, flags)

    def trigger(self, event: AnyEvent) -> int | None:
        """Make ``event`` happen now, between weeks (a classroom shock), onto the week
        just shown, whose records are refreshed. Returns what :func:`events.apply` does."""
        reached = self._happen(event, self.n_steps)
        self.collect()  # replaces this step's observation
        return reached

    def _happen(self, event: AnyEvent, week: int) -> int | None:
        reached = events.apply(self, event)
        self.event_log.append(events.record(event, week, reached))
        return reached

    def play(self, customer: int) -> None:
        """Hand ``customer`` to a person: from now on 7.5 never moves it; only
        :meth:`choose` does (the participatory classroom)."""
        if not 0 <= customer < self.state.n:
            raise ValueError(f"customer: 0 to {self.state.n - 1} (got {customer})")
        self.state.played[customer] = True

    def choose(self, customer: int, firm: int) -> None:
        """A played customer's choice for the next week: a firm index, or ``NO_PROVIDER``
        to leave the market. It applies at the start of the next step, before the
        encounters, and counts as a churn and an acquisition as in 7.5."""
        if not self.state.played[customer]:
            raise ValueError(f"customer {customer} is not played by a person")
        if not NO_PROVIDER <= firm < len(self.config.firms):
            raise ValueError(f"firm: {NO_PROVIDER} to {len(self.config.firms) - 1} (got {firm})")
        if firm >= 0 and not self.context.in_market[firm]:
            raise ValueError(f"firm: {self.config.firm_names[firm]} is not in the market now")
        self._choices[customer] = firm

    def model_choices(self, customers: np.ndarray) -> np.ndarray:
        """What 7.5 would choose for ``customers`` in the coming week were they not
        played: the same search or entry hazard and logit, with that week's draws, on a
        copy of the state; nothing here changes the model. A provider index per
        customer, or ``NO_PROVIDER`` (the classroom rehearsal's bots play by it)."""
        scratch = copy.deepcopy(self.state)
        scratch.played[:] = True
        scratch.played[customers] = False
        coming = phases.Dice(self.streams.keys["decide"], self.n_steps + 1)
        ledger = Ledger(self.context.n_firms, scratch.n)
        phases.decide(scratch, ledger, self.accounts, self.context, coming)
        return scratch.provider[customers]

    def _apply_choices(self, ledger: Ledger) -> None:
        count = len(self._choices)
        phases.apply_choices(
            self.state,
            ledger,
            np.fromiter(self._choices.keys(), dtype=np.int64, count=count),
            np.fromiter(self._choices.values(), dtype=np.int64, count=count),
        )
        self._choices.clear()

    def dice(self, phase: str) -> phases.Dice:
        """The random stream of ``phase`` in the step being taken (ODD 3)."""
        return phases.Dice(self.streams.keys[phase], self.n_steps)

    def shock_dice(self) -> phases.Dice:
        """A fresh random stream for a shock triggered by hand: each shock of a run
        has its own counter, so two shocks in one week draw different numbers."""
        self._shocks += 1
        return phases.Dice(self.streams.keys["shocks"], self._shocks)

    def trust_of(
        self, rows: np.ndarray, firms: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cognitive, affective and overall trust of customers ``rows`` in ``firms`` (ODD 4).

        ``rows`` and ``firms`` are index arrays of equal length.
        """
        return phases.trust_of(self.state, self.context, rows, firms)

    def step(self) -> None:
        """One week: breach, encounters, care, talk, adverts, decisions, bookkeeping."""
        st, ctx = self.state, self.context
        m = ctx.n_firms
        st.reset_events()
        self.ledger = ledger = Ledger(m, st.n)
        ledger.customers_start[:] = np.bincount(st.provider[st.provider >= 0], minlength=m)
        if self._choices:
            self._apply_choices(ledger)
        for _, event in self.config.events_in(self.n_steps):  # Mesa counts this week already
            self._happen(event, self.n_steps)
        ctx = self.context  # the events may have changed it

        dice = self.dice
        phases.breach(st, ledger, ctx, dice("breach"))
        phases.encounter(st, ledger, ctx, dice("encounter"))
        phases.care(st, ledger, ctx, dice("care"))
        phases.talk(st, ledger, ctx, dice("talk"))
        phases.review(st, ledger, self.accounts, ctx, dice("review"))
        phases.advertise(st, ctx, dice("aware"))
        phases.decide(st, ledger, self.accounts, ctx, dice("decide"))
        self._profit = phases.bookkeeping(st, ledger, self.accounts, ctx, self.n_steps)
        self.collect()
        if self._temporary:
            self._expire_overrides()

    def collect(self) -> None:
        """Observe this step: the customer tallies and the firm accounts (ODD 4).

        A second call in the same step (after a classroom shock) replaces the first.
        """
        st, acc = self.state, self.accounts
        step = self.n_steps
        if self._observed and self._observed[-1][0] == step:
            self._forget_step(step)
        count, _ = acc.reviews(None)
        tallies = {
            **phases.tally(st, self.context),
            **self.ledger.flows(),
            "cohort_start": self.cohort_start,
            "profit": self._profit.copy(),
            "cumulative_profit": acc.cumulative_profit.copy(),
            "npv": acc.npv.copy(),
            "rating": phases.rating(acc, self.context),
            "reviews": count.copy(),
            "in_market": self.context.in_market.astype(float),
        }
        self._observed.append((step, tallies))
        if self.panel_every is not None and step % self.panel_every == 0:
            trust = phases.trust_matrix(st, self.context)[2]  # only when a panel is kept
            self.panel_records.append(panel_record(st, trust, step))
        if self.datacollector is not None:
            self.datacollector.collect(self)

    def _forget_step(self, step: int) -> None:
        self._observed.pop()
        if self._materialized > len(self._observed):  # its records were already made
            self._firm_records = [r for r in self._firm_records if r["step"] != step]
            self._population_records = [r for r in self._population_records if r["step"] != step]
            self._materialized = len(self._observed)

    def metric_arrays(self, start: int = 0) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The steps observed from index ``start`` on, and every firm metric
        (:data:`trustsim.metrics.FIRM_METRICS`) as an array (steps, firms)."""
        observed = self._observed[start:]
        steps = np.array([step for step, _ in observed], dtype=np.int64)
        if not observed:
            return steps, {}
        stacked: dict[str, Any] = {
            key: np.stack([tallies[key] for _, tallies in observed]) for key in observed[0][1]
        }
        stacked["population"] = self.state.n
        return steps, metrics.firm_metrics(stacked)

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The run so far as the timeseries (step x firm) and population tables."""
        steps, values = self.metric_arrays()
        names = self.config.firm_names
        m = len(names)
        timeseries = pd.DataFrame(
            {
                "step": np.repeat(steps, m),
                "firm": np.tile(np.array(names, dtype=object), len(steps)),
                **{k: v.reshape(-1) for k, v in values.items()},
            },
            columns=["step", "firm", *metrics.FIRM_COLUMNS],
        )
        population = pd.DataFrame.from_records(
            self._population_rows(steps, values), columns=["step", *metrics.POPULATION_COLUMNS]
        )
        return timeseries, population

    def _population_rows(
        self, steps: np.ndarray, values: dict[str, np.ndarray]
    ) -> list[dict[str, Any]]:
        n = self.state.n
        return [
            {"step": int(step), **metrics.population_metrics(
                values["customers"][s], n, values["reputation"][s], values["in_market"][s] > 0
            )}
            for s, step in enumerate(steps)
        ]  # fmt: skip

    def _materialize(self) -> None:
        """Turn the steps observed since the last call into per-firm records."""
        steps, values = self.metric_arrays(self._materialized)
        for s, step in enumerate(steps):
            for f, name in enumerate(self.config.firm_names):
                self._firm_records.append(
                    {
                        "step": int(step),
                        "firm": name,
                        **{k: float(v[s, f]) for k, v in values.items()},
                    }
                )
        self._population_records += self._population_rows(steps, values)
        self._materialized = len(self._observed)

    @property
    def firm_records(self) -> list[dict[str, Any]]:
        """One record per firm and observed step: ``step``, ``firm`` and every metric."""
        self._materialize()
        return self._firm_records

    @property
    def population_records(self) -> list[dict[str, Any]]:
        """One record per observed step: prospects, their share, the Gini of shares."""
        self._materialize()
        return self._population_records


def as_scenario(scenario: Scenario | str | Path | None, overrides: dict[str, Any]) -> Scenario:
    """A Scenario from a Scenario, a YAML path or the defaults, with dotted-key overrides
    given as keyword arguments (as ``mesa.batch_run`` passes its parameters)."""
    if scenario is None:
        scenario = Scenario()
    elif not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return scenario.with_overrides(overrides) if overrides else scenario


def firm_reporters(scenario: Scenario) -> dict[str, Callable[[TrustModel], float]]:
    """Mesa model reporters ``<metric>_<firm>``: this step's firm metrics, read from the
    record :meth:`TrustModel.collect` has just written."""
    m = len(scenario.firms)

    def reporter(f: int, column: str) -> Callable[[TrustModel], float]:
        return lambda model: float(model.firm_records[f - m][column])

    return {
        f"{column}_{name}": reporter(f, column)
        for f, name in enumerate(scenario.firm_names)
        for column in metrics.FIRM_COLUMNS
    }


def panel_record(state: CustomerState, trust: np.ndarray, step: int) -> dict[str, np.ndarray]:
    """One observed step of the per-customer panel, as columns (ODD 4, observation).

    ``provider`` is the firm that served the customer in this step (its
    provider when the step began), so each event belongs to that firm and
    ``left`` means the customer left it during the step.
    """
    n = state.n
    record = {
        "step": np.full(n, step, dtype=np.int64),
        "customer": np.arange(n, dtype=np.int64),
        "provider": state.served.copy(),
    }
    record.update({f"trust_{f}": trust[:, f].copy() for f in range(trust.shape[1])})
    record.update({name: getattr(state, name).copy() for name in PANEL_EVENTS})
    return record
