"""Rooms, threads and posts over HTTP. Thin: parse the form, call an action, render.

Anything outside the member's audience answers 404 (see forum.permissions).
"""

from __future__ import annotations

import secrets

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forum.db import db
from forum.errors import ActionError
from forum.extensions import limiter
from forum.moderation.pipeline import NeedsConfirmation
from forum.moderation.screening import Verdict
from forum.rooms import actions, queries

bp = Blueprint("rooms", __name__)


@bp.before_request
@login_required
def _members_only() -> None:
    """Every page here is for logged-in members (visitors are sent to log in)."""


def _post_limit():  # type: ignore[no-untyped-def]
    return limiter.limit(lambda: current_app.config["POST_RATE_LIMIT"], methods=["POST"],
                         key_func=lambda: f"member:{current_user.get_id()}")


def _new_key() -> str:
    return secrets.token_urlsafe(16)


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


@bp.get("/rooms")
def index():  # type: ignore[no-untyped-def]
    rooms = queries.visible_rooms(db.session, current_user)
    return render_template("rooms/index.html", rooms=rooms)


@bp.get("/rooms/<slug>")
def room(slug: str):  # type: ignore[no-untyped-def]
    room = actions.access_room(db.session, current_user, slug)
    number = queries.page_number(request.args.get("page"))
    threads, page = queries.room_threads(db.session, current_user, room, number,
                                         current_app.config["THREADS_PER_PAGE"])
    return render_template("rooms/room.html", room=room, threads=threads, page=page,
                           values={}, errors={}, submit_key=_new_key())


@bp.post("/rooms/<slug>/threads")
@_post_limit()
def create_thread(slug: str):  # type: ignore[no-untyped-def]
    room = actions.access_room(db.session, current_user, slug)
    form = request.form
    try:
        post, verdict = actions.do_create_thread(
            db.session, current_user, room, title=form.get("title"), body=form.get("body"),
            content_warning=form.get("content_warning"), submit_key=form.get("submit_key"),
            confirmed=form.get("confirmed") == "yes")
        db.session.commit()
    except ActionError as exc:
        db.session.rollback()
        return render_template("rooms/new_thread.html", room=room, values=form, errors=exc.fields,
                               error=exc.message, confirm=isinstance(exc, NeedsConfirmation),
                               submit_key=form.get("submit_key") or _new_key()), exc.status
    _after_write(verdict)
    return redirect(url_for("rooms.thread", thread_id=post.thread_id))


@bp.get("/rooms/<slug>/new")
def new_thread(slug: str):  # type: ignore[no-untyped-def]
    room = actions.access_room(db.session, current_user, slug)
    return render_template("rooms/new_thread.html", room=room, values={}, errors={}, error=None,
                           confirm=False, submit_key=_new_key())


@bp.get("/threads/<int:thread_id>")
def thread(thread_id: int):  # type: ignore[no-untyped-def]
    thread = actions.access_thread(db.session, current_user, thread_id)
    number = queries.page_number(request.args.get("page"))
    nodes, page = queries.thread_posts(db.session, current_user, thread, number,
                                       current_app.config["POSTS_PER_PAGE"],
                                       current_app.config["MAX_THREAD_DEPTH"])
    return render_template("rooms/thread.html", thread=thread, room=thread.room, nodes=nodes, page=page,
                           root=None, submit_key=_new_key())


@bp.get("/posts/<int:post_id>")
def post(post_id: int):  # type: ignore[no-untyped-def]
    """"Continue this thread": one post and the replies below it."""
    post = actions.access_post(db.session, current_user, post_id)
    thread = actions.access_thread(db.session, current_user, post.thread_id)
    number = queries.page_number(request.args.get("page"))
    nodes, page = queries.subtree_posts(db.session, post, number, current_app.config["POSTS_PER_PAGE"],
                                        current_app.config["MAX_THREAD_DEPTH"])
    return render_template("rooms/thread.html", thread=thread, room=thread.room, nodes=nodes, page=page,
                           root=post, submit_key=_new_key())


@bp.get("/posts/<int:post_id>/reply")
def reply_form(post_id: int):  # type: ignore[no-untyped-def]
    parent = actions.access_post(db.session, current_user, post_id)
    return render_template("rooms/reply.html", parent=parent, values={}, errors={}, error=None,
                           confirm=False, submit_key=_new_key())


@bp.post("/posts/<int:post_id>/replies")
@_post_limit()
def reply(post_id: int):  # type: ignore[no-untyped-def]
    parent = actions.access_post(db.session, current_user, post_id)
    form = request.form
    try:
        post, verdict = actions.do_reply(db.session, current_user, parent, body=form.get("body"),
                                         content_warning=form.get("content_warning"),
                                         submit_key=form.get("submit_key"),
                                         confirmed=form.get("confirmed") == "yes")
        db.session.commit()
    except ActionError as exc:
        db.session.rollback()
        return render_template("rooms/reply.html", parent=parent, values=form, errors=exc.fields,
                               error=exc.message, confirm=isinstance(exc, NeedsConfirmation),
                               submit_key=form.get("submit_key") or _new_key()), exc.status
    _after_write(verdict)
    return redirect(url_for("rooms.thread", thread_id=post.thread_id, _anchor=f"post-{post.id}"))


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
def edit(post_id: int):  # type: ignore[no-untyped-def]
    post = actions.access_post(db.session, current_user, post_id)
    if request.method == "GET":
        if post.author_id != current_user.id:
            return render_template("errors/error.html", status=403,
                                   message="Only the author can edit this post."), 403
        return render_template("rooms/edit.html", post=post, values={"body": post.body_source,
                               "content_warning": post.content_warning or ""}, errors={}, error=None, confirm=False)
    form = request.form
    try:
        _, verdict = actions.do_edit_post(db.session, current_user, post, body=form.get("body"),
                                          content_warning=form.get("content_warning"),
                                          confirmed=form.get("confirmed") == "yes")
        db.session.commit()
    except ActionError as exc:
        db.session.rollback()
        return render_template("rooms/edit.html", post=post, values=form, errors=exc.fields, error=exc.message,
                               confirm=isinstance(exc, NeedsConfirmation)), exc.status
    _after_write(verdict)
    return redirect(url_for("rooms.thread", thread_id=post.thread_id, _anchor=f"post-{post.id}"))


@bp.post("/posts/<int:post_id>/delete")
def delete(post_id: int):  # type: ignore[no-untyped-def]
    post = actions.access_post(db.session, current_user, post_id)
    actions.do_delete_post(db.session, current_user, post)
    db.session.commit()
    flash("Your post was deleted. Replies to it stay in the thread.")
    return redirect(url_for("rooms.thread", thread_id=post.thread_id))
