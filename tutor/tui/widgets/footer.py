"""Textual's Footer, rebuilt only when the keys it shows have changed, at most once per frame."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen

KeySignature = tuple[tuple[str, str | None, str, str, bool, str], ...]


class KeyFooter(Footer):
    """The same look and behaviour as Textual's Footer (greyed keys, the palette hint, click to run).

    Textual's Footer recomposes once per bindings signal; at start-up the signal fires five times
    (focus set, screens stacked) and each rebuild cost 17-25 ms before the first frame. Here the
    signals of one frame share one rebuild, and a rebuild that would show the same keys is skipped.
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
        too: the palette hint is one). The key's display depends on the binding alone: not looked up here."""
        return tuple(
            (binding.key, binding.key_display, binding.description, binding.action, enabled, tooltip)
            for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values()
        )
