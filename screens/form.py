"""Form screen: any declaration form of the catalog, one field per row, split into pages, with
the on-screen Vietnamese keyboard and the help of the field being typed.

The screen keeps the whole form's draft while the citizen moves between pages; "Next page"
checks the fields of the page shown and moves on only when they are right, the last page's
"Continue" hands the whole draft to the flow. Problems are shown under their fields (a group's
cells and an address's parts included) and the page scrolls to the first one.

Rows are built once per form and kept, so a citizen who returns to a procedure reuses them.
"""

from __future__ import annotations

import re
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.textinput import TextInput

from kiosk.forms.spec import FormField, FormSpec, Kind
from screens.base import KioskScreen
from screens.form_rows import BaseRow, make_row
from screens.keyboard import VietnameseKeyboard  # noqa: F401  (used by form.kv)
from screens.scrolling import reveal

MSG_PAGE = "Page {n} of {total}"


class FormScreen(KioskScreen):
    """The declaration form (tờ khai) of the chosen procedure."""

    title = StringProperty("")  # the official form's title (tờ khai …)
    procedure = StringProperty("")  # the procedure the citizen chose
    page = NumericProperty(0)
    page_count = NumericProperty(1)
    page_label = StringProperty("")
    last_page = BooleanProperty(True)
    typing = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows_by_form: dict[str, dict[str, BaseRow]] = {}
        self._rows: dict[str, BaseRow] = {}
        self._form: FormSpec | None = None
        self._pages: list[list[FormField]] = []
        self._draft: dict[str, Any] = {}
        self._sources: dict[str, str] = {}
        self._locked: set[str] = set()
        self._focused: TextInput | None = None

    # --- showing ---------------------------------------------------------------------------

    def refresh(self) -> None:
        proc = self.flow.dossier.current_procedure()
        if proc is None:
            return
        form = self.flow.dossier.form()
        if form is not self._form:
            self._form = form
            self._pages = form.pages()
            prefill = self.flow.dossier.form_prefill()
            self._draft = dict(prefill.values)
            self._sources = dict(prefill.sources)
            self._locked = set(prefill.locked)
            self.page = 0
            self._rows = self._rows_for(proc.code, form)
        else:
            self._save_page()
        self.title = form.title(self.app.lang)
        self.procedure = proc.title(self.app.lang)
        self._show_page()

    def _rows_for(self, code: str, form: FormSpec) -> dict[str, BaseRow]:
        rows = self._rows_by_form.get(code)
        if rows is None or set(rows) != {f.name for f in form.fields}:
            rows = {}
            for f in form.fields:
                row = make_row(f)
                row.bind(on_input_focus=self._input_focused)
                rows[f.name] = row
            self._rows_by_form[code] = rows
        return rows

    def _show_page(self) -> None:
        lang = self.app.lang
        box = self.ids.fields
        box.clear_widgets()
        self.page_count = max(1, len(self._pages))
        self.page = min(self.page, self.page_count - 1)
        self.last_page = self.page == self.page_count - 1
        self.page_label = self.t(MSG_PAGE).format(n=self.page + 1, total=self.page_count)
        for f in self._pages[self.page] if self._pages else []:
            row = self._rows[f.name]
            locked = f.name in self._locked
            row.load(f, lang, self._draft.get(f.name), self._sources.get(f.name), locked, self.t)
            box.add_widget(row)
        self.hide_keyboard()
        self.ids.scroll.scroll_y = 1

    def page_rows(self) -> list[BaseRow]:
        """The rows of the page shown."""
        if not self._pages:
            return []
        return [self._rows[f.name] for f in self._pages[self.page]]

    def _save_page(self) -> None:
        for row in self.page_rows():
            if row.field is not None:
                self._draft[row.field.name] = row.draft()

    # --- moving ----------------------------------------------------------------------------

    def submit(self) -> None:
        self._save_page()
        if not self.last_page:
            problems = self._check(only_page=True)
            if not problems:
                self.page += 1
                self._show_page()
            return
        problems = self.flow.dossier.submit_form(dict(self._draft))
        if problems:
            first_page = self._first_page_with(problems)
            if first_page != self.page:
                self.page = first_page
                self._show_page()
            self._show_problems(problems)

    def previous_page(self) -> None:
        if self.page > 0:
            self._save_page()
            self.page -= 1
            self._show_page()

    def _check(self, only_page: bool) -> dict[str, Any]:
        assert self._form is not None
        locked = self.flow.dossier.form_prefill().locked
        _, problems = self._form.convert_and_validate(self._draft, locked=locked)
        if only_page:
            names = {f.name for f in self._pages[self.page]}
            problems = {k: v for k, v in problems.items() if _head(k) in names}
        self._show_problems(problems)
        if problems:
            self.session.touch()
        return problems

    def _first_page_with(self, problems: dict[str, Any]) -> int:
        heads = {_head(k) for k in problems}
        for i, page in enumerate(self._pages):
            if any(f.name in heads for f in page):
                return i
        return self.page

    def _show_problems(self, problems: dict[str, Any]) -> None:
        texts = {k: p.text(self.t) for k, p in problems.items()}
        first: BaseRow | None = None
        for row in self.page_rows():
            row.show_problems(texts)
            has = row.field is not None and any(_head(k) == row.field.name for k in texts)
            if has and first is None:
                first = row
        if first is not None:
            self.hide_keyboard()
            reveal(self.ids.scroll, first)

    # --- the keyboard ----------------------------------------------------------------------

    def _input_focused(self, row: BaseRow, text_input: TextInput, field: FormField) -> None:
        if text_input.readonly:
            self.hide_keyboard()
            return
        self._focused = text_input
        keyboard = self.ids.keyboard
        keyboard.mode = field.keyboard
        keyboard.autocap = _autocap(field)
        keyboard.target = text_input
        self.typing = True
        # once the keyboard has taken its room, bring the field above it with its title and
        # help (the row) when they fit, the input itself in any case
        Clock.schedule_once(lambda dt: self._reveal(row, text_input), 0)

    def _reveal(self, row: BaseRow, text_input: TextInput) -> None:
        if self._focused is text_input and text_input.parent is not None:
            if row.height < self.ids.scroll.height:
                reveal(self.ids.scroll, row, padding=12)
            reveal(self.ids.scroll, text_input, padding=40)

    def next_input(self) -> None:
        """The keyboard's Enter: on to the next empty-or-not input of the page, else hide."""
        inputs = [ti for row in self.page_rows() for ti in row.text_inputs() if not ti.readonly]
        if self._focused in inputs:
            i = inputs.index(self._focused)
            if i + 1 < len(inputs):
                inputs[i + 1].focus = True
                return
        self.hide_keyboard()

    def hide_keyboard(self) -> None:
        if self._focused is not None:
            self._focused.focus = False
        self._focused = None
        self.typing = False
        if "keyboard" in self.ids:
            self.ids.keyboard.target = None

    # --- lifecycle -------------------------------------------------------------------------

    def on_lang(self) -> None:
        if self._form is None:
            return
        self._save_page()
        self._show_page()
        self.title = self._form.title(self.app.lang)
        proc = self.flow.dossier.current_procedure()
        self.procedure = proc.title(self.app.lang) if proc else ""

    def reset(self) -> None:
        self.hide_keyboard()
        for rows in self._rows_by_form.values():
            for row in rows.values():
                row.clear()
        self.ids.fields.clear_widgets()
        self._form = None
        self._pages = []
        self._draft = {}
        self._sources = {}
        self._locked = set()
        self.title = self.procedure = ""
        self.page = 0


def _head(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def _autocap(field: FormField) -> str:
    """Capitals the keyboard offers by itself: every word of a person's name, the first
    letter of other text, none in numbers, codes and e-mail addresses."""
    if field.kind not in (Kind.TEXT, Kind.MULTILINE) or field.pattern:
        return "none"  # numbers, codes, domain names, e-mail: no capitals of its own
    if field.prefill == "identity.full_name" or field.name.startswith(("ho_ten", "nguoi_")):
        return "words"
    return "sentences"
