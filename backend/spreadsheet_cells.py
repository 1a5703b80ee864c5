"""CSV cells a spreadsheet would run as formulas (CSV injection), kept inert both ways.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets, and partners write the titles and notes the secretariat
exports. The exports write such a cell with a leading apostrophe (a spreadsheet shows the
text as it is); the imports take one apostrophe off again. An apostrophe already leading
such a text, or another apostrophe, is doubled the same way, so every text reads back
exactly as it was written.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_GUARD = "'"
_GUARDED = (*FORMULA_STARTS, _GUARD)


def guarded(cell: str) -> str:
    """The cell as the exports write it."""
    if cell.startswith(FORMULA_STARTS) or (
        cell.startswith(_GUARD) and cell[1:].startswith(_GUARDED)
    ):
        return _GUARD + cell
    return cell


def unguarded(cell: str) -> str:
    """The text a cell the exports wrote stands for (a hand-made cell reads as it is,
    unless it starts with an apostrophe before one of the guarded characters)."""
    if cell.startswith(_GUARD) and cell[1:].startswith(_GUARDED):
        return cell[1:]
    return cell
