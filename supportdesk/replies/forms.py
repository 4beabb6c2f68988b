"""The canned-reply forms (labels and CSRF; the rules are the service's)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from supportdesk.replies.models import BODY_MAX, TITLE_MAX


class CannedReplyForm(FlaskForm):  # type: ignore[misc]
    title = StringField("Title", validators=[Length(max=TITLE_MAX)])
    body = TextAreaField("Text", validators=[Length(max=BODY_MAX)])
    # Where the form was, to go back there (the desk's page or the admins').
    next = HiddenField(validators=[Optional(), Length(max=200)])
