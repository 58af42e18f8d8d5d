"""Form screen: renders the chosen procedure's declaration form, one field per row.

Rows are pooled: a form with fewer fields hides the extra rows instead of destroying them, so
the widget tree is built once (Kivy leaks when widgets are re-created for every citizen).
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from screens.base import KioskScreen
from screens.widgets import KButton


class FieldRow(BoxLayout):
    """One field: title, help, the input (text, choice buttons or yes/no) and its error."""

    field = ObjectProperty(None, allownone=True)
    kind = StringProperty("text")
    title = StringProperty("")
    help = StringProperty("")
    error = StringProperty("")
    prefilled = BooleanProperty(False)
    value = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._choice_buttons: list[KButton] = []

    def show(self, field: Any, lang: str, text: str, prefilled: bool, t: Any) -> None:
        self.field = field
        self.kind = field.kind
        self.title = field.title(lang) + (" *" if field.required else "")
        self.help = field.help(lang)
        self.prefilled = prefilled
        self.error = ""
        self.ids.input.text = text if field.kind in ("text", "multiline", "number", "date") else ""
        self.ids.input.hint_text = t("dd/mm/yyyy") if field.kind == "date" else ""
        self.ids.input.input_filter = "int" if field.kind == "number" else None
        self.value = None
        box = self.ids.choices
        options: list[tuple[Any, str]] = []
        if field.kind == "choice":
            options = [(c.value, c.title(lang)) for c in field.choices]
            self.value = next((c.value for c in field.choices if str(c.value) == text), None)
        elif field.kind == "yesno":
            options = [(True, t("Yes")), (False, t("No"))]
            self.value = bool(text)
        while len(self._choice_buttons) < len(options):
            button = KButton()
            button.bind(on_release=self._chosen)
            self._choice_buttons.append(button)
        box.clear_widgets()
        for button, (value, label) in zip(self._choice_buttons, options, strict=False):
            button.text = label
            button.choice_value = value
            button.selected = value == self.value
            box.add_widget(button)

    def _chosen(self, button: KButton) -> None:
        self.value = button.choice_value
        for b in self._choice_buttons:
            b.selected = b is button
        self.error = ""

    def typed(self) -> Any:
        if self.kind in ("choice", "yesno"):
            return self.value
        return self.ids.input.text

    def clear(self) -> None:
        self.field = None
        self.ids.input.text = ""
        self.value = None
        self.error = ""
        self.ids.choices.clear_widgets()


class FormScreen(KioskScreen):
    """The declaration form (tờ khai) of the chosen procedure."""

    title = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows: list[FieldRow] = []

    def refresh(self) -> None:
        lang = self.app.lang
        proc = self.flow.current_procedure()
        if proc is None:
            return
        self.title = proc.title(lang)
        form = self.flow.form()
        values = self.flow.form_values()
        earlier = self.session.data.answers
        # Keep what is already typed on screen when only the language changes.
        on_screen = {r.field.name: r.typed() for r in self._rows if r.field is not None}
        box = self.ids.fields
        while len(self._rows) < len(form.fields):
            self._rows.append(FieldRow())
        box.clear_widgets()
        for row, field in zip(self._rows, form.fields, strict=False):
            current = on_screen.get(field.name)
            text = values.get(field.name, "")
            if current not in (None, ""):
                text = "1" if current is True else ("" if current is False else str(current))
            prefilled = field.name in values and field.name not in earlier
            row.show(field, lang, text, prefilled and bool(field.prefill), self.t)
            box.add_widget(row)
        for row in self._rows[len(form.fields) :]:
            row.clear()

    def submit(self) -> None:
        typed = {r.field.name: r.typed() for r in self._rows if r.field is not None}
        errors = self.flow.submit_form(typed)
        for row in self._rows:
            if row.field is not None:
                msgid = errors.get(row.field.name)
                row.error = self.t(msgid) if msgid else ""
        if errors:
            first = next(r for r in self._rows if r.field is not None and r.error)
            self.ids.scroll.scroll_to(first)

    def on_lang(self) -> None:
        self.refresh()

    def reset(self) -> None:
        for row in self._rows:
            row.clear()
        self.ids.fields.clear_widgets()
        self.title = ""
