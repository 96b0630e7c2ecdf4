"""The column definitions of the API server's Tables (``pkg/printers/internalversion/printers.go``'s ``AddHandlers``).

Names, types and priorities are the API server's (priority 1: shown only with ``kubectl get -o wide``); descriptions
are the API's field documentation, as the server sends them.
"""

from __future__ import annotations

NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some resources may "
    "allow a client to request the generation of an appropriate name automatically. Name is primarily intended for "
    "creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
AGE_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not "
    "guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is "
    "represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
CONTAINERS_DOC = "Names of each container in the template."
IMAGES_DOC = "Images referenced by each container in the template."

# (name, type, priority, description); the Name column also has format "name" (kubectl prefixes it with the kind).
Column = tuple[str, str, int, str]
_NAME: Column = ("Name", "string", 0, NAME_DOC)
_AGE: Column = ("Age", "string", 0, AGE_DOC)
COLUMNS: dict[str, list[Column]] = {
    "pods": [
        _NAME,
        ("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
        ("Status", "string", 0, "The aggregate status of the containers in this pod."),
        (
            "Restarts",
            "string",
            0,
            "The number of times the containers in this pod have been restarted and when the last container in this "
            "pod has restarted.",
        ),
        _AGE,
        ("IP", "string", 1, "podIP address allocated to the pod. Routable at least within the cluster."),
        ("Node", "string", 1, "NodeName indicates in which node this pod is scheduled."),
        ("Nominated Node", "string", 1, "nominatedNodeName is set only when this pod preempts other pods."),
        ("Readiness Gates", "string", 1, "If specified, all readiness gates will be evaluated for pod readiness."),
    ],
    "deployments": [
        _NAME,
        ("Ready", "string", 0, "Number of the pod with ready state"),
        (
            "Up-to-date",
            "string",
            0,
            "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
        ),
        (
            "Available",
            "string",
            0,
            "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
        ),
        _AGE,
        ("Containers", "string", 1, CONTAINERS_DOC),
        ("Images", "string", 1, IMAGES_DOC),
        (
            "Selector",
            "string",
            1,
            "Label selector for pods. Existing ReplicaSets whose pods are selected by this will "
            "be the ones affected by this deployment.",
        ),
    ],
    "replicasets": [
        _NAME,
        ("Desired", "integer", 0, "Replicas is the number of desired replicas."),
        ("Current", "integer", 0, "Replicas is the most recently observed number of replicas."),
        ("Ready", "integer", 0, "The number of ready replicas for this replica set."),
        _AGE,
        ("Containers", "string", 1, CONTAINERS_DOC),
        ("Images", "string", 1, IMAGES_DOC),
        ("Selector", "string", 1, "Selector is a label query over pods that should match the replica count."),
    ],
    "statefulsets": [
        _NAME,
        ("Ready", "string", 0, "Number of the pod with ready state"),
        _AGE,
        ("Containers", "string", 1, CONTAINERS_DOC),
        ("Images", "string", 1, IMAGES_DOC),
    ],
    "daemonsets": [
        _NAME,
        ("Desired", "integer", 0, "The total number of nodes that should be running the daemon pod."),
        (
            "Current",
            "integer",
            0,
            "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
        ),
        (
            "Ready",
            "integer",
            0,
            "The number of nodes that should be running the daemon pod and have one or more of "
            "the daemon pod running and ready.",
        ),
        ("Up-to-date", "integer", 0, "The total number of nodes that are running updated daemon pod"),
        (
            "Available",
            "integer",
            0,
            "The number of nodes that should be running the daemon pod and have one or more "
            "of the daemon pod running and available.",
        ),
        ("Node Selector", "string", 0, "NodeSelector is a selector which must be true for the pod to fit on a node."),
        _AGE,
        ("Containers", "string", 1, CONTAINERS_DOC),
        ("Images", "string", 1, IMAGES_DOC),
        ("Selector", "string", 1, "A label query over pods that are managed by the daemon set."),
    ],
    "events": [
        ("Last Seen", "string", 0, "The time at which the most recent occurrence of this event was recorded."),
        ("Type", "string", 0, "Type of this event (Normal, Warning), new types could be added in the future"),
        (
            "Reason",
            "string",
            0,
            "This should be a short, machine understandable string that gives the reason for "
            "the transition into the object's current status.",
        ),
        ("Object", "string", 0, "The object that this event is about."),
        (
            "Subobject",
            "string",
            1,
            "If referring to a piece of an object instead of an entire object, this string "
            "should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].",
        ),
        ("Source", "string", 1, "The component reporting this event. Should be a short machine understandable string."),
        ("Message", "string", 0, "A human-readable description of the status of this operation."),
        (
            "First Seen",
            "string",
            1,
            "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
        ),
        ("Count", "string", 1, "The number of times this event has occurred."),
        ("Name", "string", 1, NAME_DOC),
    ],
    "horizontalpodautoscalers": [
        _NAME,
        (
            "Reference",
            "string",
            0,
            "reference to scaled resource; horizontal pod autoscaler will learn the current "
            "resource consumption and will set the desired number of pods by using its Scale subresource.",
        ),
        (
            "Targets",
            "string",
            0,
            "metrics contains the specifications for which to use to calculate the desired "
            "replica count (the maximum replica count across all metrics will be used).",
        ),
        (
            "MinPods",
            "string",
            0,
            "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.",
        ),
        (
            "MaxPods",
            "string",
            0,
            "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.",
        ),
        (
            "Replicas",
            "string",
            0,
            "currentReplicas is current number of replicas of pods managed by this "
            "autoscaler, as last seen by the autoscaler.",
        ),
        _AGE,
    ],
    "namespaces": [_NAME, ("Status", "string", 0, "The status of the namespace"), _AGE],
    # printers.go serviceColumnDefinitions (descriptions from ServiceSpec/ServiceStatus, first sentences).
    "services": [
        _NAME,
        ("Type", "string", 0, "type determines how the Service is exposed. Defaults to ClusterIP."),
        ("Cluster-IP", "string", 0, "clusterIP is the IP address of the service and is usually assigned randomly."),
        (
            "External-IP",
            "string",
            0,
            "LoadBalancer contains the current status of the load-balancer, if one is present.",
        ),
        ("Port(s)", "string", 0, "The list of ports that are exposed by this service."),
        _AGE,
        (
            "Selector",
            "string",
            1,
            "Route service traffic to pods with label keys and values matching this selector.",
        ),
    ],
    "configmaps": [
        _NAME,
        (
            "Data",
            "string",
            0,
            "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or "
            "'.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must "
            "not overlap with the keys in the BinaryData field, this is enforced during validation process.",
        ),
        _AGE,
    ],
}

# Custom resources: the CRD's additionalPrinterColumns after the Name column, as apiextensions-apiserver's
# tableconvertor builds them (a column without a description gets "Custom resource definition column (in JSONPath
# format): <path>"). (name, type, priority, description, JSONPath)
CrdColumn = tuple[str, str, int, str, str]
_CRD = "Custom resource definition column (in JSONPath format): "
CRD_COLUMNS: dict[str, list[CrdColumn]] = {
    # argoproj/argo-cd manifests/crds/application-crd.yaml: no Age column.
    "applications": [
        ("Sync Status", "string", 0, _CRD + ".status.sync.status", ".status.sync.status"),
        ("Health Status", "string", 0, _CRD + ".status.health.status", ".status.health.status"),
        ("Revision", "string", 10, _CRD + ".status.sync.revision", ".status.sync.revision"),
        ("Project", "string", 10, _CRD + ".spec.project", ".spec.project"),
    ],
    # argoproj/argo-rollouts manifests/crds/rollout-crd.yaml
    "rollouts": [
        ("Desired", "integer", 0, "Number of desired pods", ".spec.replicas"),
        ("Current", "integer", 0, "Total number of non-terminated pods targeted by this rollout", ".status.replicas"),
        (
            "Up-to-date",
            "integer",
            0,
            "Total number of non-terminated pods targeted by this rollout that have the desired template spec",
            ".status.updatedReplicas",
        ),
        (
            "Available",
            "integer",
            0,
            "Total number of available pods (ready for at least minReadySeconds) targeted by this rollout",
            ".status.availableReplicas",
        ),
        ("Age", "date", 0, "Time since resource was created", ".metadata.creationTimestamp"),
    ],
}
for _plural, _columns in CRD_COLUMNS.items():
    COLUMNS[_plural] = [_NAME, *((name, kind, rank, doc) for name, kind, rank, doc, _ in _columns)]

__all__ = ["COLUMNS", "CRD_COLUMNS", "Column", "CrdColumn"]
