"""sheet: one spreadsheet of five columns (A-E) with a header in row 1; numbers are stored as numbers."""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from rixin.bench.execsuite.base import Api

WIDTH, MAX_ROWS = 5, 200
Cell = str | int | float | None
SEED_ROWS: list[list[Cell]] = [
    ["Item", "Units", "Unit price", "Supplier", "Notes"],
    ["Pens", 120, 1.5, "Inkwell", None],
    ["Notebooks", 45, 3.2, "PaperCo", None],
    ["Staplers", 8, 12.75, "Inkwell", None],
    ["Folders", 200, 0.6, "PaperCo", None],
    ["Markers", 36, 2.1, "Colorly", None],
    ["Tape", 24, 1.8, "Inkwell", None],
]
_CELL = re.compile(r"^([A-Za-z])(\d{1,3})$")


def _number(value: float) -> int | float:
    if not math.isfinite(value):
        raise ValueError(f"numbers must be finite, got {value!r}")
    value = round(value, 6)
    return int(value) if value == int(value) else value


def cell_value(value: str | float | None) -> Cell:
    """What a spreadsheet stores for a typed value: numeric text becomes a number, blank text nothing."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            return text
        return _number(number) if math.isfinite(number) else text
    return _number(float(value))


class SheetApi(Api):
    name = "sheet"
    methods = ("read_cell", "write_cell", "sum_range", "add_row", "sort_by_column")
    mutating = frozenset({"write_cell", "add_row", "sort_by_column"})

    def __init__(self) -> None:
        self.rows: list[list[Cell]] = copy.deepcopy(SEED_ROWS)

    def state(self) -> dict[str, Any]:
        return {"rows": copy.deepcopy(self.rows)}

    @staticmethod
    def _column(letter: str) -> int:
        index = ord(letter.strip().upper()) - ord("A") if len(letter.strip()) == 1 else -1
        if not 0 <= index < WIDTH:
            raise ValueError(f"column must be one letter from A to {chr(ord('A') + WIDTH - 1)}, got {letter!r}")
        return index

    def _cell(self, cell: str) -> tuple[int, int]:
        match = _CELL.match(cell.strip())
        if not match or not 1 <= int(match[2]) <= MAX_ROWS:
            raise ValueError(f"cell must look like 'B2' (columns A-E, rows 1-{MAX_ROWS}), got {cell!r}")
        return int(match[2]) - 1, self._column(match[1])

    def read_cell(self, cell: str) -> dict[str, Any]:
        """Read the value of one cell (null when the cell is empty).

        Args:
            cell: The cell, e.g. "B2".
        """
        row, col = self._cell(cell)
        value = self.rows[row][col] if row < len(self.rows) else None
        return {"cell": cell.strip().upper(), "value": value}

    def write_cell(self, cell: str, value: str | float) -> dict[str, Any]:
        """Write a value into one cell, replacing what was there; rows below the last one are added as needed.

        Args:
            cell: The cell, e.g. "B2".
            value: A number or a text; an empty text clears the cell.
        """
        row, col = self._cell(cell)
        stored = cell_value(value)
        while len(self.rows) <= row:
            self.rows.append([None] * WIDTH)
        self.rows[row][col] = stored
        return {"cell": cell.strip().upper(), "value": stored}

    def sum_range(self, range: str) -> dict[str, Any]:
        """Add up the numbers in a rectangular range of cells; empty and text cells are skipped.

        Args:
            range: The range, two cells joined by a colon, e.g. "B2:B5".
        """
        parts = range.split(":")
        if len(parts) != 2:
            raise ValueError(f"range must look like 'B2:B5', got {range!r}")
        (r1, c1), (r2, c2) = self._cell(parts[0]), self._cell(parts[1])
        total = 0.0
        for row in self.rows[min(r1, r2) : max(r1, r2) + 1]:
            for value in row[min(c1, c2) : max(c1, c2) + 1]:
                if isinstance(value, int | float):
                    total += value
        return {"range": range.strip().upper(), "sum": _number(total)}

    def add_row(self, values: list[str | float]) -> dict[str, Any]:
        """Add a row below the last row.

        Args:
            values: The cells of the new row from column A on (at most 5); an empty text leaves a cell empty.
        """
        if not values or len(values) > WIDTH:
            raise ValueError(f"values must hold 1 to {WIDTH} cells, got {len(values)}")
        if len(self.rows) >= MAX_ROWS:
            raise ValueError("the sheet is full")
        row = [cell_value(v) for v in values] + [None] * (WIDTH - len(values))
        self.rows.append(row)
        return {"row": len(self.rows), "values": row}

    def sort_by_column(self, column: str, descending: bool = False) -> dict[str, Any]:
        """Sort the rows below the header by one column; numbers come before text, empty cells last.

        Args:
            column: The column letter, e.g. "B".
            descending: Sort from largest to smallest (Z to A) instead.
        """
        col = self._column(column)
        data = self.rows[1:]
        filled = [r for r in data if r[col] is not None]
        numbers = sorted((r for r in filled if not isinstance(r[col], str)), key=lambda r: float(r[col] or 0))
        texts = sorted((r for r in filled if isinstance(r[col], str)), key=lambda r: str(r[col]).lower())
        if descending:
            numbers.reverse()
            texts.reverse()
        self.rows[1:] = numbers + texts + [r for r in data if r[col] is None]
        return {"sorted_by": column.strip().upper(), "descending": descending, "rows_sorted": len(data)}
