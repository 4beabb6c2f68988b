"""Each report as a table: a caption, its columns and rows of plain values, and which columns its chart
draws. The page renders these (the chart is drawn from the table), and the export writes them as CSV:
one shape, so what is charted, read aloud and downloaded are the same numbers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from supportdesk.reports import reads, satisfaction
from supportdesk.reports.calendar import Granularity
from supportdesk.reports.filters import ReportFilters
from supportdesk.reports.policy import ReportScope
from supportdesk.tickets.lifecycle import Status

Cell = str | int | float | None
BACKLOG_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
NO_TEAM, NO_CATEGORY = "No team", "No category"


@dataclass(frozen=True)
class ReportTable:
    name: str  # as in URLs: /reports/export/<name>.csv
    caption: str
    columns: list[str]  # the first names the rows
    rows: list[list[Cell]]
    chart: str  # bar, stacked, line, hbar or percent (horizontal bars from 0 to 100)
    series: tuple[int, ...]  # the columns the chart draws


@dataclass(frozen=True)
class Names:
    teams: Mapping[int, str]
    categories: Mapping[int, str]


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _unit(filters: ReportFilters) -> str:
    return "day" if filters.granularity is Granularity.DAY else "week"


def volume_table(
    session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo, _names: Names
) -> list[ReportTable]:
    figures = reads.volume(session, scope, filters, zone)
    rows: list[list[Cell]] = [
        [period.label, created, resolved]
        for period, created, resolved in zip(figures.periods, figures.created, figures.resolved, strict=True)
    ]
    caption = f"Tickets created and resolved per {_unit(filters)}"
    return [ReportTable("volume", caption, ["Period", "Created", "Resolved"], rows, "bar", (1, 2))]


def backlog_tables(
    session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo, names: Names
) -> list[ReportTable]:
    figures = reads.backlog(session, scope, filters, zone)
    unit = _unit(filters)
    by_status: list[list[Cell]] = []
    teams = sorted(
        {team for counts in figures.counts for team, _ in counts}, key=lambda t: _team_name(names, t)
    )
    by_team: list[list[Cell]] = []
    for period, counts in zip(figures.periods, figures.counts, strict=True):
        per_status = dict.fromkeys(BACKLOG_STATUSES, 0)
        per_team = dict.fromkeys(teams, 0)
        for (team, status), count in counts.items():
            per_status[status] += count
            per_team[team] += count
        by_status.append([period.label, *per_status.values()])
        by_team.append([period.label, *per_team.values()])
    statuses = [status.value.replace("_", " ").capitalize() for status in BACKLOG_STATUSES]
    return [
        ReportTable(
            "backlog-status",
            f"Open tickets at the end of each {unit}, by status",
            ["Period", *statuses],
            by_status,
            "stacked",
            tuple(range(1, len(statuses) + 1)),
        ),
        ReportTable(
            "backlog-team",
            f"Open tickets at the end of each {unit}, by team",
            ["Period", *(_team_name(names, team) for team in teams)],
            by_team,
            "line",
            tuple(range(1, len(teams) + 1)),
        ),
    ]


def _team_name(names: Names, team: int | None) -> str:
    return NO_TEAM if team is None else names.teams.get(team, f"Team {team}")


def times_table(
    session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo, _names: Names
) -> list[ReportTable]:
    figures = reads.times(session, scope, filters, zone)
    rows: list[list[Cell]] = [
        [label, durations.count, _hours(durations.median), _hours(durations.p90)]
        for label, durations in (
            ("First response", figures.first_response),
            ("Resolution", figures.resolution),
            ("Resolution, working time", figures.working_resolution),
        )
    ]
    columns = ["Measure", "Tickets", "Median (hours)", "90th percentile (hours)"]
    return [ReportTable("times", "First response and resolution times", columns, rows, "hbar", (2, 3))]


SERVICE_LEVEL_COLUMNS = [
    "First responses met",
    "First responses breached",
    "First responses met (%)",
    "Resolutions met",
    "Resolutions breached",
    "Resolutions met (%)",
    "Open and breached now",
]


def _share(met: int, breached: int) -> float | None:
    return None if met + breached == 0 else round(100 * met / (met + breached), 1)


class _Grouped(Protocol):
    @property
    def team_id(self) -> int | None: ...
    @property
    def category_id(self) -> int | None: ...
    @property
    def assignee_name(self) -> str | None: ...


GroupedRow = TypeVar("GroupedRow", bound=_Grouped)


def _summed_by_grouping(
    figures: Iterable[GroupedRow], names: Names, counts: Callable[[GroupedRow], tuple[int, ...]]
) -> list[tuple[str, str, list[tuple[str, list[int]]]]]:
    """The figures' counts summed per team, per category and per technician: for each grouping its key,
    its column heading and (name, sums) sorted by name."""
    figures = list(figures)
    groupings: list[tuple[str, str, Callable[[GroupedRow], str]]] = [
        ("team", "Team", lambda row: _team_name(names, row.team_id)),
        ("category", "Category", lambda row: _category_name(names, row.category_id)),
        ("technician", "Technician", lambda row: row.assignee_name or "Unassigned"),
    ]
    grouped = []
    for key, heading, name_of in groupings:
        sums: dict[str, list[int]] = {}
        for row in figures:
            values = counts(row)
            total = sums.setdefault(name_of(row), [0] * len(values))
            for index, value in enumerate(values):
                total[index] += value
        grouped.append((key, heading, sorted(sums.items())))
    return grouped


def _service_level_counts(row: reads.ServiceLevelFigures) -> tuple[int, ...]:
    return (
        row.first_response_met,
        row.first_response_breached,
        row.resolution_met,
        row.resolution_breached,
        row.open_breached,
    )


def service_level_tables(
    session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo, names: Names
) -> list[ReportTable]:
    figures = reads.service_levels(session, scope, filters, zone)
    tables = []
    for key, heading, sums in _summed_by_grouping(figures, names, _service_level_counts):
        rows: list[list[Cell]] = [
            [
                name,
                fr_met,
                fr_breached,
                _share(fr_met, fr_breached),
                met,
                breached,
                _share(met, breached),
                now,
            ]
            for name, (fr_met, fr_breached, met, breached, now) in sums
        ]
        tables.append(
            ReportTable(
                f"service-levels-{key}",
                f"Service levels by {key}",
                [heading, *SERVICE_LEVEL_COLUMNS],
                rows,
                "percent",
                (3, 6),
            )
        )
    return tables


def _category_name(names: Names, category: int | None) -> str:
    return NO_CATEGORY if category is None else names.categories.get(category, f"Category {category}")


def technicians_table(
    session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo, _names: Names
) -> list[ReportTable]:
    rows: list[list[Cell]] = [
        [row.name, row.open_now, row.resolved] for row in reads.technicians(session, scope, filters, zone)
    ]
    return [
        ReportTable(
            "technicians",
            "Technicians: open tickets now and resolved in the range",
            ["Technician", "Open now", "Resolved in the range"],
            rows,
            "hbar",
            (1, 2),
        )
    ]


def categories_table(
    session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo, _names: Names
) -> list[ReportTable]:
    rows: list[list[Cell]] = [
        [row.name or NO_CATEGORY, row.created] for row in reads.top_categories(session, scope, filters, zone)
    ]
    caption = "Top categories by tickets raised"
    return [ReportTable("categories", caption, ["Category", "Tickets raised"], rows, "hbar", (1,))]


SATISFACTION_COLUMNS = ["Good", "Bad", "Rated", "Satisfaction (% good)"]


def satisfaction_tables(
    session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo, names: Names
) -> list[ReportTable]:
    """Ratings of the resolutions in the range: good, bad, how many, and the share of good among them."""
    figures = satisfaction.satisfaction(session, scope, filters, zone)
    tables = []
    for key, heading, sums in _summed_by_grouping(figures, names, lambda row: (row.good, row.bad)):
        rows: list[list[Cell]] = [
            [name, good, bad, good + bad, _share(good, bad)] for name, (good, bad) in sums
        ]
        caption = f"Satisfaction by {key}: ratings of the resolutions in the range"
        tables.append(
            ReportTable(
                f"satisfaction-{key}", caption, [heading, *SATISFACTION_COLUMNS], rows, "percent", (4,)
            )
        )
    return tables


Builder = Callable[[Session, ReportScope, ReportFilters, ZoneInfo, Names], list[ReportTable]]
# Report name -> what builds it (the backlog's two tables come from one reading).
BUILDERS: dict[str, Builder] = {
    "volume": volume_table,
    "backlog-status": backlog_tables,
    "backlog-team": backlog_tables,
    "times": times_table,
    "service-levels-team": service_level_tables,
    "service-levels-category": service_level_tables,
    "service-levels-technician": service_level_tables,
    "technicians": technicians_table,
    "categories": categories_table,
    "satisfaction-team": satisfaction_tables,
    "satisfaction-category": satisfaction_tables,
    "satisfaction-technician": satisfaction_tables,
}
REPORT_NAMES = tuple(BUILDERS)


def all_tables(
    session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo, names: Names
) -> list[ReportTable]:
    builders = dict.fromkeys(BUILDERS.values())  # each once, in order
    return [table for builder in builders for table in builder(session, scope, filters, zone, names)]


def one_table(
    session: Session, scope: ReportScope, filters: ReportFilters, zone: ZoneInfo, names: Names, name: str
) -> ReportTable:
    """The report called `name` (a KeyError for a name that is not one)."""
    tables = BUILDERS[name](session, scope, filters, zone, names)
    return next(table for table in tables if table.name == name)
