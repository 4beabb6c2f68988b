"""The article forms (labels and CSRF; the rules are the service's)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional

from supportdesk.core.web import options
from supportdesk.kb.models import BODY_MAX, TAG_MAX, TAGS_MAX, TITLE_MAX, Visibility

ACTIONS = ("save", "publish", "unpublish")


def optional_number(value: object) -> int | None:
    """An id or version from a form: ASCII digits only (int() takes '٣' and chokes on '²'); anything
    else is no value, which the service then refuses or ignores."""
    text = "" if value is None else str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None


class ArticleForm(FlaskForm):  # type: ignore[misc]
    title = StringField("Title", validators=[Length(max=TITLE_MAX)])
    body = TextAreaField("Article", validators=[Length(max=BODY_MAX)])
    category = SelectField("Category", coerce=optional_number, validators=[Optional()], validate_choice=False)
    tags = StringField("Tags", validators=[Length(max=TAGS_MAX * (TAG_MAX + 2))])
    visibility = RadioField(
        "Who can read it",
        choices=options(
            [
                (Visibility.PUBLIC.value, "Everyone (employees in the portal, once published)"),
                (Visibility.INTERNAL.value, "The desk only (internal)"),
            ]
        ),
        default=Visibility.PUBLIC.value,
    )
    # The version the editor opened: a newer one means a colleague saved in between.
    version = HiddenField(validators=[Optional(), Length(max=10)])
    action = HiddenField(default="save", validators=[Optional(), AnyOf(ACTIONS)])

    def tag_list(self) -> list[str]:
        return [t for t in (self.tags.data or "").split(",") if t.strip()]


class StateForm(FlaskForm):  # type: ignore[misc]
    """Publish or unpublish, on the version the technician saw."""

    version = HiddenField(validators=[Optional(), Length(max=10)])
