"""An entity's secrets as lines: keys with versions and times, the policies that can read them. Never a value."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text

from ..catalog.entity import Entity
from ..safe_text import clean
from ..secrets.entity_path import SecretsPath
from ..secrets.models import SecretListing
from .lines import Line, heading
from .oncall import duration
from .words import count


def _p(text: object) -> str:
    """Catalog or Vault text as one printable line (no escape sequences, no controls)."""
    return clean(str(text), one_line=True)


def _when(moment: datetime | None, now: datetime) -> str:
    return f"{moment.astimezone():%Y-%m-%d %H:%M} ({duration(now - moment)} ago)" if moment else "?"


def secrets_lines(
    entity: Entity, where: SecretsPath | None, listing: SecretListing | None, problem: str | None
) -> list[Line]:
    """The secrets view: where, which keys (with metadata), who can read them, or why it could not tell."""
    title = Text(_p(entity.display_name), style="bold")
    title.append(f"  {_p(entity.ref.humanize())}", style="dim")
    lines = [Line(title, copy=entity.key, target=entity.key)]
    if where is None:
        return [*lines, Line(Text("  No vault.io/secrets-path annotation and no owner to infer one.", "italic"))]
    origin = "vault.io/secrets-path" if where.source == "annotation" else "the golden path's convention"
    lines.append(Line(Text(f"Vault path {_p(where)}  (from {origin})", style="dim"), copy=str(where), wrap=True))
    if problem is not None:
        return [*lines, Line(Text(f"  ! {_p(problem)}", style="bold"), copy=problem, wrap=True)]
    if listing is None:
        return [*lines, Line(Text("  Asking Vault…", style="italic"))]
    now = datetime.now(UTC)
    lines.append(heading(f"Keys · {count(len(listing.keys), 'secret')}"))
    if not listing.keys:
        lines.append(Line(Text("  Nothing stored under this path yet.", style="italic")))
    for key in listing.keys:
        text = Text(f"  {_p(key.name)}", style="bold")
        if key.current_version is not None:
            text.append(f"  v{key.current_version}")
            if key.versions and key.versions > 1:
                text.append(f" of {key.versions}", style="dim")
        if key.deleted:
            text.append("  deleted", style="italic")
        text.append(f"  updated {_when(key.updated, now)}", style="dim")
        text.append(f"  created {_when(key.created, now)}", style="dim")
        lines.append(Line(text, copy=listing.kv_get_command(key.name), first=key is listing.keys[0]))
    lines.append(heading("Readable by (policies)"))
    readers = listing.readers or ()
    lines += [Line(Text(f"  {_p(policy)}"), copy=policy) for policy in readers]
    if not readers:
        lines.append(Line(Text("  No ACL policy grants read here (root and sudo tokens aside).", style="italic")))
    lines += [Line(Text(f"  {_p(note)}", style="dim"), wrap=True) for note in listing.notes]
    hint = "Values are never fetched. y on a key copies its `vault kv get` command."
    lines.append(Line(Text(hint, style="dim"), wrap=True))
    return lines


def listing_json(entity: Entity, where: SecretsPath | None, listing: SecretListing | None, problem: str | None):
    """``idp-tui secrets --json``: keys and metadata only."""
    keys = listing.keys if listing is not None else ()
    return {
        "entity": entity.key,
        "mount": where.mount if where else None,
        "path": where.path if where else None,
        "source": where.source if where else None,
        "error": problem,
        "keys": [
            {
                "name": key.name,
                "version": key.current_version,
                "versions": key.versions,
                "created": key.created.isoformat() if key.created else None,
                "updated": key.updated.isoformat() if key.updated else None,
                "deleted": key.deleted,
                "command": listing.kv_get_command(key.name) if listing else None,
            }
            for key in keys
        ],
        "readers": list(listing.readers) if listing is not None else [],
    }
