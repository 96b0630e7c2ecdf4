"""The session: the one composition root. It reads the resolved profile and decides which backend serves each
capability (catalog, golden paths, workloads and logs, on-call, secrets, policies), demo or real, and owns their
lifecycles.

Each backend is made on first use, from any thread, and kept for the session: the demo cluster and the demo Vault
start only when a view or command first needs them, and :meth:`Session.close` stops them. Nothing heavy is imported
here (kubernetes, hvac, httpx, jinja2, jsonschema): each backend's module is imported when its capability is first
asked for. The app, the screens and the commands receive the session; no other module chooses a backend or says
"demo" (a backend is told it serves the demo as a plain value, so it can say so).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .catalog.errors import CatalogSourceError
from .catalog.local_source import LocalCatalogSource
from .catalog.protocols import CatalogSource
from .notices import Notices
from .paths import state_home
from .redaction import redact_url
from .resources import demo_catalog_path
from .session_backends import ONCALL_PROVIDER_NAMES, backstage_backends, oncall_source

if TYPE_CHECKING:
    import tempfile

    from .backstage.http import BackstageHttp
    from .catalog.model import Catalog
    from .catalog.problems import Problem
    from .config_model import Profile
    from .golden.guardrails import Guardrails
    from .golden.protocols import TemplateRunner
    from .golden.template import Template
    from .kube.access import KubeconfigClusters
    from .kube.demo_cluster.server import DemoCluster
    from .kube.gitops.protocols import GitOpsSource
    from .kube.protocols import LogSource, WorkloadSource
    from .oncall.models import OnCallSource
    from .oncall.providers import OnCallProviders
    from .policy.models import PolicySet
    from .secrets.demo_vault.server import DemoVault
    from .secrets.models import ProvisionDefaults, SecretStore

NO_VAULT = "No Vault configured: set VAULT_ADDR (and VAULT_TOKEN), or add a vault section to the profile"
DEMO_VAULT_NAME = "the demo Vault"


class _Started:
    """What a session made or started on first use; :meth:`Session.close` stops it and forgets it."""

    def __init__(self) -> None:
        self.clusters_lock = threading.Lock()
        self.demo_cluster: DemoCluster | None = None
        self.kube_folder: tempfile.TemporaryDirectory | None = None
        self.secrets_lock = threading.Lock()
        self.demo_vault: DemoVault | None = None
        self.secret_store: SecretStore | None = None
        self.oncall_lock = threading.Lock()
        self.oncall: tuple[Catalog, OnCallProviders] | None = None
        self.policies_lock = threading.Lock()
        self.policies: PolicySet | None = None


@dataclass(frozen=True)
class Session:
    """What one run of idp-tui talks to: settings decided once (frozen), and the backends made from them on demand.

    Make one with :meth:`from_profile` (``idp-tui`` with its flags, environment and config file) or
    :meth:`for_catalog` (a catalog path or URL directly, as tests and benchmarks do); use it as a context manager,
    or call :meth:`close`, to stop what it started.
    """

    catalog_source: CatalogSource
    is_demo: bool
    name: str
    # Where files derived from the catalog are kept (None: the user's cache directory);
    # use_cache False means nothing is read from there or written there.
    cache_dir: Path | None = None
    use_cache: bool = True
    # Where this user's own things live: registered entities, local repositories, remembered answers.
    state_dir: Path | None = None
    # Golden paths publish local git repositories under here.
    publish_root: Path | None = None
    # Nothing that changes a cluster, a Vault or a repository is sent; it cannot be turned off in the session.
    read_only: bool = False
    # The catalog User this person is (a ref, from --user or IDP_TUI_USER); None: matched from $USER.
    user: str | None = None
    # Only the cached copy of a remote catalog is used; nothing is requested.
    offline: bool = False
    # The configuration profile this session was built from (None: built directly, as tests do).
    profile: Profile | None = None
    # A Backstage this session talks to (its catalog and, by default, its scaffolder), when the catalog is a URL.
    backstage: BackstageHttp | None = None
    # Policy directories, files and OPA bundles: the profile's, then those given with --policy.
    policy_paths: tuple[str, ...] = ()
    # The Rego packages whose rules judge manifests ("*": every package) and catalog entities (conftest's
    # --namespace): the profile's, or the flags'.
    policy_namespaces: tuple[str, ...] = ("main",)
    catalog_policy_namespaces: tuple[str, ...] = ("catalog",)
    # Where the backends' "waiting before retrying" notices go: stderr in commands, notifications in the TUI.
    notices: Notices = field(default_factory=Notices, compare=False)
    _started: _Started = field(default_factory=_Started, init=False, repr=False, compare=False)

    # -- making one ----------------------------------------------------------------------------------------------

    @classmethod
    def from_profile(cls, profile: Profile, *, use_cache: bool = True) -> Session:
        """The session a configuration profile describes (``idp-tui`` with its flags, environment and config file).

        Raises:
            CatalogSourceError: the profile's catalog path does not exist.
        """
        if profile.catalog_is_url:
            session = _backstage_session(profile.catalog, profile, use_cache=use_cache, cache_dir=None)
        else:
            session = cls.for_catalog(None if profile.is_demo else profile.catalog, use_cache=use_cache)
        return replace(
            session,
            profile=profile,
            offline=profile.offline,
            read_only=profile.read_only,
            user=profile.user,
            policy_paths=profile.policies,
            policy_namespaces=profile.policy_namespaces,
            catalog_policy_namespaces=profile.catalog_policy_namespaces,
        )

    @classmethod
    def for_catalog(
        cls,
        catalog: str | None = None,
        *,
        use_cache: bool = True,
        cache_dir: Path | None = None,
        state_dir: Path | None = None,
        publish_root: Path | None = None,
        read_only: bool = False,
        user: str | None = None,
        policies: list[str] | tuple[str, ...] = (),
    ) -> Session:
        """A session on ``catalog``: a local path or a Backstage URL; None means the bundled demo.

        ``policies`` are checked as a profile's are (none by default, on the demo too: tests and benchmarks ask).

        Raises:
            CatalogSourceError: the catalog path does not exist.
        """
        if catalog is not None and catalog.startswith(("http://", "https://")):
            session = _backstage_session(catalog, None, use_cache=use_cache, cache_dir=cache_dir)
            return replace(session, state_dir=state_dir, read_only=read_only, user=user, policy_paths=tuple(policies))
        if catalog is not None and not Path(catalog).exists():
            raise CatalogSourceError(f"catalog {catalog}: no such file or directory")
        paths = [demo_catalog_path()] if catalog is None else [catalog]
        name = "demo" if catalog is None else catalog
        registry = _registry_dir(state_dir or state_home(), name, catalog is None)
        source = LocalCatalogSource(paths, use_cache=use_cache, cache_dir=cache_dir, optional_paths=[registry])
        return cls(
            source,
            is_demo=catalog is None,
            name=name,
            cache_dir=cache_dir,
            use_cache=use_cache,
            state_dir=state_dir,
            publish_root=publish_root,
            read_only=read_only,
            user=user,
            policy_paths=tuple(policies),
        )

    def with_policies(
        self,
        paths: list[str] | tuple[str, ...] | None,
        namespaces: tuple[str, ...] | None = None,
        catalog_namespaces: tuple[str, ...] | None = None,
    ) -> Session:
        """This session with ``paths`` checked too, after the profile's (``--policy``, repeatable), and the Rego
        packages ``namespaces`` and ``catalog_namespaces`` instead of the profile's where given."""
        return replace(
            self,
            policy_paths=(*self.policy_paths, *(paths or ())),
            policy_namespaces=namespaces or self.policy_namespaces,
            catalog_policy_namespaces=catalog_namespaces or self.catalog_policy_namespaces,
        )

    # -- settings ------------------------------------------------------------------------------------------------

    @property
    def theme(self) -> str | None:
        """The colour theme the profile (or ``--theme``, ``IDP_TUI_THEME``) asks for."""
        return self.profile.theme if self.profile is not None else None

    @property
    def runs_on_backstage(self) -> bool:
        """Golden paths run on the Backstage scaffolder (not the local runner)."""
        if self.backstage is None:
            return False
        return self.profile is None or self.profile.scaffolder == "backstage"

    @property
    def user_state(self) -> Path:
        return self.state_dir or state_home()

    @property
    def username(self) -> str:
        """The person at the terminal as one name (who an Argo CD sync is initiated by, as Argo CD's API server
        records its user): the catalog user's name (``user:default/jane`` gives ``jane``), else the login name."""
        import getpass

        if self.user:
            return self.user.split("/")[-1].split(":")[-1]
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "idp-tui"

    @property
    def registry_dir(self) -> Path:
        """Entities registered by golden paths for this catalog; read as part of the catalog."""
        return _registry_dir(self.user_state, self.name, self.is_demo)

    @property
    def repositories(self) -> Path:
        return self.publish_root or self.user_state / "repositories"

    # -- golden paths --------------------------------------------------------------------------------------------

    def template_runner(self, catalog: Catalog, *, publish_root: Path | None = None) -> TemplateRunner:
        """The runner of this session's golden paths: Backstage's scaffolder when the session runs there, else the
        local runner (publishing under ``publish_root``, by default :attr:`repositories`, and refusing to register
        what ``catalog`` holds). In a read-only session it only dry-runs."""
        runner: TemplateRunner
        if self.runs_on_backstage:
            from .backstage.scaffolder import BackstageScaffolder, BackstageTaskRunner

            runner = BackstageTaskRunner(BackstageScaffolder(self.backstage), guardrails=self.guardrails())
        else:
            from .golden.local import local_runner

            runner = local_runner(
                catalog,
                publish_root=publish_root or self.repositories,
                registry_dir=self.registry_dir,
                secret_store=self.secret_store,
                vault_defaults=self._provision_defaults(),
                # A catalog listed as projections (Backstage's): the local runner reads a template whole first.
                whole_template=self._whole_template if self.catalog_source.supports_entity_lookup else None,
                guardrails=self.guardrails(),
            )
        if self.read_only:
            from .golden.read_only import ReadOnlyRunner

            return ReadOnlyRunner(runner)
        return runner

    def _whole_template(self, key: str) -> Template:
        from .golden.template import Template

        return Template.from_entity(self.catalog_source.entity(key))

    def _provision_defaults(self) -> ProvisionDefaults | None:
        vault = self.profile.vault if self.profile is not None else None
        if vault is None:
            return None
        from .secrets.models import ProvisionDefaults

        return ProvisionDefaults(vault.kv_mount, vault.kubernetes_role, vault.kubernetes_mount)

    # -- policies ------------------------------------------------------------------------------------------------

    def policies(self) -> PolicySet | None:
        """The policies of :attr:`policy_paths`, loaded (and their evaluation worker started) on first use and kept;
        None when there are none. A broken policy is said once, as a notice (``FILE:LINE: policy: message``), and
        every other one still applies. Nothing of the engines is imported before this is called."""
        started = self._started
        with started.policies_lock:
            if started.policies is None and self.policy_paths:
                from .policy.loading import load_policies
                from .policy.text import format_problem, packages_not_found_lines

                paths = [os.path.expanduser(path) for path in self.policy_paths]
                started.policies = load_policies(
                    paths, rego_namespace=self.policy_namespaces, catalog_namespace=self.catalog_policy_namespaces
                )
                for problem in started.policies.problems:
                    self.notices(format_problem(problem), title="Policies")
                for line in packages_not_found_lines(started.policies):
                    self.notices(line, title="Policies")
            return started.policies

    def guardrails(self) -> Guardrails | None:
        """What golden paths are checked against before anything is created (None without policies); the policies
        load on the first check, not here."""
        if not self.policy_paths:
            return None
        from .policy.guardrails import PolicyGuardrails

        return PolicyGuardrails(self.policies)

    def catalog_guardrail_problems(self, catalog: Catalog) -> list[Problem]:
        """What the policies' catalog rules (Rego package ``catalog``) say about ``catalog``'s entities, as catalog
        problems of rule ``guardrail``; [] without policies. Starts the evaluation worker: call it off the UI thread.
        When the policies cannot be evaluated at all, that is said once as a notice and [] is returned.
        """
        policy_set = self.policies()
        if policy_set is None:
            return []
        from .policy.guardrails import catalog_guardrail_problems

        try:
            return catalog_guardrail_problems(policy_set, catalog.entities)
        except Exception as error:  # noqa: BLE001 - the catalog stays usable; the reason is said
            self.notices(
                f"the policies could not be evaluated on the catalog: {type(error).__name__}: {error}", title="Policies"
            )
            return []

    # -- workloads and logs --------------------------------------------------------------------------------------

    def workload_source(self, contexts: list[str] | None = None) -> WorkloadSource:
        """The clusters an entity's workloads are read from (only ``contexts``, when given): the kubeconfig's, the
        pod's own (in a pod, without a kubeconfig), or the demo cluster, started here on first use, on 127.0.0.1."""
        return self._clusters(contexts)

    def log_source(self, contexts: list[str] | None = None) -> LogSource:
        """The clusters an entity's pods are tailed on (only ``contexts``, when given), as :meth:`workload_source`."""
        return self._clusters(contexts)

    def gitops_source(self, contexts: list[str] | None = None) -> GitOpsSource:
        """An entity's Argo CD applications and Argo Rollouts, on the same clusters (and with the same credentials)
        as its workloads; every action is refused before anything is sent in a read-only session."""
        from .kube.gitops.access import KubeconfigGitOps

        return KubeconfigGitOps(self._clusters(contexts), read_only=self.read_only)

    @property
    def demo_clusters(self) -> bool:
        """Whether the clusters read are idp-tui's demo cluster: the demo's own, or a profile saying so (the fleet
        of ``idp-tui demo cluster --pods N``)."""
        return self.is_demo or (self.profile is not None and self.profile.kube_demo)

    @property
    def demo_cluster(self) -> DemoCluster | None:
        """The running demo cluster (None before first use, and when reading real clusters)."""
        return self._started.demo_cluster

    def _clusters(self, contexts: list[str] | None) -> KubeconfigClusters:
        # The demo cluster speaks the Kubernetes REST API: everything after this point is the code that reads a
        # real cluster, through the official client.
        from .kube.access import KubeconfigClusters, kubeconfig_clusters

        profile = self.profile
        wanted = contexts or (list(profile.kube_contexts) if profile is not None and profile.kube_contexts else None)
        if not self.is_demo:  # the demo catalog reads the demo cluster, known before anything starts
            kubeconfig = str(profile.kube_config) if profile is not None and profile.kube_config else None
            return kubeconfig_clusters(kubeconfig, wanted, demo=self.demo_clusters)
        cluster, kubeconfig = self._demo_kubeconfig()
        return KubeconfigClusters(str(kubeconfig), wanted or cluster.contexts, demo=True)

    def _demo_kubeconfig(self) -> tuple[DemoCluster, Path]:
        started = self._started
        with started.clusters_lock:
            if started.demo_cluster is None or started.kube_folder is None:
                import tempfile

                from .kube.demo_cluster.server import DemoCluster

                started.kube_folder = tempfile.TemporaryDirectory(prefix="idp-tui-demo-kube-")
                cluster = DemoCluster()
                cluster.start()
                cluster.write_kubeconfig(Path(started.kube_folder.name) / "config")
                started.demo_cluster = cluster
            return started.demo_cluster, Path(started.kube_folder.name) / "config"

    # -- on-call -------------------------------------------------------------------------------------------------

    def oncall(self, catalog: Catalog) -> OnCallProviders:
        """The on-call providers for ``catalog`` (they resolve responders through it), made once per catalog so
        their short-lived caches are shared by every view.

        The profile's provider when it names one; else the demo rotations on the demo catalog, and elsewhere every
        provider whose token is set: ``PAGERDUTY_TOKEN`` (or ``PAGERDUTY_TOKEN_COMMAND``) and ``OPSGENIE_API_KEY``
        (or ``OPSGENIE_API_KEY_COMMAND``); ``IDP_TUI_PAGERDUTY_URL`` and ``IDP_TUI_OPSGENIE_URL`` point them at
        another API root.
        """
        started = self._started
        with started.oncall_lock:
            if started.oncall is None or started.oncall[0] is not catalog:
                from .oncall.providers import OnCallProviders

                started.oncall = (catalog, OnCallProviders(self._oncall_sources(catalog)))
            return started.oncall[1]

    def _oncall_sources(self, catalog: Catalog) -> list[OnCallSource]:
        from .tokens import env_token_provider

        profile = self.profile
        if profile is not None and profile.origin.get("oncall", "default") != "default":
            settings = profile.oncall
            what = ONCALL_PROVIDER_NAMES.get(settings.provider, settings.provider)
            token = settings.token.provider(what) if settings.token is not None else None
            return oncall_source(settings.provider, token, settings.url, catalog, self.notices)
        if self.is_demo:
            return oncall_source("demo", None, None, catalog, self.notices)
        sources: list[OnCallSource] = []
        for provider, variable, url in (
            ("pagerduty", "PAGERDUTY_TOKEN", os.environ.get("IDP_TUI_PAGERDUTY_URL")),
            ("opsgenie", "OPSGENIE_API_KEY", os.environ.get("IDP_TUI_OPSGENIE_URL")),
        ):
            token = env_token_provider(variable, ONCALL_PROVIDER_NAMES[provider])
            if token is not None:
                sources += oncall_source(provider, token, url, catalog, self.notices)
        return sources

    # -- secrets -------------------------------------------------------------------------------------------------

    @property
    def secret_source(self) -> str:
        """Where this session's Vault comes from: ``profile``, ``environment`` ($VAULT_ADDR), ``demo`` or ``none``.

        A Vault the person named always wins, on the demo catalog too: the demo Vault never answers in its place.
        Decided from settings alone (nothing is started or asked), so a view can say "demo Vault" at once.
        """
        if self.profile is not None and self.profile.vault is not None:
            return "profile"
        if os.environ.get("VAULT_ADDR", "").strip():
            return "environment"
        return "demo" if self.is_demo else "none"

    @property
    def secrets_are_demo(self) -> bool:
        """The demo Vault answers this session (no Vault named, on the demo catalog)."""
        return self.secret_source == "demo"

    def secret_store(self) -> SecretStore:
        """This session's secret store, started (the demo Vault, on 127.0.0.1) or logged in on first use.

        The demo Vault speaks Vault's HTTP API, so the demo goes through hvac exactly as a real Vault does. In a
        read-only session the store refuses writes.

        Raises:
            SecretsError: kind ``config`` when no Vault is configured.
        """
        started = self._started
        with started.secrets_lock:
            if started.secret_store is None:
                store = self._vault_store()
                if self.read_only:
                    from .secrets.read_only import ReadOnlySecretStore

                    store = ReadOnlySecretStore(store)
                started.secret_store = store
            return started.secret_store

    @property
    def demo_vault(self) -> DemoVault | None:
        """The running demo Vault (None before first use, and when a real Vault is named)."""
        return self._started.demo_vault

    def _vault_store(self) -> SecretStore:
        from .secrets.models import SecretsError
        from .secrets.vault import VaultSecretStore, vault_store_from_settings

        if self.secrets_are_demo:
            from .secrets.demo_vault.server import DemoVault

            demo = self._started.demo_vault = DemoVault(self.user_state / "demo-vault.json", seed=True)
            url = demo.start()
            root = demo.root_token
            return VaultSecretStore(url, token_provider=lambda: root, name=DEMO_VAULT_NAME, is_demo=True)
        store = vault_store_from_settings(self.profile.vault if self.profile is not None else None, os.environ)
        if store is None:
            raise SecretsError(NO_VAULT, kind="config")
        return store

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop what this session started (the demo cluster, the demo Vault, the policies' evaluation worker) and
        forget the backends it made; using a capability again makes it again."""
        started = self._started
        with started.clusters_lock:
            if started.demo_cluster is not None:
                started.demo_cluster.stop()
                started.demo_cluster = None
            if started.kube_folder is not None:
                started.kube_folder.cleanup()
                started.kube_folder = None
        with started.secrets_lock:
            if started.demo_vault is not None:
                started.demo_vault.stop()
                started.demo_vault = None
            started.secret_store = None
        with started.oncall_lock:
            started.oncall = None
        with started.policies_lock:
            if started.policies is not None:
                started.policies.close()  # its evaluation worker
                started.policies = None

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _registry_dir(state: Path, name: str, is_demo: bool) -> Path:
    # One registry per catalog, so services created on the demo do not appear in a real catalog.
    if is_demo:
        return state / "registered" / "demo"
    import hashlib  # here: the import loads OpenSSL, a few ms of the TUI's first frame

    folder = hashlib.sha1(os.path.abspath(name).encode()).hexdigest()[:12]
    return state / "registered" / folder


def _backstage_session(url: str, profile: Profile | None, *, use_cache: bool, cache_dir: Path | None) -> Session:
    """A Backstage's catalog (cached on disk per profile for an instant start) and its scaffolder."""
    source, http, notices = backstage_backends(url, profile, use_cache=use_cache, cache_dir=cache_dir)
    name = redact_url(url)  # said in messages and titles: never a password from the URL
    return Session(
        source, is_demo=False, name=name, cache_dir=cache_dir, use_cache=use_cache, backstage=http, notices=notices
    )
