"""The template form screen at 80x24, driven by keyboard: pages, inline errors, dependencies, review, run/preview."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from idp_tui.screens.template_form import TemplateFormScreen
from rich.console import Console
from textual.app import App
from textual.widgets import Checkbox, Input, Select, Static

from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.golden.forms import FormOutcome, build_form, initial_values, parameter_pages
from idp_tui.resources import demo_catalog_path
from idp_tui.widgets.form_fields import FormField

SIZE = (80, 24)
DEMO_TEMPLATE = Path(__file__).resolve().parents[1] / "demo_catalog/templates/microservice-golden-path/template.yaml"
UNSET = object()


@pytest.fixture(scope="module")
def demo_catalog():
    return LocalCatalogSource([demo_catalog_path()], use_cache=False).load()


@pytest.fixture(scope="module")
def demo_form():
    template = yaml.safe_load(DEMO_TEMPLATE.read_text())
    return build_form(parameter_pages(template["spec"]["parameters"]), title=template["metadata"]["title"])


class FormApp(App):
    """Pushes the form screen and keeps what it was dismissed with."""

    def __init__(self, form, catalog, values=None, start_at_review=False) -> None:
        super().__init__()
        self.form = form
        self.catalog = catalog
        self.values = initial_values(form) if values is None else values
        self.start_at_review = start_at_review
        self.outcome = UNSET

    def on_mount(self) -> None:
        screen = TemplateFormScreen(
            self.form, "New Microservice", self.catalog, "user:default/maria.okafor", self.values, self.start_at_review
        )
        self.push_screen(screen, self._done)

    def _done(self, outcome) -> None:
        self.outcome = outcome


def _text(renderable) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def _field(app, name) -> FormField:
    return next(w for w in app.screen.query(FormField) if w.field.name == name)


def _names(app) -> list[str]:
    return [w.field.name for w in app.screen.query(FormField)]


def _header(app) -> str:
    return _text(app.screen.query_one("#form-header", Static).content)


async def _fill_first_page(pilot) -> None:
    """Name typed, owner and system completed from the catalog (→ accepts the suggestion)."""
    await pilot.press(*"inv", "tab", "tab", *"team-pa", "right", "tab", *"ch", "right")
    await pilot.pause()


async def _to_review(pilot, *, database: bool) -> None:
    await _fill_first_page(pilot)
    await pilot.press("ctrl+n")
    await pilot.pause()
    if database:
        await pilot.press("tab", "tab", "space")
        await pilot.pause()
    await pilot.press("ctrl+n")
    await pilot.pause()
    await pilot.press(*"acme", "tab", *"inv", "ctrl+n")  # the only allowed host is skipped
    await pilot.pause()


async def test_next_with_a_missing_owner_shows_the_error_on_the_field_and_stays(demo_form, demo_catalog):
    app = FormApp(demo_form, demo_catalog)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Page 1 of 3: Service details" in _header(app)
        name_input = _field(app, "name").query_one(Input)
        assert name_input.has_focus  # ui:autofocus
        await pilot.press(*"inv", "ctrl+n")
        await pilot.pause()
        assert app.screen.page_index == 0 and "Page 1 of 3" in _header(app)
        owner = _field(app, "owner")
        assert owner.has_class("-invalid")
        assert "must have required property 'Owner'" in _text(owner.query_one(".field-error", Static).content)
        assert owner.query_one(Input).has_focus  # the first invalid field
        assert not _field(app, "name").has_class("-invalid")

        await pilot.press(*"team-pa", "right")  # accept the completion from the catalog
        await pilot.pause()
        assert owner.query_one(Input).value == "team-payments"
        assert app.screen.values["owner"] == "group:default/team-payments"
        assert not owner.has_class("-invalid")  # a changed value clears its error


async def test_back_keeps_values_and_needs_database_shows_the_engine(demo_form, demo_catalog):
    app = FormApp(demo_form, demo_catalog)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await _fill_first_page(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert "Page 2 of 3: Runtime" in _header(app)
        assert _names(app) == ["language", "tier", "needsDatabase", "imageTag"]

        await pilot.press("ctrl+b")
        await pilot.pause()
        assert "Page 1 of 3" in _header(app)
        assert _field(app, "name").query_one(Input).value == "inv"
        assert _field(app, "owner").query_one(Input).value == "team-payments"
        assert _field(app, "system").query_one(Input).value == "system:checkout-platform"

        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("tab", "tab")  # language -> tier -> needsDatabase
        assert isinstance(app.focused, Checkbox)
        await pilot.press("space")
        await pilot.pause()
        assert _names(app) == ["language", "tier", "needsDatabase", "imageTag", "databaseType"]
        engine = _field(app, "databaseType")
        assert engine.field.required and engine.query_one(Select).value == 0  # its default, PostgreSQL 15
        assert isinstance(app.focused, Checkbox)  # focus stays where the person was

        await pilot.press("space")
        await pilot.pause()
        assert _names(app) == ["language", "tier", "needsDatabase", "imageTag"]


async def test_review_shows_the_values_and_p_dismisses_for_a_preview(demo_form, demo_catalog):
    app = FormApp(demo_form, demo_catalog)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await _to_review(pilot, database=True)
        assert app.screen.in_review and "Review" in _header(app)
        review = _text(app.screen.query_one("#review-table", Static).content)
        name_row = next(line for line in review.splitlines() if line.strip().startswith("Name"))
        assert name_row.split() == ["Name", "inv"]
        for shown in (
            "group:default/team-payments",
            "Node.js 20 (Fastify)",
            "Tier 2 - internal, business hours on-call",
            "Database engine",
            "PostgreSQL 15",
            "github.com?owner=acme&repo=inv",
        ):
            assert shown in review
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.outcome, FormOutcome) and app.outcome.preview is True
        assert app.outcome.values["databaseType"] == "postgres"


async def test_enter_on_review_runs_with_exactly_the_submitted_values(demo_form, demo_catalog):
    app = FormApp(demo_form, demo_catalog)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await _to_review(pilot, database=False)
        await pilot.press("enter")
        await pilot.pause()
        assert app.outcome == FormOutcome(
            values={
                "name": "inv",
                "owner": "group:default/team-payments",
                "system": "system:default/checkout-platform",
                "language": "nodejs",
                "tier": "tier-2",
                "needsDatabase": False,
                "imageTag": "1.0.0",
                "repoUrl": "github.com?owner=acme&repo=inv",
            },
            preview=False,
        )


async def test_b_on_review_goes_back_to_edit_and_escape_cancels(demo_form, demo_catalog):
    values = {
        **initial_values(demo_form),
        "name": "svc",
        "owner": "group:default/team-payments",
        "system": "system:default/checkout-platform",
        "repoUrl": "github.com?owner=acme&repo=svc",
    }
    app = FormApp(demo_form, demo_catalog, values=values, start_at_review=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.screen.in_review
        await pilot.press("b")
        await pilot.pause()
        assert "Page 3 of 3: Repository" in _header(app)
        assert _field(app, "repoUrl").query_one("#repo-owner", Input).value == "acme"
        await pilot.press("escape")
        await pilot.pause()
        assert app.outcome is None


ALL_KINDS = {
    "title": "Everything",
    "required": ["replicas", "group"],
    "properties": {
        "name": {"type": "string", "title": "Name", "ui:placeholder": "a name"},
        "notes": {"type": "string", "ui:widget": "textarea"},
        "token": {"type": "string", "ui:widget": "password"},
        "ratio": {"type": "number"},
        "replicas": {"type": "integer", "title": "Replicas", "minimum": 1},
        "public": {"type": "boolean", "title": "Public"},
        "size": {"type": "string", "enum": ["s", "m"], "enumNames": ["Small", "Medium"]},
        "tier": {"type": "string", "enum": ["1", "2"], "ui:widget": "radio"},
        "regions": {"type": "array", "items": {"type": "string", "enum": ["eu", "us"]}, "uniqueItems": True},
        "aliases": {"type": "array", "items": {"type": "string"}},
        "owner": {"type": "string", "ui:field": "OwnerPicker"},
        "group": {"type": "string", "ui:field": "MyGroupsPicker"},
        "repoUrl": {"type": "string", "ui:field": "RepoUrlPicker", "ui:options": {"allowedHosts": ["github.com"]}},
        "tags": {"type": "array", "items": {"type": "string"}, "ui:field": "EntityTagsPicker"},
    },
}


async def test_every_field_kind_renders_and_reports_typed_values(demo_catalog):
    form = build_form([ALL_KINDS])
    app = FormApp(form, demo_catalog)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        kinds = {w.field.name: w.field.kind for w in app.screen.query(FormField)}
        assert set(kinds.values()) == {
            "text", "textarea", "password", "number", "integer", "boolean", "select", "radio",
            "multiselect", "string_list", "entity", "repo_url", "tags",
        }  # fmt: skip
        assert _field(app, "replicas").query_one(".field-label", Static).content == "Replicas *"

        async def type_into(name, *keys):
            _field(app, name).focus_control()
            await pilot.press(*keys)
            await pilot.pause()

        await type_into("replicas", "0", "ctrl+n")
        assert _field(app, "replicas").has_class("-invalid")
        assert "must be >= 1" in _text(_field(app, "replicas").query_one(".field-error", Static).content)
        await type_into("replicas", "backspace", "3")
        await type_into("ratio", *"0.5")
        await type_into("aliases", *"a", "enter", *"b")
        await type_into("regions", "space")
        await type_into("tags", *"Python, pci")
        await type_into("public", "space")
        values = app.screen.values
        assert (values["replicas"], values["ratio"], values["aliases"]) == (3, 0.5, ["a", "b"])
        assert (values["regions"], values["tags"], values["public"]) == (["eu"], ["python", "pci"], True)
        # maria.okafor is in one group only: a required MyGroupsPicker takes it, as Backstage's does.
        assert values["group"] == "group:default/engineering"
        assert _field(app, "group").query_one(Select).value == 0
        assert values["repoUrl"] == "github.com?"
