"""GitOps beside the workloads: Argo CD Applications and Argo Rollouts, read through the Kubernetes API.

Pure domain: Kubernetes JSON in, frozen dataclasses and exact requests out. ``kubernetes`` is imported only by
:mod:`.access`, lazily, when a cluster is first asked.

- :mod:`.selection`: which Applications belong to an entity (the Backstage Argo CD plugins' annotations).
- :mod:`.argocd`: an Application's sync, health, operation, history, resources and conditions, with problems.
- :mod:`.rollouts`: a Rollout's phase, canary step and weight, pauses, stable/canary and active/preview sets.
- :mod:`.actions`: refresh and sync an Application, promote and abort a Rollout, as Argo CD and its CLI send them.
- :mod:`.report`: the ``deployments --json`` shapes (``gitops`` entries and ``kind: "Rollout"`` workloads).
- :mod:`.protocols`: the ``GitOpsSource`` capability (per-cluster results, declared ``supports_actions`` and
  ``read_only``); :mod:`.access` implements it over the ``kubernetes`` client (the one module here that uses it).
"""
