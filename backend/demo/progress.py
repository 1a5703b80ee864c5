"""A progress bar for seeding and imports, on standard error so standard output keeps the
results."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich import progress as rich
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Progress(Protocol):
    def begin(self, total: int) -> None: ...

    def advance(self, phase: str, steps: int = 1) -> None: ...


class Bar:
    """Adapts a rich Progress to the `seeding.Progress` protocol."""

    def __init__(self, progress: rich.Progress, label: str) -> None:
        self.progress = progress
        self.label = label
        self.task: TaskID | None = None

    def begin(self, total: int) -> None:
        self.task = self.progress.add_task(self.label, total=total)

    def advance(self, phase: str, steps: int = 1) -> None:
        assert self.task is not None
        self.progress.update(self.task, advance=steps, description=phase)


@contextmanager
def bar(label: str = "Seeding") -> Iterator[Bar]:
    columns = (
        TextColumn("{task.description:<15}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[progress.percentage]{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with rich.Progress(*columns, console=Console(stderr=True)) as progress:
        yield Bar(progress, label)
