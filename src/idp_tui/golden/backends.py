"""Which runner runs a session's golden paths: the local runner, or the Backstage scaffolder of a Backstage catalog.

Both have the same ``run()``; a template listed from Backstage gets its form from the scaffolder's
``parameter-schema`` (the list itself is a projection without ``spec.parameters``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..catalog.model import Catalog
from .template import Template

if TYPE_CHECKING:
    from ..platform import Platform


READ_ONLY_RUN = "read-only mode is on: golden paths are previewed (dry run), never run"


class RunRefused(Exception):
    """A real (not dry) run was asked for in a read-only session; nothing was started."""


class ReadOnlyRunner:
    """Passes dry runs to ``runner`` and refuses real ones: the last guard behind the screens' and commands' own."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner

    def run(self, template: Template, values: dict[str, Any], *, dry_run: bool = False, **options: Any) -> Any:
        """Raises:
        RunRefused: ``dry_run`` is False.
        """
        if not dry_run:
            raise RunRefused(READ_ONLY_RUN)
        return self.runner.run(template, values, dry_run=True, **options)


def template_runner(platform: Platform, catalog: Catalog, secret_store: Callable[[], Any] | None = None) -> Any:
    """A runner for this platform: Backstage's scaffolder when the session runs there, else the local runner.

    ``secret_store`` makes the session's secret store on first use (for ``vault:provision`` and the
    ``/api/vault-provisioner`` route of local runs). In a read-only session the runner only dry-runs.
    """
    runner = _runner(platform, catalog, secret_store)
    return ReadOnlyRunner(runner) if platform.read_only else runner


def _runner(platform: Platform, catalog: Catalog, secret_store: Callable[[], Any] | None) -> Any:
    if platform.runs_on_backstage:
        from ..backstage.scaffolder import BackstageScaffolder, BackstageTaskRunner

        return BackstageTaskRunner(BackstageScaffolder(platform.backstage))
    from .local import local_runner

    return local_runner(
        catalog,
        publish_root=platform.repositories,
        registry_dir=platform.registry_dir,
        secret_store=secret_store,
        vault_defaults=platform.profile.vault if platform.profile is not None else None,
    )


def ready_template(platform: Platform, template: Template) -> Template:
    """The template with its full form: from the scaffolder's parameter schema when it runs on Backstage.

    Raises:
        BackstageError: Backstage could not be asked (said in words).
    """
    if platform.backstage is not None and not platform.runs_on_backstage:
        # Listed from Backstage as a projection: the local runner needs the whole template (steps, parameters).
        return Template.from_entity(platform.catalog_source.entity(template.key))
    if not platform.runs_on_backstage:
        return template
    from ..backstage.scaffolder import BackstageScaffolder
    from ..backstage.scaffolder_forms import template_from_schema

    scaffolder = BackstageScaffolder(platform.backstage)
    entity = scaffolder.template_entity(template.key)
    return template_from_schema(entity, scaffolder.parameter_schema(template.key))
