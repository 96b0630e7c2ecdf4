"""The baseline for bytes per cursor move: the same rows in Textual's DataTable (python datatable.py ROWS.json)."""

import json
import sys

from textual.app import App, ComposeResult
from textual.widgets import DataTable


class Table(App):
    def __init__(self, rows: list[list[str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("KIND", "NAME", "OWNER", "LIFECYCLE", "SYSTEM", "TAGS")
        table.add_rows(self.rows)
        table.focus()


if __name__ == "__main__":
    with open(sys.argv[1]) as rows:
        Table(json.load(rows)).run()
