"""Time one keystroke in the TUI under the Pilot: from the key to the moment a screen says it is complete.

Two measures. ``time_key_on_entity`` presses with ``pilot.press``, which returns only once the process has been idle
for a while: each press waits at least two 20 ms sleeps of Textual's ``wait_for_idle``, and every thread still
working (a watch stream opening) holds it longer, so it is what a test sees, not what a person sees.
``time_key_to_frame`` sends the key as the terminal driver does and stops at the first frame the screen renders
once it is complete: what a person sees.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual import events


async def time_key_on_entity(app, key: str, done: Callable[[object], bool], entity_key: str) -> float:
    """Seconds from pressing ``key`` with ``entity_key`` highlighted on the home list until ``done(app.screen)``."""
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight_entity(app, pilot, entity_key)
        await pilot.pause()
        started = time.perf_counter()
        await pilot.press(key)
        while not done(app.screen):
            await pilot.pause(0.002)
        await pilot.pause()
        return time.perf_counter() - started


async def time_key_to_frame(app, key: str, done: Callable[[object], bool], entity_key: str) -> float:
    """Seconds from sending ``key`` (``entity_key`` highlighted) to the first frame rendered once ``done(app.screen)``.

    The frame is the compositor's update that the app hands to the terminal driver (``App._display``), taken as it
    is sent, so the figure includes laying out and rendering the complete screen.
    """
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight_entity(app, pilot, entity_key)
        await pilot.pause()
        painted: list[float] = []
        display = app._display

        def recording(screen, renderable) -> None:
            display(screen, renderable)
            if renderable is not None and not painted and done(app.screen):
                painted.append(time.perf_counter())

        app._display = recording
        started = time.perf_counter()
        app._driver.send_message(events.Key(key, key if len(key) == 1 else None))
        while not painted:
            await asyncio.sleep(0.001)
        app._display = display
        return painted[0] - started


async def highlight_entity(app, pilot, entity_key: str) -> None:
    """Wait until the home list holds the whole catalog, then put its cursor on ``entity_key``."""
    while app.catalog is None:
        await pilot.pause(0.02)
    listing = app.screen.query_one("#entities")
    while not listing.entities or len(listing.entities) < len(app.catalog):
        await pilot.pause(0.02)
    listing.move_to([entity.key for entity in listing.entities].index(entity_key))
