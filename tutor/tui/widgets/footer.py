"""Textual's Footer, rebuilt only when the keys it shows have changed, at most once per frame, and
showing only the keys whose labels fit whole (q, ? and t first and always, greyed where a box types them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.events import Resize
from textual.keys import key_to_character
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.binding import Binding
    from textual.screen import Screen

KeySignature = tuple[object, ...]
# Shown first, whatever the width: quit, help, the lesson's text/steps layout, its tour's next stop and the share
# code (teachers ask for it).
FIRST_ACTIONS = ("quit", "help", "cycle_layout", "next_stop", "share")


class KeyFooter(Footer):
    """The same look and behaviour as Textual's Footer (greyed keys, the palette hint, click to run).

    Textual's Footer recomposes once per bindings signal; at start-up the signal fires five times
    (focus set, screens stacked) and each rebuild cost 17-25 ms before the first frame. Here the
    signals of one frame share one rebuild, and a rebuild that would show the same keys is skipped.
    Textual's Footer also cuts the last label that does not fit mid-word (`g Jum`) and leaves a stray
    letter past the palette hint: here a key is shown with its whole label or not at all. And where a
    focused box types a key (a check's choice holds a t), Textual leaves that key out: here it is greyed.
    """

    _rebuild_pending = False
    _shown: KeySignature | None = None

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    def on_resize(self, event: Resize) -> None:
        if self._bindings_ready and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return
        shown = self._key_signature()
        if shown != self._shown:
            self._shown = shown
            await self.recompose()

    def _key_signature(self) -> KeySignature:
        """What the footer would draw: each key, label, action, whether it applies, and the width."""
        return (
            self.app.size.width,
            *(
                (binding.key, binding.key_display, binding.description, binding.action, enabled, tooltip)
                for binding, enabled, tooltip in self._keys()
            ),
        )

    def _keys(self) -> list[tuple[Binding, bool, str]]:
        """Each shown action's binding, whether it applies now and its tooltip, q ? t and the share key first."""
        by_action: dict[str, tuple[Binding, bool, str]] = {}
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show:
                by_action.setdefault(binding.action, (binding, enabled, tooltip))
        for binding in self._typed_here():
            by_action.setdefault(binding.action, (binding, False, f"{binding.key_display or binding.key} types into the box"))
        first = {action: order for order, action in enumerate(FIRST_ACTIONS)}
        return sorted(by_action.values(), key=lambda key: first.get(key[0].action, len(first)))  # stable: the rest in order

    def _typed_here(self) -> list[Binding]:
        """The first keys (q ? t ...) that the focused widget types (it consumes them) and that would apply."""
        focused = self.screen.focused
        if focused is None:
            return []
        typed = []
        for node in focused.ancestors_with_self:
            for key, binding in node._bindings:
                if binding.show and binding.action in FIRST_ACTIONS and focused.check_consume_key(key, key_to_character(key)):
                    if self.app._check_action_state(binding.action, node) is not False:
                        typed.append(binding)
        return typed

    def _width_of(self, binding: Binding) -> int:
        """Cells a key takes: ` key label ` (compact: `key label` and a one-cell gap)."""
        return len(self.app.get_key_display(binding)) + len(binding.description) + (2 if self.compact else 3)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        palette = active.get(self.app.COMMAND_PALETTE_BINDING) if self.show_command_palette else None
        room = self.app.size.width - (self._width_of(palette[1]) + 1 if palette is not None else 0)
        full = False
        for binding, enabled, tooltip in self._keys():
            width = self._width_of(binding)
            if binding.action not in FIRST_ACTIONS and (full or width > room):
                # Whole or not at all, and in order: once a key does not fit, none after it is shown
                # ("+ Faster" without "r Run/pause" before it read as if run mode were gone).
                full = True
                continue
            room -= width
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        if palette is not None and self.app.ENABLE_COMMAND_PALETTE:
            _node, binding, enabled, tooltip = palette
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                classes="-command-palette",
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
            )
