"""Desk mailboxes and the mail read from them, through the JSON API (admins)."""

from __future__ import annotations

from http import HTTPStatus

from flask import Response

from supportdesk.core.apikit import bp, current_actor, json_response, registry
from supportdesk.core.db import db
from supportdesk.core.origin import request_origin
from supportdesk.inbound import mailboxes, reads, receiving
from supportdesk.inbound.mailboxes import MailboxFields
from supportdesk.inbound.models import Mailbox, Receipt
from supportdesk.inbound.schemas import (
    MailboxIn,
    MailboxList,
    MailboxOut,
    ReceiptList,
    ReceiptOut,
    ReceiptQuery,
)

TAG = "Mailboxes"


def mailbox_out(mailbox: Mailbox) -> MailboxOut:
    return MailboxOut(
        id=mailbox.id,
        name=mailbox.name,
        address=mailbox.address,
        host=mailbox.host,
        port=mailbox.port,
        security=mailbox.security,
        username=mailbox.username,
        folder=mailbox.folder,
        after_import=mailbox.after_import,
        processed_folder=mailbox.processed_folder,
        unknown_senders=mailbox.unknown_senders,
        allowed_domains=mailbox.allowed_domains,
        per_sender_per_hour=mailbox.per_sender_per_hour,
        is_active=mailbox.is_active,
        last_polled_at=mailbox.last_polled_at,
        last_error=mailbox.last_error,
    )


def _fields(body: MailboxIn) -> MailboxFields:
    values = body.model_dump()
    values["allowed_domains"] = tuple(values["allowed_domains"])
    return MailboxFields(**values)


def receipt_out(row: reads.ReceiptRow) -> ReceiptOut:
    return ReceiptOut(
        id=row.id,
        mailbox_id=row.mailbox_id,
        message_id=row.message_key,
        sender=row.sender,
        subject=row.subject,
        outcome=row.outcome,
        detail=row.detail,
        ticket_number=row.ticket_number,
        received_at=row.received_at,
    )


def _receipt_row(receipt: Receipt, ticket_number: int | None) -> reads.ReceiptRow:
    return reads.ReceiptRow(
        receipt.id,
        receipt.mailbox_id,
        "",
        receipt.message_key,
        receipt.sender,
        receipt.subject,
        receipt.outcome,
        receipt.detail,
        ticket_number,
        receipt.received_at,
        None,
    )


@registry.route(
    bp, "/mailboxes", "GET", summary="Desk mailboxes (admins)", tag=TAG, responses={200: MailboxList}
)
def list_mailboxes() -> Response:
    items = mailboxes.list_mailboxes(db.session(), current_actor())
    return json_response(MailboxList(items=[mailbox_out(m) for m in items]))


@registry.route(
    bp,
    "/mailboxes",
    "POST",
    summary="Connect a mailbox (admins): its mail becomes tickets and replies",
    tag=TAG,
    body=MailboxIn,
    responses={201: MailboxOut},
)
def create_mailbox(body: MailboxIn) -> Response:
    with db.transaction() as session:
        mailbox = mailboxes.create_mailbox(
            session, current_actor(), _fields(body), origin=request_origin("api")
        )
    return json_response(mailbox_out(mailbox), HTTPStatus.CREATED)


@registry.route(
    bp,
    "/mailboxes/<id:mailbox_id>",
    "GET",
    summary="A desk mailbox (admins)",
    tag=TAG,
    responses={200: MailboxOut},
)
def get_mailbox(mailbox_id: int) -> Response:
    return json_response(mailbox_out(mailboxes.get_mailbox(db.session(), current_actor(), mailbox_id)))


@registry.route(
    bp,
    "/mailboxes/<id:mailbox_id>",
    "PUT",
    summary="Replace a mailbox's settings (admins); without a password the stored one is kept",
    tag=TAG,
    body=MailboxIn,
    responses={200: MailboxOut},
)
def replace_mailbox(mailbox_id: int, body: MailboxIn) -> Response:
    with db.transaction() as session:
        mailbox = mailboxes.update_mailbox(
            session, current_actor(), mailbox_id, _fields(body), origin=request_origin("api")
        )
    return json_response(mailbox_out(mailbox))


@registry.route(
    bp,
    "/mailboxes/<id:mailbox_id>",
    "DELETE",
    summary="Delete a mailbox and its receipts (admins); its tickets stay",
    tag=TAG,
    responses={204: None},
)
def delete_mailbox(mailbox_id: int) -> Response:
    with db.transaction() as session:
        mailboxes.delete_mailbox(session, current_actor(), mailbox_id, origin=request_origin("api"))
    return Response(status=HTTPStatus.NO_CONTENT)


@registry.route(
    bp,
    "/mail-receipts",
    "GET",
    summary="Mail read from the mailboxes and what became of it, newest first (admins)",
    tag=TAG,
    query=ReceiptQuery,
    responses={200: ReceiptList},
)
def list_mail_receipts(query: ReceiptQuery) -> Response:
    rows = reads.list_receipts(
        db.session(), current_actor(), outcome=query.outcome, mailbox_id=query.mailbox_id, limit=query.limit
    )
    return json_response(ReceiptList(items=[receipt_out(r) for r in rows]))


@registry.route(
    bp,
    "/mail-receipts/<id:receipt_id>/retry",
    "POST",
    summary="Import a quarantined message again (admins)",
    tag=TAG,
    responses={200: ReceiptOut},
)
def retry_mail_receipt(receipt_id: int) -> Response:
    with db.transaction() as session:
        receipt = receiving.retry_quarantined(session, current_actor(), receipt_id)
        number = receipt.ticket.number if receipt.ticket is not None else None
        row = _receipt_row(receipt, number)
    return json_response(receipt_out(row))


@registry.route(
    bp,
    "/mail-receipts/<id:receipt_id>/discard",
    "POST",
    summary="Throw a quarantined message away (admins); it is not imported if read again",
    tag=TAG,
    responses={200: ReceiptOut},
)
def discard_mail_receipt(receipt_id: int) -> Response:
    with db.transaction() as session:
        receipt = receiving.discard_quarantined(session, current_actor(), receipt_id)
        row = _receipt_row(receipt, None)
    return json_response(receipt_out(row))
