"""The classroom model behind the app: resets, the drawing, the inspector, the controls."""

from __future__ import annotations

import numpy as np

from trustsim.viz.classroom import (
    ClassroomModel,
    Settings,
    controls,
    describe_customer,
    network_figure,
    node_at,
)


def test_reset_keeps_the_network_and_new_network_changes_it() -> None:
    settings = Settings(seed=3)
    first = ClassroomModel(settings)
    first.set_parameter("market.beta_proof", 2.5)
    again = ClassroomModel(settings)  # what the page's Reset does
    assert again.config.market.beta_proof == 2.5  # the controls' values survive a reset
    assert (first.network.adjacency != again.network.adjacency).nnz == 0
    assert first.positions is again.positions  # the layout is computed once per network
    settings.seed += 1
    other = ClassroomModel(settings)
    assert (first.network.adjacency != other.network.adjacency).nnz > 0


def test_clicking_a_node_finds_it_and_controls_come_from_the_schema() -> None:
    m = ClassroomModel(Settings())
    fig = network_figure(m)
    fig.canvas.draw()
    height = fig.get_size_inches()[1] * fig.dpi
    for k in (0, 17, 101):
        x, y = fig.axes[0].transData.transform(m.positions[k])
        assert node_at(m, fig, x, height - y) == k
    keys = {c["key"] for c in controls(m)}
    assert {
        "market.beta_proof",
        "wom.p_negative",
        "firms.0.strategy",
        "firms.1.warn_rate",
        "firms.1.promise",
    } <= keys
    social = next(c for c in controls(m) if c["key"] == "market.beta_proof")
    assert (social["min"], social["max"], social["value"]) == (0.0, 4.0, 1.0)  # the schema's
    m.set_parameter("firms.1.strategy", "short_term")
    assert m.config.firms[1].warn_rate == 0.0 and m.config.firms[1].promise == 0.85


def test_the_drawing_shows_the_models_own_network() -> None:
    m = ClassroomModel(Settings(seed=5))
    upper = m.network.adjacency.tocoo()
    keep = upper.row < upper.col
    expected = {(int(u), int(v)) for u, v in zip(upper.row[keep], upper.col[keep], strict=True)}
    assert {(min(u, v), max(u, v)) for u, v in m.edges.tolist()} == expected
    assert m.positions.shape == (m.config.population.size, 2)


def test_the_inspector_reads_the_customer_agent() -> None:
    m = ClassroomModel(Settings(seed=2))
    for _ in range(4):
        m.step()
    i = 11
    rows = describe_customer(m, i)
    assert [r["firm"] for r in rows] == m.config.firm_names
    for f, row in enumerate(rows):
        np.testing.assert_allclose(
            [row["ability"], row["benevolence"], row["integrity"]], m.state.beliefs[i, f]
        )
        c, a, t = (float(v[0]) for v in m.trust_of(np.array([i]), np.array([f])))
        assert (row["cognitive"], row["affective"], row["trust"]) == (c, a, t)
