"""Classroom lessons (ODD 8b): built-in scenarios, sizing, blind names, and how often
the social-proof lesson works."""

from __future__ import annotations

import json

import pytest

from trustsim import builtin, load_scenario
from trustsim.config import PRESETS
from trustsim.viz.lesson import LESSONS, class_scenarios, lesson, success_rate, world_size
from trustsim.viz.session import Session


def test_each_lesson_is_a_built_in_scenario_with_brand_names() -> None:
    for the_lesson in LESSONS.values():
        scenario = load_scenario(the_lesson.scenario)
        assert scenario.steps % the_lesson.weeks_per_round == 0
        for firm in scenario.firms:  # nothing in a name gives the strategy away
            assert not any(word in firm.name.lower() for word in ("short", "trust", "first"))
    firms = load_scenario("classroom-social-proof").firms
    assert len(firms) >= 4
    # identical firms: every field but the name is the same
    assert len({f.model_dump_json(exclude={"name"}) for f in firms}) == 1
    trust = load_scenario("classroom-trust").firms
    strategies = ("short_term", "trust_first")
    assert sorted(f.warn_rate for f in trust) == [PRESETS[s]["warn_rate"] for s in strategies]
    with pytest.raises(ValueError, match="lesson: one of social-proof, trust"):
        lesson("herding")


def test_worlds_grow_so_that_students_play_at_most_half_of_each() -> None:
    assert world_size(24, 10, 3) == 24
    assert world_size(24, 60, 3) == 40
    social, independent = class_scenarios(LESSONS["social-proof"], 60)
    assert social.population.size == independent.population.size == 40
    assert social.market.social_proof and not independent.market.social_proof


def test_a_student_page_names_neither_the_world_nor_the_strategies() -> None:
    config = builtin.resolve("classroom-trust", "scenario")
    session = Session(config, worlds=2, seed=3, max_students=10, weeks_per_round=2)
    secrets = [session.join(session.code, f"s{i}", "c").secret for i in range(4)]
    session.start(session.token)
    session.next_round(session.token)
    assert session.weeks == 2  # two weeks a round
    for secret in secrets:
        text = json.dumps(session.view(secret)).lower()
        for word in ("social", "independent", "short_term", "trust_first", "world"):
            assert word not in text, word
    kinds = {tuple(sorted(session.view(s))) for s in secrets}
    assert len(kinds) == 2  # but the two worlds do show different things
    social = next(session.view(s) for s in secrets if "customers" in session.view(s))
    assert sum(social["customers"].values()) >= 0 and "adverts" not in social


@pytest.mark.slow
def test_the_social_proof_lesson_works_in_four_classes_of_five() -> None:
    # the lesson's promise (ODD 8b): in simulated classes of 25 the social worlds end
    # more unequal than the independent one at least 80% of the time
    found = success_rate("social-proof", 25, classes=100, seed=7)
    assert found.share >= 0.8, found
    assert "times in 10" in found.in_words()


def test_the_classroom_command_builds_the_lesson_sized_to_the_room() -> None:
    from trustsim.cli import build_parser, session_options

    args = build_parser().parse_args(["classroom", "--max-students", "60"])
    options = session_options(args)
    assert str(options["config"]).endswith("classroom-social-proof.yaml")
    assert options["worlds"] == 3 and options["weeks_per_round"] == 2
    assert options["overrides"] == {"population.size": 40}
    trust = session_options(build_parser().parse_args(["classroom", "--lesson", "trust"]))
    assert str(trust["config"]).endswith("classroom-trust.yaml") and trust["worlds"] == 2
    own = session_options(build_parser().parse_args(["classroom", "--config", "herding"]))
    assert own["config"].name == "herding" and "overrides" not in own


def test_the_end_screen_says_in_words_who_won_reveals_and_compares() -> None:
    config = builtin.resolve("classroom-social-proof", "scenario")
    session = Session(config, worlds=3, seed=2, max_students=10, weeks_per_round=2,
                      lesson="social-proof", success_classes=10)  # fmt: skip
    secrets = [session.join(session.code, f"s{i}", "c").secret for i in range(6)]
    session.start(session.token)
    before = session.overview(session.token)
    assert [w["label"] for w in before["worlds"]] == ["world 1", "world 2", "world 3"]
    assert before["result"] is None
    assert not any(w in json.dumps(before).lower() for w in ("condition", "social", "independent"))
    for _ in range(3):
        session.next_round(session.token)
    session.end(session.token)
    result = session.overview(session.token)["result"]
    labels = [w["label"] for w in result["worlds"]]
    assert labels == ["Independent world", "Social world 1", "Social world 2"]
    for world in result["worlds"]:
        assert world["sentence"].startswith(world["label"] + ": ")
        assert sum(world["shares"].values()) == pytest.approx(1.0)
    assert "identical" in result["reveal"] and len(result["questions"]) == 2
    assert result["verdict"].startswith("In 10 simulated classes like this one")
    assert result["verdict"].endswith(("Yours: yes.", "Yours: no."))
    mine = session.view(secrets[0])["result"]  # a student sees their world's sentence
    assert mine["sentence"] in [w["sentence"] for w in result["worlds"]]


def test_a_world_sentence_names_a_clear_winner_only() -> None:
    from trustsim.viz.lesson import world_sentence

    won = world_sentence("Social world 1", {"A": 0.3, "B": 0.1, "C": 0.05, "D": 0.05})
    assert won == "Social world 1: A won 60% of the customers."
    close = world_sentence("Independent world", {"A": 0.14, "B": 0.12, "C": 0.12, "D": 0.12})
    assert close == "Independent world: no firm pulled ahead (none above 28%)."
    assert world_sentence("X", dict.fromkeys("AB", 0.0)) == "X: nobody became a customer."


def test_the_teacher_sees_students_news_and_a_banner_for_a_shock() -> None:
    config = builtin.resolve("classroom-trust", "scenario")
    session = Session(config, worlds=2, seed=4, max_students=10)
    for i in range(6):
        session.join(session.code, f"s{i}", "c")
    session.start(session.token)
    for _ in range(6):
        session.next_round(session.token)
    news = session.overview(session.token)["news"]
    assert news and {n["nickname"] for n in news} <= {f"s{i}" for i in range(6)}
    assert not any(n["news"].startswith(("You did not need", "You had no")) for n in news)
    session.shock(session.token, "breach", "Northwind")
    assert session.overview(session.token)["banner"] == "Breach at Northwind!"
    session.next_round(session.token)  # the banner belongs to the round of the shock
    assert session.overview(session.token)["banner"] is None


def test_every_student_with_a_provider_has_an_encounter_every_week() -> None:
    config = builtin.resolve("classroom-trust", "scenario")
    session = Session(config, worlds=2, seed=5, max_students=10)
    students = [session.join(session.code, f"s{i}", "c") for i in range(8)]
    session.start(session.token)
    served = 0
    for _ in range(4):
        session.next_round(session.token)
        for s in students:
            state = session.worlds[s.world].model.state
            if state.served[s.node] >= 0:  # had a provider this week: bought, so has stars
                served += 1
                assert state.stars[s.node] > 0
    assert served > 0
    # the simulated customers still need the service only now and then
    model = session.worlds[0].model
    others = (model.state.served >= 0) & ~model.state.played
    assert 0 < (model.state.stars[others] > 0).mean() < 1


def test_a_two_week_round_tells_each_of_its_weeks() -> None:
    config = builtin.resolve("classroom-social-proof", "scenario")
    session = Session(config, worlds=3, seed=6, max_students=10, weeks_per_round=2)
    secret = session.join(session.code, "ana", "c").secret
    session.start(session.token)
    session.next_round(session.token)
    events = session.view(secret)["events"]
    assert any(e.startswith("Week 1: ") for e in events)
    assert any(e.startswith("Week 2: ") for e in events)
