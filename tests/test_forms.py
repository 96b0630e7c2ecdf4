"""Scaffolder forms: fields from JSON Schema + ui:* keys, dependencies, validation wording, values sent, pickers."""

from pathlib import Path

import pytest
import yaml

from idp_tui.catalog.local_source import LocalCatalogSource
from idp_tui.golden.forms import (
    MASK,
    Choice,
    ExtensionChoices,
    build_form,
    compose_repo_url,
    entity_value_from_text,
    field_choices,
    form_from_parameter_schema,
    initial_values,
    parameter_pages,
    repo_url_problems,
    reveal_defaults,
    review_rows,
    secret_values,
    split_repo_url,
    submitted_values,
    validate_page,
    with_value,
)
from idp_tui.golden.forms.form import make_field

DEMO_TEMPLATE = Path(__file__).resolve().parents[1] / "demo_catalog/templates/microservice-golden-path/template.yaml"


def _form(*pages, title=""):
    return build_form(list(pages), title=title)


def _page(properties, required=(), **extra):
    return {"title": "Page", "properties": properties, "required": list(required), **extra}


def _fields(page_schema, values=None):
    return {f.dotted: f for f in _form(page_schema).pages[0].fields(values or {})}


@pytest.fixture(scope="module")
def demo_form():
    template = yaml.safe_load(DEMO_TEMPLATE.read_text())
    return build_form(parameter_pages(template["spec"]["parameters"]), title=template["metadata"]["title"])


# -- fields --------------------------------------------------------------------------------------------------------


def test_every_widget_kind_is_derived_from_schema_and_ui_keys():
    fields = _fields(
        _page(
            {
                "name": {"type": "string"},
                "notes": {"type": "string", "ui:widget": "textarea"},
                "token": {"type": "string", "ui:widget": "password"},
                "apiKey": {"type": "string", "ui:field": "Secret"},
                "ratio": {"type": "number"},
                "replicas": {"type": "integer"},
                "public": {"type": "boolean"},
                "size": {"type": "string", "enum": ["s", "m"]},
                "tier": {"type": "string", "enum": ["1", "2"], "ui:widget": "radio"},
                "regions": {"type": "array", "items": {"type": "string", "enum": ["eu", "us"]}, "uniqueItems": True},
                "zones": {"type": "array", "items": {"type": "string", "enum": ["a"]}, "ui:widget": "checkboxes"},
                "aliases": {"type": "array", "items": {"type": "string"}},
                "owner": {"type": "string", "ui:field": "OwnerPicker"},
                "system": {"type": "string", "ui:field": "EntityPicker"},
                "mine": {"type": "string", "ui:field": "OwnedEntityPicker"},
                "group": {"type": "string", "ui:field": "MyGroupsPicker"},
                "repoUrl": {"type": "string", "ui:field": "RepoUrlPicker"},
                "tags": {"type": "array", "items": {"type": "string"}, "ui:field": "EntityTagsPicker"},
                "component": {"type": "string", "ui:field": "EntityNamePicker"},
            }
        )
    )
    assert {name: f.kind for name, f in fields.items()} == {
        "name": "text",
        "notes": "textarea",
        "token": "password",
        "apiKey": "password",
        "ratio": "number",
        "replicas": "integer",
        "public": "boolean",
        "size": "select",
        "tier": "radio",
        "regions": "multiselect",
        "zones": "multiselect",
        "aliases": "string_list",
        "owner": "entity",
        "system": "entity",
        "mine": "entity",
        "group": "entity",
        "repoUrl": "repo_url",
        "tags": "tags",
        "component": "text",
    }
    assert fields["token"].masked and fields["apiKey"].masked and not fields["name"].masked
    assert fields["apiKey"].extension == "Secret" and fields["component"].extension == "EntityNamePicker"


def test_ui_keys_become_field_attributes():
    field = make_field(
        "name",
        {
            "type": "string",
            "title": "Name",
            "description": "Service name",
            "default": "svc",
            "minLength": 3,
            "maxLength": 40,
            "pattern": "^[a-z-]+$",
            "ui:placeholder": "e.g. invoices",
            "ui:help": "Lowercase only",
            "ui:autofocus": True,
            "ui:field": "EntityNamePicker",
            "ui:options": {"rows": 3},
        },
        ("name",),
        required=True,
    )
    assert (field.title, field.label, field.description, field.default) == ("Name", "Name *", "Service name", "svc")
    assert (field.placeholder, field.help, field.autofocus) == ("e.g. invoices", "Lowercase only", True)
    assert (field.min_length, field.max_length, field.pattern) == (3, 40, "^[a-z-]+$")
    assert field.options == {"rows": 3}
    assert field.constraints() == "3-40 characters, pattern ^[a-z-]+$"
    number = make_field("n", {"type": "integer", "minimum": 1, "maximum": 10}, ("n",))
    assert (number.minimum, number.maximum, number.constraints()) == (1, 10, "1 to 10")
    assert make_field("x", {"type": "string"}, ("x",)).title == "x"  # rjsf falls back to the property name


def test_enum_names_and_one_of_consts_label_the_choices():
    fields = _fields(
        _page(
            {
                "lang": {"type": "string", "enum": ["py", "go", "rs"], "enumNames": ["Python", "Go"]},
                "size": {
                    "type": "string",
                    "oneOf": [{"const": "s", "title": "Small"}, {"const": "l", "title": "Large"}],
                },
                "flag": {"type": "boolean", "ui:widget": "radio"},
            }
        )
    )
    assert fields["lang"].choices == (Choice("py", "Python"), Choice("go", "Go"), Choice("rs", "rs"))
    assert fields["size"].choices == (Choice("s", "Small"), Choice("l", "Large"))
    assert fields["flag"].kind == "radio" and fields["flag"].choices == (Choice(True, "Yes"), Choice(False, "No"))


def test_nested_objects_give_dotted_fields_and_nested_values():
    page = _page(
        {
            "name": {"type": "string"},
            "database": {
                "type": "object",
                "title": "Database",
                "required": ["engine"],
                "properties": {
                    "engine": {"type": "string", "enum": ["pg", "my"], "default": "pg"},
                    "sizeGb": {"type": "integer", "minimum": 1},
                },
            },
        }
    )
    form = _form(page)
    values = initial_values(form)
    assert values == {"database": {"engine": "pg"}}
    fields = form.pages[0].fields(values)
    assert [(f.dotted, f.required, f.section) for f in fields] == [
        ("name", False, ""),
        ("database.engine", True, "Database"),
        ("database.sizeGb", False, "Database"),
    ]
    values = with_value(with_value(values, ("database", "engine"), None), ("database", "sizeGb"), 0)
    assert validate_page(form.pages[0], values) == {
        "database.engine": ["must have required property 'engine'"],
        "database.sizeGb": ["must be >= 1"],
    }
    assert submitted_values(form, with_value(values, ("database", "sizeGb"), 5)) == {"database": {"sizeGb": 5}}


def test_ui_order_puts_listed_fields_first_and_the_wildcard_stands_for_the_rest():
    properties = {name: {"type": "string"} for name in ("a", "b", "c", "d")}
    assert list(_fields(_page(properties, **{"ui:order": ["c", "*", "a"]}))) == ["c", "b", "d", "a"]
    assert list(_fields(_page(properties, **{"ui:order": ["d", "b"]}))) == ["d", "b", "a", "c"]
    assert list(_fields(_page(properties, **{"ui:order": ["x", "b", "*"]}))) == ["b", "a", "c", "d"]


# -- dependencies --------------------------------------------------------------------------------------------------


def test_demo_template_database_engine_follows_needs_database(demo_form):
    runtime = demo_form.pages[1]
    values = initial_values(demo_form)
    assert values["needsDatabase"] is False and "databaseType" not in values
    assert [f.name for f in runtime.fields(values)] == ["language", "tier", "needsDatabase", "imageTag"]

    switched_on = reveal_defaults(demo_form, values, with_value(values, ("needsDatabase",), True))
    fields = runtime.fields(switched_on)
    assert [f.name for f in fields] == ["language", "tier", "needsDatabase", "imageTag", "databaseType"]
    engine = fields[-1]
    assert (engine.required, engine.kind, switched_on["databaseType"]) == (True, "select", "postgres")
    assert engine.choices == (Choice("postgres", "PostgreSQL 15"), Choice("mysql", "MySQL 8"))
    assert submitted_values(demo_form, switched_on)["databaseType"] == "postgres"

    switched_off = with_value(switched_on, ("needsDatabase",), False)
    assert [f.name for f in runtime.fields(switched_off)] == ["language", "tier", "needsDatabase", "imageTag"]
    assert "databaseType" not in submitted_values(demo_form, switched_off)
    assert "Database engine" not in [row.field_title for row in review_rows(demo_form, switched_off)]


def test_one_of_branch_is_chosen_only_when_exactly_one_matches():
    page = _page(
        {"kind": {"type": "string", "enum": ["a", "b"]}},
        dependencies={
            "kind": {
                "oneOf": [
                    {"properties": {"kind": {"enum": ["a"]}, "alpha": {"type": "string"}}, "required": ["alpha"]},
                    {"properties": {"kind": {"enum": ["b"]}, "beta": {"type": "string"}}},
                ]
            }
        },
    )
    assert list(_fields(page, {"kind": "a"})) == ["kind", "alpha"]
    assert _fields(page, {"kind": "a"})["alpha"].required
    assert list(_fields(page, {"kind": "b"})) == ["kind", "beta"]
    assert list(_fields(page, {})) == ["kind"]  # no trigger value: no branch


def test_property_dependency_array_makes_fields_required_while_the_trigger_has_a_value():
    page = _page(
        {"card": {"type": "string", "title": "Card"}, "billing": {"type": "string", "title": "Billing"}},
        dependencies={"card": ["billing"]},
    )
    assert not _fields(page)["billing"].required
    assert _fields(page, {"card": "4111"})["billing"].required
    form = _form(page)
    assert validate_page(form.pages[0], {}) == {}
    assert validate_page(form.pages[0], {"card": "4111"}) == {
        "billing": ["must have property billing when property card is present"]
    }


def test_plain_dependent_schema_and_if_then_add_fields():
    page = _page(
        {"public": {"type": "boolean"}, "tier": {"type": "string", "enum": ["gold", "free"]}},
        dependencies={"public": {"properties": {"domain": {"type": "string"}}, "required": ["domain"]}},
        **{"if": {"properties": {"tier": {"const": "gold"}}}, "then": {"properties": {"sla": {"type": "integer"}}}},
    )
    assert list(_fields(page, {"tier": "free"})) == ["public", "tier"]
    assert list(_fields(page, {"public": False, "tier": "gold"})) == ["public", "tier", "sla", "domain"]


# -- validation ----------------------------------------------------------------------------------------------------

VALIDATED = _page(
    {
        "name": {"type": "string", "title": "Name", "pattern": "^[a-z0-9-]+$", "minLength": 3, "maxLength": 10},
        "replicas": {"type": "integer", "title": "Replicas", "minimum": 1, "maximum": 5},
        "size": {"type": "string", "enum": ["s", "m"]},
        "description": {"type": "string", "minLength": 5},
    },
    required=["name", "replicas"],
)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, {"name": ["must have required property 'Name'"], "replicas": ["must have required property 'Replicas'"]}),
        ({"name": "Bad Name", "replicas": 2}, {"name": ['must match pattern "^[a-z0-9-]+$"']}),
        ({"name": "ab", "replicas": 2}, {"name": ["must NOT have fewer than 3 characters"]}),
        ({"name": "abcdefghijk", "replicas": 2}, {"name": ["must NOT have more than 10 characters"]}),
        ({"name": "abc", "replicas": 0}, {"replicas": ["must be >= 1"]}),
        ({"name": "abc", "replicas": 6}, {"replicas": ["must be <= 5"]}),
        ({"name": "abc", "replicas": 1.5}, {"replicas": ["must be integer"]}),
        ({"name": "abc", "replicas": "two"}, {"replicas": ["must be integer"]}),
        ({"name": "abc", "replicas": 2, "size": "xl"}, {"size": ["must be equal to one of the allowed values"]}),
        (
            {"name": "abc", "replicas": 2, "description": "tiny"},
            {"description": ["must NOT have fewer than 5 characters"]},
        ),
        ({"name": "abc", "replicas": 2}, {}),
    ],
)
def test_validation_messages_are_ajvs_on_the_field_they_concern(values, expected):
    assert validate_page(_form(VALIDATED).pages[0], values) == expected


def test_an_empty_string_counts_as_absent():
    form = _form(VALIDATED)
    # Optional: rjsf turns the emptied input into undefined, so minLength does not apply and nothing is sent.
    values = {"name": "abc", "replicas": 2, "description": ""}
    assert validate_page(form.pages[0], values) == {}
    assert submitted_values(form, values) == {"name": "abc", "replicas": 2}
    # Required: an empty string is a missing property.
    assert validate_page(form.pages[0], {"name": "", "replicas": 2}) == {"name": ["must have required property 'Name'"]}


def test_extension_checks_entity_name_and_repo_url(demo_form):
    service = demo_form.pages[0]
    base = {"owner": "group:default/team-a", "system": "system:default/s"}
    for bad in ("-starts-with-dash", "has space", "a" * 64, "ends.with."):
        page = _form(_page({"name": {"type": "string", "ui:field": "EntityNamePicker"}})).pages[0]
        assert validate_page(page, {"name": bad}) == {
            "name": [
                "Must start and end with an alphanumeric character, and contain only alphanumeric characters, "
                "hyphens, underscores, and periods. Maximum length is 63 characters."
            ]
        }, bad
    assert validate_page(service, {**base, "name": "invoice-service"}) == {}
    repo = demo_form.pages[2]
    assert validate_page(repo, {"repoUrl": "github.com?repo=x"}) == {
        "repoUrl": ["Incomplete repository location provided, owner not provided"]
    }
    assert validate_page(repo, {"repoUrl": "gitlab.com?owner=acme&repo=x"}) == {
        "repoUrl": ["Host gitlab.com is not allowed; choose one of: github.com"]
    }
    assert validate_page(repo, {"repoUrl": "github.com?owner=acme&repo=x"}) == {}


# -- values --------------------------------------------------------------------------------------------------------


def test_initial_values_take_defaults_then_remembered_values_that_still_fit(demo_form):
    assert initial_values(demo_form) == {
        "language": "nodejs",
        "tier": "tier-2",
        "needsDatabase": False,
        "imageTag": "1.0.0",  # pinned by default: the demo's policies refuse latest
        "repoUrl": "github.com?",  # RepoUrlPicker starts on the first allowed host
    }
    remembered = {
        "name": "Not A Valid Name",  # no longer fits the pattern: dropped
        "owner": "group:default/team-payments",
        "language": "go",
        "tier": "tier-9",  # not among the enum any more: the default wins
        "needsDatabase": True,
        "databaseType": "mysql",  # on a branch that the remembered needsDatabase opens
        "repoUrl": "github.com?owner=acme&repo=invoices",
        "removedField": "x",
    }
    assert initial_values(demo_form, remembered) == {
        "owner": "group:default/team-payments",
        "language": "go",
        "tier": "tier-2",
        "needsDatabase": True,
        "imageTag": "1.0.0",
        "databaseType": "mysql",
        "repoUrl": "github.com?owner=acme&repo=invoices",
    }


def test_submitted_values_keep_shown_fields_typed_and_drop_empty_ones():
    form = _form(
        _page({"name": {"type": "string"}, "port": {"type": "integer"}, "notes": {"type": "string"}}),
        _page({"public": {"type": "boolean"}}),
    )
    values = {"name": "svc", "port": "8080", "notes": "", "public": False, "stale": "x"}
    assert submitted_values(form, values) == {"name": "svc", "port": 8080, "public": False}


def test_review_rows_mask_secrets_hide_unreviewed_fields_and_label_values():
    form = _form(
        {
            "title": "Service",
            "properties": {
                "name": {"type": "string", "title": "Name"},
                "password": {"type": "string", "title": "Password", "ui:widget": "password"},
                "apiKey": {"type": "string", "title": "API key", "ui:field": "Secret"},
                "hidden": {"type": "string", "title": "Hidden", "ui:backstage": {"review": {"show": False}}},
                "dotted": {"type": "string", "title": "Dotted", "ui:backstage.review.show": False},
                "pin": {
                    "type": "string",
                    "title": "PIN",
                    "ui:widget": "password",
                    "ui:backstage": {"review": {"mask": "(set)"}},
                },
            },
        },
        {
            "title": "Runtime",
            "properties": {
                "lang": {"type": "string", "title": "Language", "enum": ["py"], "enumNames": ["Python 3.12"]},
                "public": {"type": "boolean", "title": "Public"},
                "regions": {
                    "type": "array",
                    "title": "Regions",
                    "items": {"enum": ["eu", "us"], "enumNames": ["Europe", "US"]},
                },
                "aliases": {"type": "array", "title": "Aliases", "items": {"type": "string"}},
                "empty": {"type": "string", "title": "Empty"},
            },
        },
    )
    values = {
        "name": "svc",
        "password": "hunter2",
        "apiKey": "abc123",
        "hidden": "h",
        "dotted": "d",
        "pin": "1234",
        "lang": "py",
        "public": False,
        "regions": ["eu", "us"],
        "aliases": ["a", "b"],
        "empty": "",
    }
    assert [(r.page_title, r.field_title, r.display) for r in review_rows(form, values)] == [
        ("Service", "Name", "svc"),
        ("Service", "Password", MASK),
        ("Service", "API key", MASK),
        ("Service", "PIN", "(set)"),
        ("Runtime", "Language", "Python 3.12"),
        ("Runtime", "Public", "No"),
        ("Runtime", "Regions", "Europe, US"),
        ("Runtime", "Aliases", "a, b"),
    ]
    # Backstage sends a Secret as stars of its length, the real value apart.
    assert submitted_values(form, values)["apiKey"] == "******"
    assert secret_values(form, values) == {"apiKey": "abc123"}


def test_a_recorded_parameter_schema_answer_becomes_a_form():
    # The shape of GET /api/scaffolder/v2/templates/default/template/python-service/parameter-schema (recorded).
    response = {
        "title": "Python HTTP service (golden path)",
        "description": "Creates a Python HTTP service.",
        "steps": [
            {
                "title": "Describe the service",
                "schema": {
                    "title": "Describe the service",
                    "required": ["name", "owner"],
                    "properties": {
                        "name": {
                            "title": "Name",
                            "type": "string",
                            "pattern": "^[a-z][a-z0-9-]{1,38}[a-z0-9]$",
                            "maxLength": 40,
                            "ui:autofocus": True,
                            "ui:help": "Example: invoice-renderer",
                        },
                        "owner": {
                            "title": "Owner",
                            "type": "string",
                            "ui:field": "OwnerPicker",
                            "ui:options": {"catalogFilter": {"kind": "Group"}},
                        },
                    },
                },
            },
            {
                "title": "Runtime",
                "schema": {
                    "title": "Runtime",
                    "properties": {
                        "port": {
                            "title": "Container port",
                            "type": "integer",
                            "default": 8080,
                            "minimum": 1024,
                            "maximum": 65535,
                        }
                    },
                },
            },
        ],
    }
    form = form_from_parameter_schema(response)
    assert form.title == "Python HTTP service (golden path)"
    assert [p.title for p in form.pages] == ["Describe the service", "Runtime"]
    name = form.pages[0].fields({})[0]
    assert (name.autofocus, name.help, name.required) == (True, "Example: invoice-renderer", True)
    assert validate_page(form.pages[0], {"name": "Bad Name!", "owner": "group:default/x"}) == {
        "name": ['must match pattern "^[a-z][a-z0-9-]{1,38}[a-z0-9]$"']
    }
    assert initial_values(form) == {"port": 8080}


# -- extensions ----------------------------------------------------------------------------------------------------


@pytest.fixture
def catalog(write_catalog):
    root = write_catalog(
        {
            "org.yaml": """
            apiVersion: backstage.io/v1alpha1
            kind: Group
            metadata: {name: team-a, title: Team A}
            spec: {type: team, children: [], members: [jane]}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Group
            metadata: {name: team-b, namespace: ops}
            spec: {type: team, children: []}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Group
            metadata: {name: guild}
            spec: {type: guild, children: []}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: User
            metadata: {name: jane}
            spec: {memberOf: [guild]}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: User
            metadata: {name: bob}
            spec: {memberOf: []}
            """,
            "things.yaml": """
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata: {name: svc-a, tags: [python, pci]}
            spec: {type: service, lifecycle: production, owner: team-a}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata: {name: site-b, tags: [python]}
            spec: {type: website, lifecycle: production, owner: user:bob}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: Component
            metadata: {name: lib-c, namespace: ops, tags: [java]}
            spec: {type: library, lifecycle: production, owner: group:ops/team-b}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: System
            metadata: {name: payments, tags: [pci]}
            spec: {owner: team-a}
            ---
            apiVersion: backstage.io/v1alpha1
            kind: API
            metadata: {name: jobs-api}
            spec: {type: openapi, lifecycle: production, owner: user:jane, definition: "openapi: 3.0.0"}
            """,
        }
    )
    return LocalCatalogSource([root], use_cache=False).load()


def _picker(extension, **options):
    return make_field("f", {"type": "string", "ui:field": extension, "ui:options": options}, ("f",))


def _offered(extension, catalog, user_ref=None, **options):
    return field_choices(_picker(extension, **options), catalog, user_ref=user_ref)


def test_owner_picker_offers_groups_and_users_by_default_and_stores_full_refs(catalog):
    offered = _offered("OwnerPicker", catalog)
    assert offered.allow_arbitrary
    assert [(c.value, c.label) for c in offered.choices] == [
        ("group:default/guild", "guild"),
        ("group:ops/team-b", "ops/team-b"),
        ("group:default/team-a", "team-a"),
        ("user:default/bob", "user:bob"),
        ("user:default/jane", "user:jane"),
    ]
    assert [c.value for c in _offered("OwnerPicker", catalog, allowedKinds=["User"]).choices] == [
        "user:default/bob",
        "user:default/jane",
    ]
    filtered = _offered("OwnerPicker", catalog, catalogFilter={"kind": "Group", "spec.type": "guild"})
    assert [c.value for c in filtered.choices] == ["group:default/guild"]


def test_entity_picker_filters_by_dict_list_and_allowed_kinds(catalog):
    def refs(**options):
        return [c.value for c in _offered("EntityPicker", catalog, **options).choices]

    assert refs(catalogFilter={"kind": "Component", "spec.type": ["service", "website"]}) == [
        "component:default/site-b",
        "component:default/svc-a",
    ]
    assert refs(catalogFilter=[{"kind": "System"}, {"kind": "component", "metadata.namespace": "ops"}]) == [
        "component:ops/lib-c",
        "system:default/payments",
    ]
    assert refs(catalogFilter={"kind": "Component", "metadata.tags": "PCI"}) == ["component:default/svc-a"]
    assert refs(catalogFilter={"kind": "Component", "relations.ownedBy": "user:default/bob"}) == [
        "component:default/site-b"
    ]
    assert refs(catalogFilter={"kind": "Group", "metadata.title": {"exists": True}}) == ["group:default/team-a"]
    assert refs(allowedKinds=["System", "API"]) == ["api:default/jobs-api", "system:default/payments"]
    assert len(refs()) == len(catalog.entities)  # no filter: the whole catalog
    assert not _offered("EntityPicker", catalog, allowArbitraryValues=False).allow_arbitrary


def test_default_kind_and_namespace_shorten_labels_as_humanize_entity_ref_does(catalog):
    offered = _offered("EntityPicker", catalog, allowedKinds=["Component"], defaultKind="Component")
    assert [(c.value, c.label) for c in offered.choices] == [
        ("component:ops/lib-c", "ops/lib-c"),
        ("component:default/site-b", "site-b"),
        ("component:default/svc-a", "svc-a"),
    ]
    offered = _offered(
        "EntityPicker", catalog, allowedKinds=["Component"], defaultKind="Component", defaultNamespace="ops"
    )
    assert [c.label for c in offered.choices] == ["default/site-b", "default/svc-a", "lib-c"]
    # Typed text is completed with the defaults into a full ref, as Backstage does on blur.
    assert (
        entity_value_from_text("lib-c", offered, {"defaultKind": "Component", "defaultNamespace": "ops"})
        == "component:ops/lib-c"
    )
    assert entity_value_from_text("new-thing", offered, {"defaultKind": "Component", "defaultNamespace": "ops"}) == (
        "component:ops/new-thing"
    )


def test_entity_text_picks_a_label_a_unique_name_or_free_text_when_allowed():
    choices = ExtensionChoices((Choice("system:default/payments", "system:payments"),), allow_arbitrary=True)
    assert entity_value_from_text("system:payments", choices, {}) == "system:default/payments"
    assert entity_value_from_text("PAYMENTS", choices, {}) == "system:default/payments"
    assert entity_value_from_text("group:ops/x", choices, {}) == "group:ops/x"
    assert entity_value_from_text("no-kind", choices, {}) == "no-kind"  # no kind to complete it with: kept as typed
    assert entity_value_from_text("  ", choices, {}) is None
    closed = ExtensionChoices(choices.choices, allow_arbitrary=False)
    assert entity_value_from_text("other", closed, {}) is None


def test_owned_entity_picker_lists_what_the_user_and_their_groups_own(catalog):
    offered = _offered("OwnedEntityPicker", catalog, user_ref="user:default/jane")
    # jane owns jobs-api; her group team-a owns svc-a and payments; the value is the short ref it shows.
    assert [(c.value, c.label) for c in offered.choices] == [
        ("api:jobs-api", "api:jobs-api"),
        ("component:svc-a", "component:svc-a"),
        ("system:payments", "system:payments"),
    ]
    components = _offered(
        "OwnedEntityPicker", catalog, user_ref="jane", allowedKinds=["Component"], defaultKind="Component"
    )
    assert [c.value for c in components.choices] == ["svc-a"]
    assert _offered("OwnedEntityPicker", catalog, user_ref=None).choices == ()


def test_my_groups_picker_lists_the_users_groups(catalog):
    offered = _offered("MyGroupsPicker", catalog, user_ref="user:default/jane")
    assert [(c.value, c.label) for c in offered.choices] == [
        ("group:default/guild", "guild"),
        ("group:default/team-a", "Team A"),
    ]
    assert not offered.allow_arbitrary
    assert _offered("MyGroupsPicker", catalog, user_ref="user:default/bob").choices == ()


def test_entity_tags_picker_offers_the_catalogs_tags(catalog):
    field = make_field("tags", {"type": "array", "ui:field": "EntityTagsPicker"}, ("tags",))
    assert [c.value for c in field_choices(field, catalog, user_ref=None).choices] == ["java", "pci", "python"]
    assert field.default == [] and "Valid format" in field.help
    by_kind = make_field(
        "t", {"type": "array", "ui:field": "EntityTagsPicker", "ui:options": {"kinds": ["System"]}}, ("t",)
    )
    assert [c.value for c in field_choices(by_kind, catalog, user_ref=None).choices] == ["pci"]
    counted = make_field(
        "t",
        {"type": "array", "ui:field": "EntityTagsPicker", "ui:options": {"showCounts": True, "helperText": "Pick"}},
        ("t",),
    )
    assert [c.label for c in field_choices(counted, catalog, user_ref=None).choices] == [
        "pci (2)",
        "python (2)",
        "java (1)",
    ]
    assert counted.help == "Pick"
    page = _form(_page({"tags": {"type": "array", "ui:field": "EntityTagsPicker"}})).pages[0]
    assert validate_page(page, {"tags": ["ok-tag", "Bad Tag"]}) == {
        "tags": ["Tag 'Bad Tag' must be sequences of [a-z0-9+#] separated by [-], at most 63 characters in total"]
    }


def test_repo_url_is_composed_and_split_like_backstages_picker():
    assert compose_repo_url("github.com", "acme", "invoices") == "github.com?owner=acme&repo=invoices"
    assert compose_repo_url("dev.azure.com", "acme", "r", organization="org", project="p") == (
        "dev.azure.com?owner=acme&repo=r&organization=org&project=p"
    )
    assert compose_repo_url("github.com") == "github.com?"
    assert compose_repo_url("") == ""
    parts = split_repo_url("github.com?owner=acme&repo=my%20repo")
    assert (parts["host"], parts["owner"], parts["repo"], parts["project"]) == ("github.com", "acme", "my repo", "")
    assert split_repo_url(None)["host"] == ""


def test_repo_url_checks_backstage_messages_and_allowed_lists():
    field = _picker("RepoUrlPicker", allowedHosts=["github.com"], allowedOwners=["acme", "platform"])
    assert repo_url_problems("github.com?owner=acme&repo=x", field) == []
    assert repo_url_problems("github.com?", field) == [
        "Incomplete repository location provided, owner not provided",
        "Incomplete repository location provided, repo not provided",
    ]
    assert repo_url_problems("github.com?owner=evil&repo=x", field) == [
        "Owner evil is not allowed; choose one of: acme, platform"
    ]
    assert repo_url_problems("?owner=a&repo=b", field) == ["Incomplete repository location provided, host not provided"]
    assert repo_url_problems("bitbucket.org?repo=x", _picker("RepoUrlPicker")) == [
        "Incomplete repository location provided, workspace not provided",
        "Incomplete repository location provided, project not provided",
    ]
    assert repo_url_problems(42, field) == ["Unable to parse the Repository URL"]


def test_without_a_catalog_pickers_offer_nothing_but_accept_text():
    offered = field_choices(_picker("OwnerPicker"), None, user_ref=None)
    assert offered == ExtensionChoices((), allow_arbitrary=True)
