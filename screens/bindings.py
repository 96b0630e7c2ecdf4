"""The app's key bindings as ``keymap.yaml`` sees them: where each is active, and which keys Textual can bind.

``idp_tui.keymap`` reads and checks the file without Textual; this module hands it the two things only the UI
knows: every place with the bindings active in it (:func:`scopes_of`, from the app's screens, modals and
widgets) and the parser of a key in Textual's names (:func:`parse_keys`).
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from textual.app import App
from textual.keys import Keys, _character_to_key, key_to_character
from textual.screen import ModalScreen, Screen
from textual.widget import Widget

from idp_tui.keymap import BoundKey, KeymapResult, Scope, did_you_mean, read_keymap
from idp_tui.keymap import check_keymap as check_keymap_with
from idp_tui.quoting import quoted

MODIFIERS = ("ctrl", "alt", "shift", "meta", "super", "hyper")
# Screens and widgets whose BINDINGS the keymap may name; the app's own bindings are added to every full screen.
BINDING_PACKAGES = ("idp_tui.screens", "idp_tui.widgets")


def scopes_of(app_class: type[App]) -> list[Scope]:
    """Every screen, modal and widget of the app with the bindings active in it (imports their modules).

    Args:
        app_class: the app, whose own bindings apply on every full screen (``IdpApp``: see
            ``idp_tui.app.binding_scopes``).
    """
    app_bindings = _bound_keys(app_class)
    scopes = [Scope("everywhere", app_bindings)]
    for cls in _classes_with_bindings(Widget):
        own = _bound_keys(cls)
        if issubclass(cls, ModalScreen):
            scopes.append(Scope(cls.__name__, own))  # a modal stops the app's keys
        elif issubclass(cls, Screen):
            scopes.append(Scope(cls.__name__, own + app_bindings))
        else:
            scopes.append(Scope(cls.__name__, own))
    return scopes


def load_user_keymap(path: Path, scopes: list[Scope]) -> KeymapResult:
    """The keymap file checked against ``scopes`` and Textual's key names; a missing file is an empty keymap."""
    return read_keymap(path, scopes, parse_keys)


def check_keymap(text: str, path: Path | str, scopes: list[Scope]) -> KeymapResult:
    """A keymap's text checked against ``scopes`` and Textual's key names (see :func:`idp_tui.keymap.check_keymap`)."""
    return check_keymap_with(text, path, scopes, parse_keys)


def parse_keys(value: str | None) -> tuple[tuple[str, ...], str | None]:
    """Comma-separated keys in Textual's names (``?`` becomes ``question_mark``), or why they cannot be bound."""
    if not value or not value.strip():
        return (), 'must be a key or comma-separated keys, e.g. "ctrl+f" or "shift+r,ctrl+r"'
    keys: list[str] = []
    for raw in value.split(","):
        key = raw.strip()
        key = _character_to_key(key) if len(key) == 1 else key
        problem = _key_problem(key)
        if problem:
            return (), problem
        if key not in keys:
            keys.append(key)
    return tuple(keys), None


def _key_problem(key: str) -> str | None:
    *modifiers, base = key.split("+")
    names = _named_keys()
    character = len(base) == 1 and base.isprintable()
    fine_base = bool(base) and (character or base in names or bool(key_to_character(base)))
    if fine_base and all(modifier in MODIFIERS for modifier in modifiers) and len(set(modifiers)) == len(modifiers):
        return None
    shown = quoted(key) if key else "an empty key"
    hint = did_you_mean(key, [*names, *(f"{m}+{n}" for m in MODIFIERS[:3] for n in names)])
    return f"{shown} is not a key Textual can bind{hint}"


def _named_keys() -> set[str]:
    """The key names terminals report (``enter``, ``f5``, ``pageup``...), without their modifiers."""
    return {key.value.rpartition("+")[2] for key in Keys} | {"enter", "space", "backspace", "tab"}


def _bound_keys(cls: type) -> tuple[BoundKey, ...]:
    """A class's bindings (its own and inherited, as Textual merges them), one per id or action."""
    merged: dict[tuple[str | None, str], list[str]] = {}
    descriptions: dict[tuple[str | None, str], str] = {}
    for key, bindings in cls._merged_bindings.key_to_bindings.items():
        for binding in bindings:
            keys = merged.setdefault((binding.id, binding.action), [])
            descriptions.setdefault((binding.id, binding.action), binding.description)
            if key not in keys:
                keys.append(key)
    return tuple(
        BoundKey(binding_id, action, tuple(keys), descriptions[binding_id, action])
        for (binding_id, action), keys in merged.items()
    )


def _classes_with_bindings(base: type) -> list[type]:
    """Classes defined in the screen and widget packages that declare BINDINGS, in a stable order."""
    found: dict[str, type] = {}
    for package_name in BINDING_PACKAGES:
        package = importlib.import_module(package_name)
        for module_info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package_name}.{module_info.name}")
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, base)
                    and value.__module__ == module.__name__
                    and any("BINDINGS" in vars(cls) for cls in value.__mro__ if cls.__module__.startswith("idp_tui"))
                ):
                    found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]
