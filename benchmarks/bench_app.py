"""How long one step of the classroom scenario takes to compute and draw.

Usage::

    python benchmarks/bench_app.py

Times the model step and the two figures the page shows (network and plots,
rendered to PNG as the page does) over 52 steps. Target: under 0.25 s a step.
"""

from __future__ import annotations

import io
import time

import numpy as np

from trustsim.viz.classroom import ClassroomModel, Settings, network_figure


def main() -> None:
    model = ClassroomModel(Settings())
    network_figure(model)  # the layout is computed once per network, here
    times = {"step": [], "network": [], "plots": []}
    for _ in range(52):
        t0 = time.perf_counter()
        model.step()
        t1 = time.perf_counter()
        network_figure(model, selected=0).savefig(io.BytesIO(), format="png")
        t2 = time.perf_counter()
        model.plots.update(model).savefig(io.BytesIO(), format="png")
        t3 = time.perf_counter()
        for key, value in zip(times, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            times[key].append(value)
    total = np.sum(list(times.values()), axis=0)
    print(f"classroom scenario, {model.config.population.size} customers, 52 steps")
    for key, values in times.items():
        print(f"{key:<8} median {1000 * np.median(values):6.1f} ms")
    print(
        f"{'total':<8} median {1000 * np.median(total):6.1f} ms, "
        f"max {1000 * np.max(total):6.1f} ms (target < 250 ms)"
    )


if __name__ == "__main__":
    main()
