"""Keys typed ahead, held while the focus moves: an App mixin.

Over SSH a fast typist's keys often arrive in one read ("/set⏎↓d"). The app forwards each to the widget focused
when it arrives, so keys after Enter would reach the search box before Enter has moved the focus. A screen that
moves the focus because of a key holds the keys after it (:meth:`KeyHold.hold_keys`) and delivers them, in order,
once the focus has moved (:meth:`KeyHold.release_keys`).
"""

from __future__ import annotations

from textual import events
from textual.app import App
from textual.timer import Timer


class KeyHold(App):
    """An App mixin: keys typed while a screen moves the focus wait until it has moved (``IdpApp`` uses it)."""

    _held_keys: list[events.Key] | None = None
    _hold_timer: Timer | None = None

    def hold_keys(self, longest: float = 5.0) -> None:
        """Keep the keys that arrive from now until :meth:`release_keys` (or ``longest`` seconds), then deliver
        them in order: for a key that moves the focus only after the keys queued before it are handled."""
        if self._held_keys is None:
            self._held_keys = []
            self._hold_timer = self.set_timer(longest, self.release_keys)

    def release_keys(self) -> None:
        held, self._held_keys = self._held_keys or [], None
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        for key in held:
            # Sent as the app (as the driver's keys are): a key from a screen would stop bubbling at that screen
            # and never reach the app's bindings.
            self.post_message(events.Key(key.key, key.character).set_sender(self))

    async def on_event(self, event: events.Event) -> None:
        if self._held_keys is not None and isinstance(event, events.Key) and not event.is_forwarded:
            self._held_keys.append(event)
            return
        await super().on_event(event)
