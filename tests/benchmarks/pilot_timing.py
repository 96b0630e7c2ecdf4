"""Time one keystroke in the TUI under the Pilot: from the key to the moment a screen says it is complete."""

from __future__ import annotations

import time
from collections.abc import Callable


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


async def highlight_entity(app, pilot, entity_key: str) -> None:
    """Wait until the home list holds the whole catalog, then put its cursor on ``entity_key``."""
    while app.catalog is None:
        await pilot.pause(0.02)
    listing = app.screen.query_one("#entities")
    while not listing.entities or len(listing.entities) < len(app.catalog):
        await pilot.pause(0.02)
    listing.move_to([entity.key for entity in listing.entities].index(entity_key))
