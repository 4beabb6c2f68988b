"""Canned replies through the JSON API: the desk lists its own and the shared ones and keeps its own;
admins keep the shared ones. Each write is one unit of work."""

from __future__ import annotations

from http import HTTPStatus

from flask import Response, request

from supportdesk.core.apikit import bp, current_actor, json_response, registry
from supportdesk.core.db import db
from supportdesk.replies import reads, service
from supportdesk.replies.models import CannedReply
from supportdesk.replies.schemas import CannedReplyIn, CannedReplyList, CannedReplyOut, CannedReplyPatch

TAG = "Canned replies"


def reply_out(reply: CannedReply) -> CannedReplyOut:
    return CannedReplyOut(
        id=reply.id, title=reply.title, body=reply.body, shared=reply.shared, updated_at=reply.updated_at
    )


@registry.route(
    bp,
    "/canned-replies",
    "GET",
    summary="Your canned replies and the shared ones (the desk); ?q= narrows by words",
    tag=TAG,
    responses={200: CannedReplyList},
)
def list_canned_replies() -> Response:
    found = reads.usable_replies(db.session(), current_actor(), request.args.get("q", ""))
    return json_response(
        CannedReplyList(
            items=[CannedReplyOut(id=r.id, title=r.title, body=r.body, shared=r.shared) for r in found]
        )
    )


@registry.route(
    bp,
    "/canned-replies",
    "POST",
    summary="Add a canned reply: yours, or shared (admins)",
    tag=TAG,
    body=CannedReplyIn,
    responses={201: CannedReplyOut},
)
def create_canned_reply(body: CannedReplyIn) -> Response:
    with db.transaction() as session:
        reply = service.create_reply(
            session, current_actor(), title=body.title, body=body.body, shared=body.shared
        )
        out = reply_out(reply)
    return json_response(out, HTTPStatus.CREATED)


@registry.route(
    bp,
    "/canned-replies/<id:reply_id>",
    "PATCH",
    summary="Change a canned reply of yours, or a shared one (admins)",
    tag=TAG,
    body=CannedReplyPatch,
    responses={200: CannedReplyOut},
)
def update_canned_reply(reply_id: int, body: CannedReplyPatch) -> Response:
    with db.transaction() as session:
        reply = service.update_reply(session, current_actor(), reply_id, title=body.title, body=body.body)
        out = reply_out(reply)
    return json_response(out)


@registry.route(
    bp,
    "/canned-replies/<id:reply_id>",
    "DELETE",
    summary="Delete a canned reply of yours, or a shared one (admins)",
    tag=TAG,
    responses={204: None},
)
def delete_canned_reply(reply_id: int) -> Response:
    with db.transaction() as session:
        service.delete_reply(session, current_actor(), reply_id)
    return Response(status=HTTPStatus.NO_CONTENT)
