"""Scenario schema: defaults, presets, overrides, ranges, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

import trustsim
from trustsim.config import (
    PRESETS,
    ConfigError,
    Scenario,
    describe,
    get_dotted,
    load_scenario,
    parse_assignment,
    sensitivity_ranges,
)

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_presets_follow_model_table() -> None:
    sc = Scenario()
    short, first = sc.firms
    assert (short.promise, short.warn_rate, short.recovery) == (0.85, 0.0, 0.2)
    assert (first.promise, first.warn_rate, first.recovery) == (0.65, 0.9, 0.8)
    assert short.quality == first.quality and short.price == first.price
    assert short.advertising > first.advertising


def test_scenario_is_frozen() -> None:
    with pytest.raises(Exception, match="frozen"):
        Scenario().population.size = 5  # type: ignore[misc]


@pytest.mark.parametrize("name", ["baseline", "classroom", "bass_limit"])
def test_shipped_configs_load(name: str) -> None:
    sc = load_scenario(CONFIGS / f"{name}.yaml")
    assert sc.name == name


def test_baseline_is_short_term_vs_trust_first() -> None:
    sc = load_scenario(CONFIGS / "baseline.yaml")
    assert [f.strategy for f in sc.firms] == ["short_term", "trust_first"]
    assert (sc.population.size, sc.steps) == (2000, 156)


def test_dotted_overrides_by_index_and_by_name() -> None:
    sc = trustsim.load_scenario(
        CONFIGS / "baseline.yaml",
        {
            "network.kind": "barabasi_albert",
            "firms.0.promise": 0.9,
            "firms.trust_first.warn_rate": 0.25,
            "market.q_wom": 0.4,
        },
    )
    assert sc.network.kind == "barabasi_albert"
    assert sc.firms[0].promise == 0.9
    assert sc.firms[1].warn_rate == 0.25
    assert sc.firms[1].recovery == PRESETS["trust_first"]["recovery"]
    assert sc.market.q_wom == 0.4


def test_changing_strategy_applies_the_new_preset() -> None:
    sc = Scenario().with_overrides({"firms.1.strategy": "short_term"})
    assert sc.firms[1].warn_rate == 0.0
    assert sc.firms[1].promise == PRESETS["short_term"]["promise"]


def test_cli_assignment_values_are_typed() -> None:
    assert parse_assignment("network.kind=complete") == ("network.kind", "complete")
    assert parse_assignment("market.q_wom=0.4") == ("market.q_wom", 0.4)
    assert parse_assignment("market.outside_option=false") == ("market.outside_option", False)
    with pytest.raises(ConfigError, match="key=value"):
        parse_assignment("market.q_wom")


@pytest.mark.parametrize(
    ("overrides", "key", "allowed"),
    [
        ({"network.kind": "moebius"}, "network.kind", "watts_strogatz"),
        ({"market.p_adx": 0.1}, "market.p_adx", "p_ad"),
        ({"population.size": -5}, "population.size", "greater than or equal to 2"),
        ({"market.p_ad": 1.5}, "market.p_ad", "less than or equal to 1"),
        ({"firms.0.strategy": "nice"}, "firms.short_term.strategy", "trust_first"),
        ({"firms.acme.promise": 0.5}, "firms.acme", "short_term, trust_first"),
        ({"firms.0.initial_share": 0.9}, "initial_share", "at most 1"),
        ({"firms.1.name": "short_term"}, "firms", "unique"),
    ],
)
def test_errors_name_the_key_and_what_is_allowed(
    overrides: dict[str, object], key: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as info:
        Scenario().with_overrides(overrides)
    assert key in str(info.value)
    assert allowed in str(info.value)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such scenario file"):
        load_scenario(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("population: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_scenario(bad)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("populaton:\n  size: 10\n")
    with pytest.raises(ConfigError, match="populaton: unknown key"):
        load_scenario(unknown)


def test_every_numeric_parameter_has_a_range_inside_its_bounds() -> None:
    ranges = sensitivity_ranges()
    assert {
        "market.q_wom",
        "market.p_ad",
        "firms.0.warn_rate",
        "firms.1.promise",
        "trust.weakest_link",
        "wom.p_negative",
    } <= set(ranges)
    sc = Scenario()
    for key, (lo, hi) in ranges.items():
        assert lo < hi, key
        # both ends of every range validate
        sc.with_overrides({key: lo})
        sc.with_overrides({key: hi})
        assert describe(key)


# The defaults the README and docs/ODD.md state, as literals: a changed default must
# change this table (and the documents) in the same commit.
STATED_DEFAULTS = {
    "trust.eta_up": 0.10, "trust.eta_down": 0.30, "trust.weakest_link": -2.0,
    "trust.buffer": 0.5, "trust.omega0": 0.5, "trust.w_id": 0.3, "trust.forgetting": 0.0,
    "bank.loss_aversion": 2.25, "bank.decay": 0.02, "bank.scale": 2.0, "bank.d_warn": 1.0,
    "bank.d_exploit": 2.0, "bank.d_broken": 0.5, "bank.d_extra": 0.5,
    "market.risk": 0.3, "market.need_rate": 0.5, "market.mistake_rate": 0.1,
    "market.discovery": 0.3, "market.tolerance": 0.1, "market.failure_threshold": 0.5,
    "market.review_rate": 0.007, "market.warn_search": 0.12, "market.failure_search": 0.2,
    "market.p_ad": 0.01, "market.q_wom": 0.2, "market.initial_awareness": 0.5,
    "market.ad_reach": 0.05, "market.u_out": 2.0, "market.beta_trust": 2.5,
    "market.beta_proof": 1.0, "market.beta_rating": 0.5, "market.beta_popularity": 0.0,
    "market.beta_price": 9.0, "market.switching_cost": 1.5, "market.temperature": 1.0,
    "market.discount_rate": 0.08, "market.social_proof": True,
    "wom.p_positive": 0.3, "wom.p_negative": 0.6, "wom.p_story": 0.09, "wom.weight": 0.3,
    "news.reach": 0.5, "news.weight": 0.5,
    "reviews.p_post": 0.02, "reviews.extremity": 1.5, "reviews.negativity": 2.0,
    "reviews.disconfirmation": 0.25, "reviews.neutral": 0.55, "reviews.star_slope": 8.0,
    "reviews.prior_mean": 3.5, "reviews.prior_weight": 10.0,
    "survey.nps_shift": 6.4, "survey.nps_slope": 3.0, "survey.nps_noise": 1.5,
    "population.size": 2000, "population.trust_mean": 0.5, "population.trust_concentration": 10.0,
    "network.kind": "watts_strogatz", "network.k": 8, "network.p": 0.1,
    "firms.0.quality": 0.7, "firms.0.price": 1.0, "firms.0.unit_cost": 0.6,
    "firms.0.mistake_revenue": 1.2, "firms.0.warn_cost": 0.05,
}  # fmt: skip

# ODD 8.1's preset table
STATED_PRESETS = {
    "short_term": {"promise": 0.85, "warn_rate": 0.0, "recovery": 0.2, "data_protection": 0.3,
                   "care_rate": 0.0, "advertising": 0.8},
    "trust_first": {"promise": 0.65, "warn_rate": 0.9, "recovery": 0.8, "data_protection": 0.8,
                    "care_rate": 0.05, "advertising": 0.2},
}  # fmt: skip


@pytest.mark.parametrize("key", sorted(STATED_DEFAULTS))
def test_stated_defaults_are_the_schemas(key: str) -> None:
    section, _, name = key.rpartition(".")
    if section == "network":
        value = getattr(Scenario().network, name)
    else:
        value = get_dotted(Scenario(), key)
    assert value == STATED_DEFAULTS[key]


@pytest.mark.parametrize("firm", sorted(STATED_PRESETS))
def test_stated_presets_are_the_schemas(firm: str) -> None:
    built = next(f for f in Scenario().firms if f.name == firm)
    assert {k: getattr(built, k) for k in STATED_PRESETS[firm]} == STATED_PRESETS[firm]
