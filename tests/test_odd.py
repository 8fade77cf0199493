"""ODD 8.1's parameter tables against the schema in ``config.py``: every parameter,
its default and its sensitivity range, both ways, so that the two cannot drift; and
every row states its unit and where its default comes from."""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from trustsim.config import Firm, Scenario, describe
from trustsim.network import NetworkSpec

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
ROW = re.compile(
    r"^\| `(?P<key>[a-z_]+\.[a-z0-9_<>.]+)` \| (?P<default>[^|]+) \| [^|]+ \| (?P<range>[^|]+) "
    r"\| (?P<unit>[^|]+) \| (?P<source>[^|]+) \|$"
)
NOT_PARAMETERS = {"network", "firms", "events", "business"}


def odd_rows() -> dict[str, tuple[str, str]]:
    """ODD 8.1's rows: key -> (default, range) as written."""
    return {key: (row["default"], row["range"]) for key, row in odd_table().items()}


def odd_table() -> dict[str, dict[str, str]]:
    """ODD 8.1's rows: key -> every column as written."""
    text = ODD.read_text()
    section = text.split("### 8.1 ", 1)[1].split("\n### ", 1)[0]
    rows: dict[str, dict[str, str]] = {}
    for line in section.splitlines():
        match = ROW.match(line.strip())
        if match:
            rows[match["key"]] = {k: v.strip() for k, v in match.groupdict().items()}
    return rows


def schema_rows() -> dict[str, tuple[Any, tuple[float, float] | None]]:
    """Every schema parameter: key -> (default, sensitivity range or None)."""
    out: dict[str, tuple[Any, tuple[float, float] | None]] = {}

    def add(prefix: str, model: type[BaseModel], skip: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        for name, info in model.model_fields.items():
            if name in skip:
                continue
            extra = info.json_schema_extra
            sens = extra.get("sensitivity") if isinstance(extra, dict) else None
            default = "(required)" if info.default is PydanticUndefined else info.default
            out[f"{prefix}.{name}"] = (default, tuple(sens) if sens else None)  # type: ignore[arg-type]

    for name, info in Scenario.model_fields.items():
        kind = info.annotation
        if name not in NOT_PARAMETERS and isinstance(kind, type) and issubclass(kind, BaseModel):
            add(name, kind)
    for kind in typing.get_args(typing.get_args(NetworkSpec)[0]):
        add("network", kind, {"kind"})
    out["network.kind"] = ("watts_strogatz", None)
    add("firms.<i>", Firm)
    return out


def same_default(written: str, value: Any) -> bool:
    """Whether the ODD's written default is the schema's value."""
    if value is None:
        return written == "none"
    if isinstance(value, bool):
        return written == str(value).lower()
    if isinstance(value, int | float):
        try:
            return float(written) == float(value)
        except ValueError:
            return False
    return written.strip("()") == str(value).strip("()")


def test_every_schema_parameter_is_in_the_odd_and_every_row_is_a_parameter() -> None:
    odd, schema = odd_rows(), schema_rows()
    assert len(odd) > 90  # the tables were found and read
    assert sorted(set(schema) - set(odd)) == [], "schema parameters missing from ODD 8.1"
    assert sorted(set(odd) - set(schema)) == [], "ODD 8.1 rows that are no parameter"


@pytest.mark.parametrize("key", sorted(schema_rows()))
def test_each_default_and_range_is_the_one_the_odd_states(key: str) -> None:
    written_default, written_range = odd_rows()[key]
    default, sensitivity = schema_rows()[key]
    assert same_default(written_default, default), f"{key}: ODD {written_default}, code {default}"
    if sensitivity is None:
        assert written_range == "—", f"{key}: ODD gives a range, the code declares none"
    else:
        low, high = (float(x) for x in written_range.strip("[]").split(","))
        assert (low, high) == tuple(map(float, sensitivity)), f"{key}: ODD {written_range}"


SOURCES = ("calibrated", "published", "assumed", "structural")


def test_every_parameter_has_a_unit_and_a_source_of_a_known_kind() -> None:
    for key, row in odd_table().items():
        assert row["unit"], f"{key}: no unit"
        assert row["source"].startswith(SOURCES), f"{key}: source {row['source']!r}"
    # a parameter whose description in config.py says it was calibrated (ODD 8.4) is
    # calibrated in the ODD too (reports read the description: the two must agree)
    said = {k for k in odd_table() if "<i>" not in k and "calibrated" in describe(k)}
    assert len(said) >= 5
    odd = {k for k, row in odd_table().items() if row["source"].startswith("calibrated")}
    assert said == odd


CONSTANT = re.compile(r"^\| `(?P<module>[a-z]+)\.(?P<name>[A-Z_]+)` \| (?P<value>[^|]+) \|")


def test_the_named_constants_table_states_the_codes_values() -> None:
    from trustsim import events, rules

    section = ODD.read_text().split("### 8.1 ", 1)[1].split("\n### ", 1)[0]
    written = {
        f"{m['module']}.{m['name']}": m["value"].strip()
        for m in map(CONSTANT.match, section.splitlines())
        if m
    }
    stars = dict(zip(rules.STORY_NAMES, rules.EVENT_STARS, strict=True))
    code = {
        "rules.CARE_WEIGHT": f"{rules.CARE_WEIGHT:g}",
        "rules.EVENT_STARS": ", ".join(
            f"{stars[s]:g} {s}" for s in ("recovered", "warned", "ignored", "exploited")
        ),
        "rules.FAILURE_STARS": f"{rules.FAILURE_STARS:g}",
        "events.STARS": ", ".join(f"{v:g} {k}" for k, v in events.STARS.items()),
        "rules.PROMOTER_CUT": f"{rules.PROMOTER_CUT:g}",
        "rules.DETRACTOR_CUT": f"{rules.DETRACTOR_CUT:g}",
    }
    assert written == code
    assert stars["none"] == stars["satisfied"] == 0  # 0: the stars follow the experience
