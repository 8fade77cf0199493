"""The building blocks of the scenario schema: frozen sections, declared parameters
and the one error type for invalid input.

Kept below both :mod:`trustsim.config` and :mod:`trustsim.network`, so a network
kind can declare its own parameters next to its builder (ODD 8.3).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ConfigError(ValueError):
    """An invalid scenario: the message names the key and what is allowed."""


def param(
    default: float,
    lo: float,
    hi: float,
    doc: str,
    *,
    ge: float | None = None,
    le: float | None = None,
) -> Any:
    """A numeric field with hard bounds and a sensitivity range.

    Parameters
    ----------
    default : float
        The default value (its source is in ``docs/ODD.md``).
    lo, hi : float
        The range a sensitivity analysis explores by default.
    doc : str
        What the parameter means, for error messages, reports and the app.
    ge, le : float, optional
        Hard bounds: values outside them are invalid.
    """
    return Field(
        default, ge=ge, le=le, description=doc, json_schema_extra={"sensitivity": [lo, hi]}
    )


def prob(default: float, lo: float, hi: float, doc: str) -> Any:
    """A probability: :func:`param` with hard bounds [0, 1]."""
    return param(default, lo, hi, doc, ge=0.0, le=1.0)


class Section(BaseModel):
    """A frozen block of the scenario schema; unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")
