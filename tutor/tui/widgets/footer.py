"""Textual's Footer, rebuilt only when the keys it shows have changed, at most once per frame, and
showing only the keys whose labels fit whole (q, ? and t first and always)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.events import Resize
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
    letter past the palette hint: here a key is shown with its whole label or not at all.
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
        """What the footer would draw: each binding's key, label, action, whether it applies (hidden ones
        too: the palette hint is one), and the width. The key's display depends on the binding alone."""
        return (
            self.app.size.width,
            *(
                (binding.key, binding.key_display, binding.description, binding.action, enabled, tooltip)
                for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values()
            ),
        )

    def _width_of(self, binding: Binding) -> int:
        """Cells a key takes: ` key label ` (compact: `key label` and a one-cell gap)."""
        return len(self.app.get_key_display(binding)) + len(binding.description) + (2 if self.compact else 3)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        active = self.screen.active_bindings
        by_action: dict[str, tuple[Binding, bool, str]] = {}
        for _node, binding, enabled, tooltip in active.values():
            if binding.show:
                by_action.setdefault(binding.action, (binding, enabled, tooltip))
        first = {action: order for order, action in enumerate(FIRST_ACTIONS)}
        keys = sorted(by_action.values(), key=lambda key: first.get(key[0].action, len(first)))  # stable: the rest in order
        palette = active.get(self.app.COMMAND_PALETTE_BINDING) if self.show_command_palette else None
        room = self.app.size.width - (self._width_of(palette[1]) + 1 if palette is not None else 0)
        for binding, enabled, tooltip in keys:
            width = self._width_of(binding)
            if width > room and binding.action not in FIRST_ACTIONS:
                continue  # whole or not at all; a shorter one further on may still fit
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
