"""Plots for docs/performance.md, drawn from result files alone:

- docs/performance-scale.svg: how each endpoint's CPU per request (workers + database, median of the
  rounds, interquartile range as error bars) grows with the number of tickets;
- docs/performance-ratios.svg: each endpoint against the ceiling, CPU and req/s, per run and size: the
  median, the interquartile range (thick) and the lowest-highest round (thin), with the budget lines.

Usage: python -m bench.plot RESULT.json [RESULT.json ...]  (the scale curve merges every file's sizes,
a later file's size replacing an earlier one's; the ratios show every run given)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt

from bench.report import figures_by_endpoint, ratio_limits, spread_of

DOCS = Path(__file__).resolve().parent.parent / "docs"
# Same bytes for the same results: no date in the file, fixed ids.
mpl.rcParams.update({"svg.hashsalt": "supportdesk-bench", "svg.fonttype": "none", "font.size": 9})
METADATA = {"Date": None, "Creator": "bench/plot.py"}


def scale_plot(results: list[dict[str, Any]], path: Path) -> None:
    sizes: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    for result in results:
        for size in result["sizes"]:
            sizes[int(size["n"])] = (result, size)
    ns = sorted(sizes)
    tables = {n: figures_by_endpoint(sizes[n][1], int(sizes[n][0]["settings"]["cores"])) for n in ns}
    names = [name for name in dict.fromkeys(k for t in tables.values() for k in t) if name != "ceiling /ok"]
    colours = mpl.colormaps["tab20"]
    figure, (absolute, relative) = plt.subplots(1, 2, figsize=(11, 5))
    for index, name in enumerate(["ceiling /page", *names]):
        style: dict[str, Any] = (
            {"linestyle": "--", "color": "black"} if index == 0 else {"color": colours(index % 20)}
        )
        for panel, figure_name in ((absolute, "cpu_ms"), (relative, "cpu_ratio")):
            points = []
            for n in ns:
                if index == 0:
                    values = _ceiling_values(tables[n]) if figure_name == "cpu_ms" else [1.0]
                else:
                    values = tables[n].get(name, {}).get(figure_name, [])
                    if (
                        figure_name == "cpu_ratio"
                    ):  # cost in ceilings: steadier across sizes run at different times
                        values = [1 / v for v in values if v > 0]
                spread = spread_of(values)
                if spread:
                    points.append((n, spread.median, spread.median - spread.q1, spread.q3 - spread.median))
            if points:
                xs, ys, below, above = zip(*points, strict=True)
                panel.errorbar(xs, ys, yerr=[below, above], marker="o", capsize=3, label=name, **style)
    for panel, label in (
        (absolute, "CPU ms per request (workers + database)"),
        (relative, "CPU per request in ceiling /page requests (paired)"),
    ):
        panel.set_xscale("log")
        panel.set_xticks(ns, [f"{n:,}" for n in ns])
        panel.minorticks_off()
        panel.set_xlabel("tickets in the database")
        panel.set_ylabel(label)
        panel.grid(alpha=0.3)
    relative.legend(fontsize=7, ncol=2)
    figure.suptitle("How cost grows with the data (median of the rounds, interquartile range)")
    figure.tight_layout()
    figure.savefig(path, metadata=METADATA)
    plt.close(figure)


def _ceiling_values(table: dict[str, dict[str, list[float]]]) -> list[float]:
    """The ceiling's CPU per request as its pairs saw it (every ceiling run once per pair it is in)."""
    return [v for figures in table.values() for v in figures.get("ceiling_cpu_ms", [])]


def ratio_plot(results: list[dict[str, Any]], path: Path) -> None:
    series = []
    for result in results:
        label = result["started"][:16].replace("T", " ")
        for size in sorted(result["sizes"], key=lambda s: int(s["n"])):
            table = figures_by_endpoint(size, int(result["settings"]["cores"]))
            series.append((f"{label}, N = {int(size['n']):,}", table))
    names = [n for n in dict.fromkeys(k for _, t in series for k in t) if n != "ceiling /ok"]
    figure, panels = plt.subplots(
        1, 2, figsize=(11, 0.45 * len(names) * max(1, len(series)) / 2 + 2), sharey=True
    )
    step = 0.8 / max(1, len(series))
    limits = ratio_limits()
    for panel, figure_name, title in (
        (panels[0], "cpu_ratio", "CPU per request: the ceiling's / the endpoint's"),
        (panels[1], "ratio", "req/s: the endpoint's / the ceiling's, same seconds"),
    ):
        for index, (label, table) in enumerate(series):
            color = f"C{index}"
            for row, name in enumerate(names):
                spread = spread_of(table.get(name, {}).get(figure_name, []))
                if spread is None:
                    continue
                y = row - 0.4 + step * (index + 0.5)
                panel.plot([spread.low * 100, spread.high * 100], [y, y], color=color, linewidth=1)
                panel.plot([spread.q1 * 100, spread.q3 * 100], [y, y], color=color, linewidth=4, alpha=0.6)
                panel.plot(
                    [spread.median * 100],
                    [y],
                    "o",
                    color=color,
                    markersize=4,
                    label=label if row == 0 else None,
                )
        for row, name in enumerate(names):
            if name in limits:
                limit = limits[name] * 100
                panel.plot([limit, limit], [row - 0.45, row + 0.45], color="black", linewidth=1.5)
        panel.set_title(title)
        panel.set_xlabel("% of the ceiling's /page (black: the budget, judged on CPU)")
        panel.grid(axis="x", alpha=0.3)
    panels[0].set_yticks(range(len(names)), names)
    panels[0].invert_yaxis()
    panels[0].legend(fontsize=7, loc="lower right")
    figure.suptitle(
        "Each endpoint against the ceiling: median, interquartile range (thick), lowest-highest (thin)"
    )
    figure.tight_layout(rect=(0, 0, 1, 0.98))  # room for the title above the panels' own
    figure.savefig(path, metadata=METADATA)
    plt.close(figure)


def main(arguments: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("results", nargs="+", help="result files (bench/results/*.json)")
    parser.add_argument("--out", type=Path, default=DOCS, help="where the SVGs go (default: docs/)")
    parser.add_argument("--format", default="svg", choices=["svg", "png"])
    options = parser.parse_args(arguments)
    results = [json.loads(Path(p).read_text()) for p in options.results]
    scale, ratios = (options.out / f"performance-{name}.{options.format}" for name in ("scale", "ratios"))
    scale_plot(results, scale)
    ratio_plot(results, ratios)
    print(f"wrote {scale} and {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
