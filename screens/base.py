"""The base of every step screen: built once, ``reset()`` per citizen, ``refresh()`` on entry."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import BooleanProperty
from kivy.uix.screenmanager import Screen


class KioskScreen(Screen):
    """A screen of one step. Subclasses fill ``refresh()`` from the session and ``reset()``."""

    show_back = BooleanProperty(True)
    show_cancel = BooleanProperty(True)

    @property
    def app(self) -> Any:
        return App.get_running_app()

    @property
    def flow(self) -> Any:
        return self.app.flow

    @property
    def session(self) -> Any:
        return self.app.flow.session

    def t(self, msgid: str) -> str:
        return self.app.t(msgid, self.app.lang)

    def on_pre_enter(self, *args: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Show the session's current data."""

    def show_notice(self, notice: Any) -> bool:
        """Show an error answering this screen's own action beside it (True), or leave it to
        the shell's notice bar (False)."""
        return False

    def phase_moved(self, phase: Any) -> None:
        """The session moved this step to another phase (identify, documents)."""

    def reset(self) -> None:
        """Forget the last citizen: clear every input and every shown personal datum."""

    def shutdown(self) -> None:
        """The app stops: cancel whatever this screen scheduled on the clock."""

    def on_lang(self) -> None:
        """The language changed while this screen is shown: re-render generated text."""
        self.refresh()
