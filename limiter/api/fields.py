"""Strict JSON field types: the hook API takes JSON as typed, it never coerces "42" into 42."""

import re
import uuid

from django.core.validators import RegexValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

MAX_INFO_LENGTH = 255
# Lengths are stored in 32-bit integer columns; anything larger is not a real prompt or response.
MAX_COUNT = 2**31 - 1


NO_NUL = r"^[^\x00]*$"


class StrictString(serializers.CharField):
    """A JSON string; over-long informational strings are cut, never rejected.

    NUL characters are refused (PostgreSQL cannot store them); `pattern` says so in the schema.
    """

    default_error_messages = {"invalid": "must be a string"}
    pattern = NO_NUL
    blank_ok = True

    def __init__(self, *, max_length: int = MAX_INFO_LENGTH, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("trim_whitespace", False)
        self.truncate_to = max_length
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(self.pattern))

    def run_validation(self, data=serializers.empty):
        # "" is taken here rather than through allow_blank, which drf-spectacular renders as a oneOf that ""
        # matches twice, making the empty string invalid in the schema.
        if data == "" and self.blank_ok:
            return ""
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return data[: self.truncate_to]


INSTALL_CODE = r"^[^\x00]*[^\s\x00][^\x00]*$"


class InstallCodeString(StrictString):
    """Something to look up: not blank."""

    pattern = INSTALL_CODE
    blank_ok = False


class StrictCount(serializers.IntegerField):
    """A JSON integer from 0 to `max_value` (booleans and numeric strings are not integers here)."""

    default_error_messages = {"invalid": "must be an integer from 0 to {max_value}"}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_COUNT)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        limit = MAX_COUNT if self.max_value is None else self.max_value
        if isinstance(data, bool) or not isinstance(data, int) or not 0 <= data <= limit:
            self.fail("invalid", max_value=self.max_value)
        return data


@extend_schema_field(OpenApiTypes.UUID)
class CanonicalUUID(serializers.Field):
    """A UUID string in the canonical 8-4-4-4-12 hex form, any version; not an int, URN or braced form."""

    # Contract E1 words this one without the usual colon.
    default_error_messages = {"invalid": "{name} must be a UUID"}
    pattern = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not self.pattern.fullmatch(data):
            self.fail("invalid", name=self.field_name)
        return uuid.UUID(data)

    def to_representation(self, value):
        return str(value)
