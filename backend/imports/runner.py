"""One import, one transaction: every row is tried in a savepoint of a single session, so a
bad row is undone alone and the rows after it are still checked; the whole file commits
once at the end, and only when no row was bad (a dry run always rolls back).
"""

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from backend import models
from backend.actors import SYSTEM, Actor
from backend.db import SessionFactory
from backend.errors import DomainError, FieldIssue, InvalidInput
from backend.imports import csvfile
from backend.imports.cells import Cells
from backend.imports.csvfile import Line
from backend.imports.outcome import Outcome, Problem


class Progress(Protocol):
    def begin(self, total: int) -> None: ...

    def advance(self, phase: str, steps: int = 1) -> None: ...


class Quiet:
    def begin(self, total: int) -> None:
        pass

    def advance(self, phase: str, steps: int = 1) -> None:
        pass


class Row:
    """One line being imported: its cells and every issue found with it, by column.

    `fields` renames the services' field paths to the file's columns (e.g.
    `funded_through_id` -> `funded_through`)."""

    def __init__(self, line: Line, fields: dict[str, str]) -> None:
        self.line = line
        self.fields = fields
        # In the order found: a line's problems read as its cells do, left to right.
        self.issues: list[FieldIssue] = []
        self.cells = Cells(line, self.issues)

    @property
    def ok(self) -> bool:
        return not self.issues

    def fail(self, column: str | None, code: str, message: str) -> None:
        self.issues.append(FieldIssue(column or "", code, message))

    def add(self, issues: Iterable[FieldIssue]) -> None:
        """Add the services' issues, except on a column that has one already: a cell that
        could not be read or a record not found explains what the rules then say of it."""
        explained = [issue.field for issue in self.issues]
        for issue in issues:
            column = self.column_of(issue.field)
            if any(column == field or column.startswith(f"{field}.") for field in explained):
                continue
            renamed = FieldIssue(column, issue.code, issue.message)
            if renamed not in self.issues:
                self.issues.append(renamed)

    def column_of(self, field: str) -> str:
        if field in self.fields:
            return self.fields[field]
        top, dot, rest = field.partition(".")
        return f"{self.fields.get(top, top)}{dot}{rest}"

    def refuse(self, error: DomainError) -> None:
        if isinstance(error, InvalidInput):
            self.add(error.issues)
        else:
            self.fail(None, error.code, error.message)

    def problems(self) -> list[Problem]:
        return [
            Problem(self.line.number, issue.field or None, issue.code, issue.message)
            for issue in self.issues
        ]


class Run:
    """The state of one import: its session, actor, lines and outcome."""

    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        lines: list[Line],
        outcome: Outcome,
        progress: Progress,
        fields: dict[str, str],
        rate_window_days: int,
    ) -> None:
        self.session = session
        self.actor = actor
        self.lines = lines
        self.outcome = outcome
        self.progress = progress
        self.fields = fields
        self.rate_window_days = rate_window_days

    @asynccontextmanager
    async def row(self, line: Line) -> AsyncIterator[Row]:
        """Try one line in a savepoint: a domain error, or any issue left on the row,
        undoes what it wrote and becomes the line's problems."""
        row = Row(line, self.fields)
        savepoint = await self.session.begin_nested()
        try:
            yield row
        except DomainError as error:
            row.refuse(error)
        if row.ok:
            await savepoint.commit()
        else:
            await savepoint.rollback()
            self.outcome.problems += row.problems()

    def created(self, what: str) -> None:
        self.outcome.created.append(what)

    def corrected(self, what: str) -> None:
        self.outcome.corrected.append(what)

    def unchanged(self) -> None:
        self.outcome.unchanged += 1


Work = Callable[[Run], Awaitable[None]]


def each_line(label: str, import_row: Callable[[Run, Row], Awaitable[None]]) -> Work:
    """Work that imports every line as one row, in the file's order, a step of `label`
    on the progress bar each."""

    async def work(importing: Run) -> None:
        for line in importing.lines:
            async with importing.row(line) as row:
                await import_row(importing, row)
            importing.progress.advance(label)

    return work


async def run(
    session_factory: SessionFactory,
    path: Path,
    columns: csvfile.Columns,
    work: Work,
    *,
    fields: dict[str, str],
    steps_per_line: int = 1,
    dry_run: bool,
    progress: Progress | None,
    rate_window_days: int,
    corrects: bool = False,
    pins_rates: bool = True,
) -> Outcome:
    """Read `path`, give every line to `work` in one transaction, and commit only when no
    line had a problem and this is no dry run."""
    table = csvfile.read(path, columns)
    outcome = Outcome(
        file=path.name,
        dry_run=dry_run,
        corrects=corrects,
        rows=table.rows,
        readable=table.readable,
    )
    outcome.problems += table.problems
    if not table.readable:
        return outcome
    # The audit trail names the file the secretariat imported.
    actor = dataclasses.replace(SYSTEM, name=f"import of {path.name}")
    progress = progress or Quiet()
    progress.begin(len(table.lines) * steps_per_line)
    async with session_factory() as session:
        await _begin(session)
        made = _count_made(session)
        importing = Run(session, actor, table.lines, outcome, progress, fields, rate_window_days)
        await work(importing)
        outcome.feed_events = made[models.FeedEvent]
        # Rates published because rows pinned them (the fx import's own rows are its records).
        outcome.rates_published = made[models.FxRate] if pins_rates else 0
        if outcome.ok and not dry_run:
            await session.commit()
            outcome.written = True
        else:
            await session.rollback()
    return outcome


async def _begin(session: AsyncSession) -> None:
    """SQLite's driver begins a transaction only before its first write, so a savepoint
    taken earlier opens one itself and its release commits it: the first row would be
    written whatever the rest hold. Begin the file's transaction explicitly."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(sa.text("BEGIN"))


def _count_made(session: AsyncSession) -> dict[type, int]:
    """Counts the feed events and exchange rates the import's services write."""
    made: dict[type, int] = {models.FeedEvent: 0, models.FxRate: 0}

    def persisted(_session: Any, instance: Any) -> None:
        if type(instance) in made:
            made[type(instance)] += 1

    sa.event.listen(session.sync_session, "pending_to_persistent", persisted)
    return made
