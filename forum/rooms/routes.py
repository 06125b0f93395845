"""Rooms, threads and posts over HTTP. Thin: parse the form, call an action, render.

Every page here is for logged-in members. Anything outside the member's audience
answers 404, exactly like something that does not exist (see forum.permissions).
A refused write rolls back everything and shows the form again with its message.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from forum import permissions
from forum.accounts.auth import current_member
from forum.accounts.models import Member
from forum.db import db
from forum.errors import ActionError, NotFound
from forum.extensions import limiter
from forum.moderation.pipeline import NeedsConfirmation
from forum.moderation.screening import Verdict
from forum.rooms import actions, fragments, queries
from forum.rooms.models import Post

bp = Blueprint("rooms", __name__)


@bp.before_request
@login_required
def _members_only() -> None:
    """Every page here is for logged-in members (visitors are sent to log in)."""


def _post_limit():  # type: ignore[no-untyped-def]
    """POST_RATE_LIMIT per member, by row id: the auth token (get_id) is a secret that has no
    business in the limiter's store, and it changes with the password, restarting the count."""
    return limiter.limit(lambda: current_app.config["POST_RATE_LIMIT"], methods=["POST"],
                         key_func=lambda: f"member:{current_user.id}")


def _new_key() -> str:
    return secrets.token_urlsafe(16)


def _page_size() -> int:
    return int(current_app.config["POSTS_PER_PAGE"])


def _max_depth() -> int:
    return int(current_app.config["MAX_THREAD_DEPTH"])


def _show(post: Post) -> Response:
    """Redirect to the page where ``post`` is shown, anchored at it."""
    endpoint, values = queries.post_location(db.session, post, _page_size(), _max_depth())
    return redirect(url_for(endpoint, **values))  # type: ignore[arg-type]


def _after_write(verdict: Verdict | None) -> None:
    """Tell the author, kindly, what happened to what they wrote."""
    if verdict is None:
        flash("That was already posted, so we kept the first copy.")
        return
    if verdict.crisis:
        flash("crisis", "crisis")
    if verdict.decision == "hold":
        flash("Thank you for posting. A moderator will look at it shortly before others can see it. "
              "This is routine and not a judgment of you.")


def _refused(exc: ActionError, template: str,  # type: ignore[no-untyped-def]
             context: Callable[[], dict[str, object]]):
    """Roll the request back and show the form again, keeping what was typed.

    ``context`` is called after the rollback (the session can't load anything before it).
    A ``duplicate`` (two submits of one form racing) shows the copy that was stored.
    """
    db.session.rollback()
    if exc.code == "duplicate":
        existing = actions.find_submission(db.session, current_user, request.form.get("submit_key"))
        if existing is not None:
            _after_write(None)
            return _show(existing)
    form = request.form
    return render_template(template, values=form, errors=exc.fields, error=exc.message,
                           confirm=isinstance(exc, NeedsConfirmation),
                           submit_key=actions.check_submit_key(form.get("submit_key")) or _new_key(),
                           **context()), exc.status


def _confirmed() -> bool:
    return request.form.get("confirmed") == "yes"


def _form() -> MultiDict[str, str]:
    """The posted form (a body that isn't UTF-8 never gets here: see forum.security.register_input_guards)."""
    return request.form


# Reading ------------------------------------------------------------------------------

@bp.get("/rooms")
def index():  # type: ignore[no-untyped-def]
    rooms = queries.visible_rooms(db.session, current_member())
    return render_template("rooms/index.html", rooms=rooms)


@bp.get("/rooms/<slug>")
def room(slug: str):  # type: ignore[no-untyped-def]
    member = current_member()
    room = actions.access_room(db.session, member, slug)
    number = queries.page_number(request.args.get("page"))
    threads, page = queries.room_threads(db.session, member, room, number,
                                         current_app.config["THREADS_PER_PAGE"])
    if not page.exists:
        raise NotFound()
    return render_template("rooms/room.html", room=room, threads=threads, page=page)


@bp.get("/threads/<int:thread_id>")
def thread(thread_id: int):  # type: ignore[no-untyped-def]
    member = current_member()
    return _thread_page(member, actions.read_thread(db.session, member, thread_id), None)


@bp.get("/posts/<int:post_id>")
def post(post_id: int):  # type: ignore[no-untyped-def]
    """"Continue this thread": one post and the replies below it (also each post's permalink)."""
    member = current_member()
    post = actions.access_post(db.session, member, post_id)
    return _thread_page(member, actions.read_thread(db.session, member, post.thread_id), post)


def _thread_page(member: Member, thread: queries.ThreadHead, root: Post | None):  # type: ignore[no-untyped-def]
    """The thread page (or the branch below ``root``), kept whole for readers alike (fragments.whole_page)."""
    number = queries.page_number(request.args.get("page"))
    posts = fragments.thread_posts(db.session, member, thread, root, number, _page_size(), _max_depth())
    if not posts.page.exists:
        raise NotFound()
    room = thread.room
    heading = (thread.title, thread.status, thread.locked, thread.post_count, thread.author_name, room,
               (root.id, root.parent_id) if root else None)
    return fragments.whole_page("rooms/thread.html", member, posts, heading, thread=thread, room=room, page=posts.page,
                                root=root, values={}, errors={}, submit_key=_new_key())


# Writing ------------------------------------------------------------------------------

@bp.get("/rooms/<slug>/new")
def new_thread(slug: str):  # type: ignore[no-untyped-def]
    room = actions.access_room(db.session, current_user, slug)
    return render_template("rooms/new_thread.html", room=room, values={}, errors={}, error=None,
                           confirm=False, submit_key=_new_key())


@bp.post("/rooms/<slug>/threads")
@_post_limit()
def create_thread(slug: str):  # type: ignore[no-untyped-def]
    room = actions.access_room(db.session, current_user, slug)
    form = _form()
    try:
        post, verdict = actions.do_create_thread(
            db.session, current_user, room, title=form.get("title"), body=form.get("body"),
            content_warning=form.get("content_warning"), submit_key=form.get("submit_key"),
            confirmed=_confirmed())
        db.session.commit()
    except ActionError as exc:
        return _refused(exc, "rooms/new_thread.html", lambda: {"room": room})
    _after_write(verdict)
    return redirect(url_for("rooms.thread", thread_id=post.thread_id))


@bp.get("/posts/<int:post_id>/reply")
def reply_form(post_id: int):  # type: ignore[no-untyped-def]
    parent = actions.access_post(db.session, current_user, post_id)
    return render_template("rooms/reply.html", parent=parent, thread=actions.access_thread(
        db.session, current_user, parent.thread_id), values={}, errors={}, error=None, confirm=False,
        submit_key=_new_key())


def _reply(parent: Post):  # type: ignore[no-untyped-def]
    form = _form()
    try:
        post, verdict = actions.do_reply(db.session, current_user, parent, body=form.get("body"),
                                         content_warning=form.get("content_warning"),
                                         submit_key=form.get("submit_key"), confirmed=_confirmed())
        db.session.commit()
    except ActionError as exc:
        return _refused(exc, "rooms/reply.html", lambda: {
            "parent": parent, "thread": actions.access_thread(db.session, current_user, parent.thread_id)})
    _after_write(verdict)
    return _show(post)


@bp.post("/posts/<int:post_id>/replies")
@_post_limit()
def reply(post_id: int):  # type: ignore[no-untyped-def]
    return _reply(actions.access_post(db.session, current_user, post_id))


@bp.post("/threads/<int:thread_id>/replies")
@_post_limit()
def reply_to_thread(thread_id: int):  # type: ignore[no-untyped-def]
    """The form at the foot of a thread page answers its opening post."""
    thread = actions.access_thread(db.session, current_user, thread_id)
    opening = queries.opening_post(db.session, thread)
    if opening is None:
        raise NotFound()
    return _reply(actions.access_post(db.session, current_user, opening.id))


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
@_post_limit()
def edit(post_id: int):  # type: ignore[no-untyped-def]
    post = actions.access_post(db.session, current_user, post_id)
    if not permissions.can_edit_post(current_user, post):
        raise ActionError("Only the author can edit this post.", status=403, code="forbidden")
    if request.method == "GET":
        return render_template("rooms/edit.html", post=post, errors={}, error=None, confirm=False,
                               values={"body": post.body_source, "content_warning": post.content_warning or ""})
    form = _form()
    try:
        _, verdict = actions.do_edit_post(db.session, current_user, post, body=form.get("body"),
                                          content_warning=form.get("content_warning"), confirmed=_confirmed())
        db.session.commit()
    except ActionError as exc:
        return _refused(exc, "rooms/edit.html", lambda: {"post": post})
    _after_write(verdict)
    return _show(post)


@bp.get("/posts/<int:post_id>/delete")
def delete_form(post_id: int):  # type: ignore[no-untyped-def]
    """Asks before deleting, so a slip of the finger (or no JavaScript) can't delete a post."""
    post = actions.access_post(db.session, current_user, post_id)
    if not permissions.can_edit_post(current_user, post):
        raise ActionError("Only the author can delete this post.", status=403, code="forbidden")
    return render_template("rooms/delete.html", post=post)


@bp.post("/posts/<int:post_id>/delete")
def delete(post_id: int):  # type: ignore[no-untyped-def]
    post = actions.access_post(db.session, current_user, post_id)
    actions.do_delete_post(db.session, current_user, post)
    db.session.commit()
    flash("Your post was deleted. Replies to it stay in the thread.")
    return _show(post)
