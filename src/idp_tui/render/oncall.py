"""The Ownership and On-call answer as lines of text, shared by ``idp-tui who`` and the TUI's view.

Every line can carry what ``y`` copies (an email, a URL, a ref) and the entity Enter opens, so the TUI shows
the same lines as a navigable list. State is said in words and symbols, never by colour alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from rich.style import Style
from rich.text import Text

from ..catalog.entity import Entity
from ..catalog.links import entity_links
from ..oncall.blast_radius import Dependent
from ..oncall.models import CHANGES, INCIDENTS, EscalationLevel, OnCallReport, OnCallShift
from ..oncall.ownership import OwnerCard
from ..oncall.who import TeamImpact, WhoAnswer
from ..safe_text import clean
from .lines import Line, heading
from .words import count


def _p(text: object) -> str:
    """Text from the catalog or an on-call backend as one printable line (no escape sequences, no controls)."""
    return clean(str(text), one_line=True)


def duration(delta: timedelta) -> str:
    """A span as people say it at a glance: 45m, 5h 20m, 2d 3h."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def moment(when: datetime, now: datetime) -> str:
    """A handoff time in the local zone, with how far away it is: ``Mon 09:00 (in 2d 3h)``."""
    local = when.astimezone()
    shown = local.strftime("%a %H:%M") if abs(when - now) < timedelta(days=6) else local.strftime("%a %d %b %H:%M")
    relative = f"in {duration(when - now)}" if when >= now else f"{duration(now - when)} ago"
    return f"{shown} ({relative})"


def _link(url: str | None, *, dim: bool = False) -> Style | str:
    """A link style from data: a ``Style``, as ``f"link {url}"`` would read a space in the URL as style words."""
    if not url:
        return "dim" if dim else ""
    return Style(link=url, dim=dim or None)


def _email(shift: OnCallShift) -> Text:
    email = _p(shift.responder.email or "")
    return Text(f"  {email}", style=_link(f"mailto:{email}", dim=True)) if email else Text()


def _level_lines(level: EscalationLevel, report: OnCallReport, now: datetime) -> list[Line]:
    # Name and handoff first: at 80 columns the schedule and email may wrap, the answer must not.
    label = f"  L{level.level}  "
    lines: list[Line] = []
    if level.is_gap:
        fall = "the next level" if level.level < len(report.levels) else "nobody: the page is not answered"
        text = Text(label)
        text.append("— nobody on call now", style="bold italic")
        text.append(f": pages fall through to {fall}")
        lines.append(Line(text))
    for shift in level.now:
        text = Text(label)
        text.append(_p(shift.responder.name), style="bold")
        if shift.start is None:
            text.append("  permanent")
        elif shift.end is not None:
            text.append(f"  until {moment(shift.end, now)}")
        if shift.schedule:
            text.append(f"  {_p(shift.schedule)}", style="dim")
        text.append_text(_email(shift))
        lines.append(Line(text, copy=shift.responder.email or shift.responder.name, first=not lines))
    for shift in level.next:
        text = Text(" " * len(label) + "next ", style="dim")
        text.append(_p(shift.responder.name))
        if shift.start is not None:
            text.append(f"  from {moment(shift.start, now)}")
        if shift.schedule:
            text.append(f"  {_p(shift.schedule)}", style="dim")
        text.append_text(_email(shift))
        lines.append(Line(text, copy=shift.responder.email or shift.responder.name))
    if level.escalation_delay_minutes and level.level < len(report.levels) and lines:
        lines[0].text.append(f"  escalates after {level.escalation_delay_minutes} min", style="dim")
    return lines


def owner_lines(card: OwnerCard, entity: Entity, *, full_urls: bool = True) -> list[Line]:
    """The Owner section: the owner (with its parent groups), its contacts, its groups and its members.

    When the entity declares no owner, or one not in the catalog, the section says so. ``full_urls`` False
    shows a contact whose title is its link by the title alone (a terminal hyperlink; ``y`` copies the URL).
    """
    lines = [heading("Owner")]
    if card.owner_key is None:
        return [*lines, Line(Text(f"  {_p(entity.name)} declares no owner (spec.owner is empty).", style="italic"))]
    if card.owner is None:
        return [*lines, Line(Text(f"  {_p(card.owner_key)}: not in the catalog", style="italic"), copy=card.owner_key)]
    owner = card.owner
    text = Text("  ")
    text.append(_p(owner.display_name), style="bold")
    text.append(f"  {_p(owner.ref.humanize())}", style="dim")
    if card.parents:
        text.append("  · " + " › ".join(_p(parent.display_name) for parent in card.parents))
    lines.append(Line(text, copy=owner.key, target=owner.key))
    for contact in card.contacts:
        line = Text(f"  {_p(contact.title)}", style="dim")
        if full_urls or contact.value != contact.url or contact.title == "Link":
            line.append(f": {_p(contact.value)}", style=_link(contact.url))
        else:  # the title is the link; the URL itself is a keystroke away (`y`)
            line.stylize(_link(contact.url))
        lines.append(Line(line, copy=contact.value))
    for group in card.groups:
        line = Text("  member of ", style="dim")
        line.append(_p(group.display_name))
        line.append(f"  {_p(group.ref.humanize())}", style="dim")
        lines.append(Line(line, copy=group.key, target=group.key))
    for member in card.members:
        line = Text("  · ")
        line.append(_p(member.display_name))
        if member.email:
            line.append(f"  {_p(member.email)}", style=_link(f"mailto:{member.email}", dim=True))
        lines.append(Line(line, copy=member.email or member.key, target=member.key))
    return lines


def _section_failed(report: OnCallReport, section: str, what: str) -> list[Line]:
    """One line saying a section could not be read and why; nothing when it was, or when the whole report failed."""
    why = report.section_error(section)
    if not why or why == report.error:
        return []
    return [Line(Text(_p(f"  ! {what} unknown: {why}"), style="bold"), copy=why, wrap=True)]


def oncall_lines(report: OnCallReport | None, missing: str | None, now: datetime, *, asked: bool = False) -> list[Line]:
    """The ladder, then open incidents and recent changes; ``asked``: ``now`` is a moment asked for (``--at``)."""
    if report is None:
        return [heading("On call"), Line(Text(f"  {_p(missing)}", style="italic"), wrap=True)]
    title = "On call"
    if report.policy:
        title += f" · {_p(report.policy)}"
    zone = now.astimezone().strftime("%Z")
    title_text = Text.assemble((title.upper(), "bold"), (f"  {_p(report.provider)} · times in {zone}", "dim"))
    lines = [Line(title_text, heading=True)]
    if asked:
        when = now.astimezone().strftime("%a %d %b %Y %H:%M %Z")
        lines.append(Line(Text(f"  as of {when}, the time asked for", style="dim")))
    if report.error:
        error = _p(f"  ! {report.provider}: {report.error}")
        lines.append(Line(Text(error, style="bold"), copy=report.error, wrap=True))
    for level in report.levels:
        lines += _level_lines(level, report, now)
    if not report.levels and not report.error:
        lines.append(Line(Text("  The escalation policy has no levels.", style="italic")))
    lines += [Line(Text(f"  {_p(note)}", style="dim"), wrap=True) for note in report.notes]
    if report.demo and not any("demo" in note.lower() for note in report.notes):
        lines.append(Line(Text("  demo on-call: a demo rotation; nobody is really paged.", style="dim"), wrap=True))
    # Incidents are the ones open now, whatever moment was asked for: then they show when they were opened.
    failed = _section_failed(report, INCIDENTS, "Open incidents")
    if report.incidents or failed:
        counted = f" ({len(report.incidents)})" if report.incidents else ""  # none read is not "none open"
        lines.append(heading(f"Open incidents{' now' if asked else ''}{counted}"))
    lines += failed
    for incident in report.incidents:
        text = Text(f"  [{_p(incident.status)}] ", style="bold")
        if incident.urgency:
            text.append(f"{_p(incident.urgency)} ")
        text.append(_p(incident.title), style=_link(incident.url))
        if incident.created and asked:
            text.append(f"  opened {incident.created.astimezone().strftime('%a %d %b %H:%M')}", style="dim")
        elif incident.created:
            text.append(f"  {duration(now - incident.created)} ago", style="dim")
        if incident.assignees:
            text.append(f"  → {_p(', '.join(incident.assignees))}", style="dim")
        lines.append(Line(text, copy=incident.url or incident.id))
    failed = _section_failed(report, CHANGES, "Recent changes")
    if report.changes or failed:
        lines.append(heading("Recent changes"))
    lines += failed
    for change in report.changes:
        text = Text(f"  {_p(change.summary)}")
        if change.timestamp:
            text.append(f"  {duration(now - change.timestamp)} ago", style="dim")
        if change.source:
            text.append(f"  {_p(change.source)}", style="dim")
        lines.append(Line(text, copy=change.url or change.summary))
    return lines


def _team_line(team: TeamImpact) -> Line:
    text = Text("  ")
    if team.owner is not None:
        text.append(_p(team.owner.display_name), style="bold")
        text.append(f"  {_p(team.owner.ref.humanize())}", style="dim")
    else:
        text.append(_p(team.owner_key or "no owner declared"), style="bold italic")
    on_call = team.primary()
    if on_call:
        text.append("  on call: ")
        text.append(_p(", ".join(shift.responder.name for shift in on_call)))
    elif team.report is not None and team.report.error:
        text.append(f"  on call unknown: {_p(team.report.error)}", style="italic")
    copy = on_call[0].responder.email if on_call and on_call[0].responder.email else team.owner_key
    return Line(text, copy=copy, target=team.owner_key)


def _dependent_line(dependent: Dependent, names: dict[str, str]) -> Line:
    text = Text(f"    {_p(names.get(dependent.key, dependent.key))}")
    if dependent.depth == 1:
        text.append(f"  {_p(dependent.via)}", style="dim")
    else:
        via = _p(names.get(dependent.parent, dependent.parent))
        text.append(f"  via {via} ({dependent.depth} hops)", style="dim")
    return Line(text, copy=dependent.key, target=dependent.key)


def blast_lines(answer: WhoAnswer) -> list[Line]:
    """The Blast radius section: each team owning a dependent, with who is on call, followed by its dependents.

    When nothing depends on the entity, or the dependents could not be worked out, one line says so.
    """
    if answer.dependents_error:
        failed = Text(_p(f"  ! {answer.dependents_error}"), style="bold")
        return [heading("Blast radius"), Line(failed, copy=answer.dependents_error, wrap=True)]
    if not answer.dependents:
        return [heading("Blast radius"), Line(Text("  Nothing in the catalog depends on it.", style="italic"))]
    title = f"Blast radius · {count(len(answer.dependents), 'entity')}, {count(len(answer.teams), 'team')}"
    if any(team.report is not None and team.report.demo for team in answer.teams):
        title += " · on call from the demo rotation"
    lines = [heading(title)]
    names = {d.key: d.key.split(":", 1)[-1].removeprefix("default/") for d in answer.dependents}
    for team in answer.teams:
        lines.append(_team_line(team))
        lines += [_dependent_line(dependent, names) for dependent in team.dependents]
    return lines


def link_lines(entity: Entity, *, full_urls: bool = True) -> list[Line]:
    """Runbooks, dashboards, repository, source: terminal hyperlinks, each copyable with `y`."""
    links = entity_links(entity)
    if not links:
        return []
    lines = [heading("Links")]
    for link in links:
        text = Text(f"  {_p(link.title)}", style=_link(link.url))
        if full_urls:
            text.append(f": {_p(link.url)}", style=_link(link.url, dim=True))
        lines.append(Line(text, copy=link.url))
    return lines


def who_lines(answer: WhoAnswer, *, full_urls: bool = True) -> list[Line]:
    """Everything, in the order someone paged at night reads it: ladder, incidents, links, owner, blast radius.

    ``full_urls`` False shows a titled link by its title alone (a terminal hyperlink), to fit 80 columns.
    """
    entity = answer.entity
    title = Text(_p(entity.display_name), style="bold")
    title.append(f"  {_p(entity.ref.humanize())}", style="dim")
    lines = [Line(title, copy=entity.key, target=entity.key)]
    if answer.found_from:
        lines.append(Line(Text(f"found from {_p(answer.found_from)}", style="dim")))
    lines += oncall_lines(answer.report, answer.missing, answer.now, asked=answer.asked)
    lines += link_lines(entity, full_urls=full_urls)
    lines += owner_lines(answer.card, entity, full_urls=full_urls)
    lines += blast_lines(answer)
    return lines


def health_hints(entity: Entity, report: OnCallReport | None) -> Text:
    """Short words on how an owned entity is doing: open incidents, an uncovered level, its lifecycle."""
    hints = Text()
    if report is not None and report.incidents:
        triggered = sum(1 for incident in report.incidents if incident.status == "triggered")
        hints.append(f"  ! {count(len(report.incidents), 'open incident')}", style="bold")
        if triggered:
            hints.append(f" ({triggered} triggered)", style="bold")
    if report is not None and report.error:
        hints.append("  on-call unknown", style="italic")
    elif report is not None and report.levels and report.levels[0].is_gap:
        hints.append("  level 1 uncovered now", style="italic")
    if entity.lifecycle in ("deprecated", "experimental"):
        hints.append(f"  {_p(entity.lifecycle)}", style="dim italic")
    return hints


def team_lines(
    owner: Entity,
    card: OwnerCard,
    team_report: OnCallReport | None,
    owned: list[tuple[Entity, str]],
    reports: dict[str, OnCallReport | None],
    now: datetime,
) -> list[Line]:
    """A group's page: who they are, who is on call for them, and what they (and their sub-teams) own."""
    lines = owner_lines(card, owner, full_urls=False)
    if team_report is not None:
        lines += oncall_lines(team_report, None, now)
    hinted_by_demo = any(report is not None and report.demo for report in reports.values())
    if hinted_by_demo and not (team_report is not None and team_report.demo):
        lines.append(Line(Text("  on-call hints below come from the demo rotation (demo on-call)", style="dim")))
    whose = "with their groups" if owner.kind == "User" else "with sub-teams"
    lines.append(heading(f"Owns · {count(len(owned), 'entity')}, {whose}"))
    for entity, group in owned:
        text = Text(f"  {_p(entity.ref.humanize())}")
        if entity.spec_type:
            text.append(f"  {_p(entity.spec_type)}", style="dim")
        if group != owner.key:
            text.append(f"  ({_p(group.split('/', 1)[-1])})", style="dim")
        text.append_text(health_hints(entity, reports.get(entity.key)))
        lines.append(Line(text, copy=entity.key, target=entity.key))
    return lines
