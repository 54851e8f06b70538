"""The Drawings page's gallery: pages of saved drawings asked from the database, and who may delete which.

Everyone sees the public set; a visitor sees their own private drawings too, and may delete their own (the owner
key of their secret, ui/store.py), after a confirmation, with an undo while the page is open;
deleting anyone's needs MNIST_APP_ADMIN_TOKEN, entered on the page. Every store error is said, never raised.
"""

from __future__ import annotations

import hmac
import os

import streamlit as st

from mnist_app import models
from mnist_app.reports.plots import enlarge, thumbnail_uri
from mnist_app.store import readings
from mnist_app.store.drawings import DrawingStore, StoreError
from mnist_app.store.rows import Drawing
from mnist_app.ui.store import say_store_error, visitor

PER_PAGE = 24
TILE = 120  # pixels: six drawings side by side
ALL, MINE = "all drawings", "your drawings"
ANY_DIGIT = "every digit"


def admin_token_entered() -> bool:
    """True once this session entered MNIST_APP_ADMIN_TOKEN (there is none when it is unset)."""
    token = os.environ.get("MNIST_APP_ADMIN_TOKEN", "")
    entered = st.session_state.get("admin_token", "")
    return bool(token) and hmac.compare_digest(entered.encode(), token.encode())


def may_delete(drawing: Drawing) -> bool:
    return drawing.owner == visitor().owner or admin_token_entered()


@st.fragment
def show(store: DrawingStore, versions: dict[str, str]) -> None:
    """Filters, one page of drawings with today's readings, and delete with undo. A fragment: a page turn or a filter
    reruns the gallery alone; a delete or an undo reruns the whole page, whose counts it changed."""
    if st.session_state.pop("gallery_changed", False):
        st.rerun(scope="app")
    try:
        gallery(store, versions)
    except StoreError as exc:
        say_store_error(exc)


def gallery(store: DrawingStore, versions: dict[str, str]) -> None:
    undo_offer(store)
    left, middle, right = st.columns(3)
    shown_as = {ALL: ALL, MINE: MINE} | {name: f"misread by {models.label_of(name)}" for name in versions}
    only = left.selectbox("Show", list(shown_as), format_func=shown_as.get, key="gallery_filter")
    digit = middle.selectbox("Digit", [ANY_DIGIT, *range(10)], key="gallery_digit")
    label = None if digit == ANY_DIGIT else int(digit)
    misread_by = (only, versions[only]) if only in versions else None
    me = visitor().owner
    mine, viewer = (me, None) if only == MINE else (None, me)
    total = store.count(label, misread_by=misread_by, owner=mine, viewer=viewer)
    pages = max(1, -(-total // PER_PAGE))
    page = right.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, value=1, key="gallery_page")
    shown = store.page((page - 1) * PER_PAGE, PER_PAGE, label=label, misread_by=misread_by, owner=mine, viewer=viewer)
    if not shown:
        st.info("Nothing to show with these filters.")
        return
    read = readings.of_drawings(store, [d.id for d in shown], versions)
    for row in range(0, len(shown), 6):
        for column, drawing in zip(st.columns(6), shown[row : row + 6], strict=False):
            with column:
                tile(store, drawing, read.get(drawing.id, {}))


def tile(store: DrawingStore, drawing: Drawing, read: dict[str, int]) -> None:
    """A drawing (as drawn, or its 28x28 digit for one stored without its canvas) with the models' readings. The picture
    travels inside the markdown, not as st.image's file: the browser fetches no file and no image viewer's code for it,
    which held the first screen of a fresh page back by about half a second."""
    picture = thumbnail_uri(drawing.canvas_png or enlarge(drawing.digit), TILE)
    st.markdown(f"![Drawing #{drawing.id}, a {drawing.label}]({picture})")
    of_a_number = f" · digit {drawing.place} of a number" if drawing.place else ""
    st.markdown(f"**{drawing.label}** · #{drawing.id}{of_a_number}" + ("" if drawing.shared else " · only you see it"))
    words = (f"{models.label_of(n)} {p} {'✓' if p == drawing.label else '✗'}" for n, p in read.items())
    st.caption(" · ".join(words))
    if may_delete(drawing):
        with st.popover("Delete", key=f"delete_{drawing.id}"):
            st.write(f"Delete drawing #{drawing.id} (a {drawing.label})?")
            st.button("Yes, delete it", key=f"confirm_{drawing.id}", on_click=delete, args=(store, drawing.id))


def delete(store: DrawingStore, drawing_id: int) -> None:
    """Button callback: deletes one drawing the visitor may delete, and offers an undo."""
    only_mine = None if admin_token_entered() else visitor().owner
    try:
        removed = store.delete(drawing_id, owner=only_mine)
    except StoreError as exc:
        st.session_state.gallery_error = exc
        return
    if removed:
        st.session_state.setdefault("deleted", []).append(removed)
        st.session_state.gallery_changed = True
    else:
        st.session_state.gallery_notice = f"Drawing #{drawing_id} was already gone."


def undo(store: DrawingStore) -> None:
    """Button callback: puts the last deleted drawing back."""
    removed = st.session_state.deleted.pop()
    try:
        store.restore(removed)
    except StoreError as exc:
        st.session_state.deleted.append(removed)
        st.session_state.gallery_error = exc
        return
    st.session_state.gallery_changed = True


def undo_offer(store: DrawingStore) -> None:
    """What the last delete did, with its undo; and any error a button met."""
    if error := st.session_state.pop("gallery_error", None):
        say_store_error(error)
    if notice := st.session_state.pop("gallery_notice", None):
        st.warning(notice)
    if st.session_state.get("deleted"):
        last = st.session_state.deleted[-1]
        words, button = st.columns([4, 1], vertical_alignment="center")
        words.success(f"Drawing #{last.ids[0]} deleted.")
        button.button("Undo", key="undo_delete", on_click=undo, args=(store,))


def admin_login() -> None:
    """Where a moderator enters MNIST_APP_ADMIN_TOKEN to delete anyone's drawings (absent when it is unset)."""
    if not os.environ.get("MNIST_APP_ADMIN_TOKEN"):
        return
    with st.expander("Moderate"):
        st.text_input("Admin token (MNIST_APP_ADMIN_TOKEN)", type="password", key="admin_token")
        if admin_token_entered():
            st.caption("You may delete anyone's drawings.")
        elif st.session_state.get("admin_token"):
            st.caption("That is not the admin token.")
