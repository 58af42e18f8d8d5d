"""The counter terminal page (bảng điều khiển quầy): what staff at a counter use to call and serve.

The board server (``kiosk.tickets.board``) serves it at ``GET /counter/N``, in Vietnamese, or in
English with ``?lang=en``. It is one self-contained HTML page: style and script inline, no
external file of any kind (it works on an office network cut from the Internet), and a
Content-Security-Policy that lets it load nothing else and talk only to its own server.

The page holds no secret. Staff type the counter's token once; the script keeps it in the tab's
``sessionStorage`` (gone when the tab closes) and sends it as ``Authorization: Bearer`` to the
existing ``POST /api/counters/N/ACTION?lang=..`` endpoints with ``fetch()``. The token is never
put in a URL: the page has no form to submit, only buttons handled by the script.

Each action button declares its request in the markup: ``data-action`` (the endpoint's ACTION),
``data-body`` (fixed JSON members, e.g. ``{"confirmed": true}``) and ``data-fields`` (ids of the
inputs whose trimmed values join the body under the same name, e.g. ``staff``; all are
required). The script builds exactly that, and the tests replay the requests from the page.

The current ticket (number, service, priority class, declared by the citizen or set from the
chip's date of birth, and who checked it) comes from each action's answer and from
``GET /api/status``, read again every ``refresh_s``. "Confirm priority" and "Not priority",
with the staff name, are shown while the current ticket has a declared priority.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.i18n import translate
from kiosk.tickets.config import CounterConfig, PriorityClass

MSG_PAGE_TITLE = "Counter terminal"
MSG_TOKEN = "Counter token"
MSG_TOKEN_HINT = (
    "Type the counter's token once: it is kept in this browser tab only, until the tab is closed."
)
MSG_USE_TOKEN = "Use this token"
MSG_FORGET_TOKEN = "Forget the token"
MSG_NOW_SERVING = "Now serving"
MSG_NOTHING_CALLED = "No number called"
MSG_CALL_NEXT = "Call next"
MSG_RECALL = "Call again"
MSG_SKIP = "Skip (not here)"
MSG_COMPLETE = "Complete"
MSG_NUMBER = "Number (a citizen who came back)"
MSG_CALL_NUMBER = "Call this number"
MSG_TRANSFER_TO = "Transfer to"
MSG_TRANSFER = "Transfer"
MSG_STAFF = "Staff name"
MSG_CONFIRM = "Confirm priority"
MSG_NOT_PRIORITY = "Not priority"
MSG_PRIORITY = "Priority: {label}"
MSG_DECLARED = "declared by the citizen"
MSG_FROM_CHIP = "from the date of birth on the chip"
MSG_CONFIRMED_BY = "Priority confirmed by {staff}"
MSG_DOWNGRADED_BY = "Not priority, checked by {staff}"
MSG_ORDINARY = "Ordinary ticket"
MSG_OPEN = "Open the counter"
MSG_CLOSE = "Close the counter"
MSG_COUNTER_OPEN = "The counter is open."
MSG_COUNTER_CLOSED = "The counter is closed."
MSG_NOBODY = "Nobody is waiting."
MSG_DONE_SKIP = "{number}: skipped."
MSG_DONE_COMPLETE = "{number}: completed."
MSG_DONE_TRANSFER = "{number}: transferred to {service}."
MSG_DONE_CONFIRM = "{number}: priority confirmed."
MSG_DONE_DOWNGRADE = "{number}: served as an ordinary ticket."
MSG_NEED_TOKEN = "Please type the counter's token first."
MSG_NEED_FIELD = "Please fill in: {field}"
MSG_BAD_TOKEN = "The token is wrong. Please type it again."
MSG_NO_TERMINAL = (
    "This counter has no terminal token in the queue configuration (config/queue.toml)."
)
MSG_UNREACHABLE = "The queue server does not answer. Check the network and try again."
MSG_WAITING = "Waiting: {n}"

# What the script needs, by key (translated into the page's language).
_SCRIPT_STRINGS = {
    "nothing": MSG_NOTHING_CALLED,
    "priority": MSG_PRIORITY,
    "declared": MSG_DECLARED,
    "chip": MSG_FROM_CHIP,
    "confirmedBy": MSG_CONFIRMED_BY,
    "downgradedBy": MSG_DOWNGRADED_BY,
    "ordinary": MSG_ORDINARY,
    "open": MSG_COUNTER_OPEN,
    "closed": MSG_COUNTER_CLOSED,
    "nobody": MSG_NOBODY,
    "skip": MSG_DONE_SKIP,
    "complete": MSG_DONE_COMPLETE,
    "transfer": MSG_DONE_TRANSFER,
    "confirm": MSG_DONE_CONFIRM,
    "downgrade": MSG_DONE_DOWNGRADE,
    "needToken": MSG_NEED_TOKEN,
    "needField": MSG_NEED_FIELD,
    "badToken": MSG_BAD_TOKEN,
    "unreachable": MSG_UNREACHABLE,
    "waiting": MSG_WAITING,
}


@dataclass(frozen=True)
class CounterPage:
    """A rendered page: its HTML and the Content-Security-Policy to send with it."""

    html: str
    csp: str


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _json_for_script(data: Any) -> str:
    """JSON that is safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_counter_page(
    counter: CounterConfig,
    *,
    lang: str,
    service_names: Mapping[str, str],
    transfer_to: Iterable[str],
    priority_classes: Iterable[PriorityClass],
    refresh_s: float = 2,
) -> CounterPage:
    """The page of ``counter`` in ``lang``. ``service_names`` names services by code (in
    ``lang``); ``transfer_to`` lists the service codes a ticket may be transferred to."""
    e = html.escape

    def t(msgid: str) -> str:
        return translate(msgid, lang)

    def button(msgid: str, action: str, body: Mapping[str, Any] | None = None, **attrs: str) -> str:
        extra = "".join(
            f' {name.rstrip("_").replace("_", "-")}="{e(value)}"' for name, value in attrs.items()
        )
        data_body = f' data-body="{e(json.dumps(dict(body)))}"' if body else ""
        label = e(t(msgid))
        return f'<button type="button" data-action="{action}"{data_body}{extra}>{label}</button>'

    other = "en" if lang == "vi" else "vi"
    switch = "English" if other == "en" else "Tiếng Việt"
    title = f"{counter.name} · {t(MSG_PAGE_TITLE)}"
    options = "".join(
        f'<option value="{e(code)}">{e(service_names.get(code, code))}</option>'
        for code in transfer_to
    )
    data = {
        "counter": counter.number,
        "api": f"/api/counters/{counter.number}/",
        "status": "/api/status",
        "lang": lang,
        "refreshMs": int(max(1.0, float(refresh_s)) * 1000),
        "tokenKey": f"motcua.counter.{counter.number}.token",
        "staffKey": "motcua.counter.staff",
        "services": dict(service_names),
        "classes": {p.code: p.label(lang) for p in priority_classes},
        "strings": {key: t(msgid) for key, msgid in _SCRIPT_STRINGS.items()},
    }
    if counter.token:
        body = _DESK.format(
            token_label=e(t(MSG_TOKEN)),
            token_hint=e(t(MSG_TOKEN_HINT)),
            use_token=e(t(MSG_USE_TOKEN)),
            forget=e(t(MSG_FORGET_TOKEN)),
            now_serving=e(t(MSG_NOW_SERVING)),
            nothing=e(t(MSG_NOTHING_CALLED)),
            call_next=button(MSG_CALL_NEXT, "call", id="call-next", class_="primary"),
            recall=button(MSG_RECALL, "recall"),
            skip=button(MSG_SKIP, "skip"),
            complete=button(MSG_COMPLETE, "complete"),
            number_label=e(t(MSG_NUMBER)),
            call_number=button(MSG_CALL_NUMBER, "call", data_fields="number"),
            transfer_label=e(t(MSG_TRANSFER_TO)),
            options=options,
            transfer=button(MSG_TRANSFER, "transfer", data_fields="service"),
            staff_label=e(t(MSG_STAFF)),
            confirm=button(
                MSG_CONFIRM, "confirm", {"confirmed": True}, data_fields="staff", class_="primary"
            ),
            not_priority=button(
                MSG_NOT_PRIORITY, "confirm", {"confirmed": False}, data_fields="staff"
            ),
            open=button(MSG_OPEN, "open", id="open"),
            close=button(MSG_CLOSE, "close", id="close"),
        )
    else:
        body = f'<p class="message error">{e(t(MSG_NO_TERMINAL))}</p>'
    page = _PAGE.format(
        lang=lang,
        title=e(title),
        style=_STYLE,
        other=other,
        switch=e(switch),
        body=body,
        data=_json_for_script(data),
        script=_SCRIPT if counter.token else "",
    )
    csp = (
        "default-src 'none'; "
        f"script-src {_csp_hash(_SCRIPT)}; "
        f"style-src {_csp_hash(_STYLE)}; "
        "connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
    return CounterPage(page, csp)


_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header><h1>{title}</h1><a class="lang" href="?lang={other}">{switch}</a></header>
<main>
{body}
</main>
<script id="page-data" type="application/json">{data}</script>
<script>{script}</script>
</body>
</html>
"""

_DESK = """<section id="login" hidden>
<label for="token">{token_label}</label>
<div class="row"><input id="token" type="password" autocomplete="off" spellcheck="false">
<button type="button" id="use-token" class="primary">{use_token}</button></div>
<p class="hint">{token_hint}</p>
</section>
<section id="desk" hidden>
<div class="card" id="current">
<div class="caption">{now_serving}</div>
<div class="big" id="cur-number">—</div>
<div id="cur-service">{nothing}</div>
<div id="cur-priority"></div>
<div id="cur-check"></div>
</div>
<div class="actions">{call_next}{recall}{skip}{complete}</div>
<div id="priority-box" class="card priority" hidden>
<label for="staff">{staff_label}</label>
<div class="row"><input id="staff" maxlength="64" autocomplete="name">{confirm}{not_priority}</div>
</div>
<p id="message" class="message" role="status" aria-live="polite"></p>
<div class="card">
<label for="service">{transfer_label}</label>
<div class="row"><select id="service">{options}</select>{transfer}</div>
<label for="number">{number_label}</label>
<div class="row"><input id="number" maxlength="12" autocomplete="off" spellcheck="false">\
{call_number}</div>
</div>
<div class="card"><div id="counter-state"></div><ul id="waiting"></ul>
<div class="row">{open}{close}<button type="button" id="forget">{forget}</button></div></div>
</section>"""

_STYLE = """
body { margin: 0; font-family: Roboto, "DejaVu Sans", sans-serif; background: #f4f6f9;
       color: #171c26; font-size: 18px; }
header { display: flex; align-items: center; justify-content: space-between;
         background: #a31c1c; color: #fff; padding: .5em 1em; }
header h1 { margin: 0; font-size: 1.4em; }
header a { color: #fff; }
main { max-width: 46em; margin: 0 auto; padding: 1em; }
label { display: block; margin: .6em 0 .3em; font-weight: 700; }
.row { display: flex; gap: .5em; flex-wrap: wrap; align-items: center; }
input, select { font-size: 1.1em; padding: .5em; border: 1px solid #8a94a6; border-radius: .3em;
                flex: 1 1 12em; min-width: 0; }
button { font-size: 1.1em; padding: .7em 1em; border: 0; border-radius: .4em;
         background: #dee5f2; color: #0d3373; cursor: pointer; }
button.primary { background: #0d47a1; color: #fff; font-weight: 700; }
button:disabled { opacity: .5; cursor: default; }
.card { background: #fff; border-radius: .5em; padding: .8em 1em; margin: .8em 0;
        box-shadow: 0 1px 3px rgba(0, 0, 0, .12); }
#current { text-align: center; }
.caption { color: #4d5666; }
.big { font-size: 4em; font-weight: 700; font-variant-numeric: tabular-nums; }
.actions { display: grid; grid-template-columns: repeat(auto-fit, minmax(9em, 1fr)); gap: .5em; }
.actions button { min-height: 3.5em; }
.priority { border: 3px solid #12733a; }
#cur-priority { color: #12733a; font-weight: 700; }
.message { min-height: 1.4em; padding: .6em .8em; border-radius: .4em; }
.message.ok { background: #e3f4e8; color: #0b4d22; }
.message.error { background: #fbe4e4; color: #8a0c0c; }
.hint { color: #4d5666; }
#waiting { margin: .4em 0; padding-left: 1.2em; }
"""

_SCRIPT = """
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const S = data.strings;
  const $ = (id) => document.getElementById(id);
  const store = window.sessionStorage;
  let busy = false;
  let current = null;

  function fmt(text, values) {
    return text.replace(/\\{(\\w+)\\}/g, (m, k) => (k in values ? String(values[k]) : m));
  }
  function say(text, ok) {
    const el = $("message");
    el.textContent = text || "";
    el.className = "message" + (text ? (ok ? " ok" : " error") : "");
  }
  function token() { return store.getItem(data.tokenKey) || ""; }
  function showLogin(on) {
    $("login").hidden = !on;
    $("desk").hidden = on;
    if (on) { $("token").value = ""; $("token").focus(); }
  }
  function serviceName(code) { return data.services[code] || code; }

  function showTicket(t) {
    current = t;
    $("cur-number").textContent = t ? t.number : "—";
    $("cur-service").textContent = t ? serviceName(t.service) : S.nothing;
    let priority = "";
    let check = "";
    if (t && t.priority_class) {
      const label = data.classes[t.priority_class] || t.priority_class;
      const how = t.priority_source === "chip" ? S.chip : S.declared;
      priority = fmt(S.priority, {label: label}) + " (" + how + ")";
      if (t.priority_check === "confirmed") {
        check = fmt(S.confirmedBy, {staff: t.priority_checked_by || ""});
      } else if (t.priority_check === "downgraded") {
        check = fmt(S.downgradedBy, {staff: t.priority_checked_by || ""});
      }
    } else if (t) {
      priority = S.ordinary;
    }
    $("cur-priority").textContent = priority;
    $("cur-check").textContent = check;
    $("priority-box").hidden = !(t && t.priority_class);
  }

  function showStatus(status) {
    const mine = status.counters.find((c) => c.number === data.counter);
    if (!mine) return;
    if (!busy) showTicket(mine.current);
    $("counter-state").textContent = mine.open ? S.open : S.closed;
    $("open").hidden = mine.open;
    $("close").hidden = !mine.open;
    const list = $("waiting");
    list.textContent = "";
    mine.services.forEach((code) => {
      const info = status.services[code];
      const li = document.createElement("li");
      li.textContent = serviceName(code) + ": " + fmt(S.waiting, {n: info ? info.waiting : 0});
      list.appendChild(li);
    });
  }

  function poll() {
    fetch(data.status, {cache: "no-store"})
      .then((r) => (r.ok ? r.json() : null))
      .then((status) => { if (status) showStatus(status); })
      .catch(() => {})
      .then(() => setTimeout(poll, data.refreshMs));
  }

  function done(action, body, answer) {
    const t = answer.ticket;
    if (action === "call" || action === "recall") {
      showTicket(t);
      return t ? answer.text : S.nobody;
    }
    if (action === "open" || action === "close") {
      $("open").hidden = action === "open";
      $("close").hidden = action === "close";
      return action === "open" ? S.open : S.closed;
    }
    if (!t) return "";
    if (action === "skip" || action === "complete") {
      showTicket(null);
      return fmt(S[action], {number: t.number});
    }
    if (action === "transfer") {
      showTicket(null);
      return fmt(S.transfer, {number: t.number, service: serviceName(t.service)});
    }
    showTicket(t);
    return fmt(body.confirmed ? S.confirm : S.downgrade, {number: t.number});
  }

  function act(button) {
    const action = button.dataset.action;
    const body = JSON.parse(button.dataset.body || "{}");
    const fields = (button.dataset.fields || "").split(" ").filter(Boolean);
    for (const id of fields) {
      const input = $(id);
      const value = input.value.trim();
      if (!value) {
        const label = document.querySelector('label[for="' + id + '"]');
        say(fmt(S.needField, {field: label ? label.textContent : id}), false);
        input.focus();
        return;
      }
      body[id] = value;
    }
    if (!token()) { say(S.needToken, false); showLogin(true); return; }
    if (body.staff) store.setItem(data.staffKey, body.staff);
    busy = true;
    document.querySelectorAll("button[data-action]").forEach((b) => { b.disabled = true; });
    fetch(data.api + action + "?lang=" + data.lang, {
      method: "POST",
      cache: "no-store",
      headers: {"Authorization": "Bearer " + token(), "Content-Type": "application/json"},
      body: JSON.stringify(body),
    })
      .then((r) => r.json().catch(() => ({})).then((answer) => {
        if (r.status === 401) {
          store.removeItem(data.tokenKey);
          showLogin(true);
          say(S.badToken, false);
        } else if (r.ok && answer.ok) {
          say(done(action, body, answer), true);
          if (action === "call" && body.number) $("number").value = "";
        } else {
          say(answer.message || answer.detail || String(r.status), false);
        }
      }))
      .catch(() => say(S.unreachable, false))
      .then(() => {
        busy = false;
        document.querySelectorAll("button[data-action]").forEach((b) => { b.disabled = false; });
      });
  }

  $("use-token").addEventListener("click", () => {
    const value = $("token").value.trim();
    if (!value) { say(S.needToken, false); return; }
    store.setItem(data.tokenKey, value);
    $("token").value = "";
    say("", true);
    showLogin(false);
  });
  $("token").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") $("use-token").click();
  });
  $("forget").addEventListener("click", () => {
    store.removeItem(data.tokenKey);
    say("", true);
    showLogin(true);
  });
  document.querySelectorAll("button[data-action]").forEach((b) => {
    b.addEventListener("click", () => act(b));
  });
  $("staff").value = store.getItem(data.staffKey) || "";
  showTicket(null);
  showLogin(!token());
  poll();
})();
"""
