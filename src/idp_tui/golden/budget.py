"""Budgets that keep a template from rendering forever or growing without end.

A template is code written by someone else. Every render (one ``${{ }}`` string, one skeleton file, a step's
whole input) gets a time budget and an output budget; all the renders of one step share a larger step budget.
The sandbox checks the clock in every loop iteration, call, operator, filter and printed value, and checks sizes
before it builds a string or a list, so an attack ends in a clear error instead of a hang or an exhausted machine.

Budgets live in context variables: the task runner opens a step budget around each step
(:func:`step_budget`), the template engine opens a render budget around each render (:func:`render_budget`).
An exceeded budget raises :class:`BudgetExceeded` and is also recorded on the step, so the step fails even where
a render error is otherwise tolerated (Backstage keeps a step input string that fails to render as written).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# Seconds one render may take: one expression, one skeleton file, a step's input, ``if``, ``each`` or the output.
RENDER_TIME_BUDGET_S = 2.0
# Seconds all the renders of one step may take together (a skeleton of many files).
STEP_TIME_BUDGET_S = 30.0
# Tests (and impatient operators) lower the render budget with this variable, read by the task runner.
RENDER_TIME_BUDGET_ENV = "IDP_TUI_RENDER_TIME_BUDGET"
# Characters in one string a template builds; big enough for any real skeleton file.
MAX_STRING_LENGTH = 5_000_000
# Characters one render may output (a whole file; all the strings of a step's input together).
MAX_RENDER_OUTPUT = 5_000_000
# Characters all the renders of one step may output together.
MAX_STEP_OUTPUT = 64_000_000
# Items in one list a template builds (split, batch, concat, list).
MAX_LIST_ITEMS = 1_000_000
# Loop iterations in one render, nested loops counted together.
MAX_LOOP_ITERATIONS = 1_000_000
# Times one step may run through ``each``.
MAX_EACH_ITERATIONS = 1_000
# ``${{ }}``, ``{% %}`` and ``{# #}`` tags in one template source: compiling costs ~0.15 ms and ~15 kB a tag.
MAX_TEMPLATE_TAGS = 5_000


class BudgetExceeded(Exception):
    """A render went over one of its budgets; the message says which, and in which step."""


@dataclass
class _Step:
    label: str
    render_seconds: float
    time_left: float = STEP_TIME_BUDGET_S
    chars_left: int = MAX_STEP_OUTPUT
    exceeded: str | None = None


class _Render:
    __slots__ = ("chars_left", "deadline", "loops_left", "time_message")

    def __init__(self, deadline: float, time_message: str, chars_left: int) -> None:
        self.deadline = deadline
        self.time_message = time_message
        self.chars_left = chars_left
        self.loops_left = MAX_LOOP_ITERATIONS


_step: ContextVar[_Step | None] = ContextVar("idp_tui_step_budget", default=None)
_render: ContextVar[_Render | None] = ContextVar("idp_tui_render_budget", default=None)


@contextmanager
def step_budget(label: str, *, render_seconds: float = RENDER_TIME_BUDGET_S) -> Iterator[None]:
    """Share one step budget between the renders inside (``label``: "step fetch", "the template's output").

    Args:
        label: how messages name where the budget was exceeded.
        render_seconds: the time budget of each render in the step.
    """
    token = _step.set(_Step(label, render_seconds))
    try:
        yield
    finally:
        _step.reset(token)


def step_exceeded() -> str | None:
    """The message of a budget the current step went over, even if the render error was tolerated."""
    step = _step.get()
    return step.exceeded if step is not None else None


@contextmanager
def render_budget() -> Iterator[None]:
    """One render's budget; a render inside another (each string of a step input) shares the outer one."""
    if _render.get() is not None:
        yield
        return
    step = _step.get()
    seconds = step.render_seconds if step is not None else RENDER_TIME_BUDGET_S
    message = f"the time budget of {seconds:g} s"
    chars = MAX_RENDER_OUTPUT
    if step is not None:
        if step.time_left < seconds:
            seconds, message = max(step.time_left, 0.0), f"the step's time budget of {STEP_TIME_BUDGET_S:g} s"
        chars = min(chars, step.chars_left)
    started = time.monotonic()
    budget = _Render(started + seconds, message, chars)
    token = _render.set(budget)
    try:
        yield
    finally:
        _render.reset(token)
        if step is not None:
            step.time_left -= time.monotonic() - started
            step.chars_left -= chars - budget.chars_left


def tick() -> None:
    """Raise :class:`BudgetExceeded` when the current render is out of time (called in every loop, call, filter)."""
    budget = _render.get()
    if budget is not None and time.monotonic() > budget.deadline:
        exceeded(f"rendering exceeded {budget.time_message}")


def count_loop() -> None:
    """One more loop iteration of the current render."""
    budget = _render.get()
    if budget is None:
        return
    budget.loops_left -= 1
    if budget.loops_left < 0:
        exceeded(f"rendering exceeded the budget of {MAX_LOOP_ITERATIONS:,} loop iterations")
    if time.monotonic() > budget.deadline:
        exceeded(f"rendering exceeded {budget.time_message}")


def output_allowance() -> int:
    """Characters the current render may still output."""
    budget = _render.get()
    return budget.chars_left if budget is not None else MAX_RENDER_OUTPUT


def charge_output(chars: int) -> None:
    """Count ``chars`` of output against the current render (and through it, its step)."""
    budget = _render.get()
    if budget is None:
        if chars > MAX_RENDER_OUTPUT:
            output_exceeded()
        return
    budget.chars_left -= chars
    if budget.chars_left < 0:
        output_exceeded()


def output_exceeded() -> None:
    """Raise :class:`BudgetExceeded` for output past the current render's (or its step's) allowance."""
    step = _step.get()
    limit = MAX_RENDER_OUTPUT if step is None or step.chars_left >= MAX_RENDER_OUTPUT else MAX_STEP_OUTPUT
    exceeded(f"rendering exceeded the output budget of {limit:,} characters")


def check_length(length: int) -> None:
    """Refuse to build a string of ``length`` characters when that is over :data:`MAX_STRING_LENGTH`."""
    if length > MAX_STRING_LENGTH:
        exceeded(f"a template string would grow beyond {MAX_STRING_LENGTH:,} characters")


def check_items(count: int) -> None:
    """Refuse to build a list of ``count`` items when that is over :data:`MAX_LIST_ITEMS`."""
    if count > MAX_LIST_ITEMS:
        exceeded(f"a template list would grow beyond {MAX_LIST_ITEMS:,} items")


def check_tags(source: str, start: str) -> None:
    """Refuse to compile a template source with more than :data:`MAX_TEMPLATE_TAGS` tags."""
    if len(source) < MAX_TEMPLATE_TAGS * 2:
        return
    tags = source.count(start) + source.count("{%") + source.count("{#")
    if tags > MAX_TEMPLATE_TAGS:
        exceeded(f"a template of {tags:,} tags is over the budget of {MAX_TEMPLATE_TAGS:,} tags")


def exceeded(message: str) -> None:
    """Raise :class:`BudgetExceeded` for ``message``, naming the step, and record it on the step."""
    step = _step.get()
    if step is not None:
        message = f"{message} in {step.label}"
        if step.exceeded is None:
            step.exceeded = message
    raise BudgetExceeded(message)
