"""The participatory classroom served for real on loopback: a teacher and three students
in separate browser contexts (chromium, outside requests blocked), and a load test
with 60 simulated students through the same HTTP entry points the pages use."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pandas as pd
import pytest
from rehearsal import Served, rehearse, serve_classroom
from starlette.testclient import TestClient
from test_app import ARTIFACTS, CHROMIUM, need_chromium, offline

from trustsim.viz.participate import create_app
from trustsim.viz.session import Session


@pytest.fixture
def classroom(request: pytest.FixtureRequest) -> Iterator[Served]:
    """``trustsim classroom`` on a free port, as a teacher starts it."""
    with serve_classroom(*getattr(request, "param", [])) as served:
        yield served


def projector(browser: Any, classroom: Served, blocked: list[str]) -> Any:
    """The teacher's page on a 1400 x 900 projector, once it shows the code."""
    teacher = offline(
        browser.new_context(viewport={"width": 1400, "height": 900}).new_page(), blocked
    )
    teacher.goto(classroom.teacher)
    teacher.get_by_text(classroom.code, exact=True).wait_for(timeout=20_000)
    return teacher


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium for the browser tests (skipped without one)."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def phone_page(browser: Any, blocked: list[str]) -> Any:
    """A 390 x 844 phone's page, offline but for the classroom."""
    return offline(browser.new_context(viewport={"width": 390, "height": 844}).new_page(), blocked)


def joined_phone(browser: Any, classroom: Served, nickname: str, blocked: list[str]) -> Any:
    """A phone that has joined the class with the code and ``nickname``."""
    page = phone_page(browser, blocked)
    page.goto(classroom.students)
    page.fill("#code", classroom.code)
    page.fill("#nickname", nickname)
    page.click("#join-button")
    page.locator("#play").wait_for(state="visible", timeout=10_000)
    return page


@pytest.mark.slow
def test_teacher_and_three_students_in_a_real_browser(classroom: Served) -> None:
    blocked: list[str] = []
    with chromium() as browser:
        teacher = projector(browser, classroom, blocked)
        assert "token" not in teacher.url  # not on the projector: it went into a cookie
        assert teacher.eval_on_selector("#qr", "el => el.naturalWidth") > 100

        phones = [phone_page(browser, blocked) for _ in range(3)]
        names = ["ann", "bo", "<i>eve</i>"]
        for k, (phone, name) in enumerate(zip(phones, names, strict=True)):
            phone.goto(classroom.students)
            if k == 0:  # a wrong code is refused, in words
                phone.fill("#code", "ZZZZZ")
                phone.fill("#nickname", name)
                phone.click("#join-button")
                phone.get_by_text("wrong code", exact=False).wait_for(timeout=10_000)
            phone.fill("#code", classroom.code)
            phone.fill("#nickname", name)
            phone.click("#join-button")
            phone.locator("#play").wait_for(state="visible", timeout=10_000)
        # a nickname is shown as typed, as text: no element was injected
        assert phones[2].inner_text("#me") == "<i>eve</i>"
        assert phones[2].locator("#me i").count() == 0
        teacher.locator("#joined", has_text="3").wait_for(timeout=10_000)

        # students have no teacher controls, and neither does the teacher URL without token
        for phone in phones:
            assert phone.get_by_role("button", name="Start").count() == 0
            status = phone.evaluate("fetch('/api/teacher').then(r => r.status)")
            assert status == 403
        stranger = offline(browser.new_context().new_page(), blocked)
        response = stranger.goto(classroom.teacher.split("?")[0])
        assert response is not None and response.status == 403
        assert stranger.get_by_role("button").count() == 0

        teacher.click("#start")
        for round_ in (1, 2):
            chosen = []
            for phone in phones:
                phone.get_by_text(f"Round {round_}", exact=True).wait_for(timeout=10_000)
                button = phone.locator("#choices button:not(.secondary)").first
                choice = button.get_attribute("data-choice")
                button.click()
                phone.get_by_text("You chose", exact=False).wait_for(timeout=10_000)
                chosen.append(choice)
            teacher.locator("#chosen", has_text="3 of 3 chose").wait_for(timeout=10_000)
            if round_ == 1:
                phones[0].screenshot(path=ARTIFACTS / "classroom-student.png", full_page=True)
            teacher.click("#next")
            for phone, choice in zip(phones, chosen, strict=True):
                phone.get_by_text(f"Round {round_ + 1}", exact=True).wait_for(timeout=10_000)
                # the choice is in the model: the node's provider is the chosen firm
                want = "none" if choice == "leave" else choice
                phone.locator("#provider", has_text=want).wait_for(timeout=10_000)
        teacher.get_by_text("Round 3", exact=True).wait_for(timeout=10_000)
        teacher.wait_for_timeout(1500)  # the images of round 3
        teacher.screenshot(path=ARTIFACTS / "classroom-teacher.png", full_page=True)
        teacher.click("#end")
        teacher.get_by_role("columnheader", name="simulated Gini").wait_for(timeout=60_000)
        teacher.wait_for_timeout(1500)  # the last pictures
        teacher.screenshot(path=ARTIFACTS / "classroom-end.png", full_page=True)
    assert blocked == []


@pytest.mark.slow
@pytest.mark.parametrize("classroom", [["--max-students", "60"]], indirect=True)
def test_sixty_students_play_ten_rounds(classroom: Served) -> None:
    base = classroom.students.rstrip("/")
    result = rehearse(base, classroom.token, classroom.code, students=60, rounds=10)
    assert len(result.round_s) == 10 and len(result.choices) == 60
    export = httpx.get(
        f"{base}/teacher/export.parquet", headers={"X-Teacher-Token": classroom.token}
    ).raise_for_status()
    rows = pd.read_parquet(io.BytesIO(export.content)).fillna({"provider": "none"})
    assert len(rows) == 600 and not rows["timed_out"].any()
    # every choice reached the model: next round's provider is what was chosen
    for _, played in rows.sort_values("round").groupby("student"):
        for now, then in zip(
            played.iloc[:-1].itertuples(), played.iloc[1:].itertuples(), strict=True
        ):
            expected = {"stay": now.provider, "leave": "none"}.get(now.choice, now.choice)
            assert then.provider == expected, (now, then)
    print(result.summary())


# ---------------------------------------------------------------------- HTTP, without a browser


@pytest.fixture(scope="module")
def served_session() -> Iterator[tuple[Session, TestClient]]:
    session = Session(worlds=2, seed=3, max_students=10)
    yield session, TestClient(create_app(session, "http://127.0.0.1:8765/"))


def test_teacher_link_moves_the_token_into_a_cookie(
    served_session: tuple[Session, TestClient],
) -> None:
    session, client = served_session
    teacher = TestClient(client.app)
    first = teacher.get(f"/teacher?token={session.token}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/teacher"
    assert "httponly" in first.headers["set-cookie"].lower()
    page = teacher.get("/teacher")
    assert page.status_code == 200 and session.token in page.text  # for the page's requests
    assert teacher.get("/api/teacher").status_code == 200  # the cookie opens the view
    # an action needs the header too: a forged request from elsewhere carries only the cookie
    assert teacher.post("/api/teacher/auto", json={"on": False}).status_code == 403
    done = teacher.post(
        "/api/teacher/auto", json={"on": False}, headers={"X-Teacher-Token": session.token}
    )
    assert done.status_code == 200
    stranger = TestClient(client.app)
    assert stranger.get("/teacher").status_code == 403
    assert stranger.get(f"/teacher?token={session.token}x").status_code == 403
    assert stranger.get("/teacher?token=é").status_code == 403
    for path in (
        "/api/teacher",
        "/teacher/qr.svg",
        "/teacher/shares.png",
        "/teacher/network/0.png",
        "/teacher/comparison",
        "/teacher/export.parquet",
    ):
        assert stranger.get(path).status_code == 403, path  # fmt: skip


def test_bad_requests_get_one_clear_refusal(served_session: tuple[Session, TestClient]) -> None:
    session, client = served_session
    student = TestClient(client.app)
    big = student.post("/api/join", content=b"{" + b" " * 10_000 + b"}")
    assert big.status_code == 413 and "4096" in big.json()["error"]
    assert student.post("/api/join", content=b"[" * 3000).status_code in (400, 413)
    assert student.post("/api/join", content=b"[1, 2]").status_code == 400
    nested = b"[" * 1000 + b"]" * 1000
    assert student.post("/api/join", content=nested).status_code == 400
    wrong = student.post("/api/join", json={"code": "ÉÉÉÉÉ", "nickname": "zoe"})
    assert wrong.status_code == 403 and wrong.json()["error"].startswith("wrong code")
    joined = student.post("/api/join", json={"code": session.code, "nickname": "zoe"})
    assert joined.status_code == 200
    huge_round = student.post("/api/choose", content=b'{"round": 1e400, "choice": "stay"}')
    assert huge_round.status_code == 400


def test_a_dropped_student_gets_the_node_back_by_cookie(
    served_session: tuple[Session, TestClient],
) -> None:
    session, client = served_session
    phone = TestClient(client.app)
    first = phone.post("/api/join", json={"code": session.code, "nickname": "kim"}).json()
    # the page reloads after a drop: the cookie brings back the same customer
    again = phone.post("/api/join", json={"code": "", "nickname": ""})
    assert again.status_code == 200 and again.json()["nickname"] == "kim"
    kim = next(s for s in session.students if s.nickname == "kim")
    assert phone.get("/api/me").json().keys() == first.keys()  # the same world's view
    assert sum(s.nickname == "kim" for s in session.students) == 1 and kim.node >= 0
    other = TestClient(client.app)  # another device cannot take the nickname
    assert (
        other.post("/api/join", json={"code": session.code, "nickname": "KIM"}).status_code == 409
    )


@pytest.mark.slow
@pytest.mark.parametrize("classroom", [["--lesson", "social-proof", "--max-students", "10"]],
                         indirect=True)  # fmt: skip
def test_the_social_proof_lesson_on_phones_and_a_projector(classroom: Served) -> None:
    blocked: list[str] = []
    with chromium() as browser:
        teacher = projector(browser, classroom, blocked)
        phones = [joined_phone(browser, classroom, f"kid{k}", blocked) for k in range(3)]
        teacher.click("#start")
        for round_ in (1, 2):
            for phone in phones:
                phone.get_by_text(f"Round {round_}", exact=True).wait_for(timeout=10_000)
                buttons = phone.locator("#choices button")
                last = buttons.nth(buttons.count() - 1).bounding_box()
                assert last is not None and last["y"] + last["height"] <= 844  # no scrolling
                words = phone.inner_text("body").lower()
                for word in ("social", "independent", "short", "trust_first", "world"):
                    assert word not in words, word  # students do not know their condition
                buttons.nth(1).click()  # a firm
                phone.get_by_text("You chose", exact=False).wait_for(timeout=10_000)
            on_screen = teacher.inner_text("body").lower()
            assert "social" not in on_screen and "independent" not in on_screen
            if round_ == 1:
                phones[0].screenshot(path=ARTIFACTS / "lesson-student.png")
            else:  # a shock shows as a banner on the projector
                teacher.get_by_role("button", name="viral bad review").click()
                teacher.locator("#banner", has_text="Viral bad review at").wait_for(timeout=5000)
                teacher.wait_for_timeout(1500)  # the pictures of the shock
                for selector in ("#banner", "#news", "#shares", "#next"):  # no scrolling
                    box = teacher.locator(selector).bounding_box()
                    assert box is not None and box["y"] + box["height"] <= 900, selector
                teacher.screenshot(path=ARTIFACTS / "lesson-teacher.png")
            teacher.click("#next")
        teacher.get_by_text("Round 3", exact=True).wait_for(timeout=10_000)
        teacher.click("#end")
        teacher.locator("#sentences li").first.wait_for(timeout=60_000)
        assert teacher.locator("#sentences li").count() == 3
        assert "Social world 1:" in teacher.inner_text("#sentences")
        assert "identical" in teacher.inner_text("#reveal")
        assert teacher.locator("#questions li").count() == 2
        top = teacher.locator("#sentences").bounding_box()  # the first thing on the projector
        assert top is not None and top["y"] + top["height"] < 900
        teacher.wait_for_timeout(1500)  # the pictures, redrawn with the worlds' names
        teacher.screenshot(path=ARTIFACTS / "lesson-end.png", full_page=True)
        phones[0].locator("#result").wait_for(state="visible", timeout=10_000)
        assert "identical" in phones[0].inner_text("#result")
        phones[0].screenshot(path=ARTIFACTS / "lesson-student-end.png")
    assert blocked == []


@pytest.mark.slow
@pytest.mark.parametrize("classroom", [["--lesson", "social-proof", "--max-students", "25"],
                                       ["--lesson", "social-proof", "--max-students", "60"]],
                         indirect=True, ids=["25 students", "60 students"])  # fmt: skip
def test_a_full_room_fits_the_phone_and_the_projector(classroom: Served) -> None:
    overview = httpx.get(f"{classroom.students.rstrip('/')}/api/teacher",
                         headers={"X-Teacher-Token": classroom.token})  # fmt: skip
    size = int(overview.raise_for_status().json()["max_students"])
    bots = [httpx.Client(base_url=classroom.students, timeout=30) for _ in range(size - 1)]
    blocked: list[str] = []
    try:
        for k, bot in enumerate(bots):  # the rest of the room, over HTTP
            bot.post("/api/join", json={"code": classroom.code, "nickname": f"classmate {k:02d}"})
        with chromium() as browser:
            teacher = projector(browser, classroom, blocked)
            phone = joined_phone(browser, classroom, "last in", blocked)
            teacher.wait_for_function(f"document.getElementById('joined').textContent == {size}")
            teacher.click("#start")
            for round_ in (1, 2):
                phone.get_by_text(f"Round {round_}", exact=True).wait_for(timeout=10_000)
                for k, bot in enumerate(bots):  # classmates choose while the phone taps
                    options = bot.get("/api/me").raise_for_status().json()["options"]
                    bot.post("/api/choose", json={"round": round_, "choice": options[k % 2]})
                    if k == len(bots) // 2:
                        buttons = phone.locator("#choices button")
                        last = buttons.nth(buttons.count() - 1).bounding_box()
                        assert last is not None and last["y"] + last["height"] <= 844
                        buttons.nth(1).click()
                phone.get_by_text("You chose", exact=False).wait_for(timeout=10_000)
                teacher.get_by_text(f"{size} of {size} chose", exact=False).wait_for(timeout=10_000)
                for selector in ("#news", "#shares", "#next", "#end"):  # no scrolling
                    box = teacher.locator(selector).bounding_box()
                    assert box is not None and box["y"] + box["height"] <= 900, selector
                teacher.click("#next")
            teacher.get_by_text("Round 3", exact=True).wait_for(timeout=10_000)
            teacher.wait_for_timeout(1500)  # the pictures of round 2
            teacher.screenshot(path=ARTIFACTS / f"lesson-teacher-{size}.png")
            phone.screenshot(path=ARTIFACTS / f"lesson-student-{size}.png")
    finally:
        for bot in bots:
            bot.close()
    assert blocked == []
