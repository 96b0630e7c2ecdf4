"""ValidatingAdmissionPolicies (CEL) with the API server's semantics for a CREATE: match rules, matchConditions,
variables, messages, params, validation actions, selectors; and what the CEL engine lacks, said, never guessed."""

from __future__ import annotations

import copy
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from idp_tui.policy import evaluate_documents, load_policies

LACKS = "which idp-tui's CEL engine lacks"


def deployment(name="web", namespace=None, labels=None, replicas=None, api_version="apps/v1", kind="Deployment"):
    metadata = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if labels is not None:
        metadata["labels"] = labels
    spec = {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec}


DEPLOYMENTS = {
    "resourceRules": [
        {"apiGroups": ["apps"], "apiVersions": ["v1"], "resources": ["deployments"], "operations": ["CREATE"]}
    ]
}


def policy(name, validations, match=None, **spec):
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {"matchConstraints": match or DEPLOYMENTS, "validations": validations, **spec},
    }


def binding(policy_name, actions=("Deny",), name=None, **spec):
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name or policy_name},
        "spec": {"policyName": policy_name, "validationActions": list(actions), **spec},
    }


def always(message="denied", expression="false", **extra):
    return {"expression": expression, "message": message, **extra}


@pytest.fixture
def load(tmp_path):
    loaded = []

    def load(*objects, text: str | None = None, **options):
        folder = tmp_path / f"policies{len(loaded)}"
        folder.mkdir()
        (folder / "policies.yaml").write_text(text if text is not None else yaml.safe_dump_all(objects))
        policy_set = load_policies([folder], **options)
        loaded.append(policy_set)
        return policy_set

    yield load
    for policy_set in loaded:
        policy_set.close()


def evaluate(policy_set, *documents, **options):
    return evaluate_documents(policy_set, [(f"doc{n}.yaml", 1, doc) for n, doc in enumerate(documents)], **options)


def messages(evaluation):
    return [(result.file, result.action, result.message) for result in evaluation.results]


def test_resource_rules_decide_which_creates_a_policy_sees(load):
    policy_set = load(
        policy("deployments-only", [always("seen")]),
        binding("deployments-only"),
        policy(
            "updates-only",
            [always("never")],
            match={"resourceRules": [dict(DEPLOYMENTS["resourceRules"][0], operations=["UPDATE", "DELETE"])]},
        ),
        binding("updates-only"),
        policy(
            "everything-but-web",
            [always("any create")],
            match={
                "resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"], "operations": ["*"]}],
                "excludeResourceRules": [
                    {
                        "apiGroups": ["apps"],
                        "apiVersions": ["v1"],
                        "resources": ["deployments"],
                        "operations": ["*"],
                        "resourceNames": ["web"],
                    }
                ],
            },
        ),
        binding("everything-but-web"),
        policy(
            "cluster-scoped",
            [always("cluster")],
            match={
                "resourceRules": [
                    {
                        "apiGroups": ["*"],
                        "apiVersions": ["*"],
                        "resources": ["*"],
                        "operations": ["CREATE"],
                        "scope": "Cluster",
                    }
                ]
            },
        ),
        binding("cluster-scoped"),
        policy(
            "widgets",
            [always("widget")],
            match={
                "resourceRules": [
                    {
                        "apiGroups": ["example.com"],
                        "apiVersions": ["v1"],
                        "resources": ["widgets", "policies"],
                        "operations": ["CREATE"],
                    }
                ]
            },
        ),
        binding("widgets"),
    )
    assert policy_set.problems == ()
    evaluation = evaluate(
        policy_set,
        deployment("web"),  # doc0
        deployment("api"),  # doc1
        deployment("old", api_version="extensions/v1beta1"),  # doc2
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}},  # doc3
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},  # doc4
        {"apiVersion": "example.com/v1", "kind": "Policy", "metadata": {"name": "p"}},  # doc5
        {"kind": "NotAnObject"},  # doc6: no apiVersion, not a Kubernetes object
    )
    assert sorted((r.file, r.policy) for r in evaluation.results) == [
        ("doc0.yaml", "deployments-only"),
        ("doc1.yaml", "deployments-only"),
        ("doc1.yaml", "everything-but-web"),
        ("doc2.yaml", "everything-but-web"),
        ("doc3.yaml", "cluster-scoped"),
        ("doc3.yaml", "everything-but-web"),
        ("doc4.yaml", "everything-but-web"),
        ("doc4.yaml", "widgets"),
        ("doc5.yaml", "everything-but-web"),
        ("doc5.yaml", "widgets"),
    ]


def test_a_rule_for_another_version_of_the_resource_cannot_say_under_match_policy_equivalent(load):
    v1_only = {
        "resourceRules": [
            {"apiGroups": ["apps"], "apiVersions": ["v1beta1"], "resources": ["deployments"], "operations": ["CREATE"]}
        ]
    }
    exact = {**v1_only, "matchPolicy": "Exact"}
    policy_set = load(
        policy("equivalent", [always("equivalent matched")], match=v1_only),
        binding("equivalent"),
        policy("exact", [always("exact matched")], match=exact),
        binding("exact"),
    )
    evaluation = evaluate(policy_set, deployment())
    assert messages(evaluation) == []  # neither gives a verdict: one cannot know it, the other does not match
    # An object the selectors leave out is not matched in any version: nothing to say.
    selected = {**v1_only, "objectSelector": {"matchLabels": {"team": "payments"}}}
    unselected = load(policy("selected", [always()], match=selected), binding("selected"))
    assert evaluate(unselected, deployment()).problems == ()
    [problem] = evaluation.problems
    assert problem.policy == "equivalent"
    assert problem.message.startswith(
        "cannot evaluate: its rules cover deployments in apps/v1beta1 only: under matchPolicy Equivalent the API "
        "server would convert this apps/v1 object to that version first"
    )


def test_the_request_is_a_create_with_no_old_object(load):
    expression = (
        "request.operation == 'CREATE' && oldObject == null && request.kind.kind == 'Deployment' && "
        "request.resource.group == 'apps' && request.resource.resource == 'deployments' && "
        "request.namespace == 'shop' && request.name == 'web' && object.metadata.name == request.name"
    )
    policy_set = load(
        policy("request", [{"expression": f"!({expression})", "message": "as the API server sees it"}]),
        binding("request"),
    )
    assert messages(evaluate(policy_set, deployment("web", namespace="shop"), deployment("web"))) == [
        ("doc0.yaml", "deny", "as the API server sees it")
    ]


def test_match_conditions_must_all_hold_and_their_errors_follow_the_failure_policy(load):
    conditions = [
        {"name": "not-skipped", "expression": "object.metadata.name != 'skip-me'"},
        {"name": "has-team", "expression": "object.metadata.labels.team != ''"},
    ]
    policy_set = load(
        policy("strict", [always("checked")], matchConditions=conditions),
        binding("strict"),
        policy("lenient", [always("checked too")], matchConditions=conditions, failurePolicy="Ignore"),
        binding("lenient"),
    )
    evaluation = evaluate(
        policy_set,
        deployment("skip-me", labels={"team": "a"}),
        deployment("ok", labels={"team": "a"}),
        deployment("unlabelled"),
    )
    assert messages(evaluation) == [
        ("doc1.yaml", "deny", "checked"),
        ("doc1.yaml", "deny", "checked too"),
        ("doc2.yaml", "deny", 'matchCondition "has-team" resulted in error: no such key: labels'),
    ]


def test_variables_are_evaluated_lazily_and_an_error_belongs_to_the_expressions_using_it(load):
    policy_set = load(
        policy(
            "variables",
            [
                {
                    "expression": "variables.doubled < 10",
                    "messageExpression": "'too many: ' + string(variables.doubled)",
                },
                {"expression": "variables.broken == 'x'"},
            ],
            variables=[
                {"name": "replicas", "expression": "has(object.spec.replicas) ? object.spec.replicas : 1"},
                {"name": "doubled", "expression": "variables.replicas * 2"},
                {"name": "broken", "expression": "object.spec.nothing"},
                {"name": "unused", "expression": "1 / 0"},
            ],
        ),
        binding("variables"),
    )
    evaluation = evaluate(policy_set, deployment(replicas=7), deployment(replicas=2))
    assert messages(evaluation) == [
        ("doc0.yaml", "deny", "too many: 14"),
        (
            "doc0.yaml",
            "deny",
            "expression 'variables.broken == 'x'' resulted in error: variables.broken: no such key: nothing",
        ),
        (
            "doc1.yaml",
            "deny",
            "expression 'variables.broken == 'x'' resulted in error: variables.broken: no such key: nothing",
        ),
    ]


def test_a_long_chain_of_variables_is_still_computed_only_where_the_expression_reaches_it(load):
    """Written in place, the variables below make a text of some 60 KB: under the limit, measured on the text as it
    runs (fields read as indexes make it longer than the policy's own)."""
    padding = " + object.spec.template.metadata.name.size() * 0" * 150
    chain = [
        {"name": "level", "expression": "object.spec.level"},
        {"name": "v0", "expression": "variables.level" + padding},
        *({"name": f"v{n}", "expression": f"variables.v{n - 1} + variables.v{n - 1}"} for n in (1, 2, 3)),
    ]
    policy_set = load(
        policy("guarded", [{"expression": "!has(object.spec.level) || variables.v3 > 0"}], variables=chain),
        binding("guarded"),
    )
    assert messages(evaluate(policy_set, deployment())) == []  # no level: the API server never computes v3


def test_a_variable_is_computed_only_where_the_expression_reaches_it(load):
    # The usual guard: the API server computes variables.level only when the left side is false.
    policy_set = load(
        policy(
            "guarded",
            [
                {"expression": "!has(object.metadata.labels) || variables.level <= 5", "message": "level too high"},
                {"expression": "!has(object.metadata.labels) || variables.doubled <= 10", "message": "doubled"},
                {"expression": "variables.level <= 5", "message": "unguarded"},
            ],
            variables=[
                {"name": "level", "expression": "int(object.metadata.labels.level)"},
                {"name": "doubled", "expression": "variables.level * 2"},
            ],
        ),
        binding("guarded"),
    )
    evaluation = evaluate(policy_set, deployment("unlabelled"), deployment("high", labels={"level": "7"}))
    assert messages(evaluation) == [
        (
            "doc0.yaml",
            "deny",
            "expression 'variables.level <= 5' resulted in error: variables.level: no such key: labels",
        ),
        ("doc1.yaml", "deny", "level too high"),
        ("doc1.yaml", "deny", "doubled"),
        ("doc1.yaml", "deny", "unguarded"),
    ]


def test_a_comprehension_naming_its_element_object_keeps_the_variables_meaning(load):
    # variables.bad fails, so the expression is tried with each variable written in place; inside .all(object, …)
    # that text would read the element called object ('web'), and api would pass. It is not tried there: the
    # step-by-step evaluation says which variable failed.
    expression = "variables.bad == 1 || [{'metadata': {'name': 'web'}}].all(object, variables.name == 'web')"
    policy_set = load(
        policy(
            "shadow",
            [{"expression": expression, "message": "shadowed"}],
            variables=[
                {"name": "bad", "expression": "object.spec.nothing"},
                {"name": "name", "expression": "object.metadata.name"},
            ],
        ),
        binding("shadow"),
    )
    failed = f"expression '{expression}' resulted in error: variables.bad: no such key: nothing"
    assert messages(evaluate(policy_set, deployment("api"))) == [("doc0.yaml", "deny", failed)]


@pytest.mark.parametrize(
    "expression",
    [
        # idp-tui writes each `variables.NAME` as a name of its own: never inside a literal, a raw one (which has
        # no escapes) or a triple-quoted one included; never a field that is named variables.
        r"""size(r'\') == 1 && 'variables.a' != 'variables.' + 'a'""",
        r"""'''\'''' != '' && "variables.a" != 'variables.' + 'a'""",
        "b'variables.a' != bytes('variables.' + 'a')",
        "{'variables': {'a': 1}}. variables.a != 1",
        "{'variables': {'a': 1}}.\nvariables.a != 1",
        # A comprehension naming its element `variables`: inside it, as in Kubernetes, that is the element.
        "[{'a': 1}].all(variables, variables.a != 1)",
        # Written in place (variables.bad fails): not inside a comprehension naming its element object, comments
        # and all, in the expression or in a variable's own text.
        "[{'metadata': {'name': 'web'}}].all(//c\nobject, variables.name == 'web') && (true || variables.bad)",
        "variables.web && (true || variables.bad)",
    ],
)
def test_the_rewrite_of_variables_keeps_what_the_expression_means(load, expression):
    # Each expression is false on this Deployment (named api) under Kubernetes' semantics: it must deny.
    policy_set = load(
        policy(
            "meaning",
            [{"expression": expression, "message": "denied as written"}],
            variables=[
                {"name": "a", "expression": "2"},
                {"name": "name", "expression": "object.metadata.name"},
                {"name": "bad", "expression": "object.spec.nothing"},
                {"name": "web", "expression": "[{'metadata': {'name': 'web'}}].all(object, variables.name == 'web')"},
            ],
        ),
        binding("meaning"),
    )
    [(_, action, message)] = messages(evaluate(policy_set, deployment("api")))
    assert action == "deny"
    # Where the rewrite is refused, the step-by-step evaluation computes variables.bad and says so: still a deny.
    assert message == "denied as written" or message.endswith("variables.bad: no such key: nothing")


def test_a_name_of_idp_tuis_own_rewrite_is_an_undeclared_reference(load):
    policy_set = load(policy("reserved", [always(expression="idp_tui_variable__a == 1")]), binding("reserved"))
    [problem] = policy_set.problems
    assert problem.message.endswith("undeclared reference to 'idp_tui_variable__a' (a name idp-tui reserves)")


def test_variables_reading_the_map_or_each_other_many_times_are_computed_in_bounded_time(load):
    # A variable reading the whole map does not compute itself (it recursed until the worker crashed), and 32
    # variables each reading the two before took exponential time, past the document's deadline.
    chain = [{"name": "v0", "expression": "1"}, {"name": "v1", "expression": "1"}]
    chain += [{"name": f"v{n}", "expression": f"variables.v{n - 1} + variables.v{n - 2}"} for n in range(2, 33)]
    whole_map = [{"name": "c", "expression": "variables['c']"}]
    # Read as a whole, the map holds the variables declared before: b, after a, reads a like any other.
    earlier = [
        {"name": "n", "expression": "object.metadata.name"},
        {"name": "a", "expression": "variables['n'] + '-x'"},
        {"name": "b", "expression": "variables.a + '-y'"},
    ]
    policy_set = load(
        policy("whole-map", [always("map", "variables.c != 'x'")], variables=whole_map),
        binding("whole-map"),
        policy(
            "fibonacci", [always("fib", "variables.v32 == 3524578 && object.metadata.name != 'api'")], variables=chain
        ),
        binding("fibonacci"),
        policy(
            "earlier",
            [always("a then b", "variables.a != 'api-x'"), always("b", "variables.b != 'api-x-y'")],
            variables=earlier,
        ),
        binding("earlier"),
        timeout=5.0,
    )
    evaluation = evaluate(policy_set, deployment("api"))
    assert evaluation.problems == ()
    assert messages(evaluation) == [
        ("doc0.yaml", "deny", "expression 'variables.c != 'x'' resulted in error: variables.c: no such key: c"),
        ("doc0.yaml", "deny", "fib"),
        ("doc0.yaml", "deny", "a then b"),
        ("doc0.yaml", "deny", "b"),
    ]


def test_a_false_match_condition_skips_the_policy_even_after_one_that_failed(load):
    conditions = [
        {"name": "errors", "expression": "object.metadata.labels.team == 'a'"},
        {"name": "is-false", "expression": "false"},
    ]
    policy_set = load(policy("mc", [always("checked")], matchConditions=conditions), binding("mc"))
    assert messages(evaluate(policy_set, deployment("unlabelled"))) == []


def test_a_namespaced_object_without_a_namespace_gets_the_requests_as_the_api_server_sets_it(load):
    same = {"expression": "object.metadata.namespace == request.namespace", "message": "namespaces differ"}
    policy_set = load(policy("ns", [same]), binding("ns"))
    assert messages(evaluate(policy_set, deployment("web"), deployment("web", namespace="shop"))) == []


def test_a_variable_keeps_its_cel_type_as_in_kubernetes(load):
    # Python has no unsigned integer: a uint handed out of the engine and back in came back an int, so the first
    # validation was false and the second had no overload for int + uint.
    policy_set = load(
        policy(
            "types",
            [
                {"expression": "type(variables.size) == uint", "message": "size is not a uint"},
                {"expression": "variables.size + 1u == 4u", "message": "size + 1u is not 4u"},
                {"expression": "variables.next > variables.size", "message": "next is not larger"},
            ],
            variables=[
                {"name": "size", "expression": "uint(object.spec.replicas)"},
                {"name": "next", "expression": "variables.size + 1u"},
            ],
        ),
        binding("types"),
    )
    evaluation = evaluate(policy_set, deployment(replicas=3))
    assert messages(evaluation) == []
    assert evaluation.problems == ()


def test_message_expression_then_message_then_the_failed_expression_and_the_reason(load):
    policy_set = load(
        policy(
            "messages",
            [
                {
                    "expression": "false",
                    "messageExpression": "'name ' + object.metadata.name",
                    "message": "static",
                    "reason": "Forbidden",
                },
                {"expression": "false", "messageExpression": "''", "message": "empty falls back"},
                {"expression": "false", "messageExpression": "object.nope", "message": "error falls back"},
                {"expression": "false", "messageExpression": "'two\\nlines'", "message": "line breaks fall back"},
                {"expression": "1 > 2"},
            ],
        ),
        binding("messages"),
    )
    evaluation = evaluate(policy_set, deployment("web"))
    assert [(r.message, r.reason) for r in evaluation.results] == [
        ("name web", "Forbidden"),
        ("empty falls back", "Invalid"),
        ("error falls back", "Invalid"),
        ("line breaks fall back", "Invalid"),
        ("failed expression: 1 > 2", "Invalid"),
    ]


def configmap(name, namespace, data, labels=None):
    metadata = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def test_params_come_from_the_objects_beside_the_policies(load):
    replicas = policy(
        "replicas",
        [
            {
                "expression": "object.spec.replicas >= int(params.data.min)",
                "messageExpression": "'min ' + params.data.min",
            }
        ],
        paramKind={"apiVersion": "v1", "kind": "ConfigMap"},
    )
    policy_set = load(
        replicas,
        configmap("limits", "policies", {"min": "3"}),
        configmap("limits", "shop", {"min": "5"}),
        configmap("tier-a", "policies", {"min": "2"}, labels={"kind": "replicas"}),
        configmap("tier-b", "policies", {"min": "4"}, labels={"kind": "replicas"}),
        binding(
            "replicas",
            name="by-name",
            paramRef={"name": "limits", "namespace": "policies", "parameterNotFoundAction": "Deny"},
        ),
        binding("replicas", name="own-namespace", paramRef={"name": "limits", "parameterNotFoundAction": "Deny"}),
        binding(
            "replicas",
            name="by-selector",
            actions=["Warn"],
            paramRef={
                "namespace": "policies",
                "selector": {"matchLabels": {"kind": "replicas"}},
                "parameterNotFoundAction": "Allow",
            },
        ),
        binding(
            "replicas",
            name="missing-allow",
            paramRef={"name": "nope", "namespace": "policies", "parameterNotFoundAction": "Allow"},
        ),
    )
    assert policy_set.problems == ()
    evaluation = evaluate(
        policy_set, deployment(namespace="shop", replicas=3), deployment(namespace="other", replicas=3)
    )
    assert messages(evaluation) == [
        ("doc0.yaml", "deny", "min 5"),  # own-namespace: the ConfigMap in the object's namespace
        ("doc0.yaml", "warn", "min 4"),  # by-selector: one evaluation per param it selects
        ("doc1.yaml", "deny", "no params found for policy binding with `Deny` parameterNotFoundAction"),
        ("doc1.yaml", "warn", "min 4"),
    ]


def test_validation_actions_deny_warn_and_audit(load):
    validations = [always("replicas")]
    policy_set = load(
        policy("p-deny", validations),
        binding("p-deny", ["Deny", "Audit"]),
        policy("p-warn", validations),
        binding("p-warn", ["Warn"]),
        policy("p-audit", validations),
        binding("p-audit", ["Audit"]),
    )
    evaluation = evaluate(policy_set, deployment())
    assert [(r.policy, r.action) for r in evaluation.results] == [
        ("p-deny", "deny"),
        ("p-warn", "warn"),
        ("p-audit", "audit"),
    ]
    assert evaluation.exit_status() == 1
    only_warn_and_audit = load(
        policy("w", validations), binding("w", ["Warn"]), policy("a", validations), binding("a", ["Audit"])
    )
    evaluation = evaluate(only_warn_and_audit, deployment())
    assert (evaluation.exit_status(), evaluation.exit_status(fail_on_warn=True)) == (0, 1)
    only_audit = load(policy("a", validations), binding("a", ["Audit"]))
    assert evaluate(only_audit, deployment()).exit_status(fail_on_warn=True) == 0


ANYTHING = {"resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"], "operations": ["CREATE"]}]}


def test_object_and_namespace_selectors(load):
    validations = [always("selected")]
    policy_set = load(
        policy("by-object", validations, match=ANYTHING),
        binding(
            "by-object",
            matchResources={
                "objectSelector": {
                    "matchLabels": {"environment": "production"},
                    "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["batch"]}],
                }
            },
        ),
        policy("by-namespace", validations, match=ANYTHING),
        binding(
            "by-namespace",
            matchResources={
                "namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "In", "values": ["payments"]}]}
            },
        ),
        policy("by-namespace-name", validations, match=ANYTHING),
        binding(
            "by-namespace-name",
            matchResources={"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}},
        ),
    )
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "pay", "labels": {"team": "payments"}}}
    evaluation = evaluate(
        policy_set,
        namespace,  # doc0: a Namespace is selected on its own labels
        deployment("a", namespace="pay", labels={"environment": "production"}),  # doc1
        deployment("b", namespace="pay", labels={"environment": "production", "tier": "batch"}),  # doc2
        deployment("c", namespace="shop"),  # doc3: shop's labels are unknown: only its name is certain
        deployment("d", namespace="elsewhere"),  # doc4: labels given by the caller
        namespaces={"elsewhere": {"team": "payments"}},
    )
    assert sorted((r.file, r.policy) for r in evaluation.results) == [
        ("doc0.yaml", "by-namespace"),
        ("doc1.yaml", "by-namespace"),
        ("doc1.yaml", "by-object"),
        ("doc2.yaml", "by-namespace"),
        ("doc3.yaml", "by-namespace-name"),
        ("doc4.yaml", "by-namespace"),
    ]
    [unknown] = [p for p in evaluation.problems if p.policy == "by-namespace"]
    assert unknown.message == (
        "cannot evaluate: the namespaceSelector needs the labels of namespace 'shop', which is not among the "
        "documents (add its Namespace manifest)"
    )


def test_namespace_object_comes_from_the_documents_or_the_policy_cannot_say(load):
    policy_set = load(
        policy(
            "team-label",
            [
                {
                    "expression": "namespaceObject.metadata.labels.team == object.metadata.labels.team",
                    "message": "team differs from its namespace's",
                }
            ],
        ),
        binding("team-label"),
    )
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "pay", "labels": {"team": "payments"}}}
    evaluation = evaluate(
        policy_set,
        namespace,
        deployment("a", namespace="pay", labels={"team": "payments"}),
        deployment("b", namespace="pay", labels={"team": "search"}),
        deployment("c", namespace="unknown", labels={"team": "x"}),
    )
    assert messages(evaluation) == [("doc2.yaml", "deny", "team differs from its namespace's")]
    assert [p.message for p in evaluation.problems] == [
        "cannot evaluate: reads namespaceObject, and namespace 'unknown' is not among the documents (add its "
        "Namespace manifest)"
    ]


@pytest.mark.parametrize(
    ("expression", "lacking"),
    [
        (
            "quantity(object.spec.template.spec.containers[0].resources.limits.memory).isLessThan(quantity('1Gi'))",
            "quantity()",
        ),
        ("object.metadata.labels.map(k, k).isSorted()", "isSorted()"),
        ("url('https://example.com').getHost() == 'example.com'", "url()"),
        ("object.metadata.name.find('[0-9]+') == ''", "find()"),
        ("object.?spec.?replicas.orValue(1) > 1", "optional field selection (.?)"),
        ("authorizer.group('apps').resource('deployments').check('create').allowed()", "authorizer"),
        ("request.userInfo.username != 'admin'", "request.userInfo"),
        ("object.spec.template.spec.containers.all(i, c, c.name != '')", "the two-variable comprehension all"),
        ("ip('10.0.0.1').family() == 4", "ip()"),
    ],
)
def test_a_kubernetes_function_the_engine_lacks_is_said_for_that_policy_never_guessed(load, expression, lacking):
    text = textwrap.dedent(
        f"""\
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicy
        metadata:
          name: lacking
        spec:
          matchConstraints:
            resourceRules:
              - {{apiGroups: [apps], apiVersions: [v1], resources: [deployments], operations: [CREATE]}}
          validations:
            - expression: "true"
            - expression: "{expression}"
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicyBinding
        metadata:
          name: lacking
        spec:
          policyName: lacking
          validationActions: [Deny]
        """
    )
    policy_set = load(text=text)
    [problem] = policy_set.problems
    assert (problem.line, problem.policy) == (11, "lacking")
    assert problem.message.startswith(f"cannot evaluate: uses {lacking}")
    assert problem.message.endswith(LACKS)
    assert policy_set.policies == () and policy_set.bindings == ()
    assert evaluate(policy_set, deployment()).results == ()


def test_an_overload_the_engine_lacks_is_found_at_evaluation_and_the_strings_library_works(load):
    policy_set = load(
        policy("list-index", [{"expression": "['a', 'b'].indexOf('b') == 1", "message": "no"}]),
        binding("list-index"),
        policy(
            "strings",
            [
                {
                    "expression": "object.metadata.name.upperAscii().split('-').join('_') == 'WEB_API'",
                    "message": "strings library",
                }
            ],
        ),
        binding("strings"),
    )
    assert policy_set.problems == ()
    evaluation = evaluate(policy_set, deployment("web-api"), deployment("other"))
    assert messages(evaluation) == [("doc1.yaml", "deny", "strings library")]
    [problem] = evaluation.problems
    assert problem.policy == "list-index"
    assert problem.message == f"cannot evaluate: uses indexOf on a list (Kubernetes' list library), {LACKS}"


BROKEN = """\
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: typo
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: [apps], apiVersions: [v1], resources: [deployments], operations: [CREATE]}
  validations:
    - expresion: "object.spec.replicas > 1"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: bad-cel
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: [apps], apiVersions: [v1], resources: [deployments], operations: [CREATE]}
  validations:
    - expression: "object.spec.replicas >"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: good
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: [apps], apiVersions: [v1], resources: [deployments], operations: [CREATE]}
  validations:
    - expression: "false"
      message: still applied
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: unbound
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: [apps], apiVersions: [v1], resources: [deployments], operations: [CREATE]}
  validations:
    - expression: "false"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: typo}
spec: {policyName: typo, validationActions: [Deny]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: bad-cel}
spec: {policyName: bad-cel, validationActions: [Deny]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: good}
spec: {policyName: good, validationActions: [Deny]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: dangling}
spec: {policyName: not-there, validationActions: [Deny, Warn]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: orphan}
spec:
  policyName: not-there
  validationActions: [Deny]
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    return lines[occurrence - 1]


def test_broken_policies_are_reported_once_at_their_line_and_the_good_one_still_applies(load):
    policy_set = load(text=BROKEN)
    file = str(Path(policy_set.sources[0]) / "policies.yaml")
    assert sorted((p.line, p.policy, p.message) for p in policy_set.problems) == [
        (line_of(BROKEN, "expresion:"), "typo", 'unknown field "spec.validations[0].expresion"'),
        (
            line_of(BROKEN, 'object.spec.replicas >"'),
            "bad-cel",
            "spec.validations[0].expression: invalid CEL: Syntax error: mismatched input '<EOF>' "
            "expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, "
            "BYTES, IDENTIFIER} (at 1:23)",
        ),
        (
            line_of(BROKEN, "apiVersion:", 4),
            "unbound",
            "has no ValidatingAdmissionPolicyBinding, so it applies to nothing (as in Kubernetes)",
        ),
        (
            line_of(BROKEN, "validationActions: [Deny, Warn]"),
            "dangling",
            "spec.validationActions: Invalid value: the combination of Deny and Warn is not allowed",
        ),
        (
            line_of(BROKEN, "policyName: not-there", 2),
            "orphan",
            "binds ValidatingAdmissionPolicy not-there, which is not loaded",
        ),
    ]
    assert {p.file for p in policy_set.problems} == {file}
    evaluation = evaluate(policy_set, deployment("a"), deployment("b"))
    assert messages(evaluation) == [("doc0.yaml", "deny", "still applied"), ("doc1.yaml", "deny", "still applied")]
    assert len(evaluation.problems) == len(policy_set.problems)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda spec: spec["matchConstraints"]["resourceRules"][0].pop("operations"),
         "spec.matchConstraints.resourceRules[0].operations: Required value"),
        (lambda spec: spec["matchConstraints"]["resourceRules"][0].update(apiGroups=["*", "apps"]),
         "spec.matchConstraints.resourceRules[0].apiGroups: if '*' is present, must not specify other API groups"),
        (lambda spec: spec["matchConstraints"]["resourceRules"][0].update(resources=["*", "pods"]),
         "spec.matchConstraints.resourceRules[0].resources: if '*' is present, must not specify other resources "
         "without subresources"),
        (lambda spec: spec["validations"][0].update(reason="Unauthorized"),
         'spec.validations[0].reason: Unsupported value: \'Unauthorized\': supported values: "Forbidden", '
         '"Invalid", "RequestEntityTooLarge"'),
        (lambda spec: spec.update(matchConditions=[{"name": "not a name!", "expression": "true"}]),
         "spec.matchConditions[0].name: Invalid value: 'not a name!': must be a qualified name (letters, digits, "
         "'-', '_', '.')"),
        (lambda spec: spec.update(matchConditions=[{"name": "x" * 64, "expression": "true"}]),
         f"spec.matchConditions[0].name: Invalid value: '{'x' * 64}': must be a qualified name"),
        (lambda spec: spec.update(variables=[{"name": "trailing\n", "expression": "1"}]),
         "spec.variables[0].name: Invalid value: 'trailing\\n': name is not a valid CEL identifier"),
        (lambda spec: spec.update(variables=[{"name": "null", "expression": "1"}]),
         "spec.variables[0].name: Invalid value: 'null': name is not a valid CEL identifier"),
        (lambda spec: spec.update(variables=[{"name": "a", "expression": "variables.b + 1"},
                                             {"name": "b", "expression": "1"}]),
         "undeclared reference to 'variables.b' (declared after it)"),
        (lambda spec: spec.update(auditAnnotations=[{"key": "k", "valueExpression": "object.metadata.name +"}]),
         "spec.auditAnnotations[0].valueExpression: invalid CEL: "),
    ],
)  # fmt: skip
def test_what_the_api_server_refuses_to_store_is_said_and_not_applied(load, change, said):
    broken = copy.deepcopy(policy("broken", [always("broken applied")]))  # DEPLOYMENTS is shared
    change(broken["spec"])
    policy_set = load(broken, binding("broken"), policy("good", [always("still applied")]), binding("good"))
    [problem] = policy_set.problems
    assert problem.policy == "broken" and problem.message.startswith(said)
    assert messages(evaluate(policy_set, deployment())) == [("doc0.yaml", "deny", "still applied")]


def test_a_binding_with_params_must_say_what_happens_when_none_is_found(load):
    policy_set = load(
        policy("p", [always()], paramKind={"apiVersion": "v1", "kind": "ConfigMap"}),
        binding("p", paramRef={"name": "limits"}),
    )
    assert [p.message for p in policy_set.problems] == [
        "spec.paramRef.parameterNotFoundAction: Required value",
        "has no ValidatingAdmissionPolicyBinding, so it applies to nothing (as in Kubernetes)",  # its one was refused
    ]


def test_an_audit_annotation_that_fails_denies_as_the_api_server_does_whatever_the_binding_says(load):
    # The dispatcher puts an audit annotation's error among the denied decisions, not under validationActions.
    failing = [{"key": "replicas", "valueExpression": "string(object.spec.replicas)"}]
    not_a_string = [{"key": "replicas", "valueExpression": "object.spec.replicas"}]
    policy_set = load(
        policy("audited", [always(expression="true")], auditAnnotations=failing),
        binding("audited", actions=["Warn"]),
        policy("ignored", [always(expression="true")], auditAnnotations=failing, failurePolicy="Ignore"),
        binding("ignored", actions=["Warn"]),
        policy("typed", [always(expression="true")], auditAnnotations=not_a_string, failurePolicy="Ignore"),
        binding("typed", actions=["Audit"]),
    )
    assert messages(evaluate(policy_set, deployment(replicas=2), deployment())) == [
        (
            "doc0.yaml",
            "deny",
            "valueExpression 'object.spec.replicas' resulted in unsupported return type: int. Return type must be "
            "either string or null.",
        ),
        ("doc1.yaml", "deny", "expression 'string(object.spec.replicas)' resulted in error: no such key: replicas"),
        # Under Ignore, a value that cannot be computed is left out: "ignored" and "typed" say nothing on doc1.
    ]


def test_expression_errors_follow_the_failure_policy_and_a_non_boolean_is_an_error(load):
    validations = [{"expression": "object.spec.replicas > 1"}, {"expression": "object.metadata.name"}]
    policy_set = load(
        policy("fail", validations),
        binding("fail"),
        policy("ignore", validations, failurePolicy="Ignore"),
        binding("ignore"),
    )
    evaluation = evaluate(policy_set, deployment("web"))
    assert [(r.policy, r.message) for r in evaluation.results] == [
        ("fail", "expression 'object.spec.replicas > 1' resulted in error: no such key: replicas"),
        ("fail", "expression 'object.metadata.name' resulted in error: the value is not a boolean"),
    ]


def test_a_runaway_expression_is_stopped_and_the_other_policies_keep_their_verdicts(load):
    policy_set = load(
        policy(
            "cubic",
            [
                {
                    "expression": "object.spec.items.all(a, object.spec.items.all(b, "
                    "object.spec.items.all(c, a + b + c >= 0)))",
                    "message": "never",
                }
            ],
            match={
                "resourceRules": [
                    {
                        "apiGroups": ["example.com"],
                        "apiVersions": ["v1"],
                        "resources": ["lists"],
                        "operations": ["CREATE"],
                    }
                ]
            },
        ),
        binding("cubic"),
        policy(
            "quick",
            [always("quick verdict")],
            match={
                "resourceRules": [
                    {"apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*"], "operations": ["CREATE"]}
                ]
            },
        ),
        binding("quick"),
        timeout=1.0,
    )
    big = {
        "apiVersion": "example.com/v1",
        "kind": "List",
        "metadata": {"name": "big"},
        "spec": {"items": list(range(3000))},
    }
    started = time.monotonic()
    evaluation = evaluate(policy_set, big, deployment())
    assert time.monotonic() - started < 10
    assert messages(evaluation) == [("doc0.yaml", "deny", "quick verdict"), ("doc1.yaml", "deny", "quick verdict")]
    [problem] = evaluation.problems
    assert problem.policy == "cubic"
    assert problem.message == "evaluation took longer than 1 s on doc0.yaml:1; it is not applied from there on"


def test_variables_of_the_same_name_in_different_policies_keep_their_own_values(load):
    policy_set = load(
        policy(
            "a",
            [{"expression": "variables.x == 1", "messageExpression": "'a sees ' + string(variables.x)"}],
            variables=[{"name": "x", "expression": "object.spec.replicas"}],
        ),
        binding("a"),
        policy(
            "b",
            [{"expression": "variables.x == 1", "messageExpression": "'b sees ' + string(variables.x)"}],
            variables=[{"name": "x", "expression": "object.spec.replicas * 10"}],
        ),
        binding("b"),
        policy(
            "c",
            [{"expression": "variables.x == 1", "messageExpression": "'c sees ' + string(variables.x)"}],
            variables=[{"name": "x", "expression": "object.spec.replicas"}],
        ),
        binding("c"),
        policy(
            "p",
            [{"expression": "variables.x == 1", "messageExpression": "'p sees ' + string(variables.x)"}],
            variables=[{"name": "x", "expression": "int(params.data.n) + object.spec.replicas"}],
            paramKind={"apiVersion": "v1", "kind": "ConfigMap"},
        ),
        configmap("one", "policies", {"n": "100"}, labels={"p": "x"}),
        configmap("two", "policies", {"n": "200"}, labels={"p": "x"}),
        binding(
            "p",
            paramRef={
                "namespace": "policies",
                "selector": {"matchLabels": {"p": "x"}},
                "parameterNotFoundAction": "Deny",
            },
        ),
    )
    evaluation = evaluate(policy_set, deployment(replicas=3), deployment(replicas=4))
    assert [r.message for r in evaluation.results] == [
        "a sees 3",
        "b sees 30",
        "c sees 3",
        "p sees 103",
        "p sees 203",
        "a sees 4",
        "b sees 40",
        "c sees 4",
        "p sees 104",
        "p sees 204",
    ]


@pytest.mark.parametrize(
    ("terms", "said"),
    [
        (100_000, "compiling it stopped idp-tui's policy worker (it crashed)"),
        (
            20_000,
            "evaluation stopped idp-tui's policy worker (it crashed) on doc0.yaml:1; it is not applied from there on",
        ),
    ],
)
def test_a_policy_that_crashes_the_engine_is_reported_and_the_others_apply(load, monkeypatch, terms, said):
    from idp_tui.policy import vap_schema

    # Past idp-tui's length cap the Rust parser's recursion overflows its stack: lift the cap to see that happen.
    monkeypatch.setattr(vap_schema, "MAX_EXPRESSION_LENGTH", 10**7)
    policy_set = load(
        policy("deep", [{"expression": "1" + "+1" * terms + " == 0", "message": "never"}]),
        binding("deep"),
        policy("fine", [always("still applied")]),
        binding("fine"),
    )
    evaluation = evaluate(policy_set, deployment(), deployment("other"))
    assert messages(evaluation) == [("doc0.yaml", "deny", "still applied"), ("doc1.yaml", "deny", "still applied")]
    assert [(p.policy, p.message) for p in evaluation.problems] == [("deep", said)]
