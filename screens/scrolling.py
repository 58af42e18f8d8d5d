"""Bring a widget inside a ScrollView into sight, computed from the layout itself.

Kivy's ``ScrollView.scroll_to`` works from window coordinates that lag a frame behind a layout
that just changed (the keyboard appearing shrinks the view) and is thrown off by an overscroll
still settling, and then leaves the widget out of sight. ``reveal`` works in the content's own
coordinates: the visible band of a vertical ScrollView whose content is ``h`` high in a view
``v`` high is ``[scroll_y * (h - v), scroll_y * (h - v) + v]``.
"""

from __future__ import annotations

from typing import Any


def reveal(scroll: Any, widget: Any, padding: float = 20) -> None:
    """Scroll ``scroll`` (vertically) so that ``widget``, somewhere in its content, is seen."""
    content = scroll.children[0] if scroll.children else None
    if content is None:
        return
    room = content.height - scroll.height
    if room <= 0:
        scroll.scroll_y = 1
        return
    parent = widget.parent
    while parent is not None and parent is not content:
        parent = parent.parent
    if parent is None:
        return  # not in this view
    bottom = content.to_widget(*widget.to_window(widget.x, widget.y))[1]
    top = bottom + widget.height
    view_bottom = scroll.scroll_y * room
    view_top = view_bottom + scroll.height
    if bottom - padding < view_bottom:
        view_bottom = bottom - padding
    elif top + padding > view_top:
        view_bottom = top + padding - scroll.height
    else:
        return
    scroll.scroll_y = max(0.0, min(1.0, view_bottom / room))
