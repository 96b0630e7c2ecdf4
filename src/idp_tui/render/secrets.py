"""An entity's secrets as lines: keys with versions and times, the policies that can read them. Never a value.

The text view and ``--json`` carry the same facts: which Vault answered (the demo Vault says so), every key and
folder, every note, and whether the readers could be known at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.text import Text

from ..catalog.entity import Entity
from ..safe_text import clean
from ..secrets.entity_path import SecretsPath
from ..secrets.models import SecretKey, SecretListing
from .lines import Line, heading
from .oncall import duration
from .words import count

DEMO_NOTE = (
    "Answered by the demo Vault: sample secrets bundled with idp-tui. Set VAULT_ADDR (and VAULT_TOKEN), or add a "
    "vault section to the profile, to see your Vault."
)
NO_READERS = "No ACL policy grants read here (root and sudo tokens aside)."


def _p(text: object) -> str:
    """Catalog or Vault text as one printable line (no escape sequences, no controls)."""
    return clean(str(text), one_line=True)


def _when(moment: datetime | None, now: datetime) -> str:
    return f"{moment.astimezone():%Y-%m-%d %H:%M} ({duration(now - moment)} ago)" if moment else "?"


def _keys_heading(listing: SecretListing) -> str:
    title = f"Keys · {count(len(listing.secrets), 'secret')}"
    if listing.folders:
        title += f" · {count(len(listing.folders), 'folder')}"
    if listing.kv_version == 1:
        title += " · KV version 1"
    return title


def _key_text(key: SecretKey, listing: SecretListing, now: datetime) -> Text:
    text = Text(f"  {_p(key.name)}", style="bold")
    if key.is_folder:
        text.append("  folder", style="italic")
        return text
    if listing.kv_version == 1:
        return text  # KV version 1 keeps no versions or times
    if key.current_version is not None:
        text.append(f"  v{key.current_version}")
        if key.versions and key.versions > 1:
            text.append(f" of {key.versions}", style="dim")
    if key.deleted:
        text.append("  deleted", style="italic")
    text.append(f"  updated {_when(key.updated, now)}", style="dim")
    text.append(f"  created {_when(key.created, now)}", style="dim")
    return text


def secrets_lines(
    entity: Entity,
    where: SecretsPath | None,
    listing: SecretListing | None,
    problem: str | None,
    *,
    demo: bool = False,
) -> list[Line]:
    """The secrets view: where, which keys (with metadata), who can read them, or why it could not tell.

    Args:
        demo: the demo Vault answers (said on its own line, so nobody takes sample data for their Vault).
    """
    title = Text(_p(entity.display_name), style="bold")
    title.append(f"  {_p(entity.ref.humanize())}", style="dim")
    lines = [Line(title, copy=entity.key, target=entity.key)]
    if where is None:
        return [*lines, Line(Text("  No vault.io/secrets-path annotation and no owner to infer one.", "italic"))]
    origin = "vault.io/secrets-path" if where.source == "annotation" else "the golden path's convention"
    shown = f"{listing.mount}/{listing.path}".rstrip("/") if listing is not None else str(where)
    lines.append(Line(Text(f"Vault path {_p(shown)}  (from {origin})", style="dim"), copy=shown, wrap=True))
    if demo:
        lines.append(Line(Text(DEMO_NOTE, style="italic"), wrap=True))
    if problem is not None:
        return [*lines, Line(Text(f"  ! {_p(problem)}", style="bold"), copy=problem, wrap=True)]
    if listing is None:
        return [*lines, Line(Text("  Asking Vault…", style="italic"))]
    now = datetime.now(UTC)
    lines.append(heading(_keys_heading(listing)))
    if not listing.keys:
        lines.append(Line(Text("  Nothing stored under this path yet.", style="italic")))
    for key in listing.keys:
        first = key is listing.keys[0]
        lines.append(Line(_key_text(key, listing, now), copy=listing.command_for(key), first=first))
    lines.append(heading("Readable by (policies)"))
    lines += [Line(Text(f"  {_p(policy)}"), copy=policy) for policy in listing.readers]
    if not listing.readers and listing.readers_known:
        lines.append(Line(Text(f"  {NO_READERS}", style="italic")))
    lines += [Line(Text(f"  {_p(note)}", style="dim"), wrap=True) for note in listing.notes]
    hint = "Values are never fetched. y on a key copies its `vault kv get` command (`vault kv list` on a folder)."
    lines.append(Line(Text(hint, style="dim"), wrap=True))
    return lines


def listing_json(
    entity: Entity,
    where: SecretsPath | None,
    listing: SecretListing | None,
    problem: str | None,
    *,
    demo: bool = False,
) -> dict[str, Any]:
    """``idp-tui secrets --json``: keys and metadata only, with every note the text view shows.

    ``readers`` is null when the token may not read the policies (nobody can tell who reads); ``demo`` says
    whether the demo Vault answered.
    """
    keys = listing.keys if listing is not None else ()
    notes = list(listing.notes) if listing is not None else []
    if listing is not None and not listing.readers and listing.readers_known:
        notes.append(NO_READERS)
    return {
        "entity": entity.key,
        "demo": demo,
        "mount": listing.mount if listing is not None else (where.mount if where else None),
        "path": listing.path if listing is not None else (where.path if where else None),
        "source": where.source if where else None,
        "kv_version": listing.kv_version if listing is not None else None,
        "error": problem,
        "keys": [
            {
                "name": key.name,
                "folder": key.is_folder,
                "version": key.current_version,
                "versions": key.versions,
                "created": key.created.isoformat() if key.created else None,
                "updated": key.updated.isoformat() if key.updated else None,
                "deleted": key.deleted,
                "command": listing.command_for(key) if listing else None,
            }
            for key in keys
        ],
        "readers": (list(listing.readers) if listing.readers_known else None) if listing is not None else [],
        "notes": notes,
    }
