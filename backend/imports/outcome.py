"""What an import found and did: the problems of every bad row, what it created, corrected
or left unchanged, and the text the command prints."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One reason a line cannot be imported; line 1 is the header."""

    line: int
    field: str | None
    code: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: {self.field}" if self.field else f"line {self.line}"
        return f"{where}: {self.code}: {self.message}"


@dataclass
class Outcome:
    file: str
    dry_run: bool
    # Whether the import corrects existing records (exchange rates) or refuses to (the rest).
    corrects: bool = False
    rows: int = 0
    created: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    feed_events: int = 0
    rates_published: int = 0
    written: bool = False
    # False when the file could not be read as rows at all (encoding, quoting, header).
    readable: bool = True

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_lines(self) -> list[int]:
        return sorted({problem.line for problem in self.problems})

    def errors(self) -> list[str]:
        """Every problem, by line, then the verdict; empty when the file is fine."""
        if self.ok:
            return []
        problems = sorted(self.problems, key=lambda problem: problem.line)
        lines = [str(problem) for problem in problems]
        if self.readable:
            verdict = f"{len(self.bad_lines)} of {self.rows} rows of {self.file} are invalid"
        else:
            verdict = f"{self.file} cannot be read as an import"
        lines.append(f"error: {verdict}; nothing was written.")
        return lines

    def summary(self) -> list[str]:
        """What was done (or, in a dry run, would be), for standard output."""
        if not self.ok:
            return []
        lines: list[str] = []
        if self.dry_run:
            lines += [f"would create {what}" for what in self.created]
            lines += [f"would correct {what}" for what in self.corrected]
        counts = [f"created {len(self.created)}"]
        if self.corrects:
            counts.append(f"corrected {len(self.corrected)}")
        counts.append(f"unchanged {self.unchanged}")
        side_effects = []
        if self.feed_events:
            side_effects.append(_counted(self.feed_events, "feed event"))
        if self.rates_published:
            rates = _counted(self.rates_published, "exchange rate")
            side_effects.append(f"{rates} the file pinned")
        if self.dry_run:
            recorded = f"; would record {' and '.join(side_effects)}" if side_effects else ""
            lines.append(
                f"Dry run of {self.file}: {self.rows} rows, all valid; "
                f"{', '.join(counts)}{recorded}. Nothing was written."
            )
            return lines
        recorded = f"; recorded {' and '.join(side_effects)}" if side_effects else ""
        lines.append(f"Imported {self.file}: {self.rows} rows; {', '.join(counts)}{recorded}.")
        if not self.created and not self.corrected:
            lines.append("Nothing new: every row matches a record the hub already has.")
        return lines


def _counted(number: int, thing: str) -> str:
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"
