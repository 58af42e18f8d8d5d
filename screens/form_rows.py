"""The rows of the form screen, one per field kind: typed text, choices, an address, a group.

Every row shows the field's title, its help, where a prefilled value came from, and its
problem; ``load()`` puts a draft value in, ``draft()`` gives it back, ``show_problems()`` takes
the messages of the paths under the row's field. A row that holds text inputs dispatches
``on_input_focus(text_input, field)`` when one of them gets the focus, so the screen can bring
the on-screen keyboard and the field's help.

Rows are built once per form and kept (Kivy leaks widgets re-created for every citizen);
``clear()`` empties them between citizens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.textinput import TextInput

from kiosk.forms import addresses
from kiosk.forms.spec import ADDRESS_PARTS, FormField, Kind
from screens.widgets import KButton, KInput

MSG_FROM_CHIP = "Filled in from your ID card chip; check it."
MSG_FROM_QR = "Filled in from your ID card's QR code; check it."
MSG_FROM_MRZ = "Filled in from your ID card; check it."
MSG_FROM_TYPED = "Filled in from the ID number you typed; check it."
MSG_FROM_SESSION = "Filled in from what you typed earlier; check it."
MSG_LOCKED = "From your ID card chip; it cannot be changed here."
MSG_ADD_ROW = "Add a row"
MSG_REMOVE_ROW = "Remove this row"
MSG_ROW = "Row {n}"
MSG_PROVINCE = "Province or city"
MSG_COMMUNE = "Commune or ward"
MSG_STREET = "House number, street, hamlet"
MSG_DATE_HINT = "dd/mm/yyyy"
SOURCE_MESSAGES = {
    "chip": MSG_FROM_CHIP,
    "qr": MSG_FROM_QR,
    "mrz": MSG_FROM_MRZ,
    "typed": MSG_FROM_TYPED,
    "session": MSG_FROM_SESSION,
}
SUGGESTIONS = 6

Translate = Callable[[str], str]


class FieldInput(KInput):
    """A big text input typed with the kiosk's own keyboard (never the system one)."""

    field = ObjectProperty(None, allownone=True)


class BaseRow(BoxLayout):
    """Title, help, source note, the input of the kind, and the problem."""

    __events__ = ("on_input_focus",)

    field = ObjectProperty(None, allownone=True)
    kind = StringProperty("text")
    title = StringProperty("")
    help = StringProperty("")
    note = StringProperty("")
    error = StringProperty("")
    locked = BooleanProperty(False)

    def on_input_focus(self, text_input: TextInput, field: FormField) -> None:
        pass

    def load(
        self,
        field: FormField,
        lang: str,
        value: Any,
        source: str | None,
        locked: bool,
        t: Translate,
    ) -> None:
        self.field = field
        self.kind = str(field.kind)
        self.title = field.title(lang) + (" *" if field.required else "")
        self.help = field.help(lang)
        self.locked = locked
        self.note = t(MSG_LOCKED) if locked else (t(SOURCE_MESSAGES[source]) if source else "")
        self.error = ""
        self.load_value(value, lang, t)

    def load_value(self, value: Any, lang: str, t: Translate) -> None:
        raise NotImplementedError

    def draft(self) -> Any:
        raise NotImplementedError

    def show_problems(self, problems: dict[str, str]) -> None:
        self.error = problems.get(self.field.name, "") if self.field else ""

    def text_inputs(self) -> list[TextInput]:
        return []

    def clear(self) -> None:
        self.field = None
        self.error = self.note = ""
        self.locked = False

    def _watch(self, text_input: FieldInput, field: FormField) -> None:
        text_input.field = field

        def focused(widget: TextInput, value: bool) -> None:
            if value:
                self.dispatch("on_input_focus", widget, widget.field)

        text_input.bind(focus=focused)


class TypedRow(BaseRow):
    """A field typed on the keyboard: text, multiline, number, money, date, phone, …"""

    def load_value(self, value: Any, lang: str, t: Translate) -> None:
        box = self.ids.input
        self._watch(box, self.field)
        box.text = "" if value is None else str(value)
        box.multiline = self.field.kind is Kind.MULTILINE
        box.readonly = self.locked
        hint = self.field.placeholder(lang)
        box.hint_text = t(MSG_DATE_HINT) if self.field.kind is Kind.DATE and not hint else hint

    def draft(self) -> Any:
        return self.ids.input.text

    def text_inputs(self) -> list[TextInput]:
        return [self.ids.input]

    def clear(self) -> None:
        super().clear()
        self.ids.input.text = ""


class ChoiceButtons(BoxLayout):
    """Buttons of which one is chosen (a choice field, or yes/no)."""

    value = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._buttons: list[KButton] = []

    def show(self, options: list[tuple[Any, str]], value: Any) -> None:
        box = self.ids.buttons
        while len(self._buttons) < len(options):
            button = KButton()
            button.bind(on_release=self._chosen)
            self._buttons.append(button)
        box.clear_widgets()
        self.value = value
        for button, (option, label) in zip(self._buttons, options, strict=False):
            button.text = label
            button.choice_value = option
            button.selected = option == value
            box.add_widget(button)

    def _chosen(self, button: KButton) -> None:
        self.value = button.choice_value
        for b in self._buttons:
            b.selected = b is button

    def buttons(self) -> list[KButton]:
        return [b for b in self._buttons if b.parent is not None]


class ChoiceRow(BaseRow):
    """A choice among the field's options, or yes/no."""

    def load_value(self, value: Any, lang: str, t: Translate) -> None:
        if self.field.kind is Kind.YESNO:
            options = [(True, t("Yes")), (False, t("No"))]
        else:
            options = [(c.value, c.title(lang)) for c in self.field.choices]
        self.ids.choices.show(options, value)
        self.ids.choices.bind(value=lambda *_: setattr(self, "error", ""))

    def draft(self) -> Any:
        return self.ids.choices.value

    def clear(self) -> None:
        super().clear()
        self.ids.choices.value = None


class AddressRow(BaseRow):
    """Province and commune picked from the 2025 map as one types (free text kept for the
    commune), and the street part typed freely."""

    province_error = StringProperty("")
    commune_error = StringProperty("")
    street_error = StringProperty("")

    def load_value(self, value: Any, lang: str, t: Translate) -> None:
        value = value or {}
        for part in ADDRESS_PARTS:
            box = self.ids[part]
            self._watch(box, self.field.part(part) if _has_part(self.field, part) else self.field)
            box.text = str(value.get(part, "") or "")
            box.readonly = self.locked
        self._suggest()

    def on_kv_post(self, base_widget: Any) -> None:
        self.ids.province.bind(text=lambda *_: self._suggest())
        self.ids.commune.bind(text=lambda *_: self._suggest())

    def _suggest(self) -> None:
        if self.field is None:
            return
        province_text = self.ids.province.text.strip()
        exact = addresses.find_province(province_text) if province_text else None
        provinces = [] if exact or not province_text else addresses.search_provinces(province_text)
        self._fill(self.ids.province_hints, [p.name for p in provinces[:SUGGESTIONS]], "province")
        communes: list[str] = []
        commune_text = self.ids.commune.text.strip()
        if exact and commune_text and addresses.find_commune(exact, commune_text) is None:
            found = addresses.search_communes(exact.code, commune_text, limit=SUGGESTIONS)
            communes = [c.name for c in found]
        self._fill(self.ids.commune_hints, communes, "commune")

    def _fill(self, box: Any, names: list[str], part: str) -> None:
        box.clear_widgets()
        for name in names:
            button = KButton(text=name, min_height=72, font_base=28)
            button.size_hint_x = None
            button.width = 470
            button.bind(on_release=lambda b, p=part: self._pick(p, b.text))
            box.add_widget(button)

    def _pick(self, part: str, name: str) -> None:
        self.ids[part].text = name
        if part == "province":
            self.ids.commune.text = ""
        self._suggest()

    def draft(self) -> Any:
        return {part: self.ids[part].text for part in ADDRESS_PARTS}

    def show_problems(self, problems: dict[str, str]) -> None:
        name = self.field.name if self.field else ""
        self.error = problems.get(name, "")
        self.province_error = problems.get(f"{name}.province", "")
        self.commune_error = problems.get(f"{name}.commune", "")
        self.street_error = problems.get(f"{name}.street", "")

    def text_inputs(self) -> list[TextInput]:
        return [self.ids[p] for p in ADDRESS_PARTS]

    def clear(self) -> None:
        super().clear()
        for part in ADDRESS_PARTS:
            self.ids[part].text = ""
        self.province_error = self.commune_error = self.street_error = ""


class GroupItem(BoxLayout):
    """One row of a group: a small form of the group's item fields and a remove button."""

    label = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rows: list[BaseRow] = []


class GroupRow(BaseRow):
    """A repeatable group: rows added and removed by the citizen, between minItems and
    maxItems."""

    can_add = BooleanProperty(True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._items: list[GroupItem] = []
        self._shown = 0
        self._lang = "vi"
        self._t: Translate = lambda s: s

    def load_value(self, value: Any, lang: str, t: Translate) -> None:
        self._lang, self._t = lang, t
        rows = list(value or [])
        while len(rows) < max(1, self.field.min_items):
            rows.append({})
        self.ids.group_items.clear_widgets()
        self._shown = 0
        for row in rows:
            self._add(row)

    def _add(self, values: dict[str, Any]) -> None:
        if self._shown >= len(self._items):
            item = GroupItem()
            item.ids.remove_row.bind(on_release=lambda b, it=item: self.remove_item(it))
            self._items.append(item)
        item = self._items[self._shown]
        self._shown += 1
        item.label = self._t(MSG_ROW).format(n=self._shown)
        item.ids.fields.clear_widgets()
        item.rows = []
        for part in self.field.parts:
            sub = make_row(part)
            sub.bind(on_input_focus=lambda _r, ti, f: self.dispatch("on_input_focus", ti, f))
            sub.load(part, self._lang, values.get(part.name), None, False, self._t)
            item.rows.append(sub)
            item.ids.fields.add_widget(sub)
        self.ids.group_items.add_widget(item)
        self._update_buttons()

    def add_item(self) -> None:
        if self.can_add:
            self._add({})

    def remove_item(self, item: GroupItem) -> None:
        drafts = [r for it in self._visible() if it is not item for r in [self._item_draft(it)]]
        self.ids.group_items.clear_widgets()
        self._shown = 0
        for draft in drafts or [{}]:
            self._add(draft)

    def _visible(self) -> list[GroupItem]:
        return self._items[: self._shown]

    def _item_draft(self, item: GroupItem) -> dict[str, Any]:
        return {r.field.name: r.draft() for r in item.rows if r.field is not None}

    def _update_buttons(self) -> None:
        limit = self.field.max_items if self.field and self.field.max_items else 20
        self.can_add = self._shown < limit
        for item in self._visible():
            item.ids.remove_row.opacity = 1 if self._shown > max(1, self.field.min_items) else 0
            item.ids.remove_row.disabled = self._shown <= max(1, self.field.min_items)

    def draft(self) -> Any:
        return [self._item_draft(it) for it in self._visible()]

    def show_problems(self, problems: dict[str, str]) -> None:
        name = self.field.name if self.field else ""
        self.error = problems.get(name, "")
        for i, item in enumerate(self._visible()):
            for sub in item.rows:
                sub.error = problems.get(f"{name}[{i}].{sub.field.name}", "")

    def text_inputs(self) -> list[TextInput]:
        return [ti for it in self._visible() for r in it.rows for ti in r.text_inputs()]

    def items(self) -> list[GroupItem]:
        return self._visible()

    def clear(self) -> None:
        super().clear()
        for item in self._items:
            for sub in item.rows:
                sub.clear()
        self.ids.group_items.clear_widgets()
        self._shown = 0


def _has_part(field: FormField, name: str) -> bool:
    return any(p.name == name for p in field.parts)


def make_row(field: FormField) -> BaseRow:
    """A new row widget for the field's kind."""
    if field.kind in (Kind.CHOICE, Kind.YESNO):
        return ChoiceRow()
    if field.kind is Kind.ADDRESS:
        return AddressRow()
    if field.kind is Kind.GROUP:
        return GroupRow()
    return TypedRow()
