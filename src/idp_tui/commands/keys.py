"""``idp-tui keys``: every binding id a keymap may name, with its keys and where it applies; checks keymap.yaml.

The keymap file maps these ids to keys; this command is how a person finds the ids and tests the file before
starting the TUI (its problems are the ones the TUI would show, and the exit status is 1 when there are any).
"""

from __future__ import annotations

from .output import console, error, print_json

EXIT_KEYMAP_PROBLEMS = 1


def add_parser(subparsers) -> None:
    keys = subparsers.add_parser("keys", help="the key binding ids (for keymap.yaml) and a check of your keymap")
    keys.add_argument("--json", action="store_true", help="print them as JSON")
    keys.set_defaults(handler=keys_command, needs_session=False)


def keys_command(args, session=None) -> int:
    # The TUI's own bindings: this one command imports the app and its screens (see [tool.importlinter]).
    from ..app import binding_scopes
    from ..keymap import keymap_path
    from ..screens.bindings import load_user_keymap

    path = keymap_path()
    scopes = binding_scopes()
    result = load_user_keymap(path, scopes)
    rows = _rows(scopes, result.keymap)
    if args.json:
        print_json({"keymap": str(path), "exists": path.exists(), "bindings": rows, "problems": result.problems})
    else:
        _print_table(rows, str(path) if path.exists() else f"{path} (not present)")
    for problem in result.problems:
        error(problem)
    return EXIT_KEYMAP_PROBLEMS if result.problems else 0


def _rows(scopes, keymap: dict[str, str]) -> list[dict[str, object]]:
    """One row per binding id: its keys now (the keymap's when it remaps it), its defaults, where it applies."""
    rows: dict[str, dict[str, object]] = {}
    for scope in scopes:
        for bound in scope.bindings:
            if bound.id is None:
                continue
            row = rows.setdefault(
                bound.id,
                {
                    "id": bound.id,
                    "keys": keymap[bound.id].split(",") if bound.id in keymap else list(bound.keys),
                    "default_keys": list(bound.keys),
                    "description": bound.description,
                    "where": [],
                },
            )
            row["where"].append(scope.name)  # type: ignore[union-attr]
    for row in rows.values():
        if "everywhere" in row["where"]:  # type: ignore[operator]
            row["where"] = ["everywhere"]  # the app's own keys: listing every screen again says nothing more
    return [rows[binding_id] for binding_id in sorted(rows)]


def _print_table(rows: list[dict[str, object]], path: str) -> None:
    from rich.table import Table

    table = Table(title=f"Key bindings · keymap: {path}", title_justify="left", box=None, padding=(0, 2, 0, 0))
    for column in ("ID", "KEYS", "DESCRIPTION", "WHERE"):
        table.add_column(column, no_wrap=column != "WHERE")
    for row in rows:
        remapped = row["keys"] != row["default_keys"]
        keys = ",".join(row["keys"]) + (" (remapped)" if remapped else "")  # type: ignore[arg-type]
        table.add_row(str(row["id"]), keys, str(row["description"]), ", ".join(row["where"]))  # type: ignore[arg-type]
    console(table=True).print(table)
