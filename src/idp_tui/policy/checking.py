"""Compiling a loaded policy set in the evaluation worker, and leaving out what does not compile.

The worker reports each broken module or policy (with its line) and drops it. A policy that makes the compiler
itself crash or hang (a 20,000-term CEL sum overflows the Rust parser's stack) takes the worker down; then each
module and policy is compiled alone, with a shorter deadline, to find it, and the set is compiled again without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from .models import PolicyProblem, PolicyRuntime, PolicySet
from .runtime import Runner, WorkerFailed, WorkerProcess, setup_request

ALONE_TIMEOUT = 15.0


def _answer_problems(answer: dict) -> tuple[PolicyProblem, ...]:
    return tuple(PolicyProblem(file, line, policy, message) for file, line, policy, message in answer["problems"])


def _compiles_alone(policy_set: PolicySet) -> str:
    """ "" when the set compiles in a worker of its own, else why not."""
    try:
        WorkerProcess(setup_request(policy_set), setup_timeout=ALONE_TIMEOUT).close()
    except WorkerFailed as failure:
        return f"compiling it {failure.words(ALONE_TIMEOUT)}"
    return ""


def _find_crashing(policy_set: PolicySet) -> PolicySet:
    """The set without each module and policy that cannot be compiled even alone."""
    bad_modules: list[str] = []
    bad_policies: list[str] = []
    problems: list[PolicyProblem] = []
    for module in policy_set.rego_modules:
        alone = replace(policy_set, rego_modules=(module,), policies=(), bindings=())
        why = _compiles_alone(alone)
        if why:
            bad_modules.append(module.file)
            problems.append(PolicyProblem(module.file, 1, module.package, why))
    for policy in policy_set.policies:
        alone = replace(
            policy_set,
            rego_modules=(),
            policies=(policy,),
            bindings=tuple(
                b for b in policy_set.bindings if (b.data.get("spec") or {}).get("policyName") == policy.name
            ),
        )
        why = _compiles_alone(alone)
        if why:
            bad_policies.append(policy.name)
            problems.append(PolicyProblem(policy.file, policy.line, policy.name, why))
    return without(policy_set, modules=bad_modules, policies=bad_policies, problems=problems)


def _find_crashing_together(policy_set: PolicySet) -> PolicySet:
    """The set without each module that stops the worker once added to the modules before it (rego-cpp crashes on
    some pairs of modules that each compile alone): every other module still applies."""
    kept: list = []
    bad_modules: list[str] = []
    problems: list[PolicyProblem] = []
    for module in policy_set.rego_modules:
        trial = replace(policy_set, rego_modules=(*kept, module), policies=(), bindings=())
        why = _compiles_alone(trial) if kept else ""
        if why:
            bad_modules.append(module.file)
            problems.append(
                PolicyProblem(module.file, 1, module.package, f"{why}, together with the modules before it")
            )
        else:
            kept.append(module)
    return without(policy_set, modules=bad_modules, problems=problems)


def compile_policy_set(policy_set: PolicySet) -> PolicySet:
    """The policy set as it compiles, its worker kept for the evaluations that follow."""
    runner = Runner(policy_set)
    # What stops the worker is looked for ever more closely: each module and policy alone, then each module added
    # to the ones before it; only when even that fails is nothing applied.
    for isolate in (_find_crashing, _find_crashing_together, None):
        try:
            runner.ensure()
            break
        except WorkerFailed:
            if isolate is None:
                problems = [
                    PolicyProblem(source, 1, "", "the policies could not be compiled together; none is applied")
                    for source in policy_set.sources
                ]
                return without(
                    policy_set,
                    modules=[module.file for module in policy_set.rego_modules],
                    policies=[policy.name for policy in policy_set.policies],
                    problems=problems,
                )
            policy_set = isolate(policy_set)
            runner = Runner(policy_set)
    answer = runner.setup_answer
    checked = without(
        policy_set,
        modules=answer["dropped_modules"],
        policies=answer["dropped_policies"],
        problems=_answer_problems(answer),
    )
    # The worker already dropped what it reported: it is exactly the checked set's worker, and it reads the task
    # queue it was started with.
    runner.policy_set = checked
    checked.runtime.worker = runner
    checked.runtime.task_queue, policy_set.runtime.task_queue = policy_set.runtime.task_queue, None
    return checked


def without(
    policy_set: PolicySet, *, modules: Iterable[str] = (), policies: Iterable[str] = (), problems=()
) -> PolicySet:
    """The policy set without some modules (by file) and policies (by name), with more problems."""
    modules, policies = set(modules), set(policies)
    return replace(
        policy_set,
        runtime=PolicyRuntime(),
        rego_modules=tuple(module for module in policy_set.rego_modules if module.file not in modules),
        policies=tuple(policy for policy in policy_set.policies if policy.name not in policies),
        bindings=tuple(
            binding
            for binding in policy_set.bindings
            if (binding.data.get("spec") or {}).get("policyName") not in policies
        ),
        problems=(*policy_set.problems, *problems),
    )
