"""Input and output shapes per endpoint (hook API contract §3, §10)."""

from datetime import UTC, datetime

from rest_framework import serializers

from ..families import UNKNOWN_POLICIES
from ..turns import TokenUsage
from .fields import CanonicalUUID, InstallCodeString, StrictCount, StrictString

MAX_TOKENS = 10**10


class RegisterIn(serializers.Serializer):
    code = InstallCodeString(max_length=100, required=True, allow_null=False)

    def to_internal_value(self, data):
        # The contract's one message for a missing, null or blank code.
        code = data.get("code") if isinstance(data, dict) else None
        if code is None or (isinstance(code, str) and not code.strip()):
            raise serializers.ValidationError({"non_field_errors": ["Install code required"]})
        return super().to_internal_value(data)


class SyncIn(serializers.Serializer):
    model = StrictString()
    hostname = StrictString()
    platform = StrictString()
    arch = StrictString()
    os_version = StrictString()
    node_version = StrictString()
    client_version = StrictString()
    claude_version = StrictString()
    session_id = StrictString()


class CheckIn(serializers.Serializer):
    model = StrictString()
    local_usage = serializers.JSONField(
        required=False, allow_null=True, help_text="Ignored; the server counts."
    )
    prompt_length = StrictCount()
    project_dir = StrictString()
    session_id = StrictString()


class TokenUsageIn(serializers.Serializer):
    input_tokens = StrictCount(max_value=MAX_TOKENS)
    output_tokens = StrictCount(max_value=MAX_TOKENS)
    cache_creation_input_tokens = StrictCount(max_value=MAX_TOKENS)
    cache_read_input_tokens = StrictCount(max_value=MAX_TOKENS)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("must be an object of token counts")
        values = super().to_internal_value(data)
        return TokenUsage(**{k: v or 0 for k, v in values.items()})


class CountIn(serializers.Serializer):
    model = StrictString()
    timestamp = StrictString(max_length=64)
    session_id = StrictString()
    response_length = StrictCount()
    event_id = CanonicalUUID()
    usage = TokenUsageIn(required=False, allow_null=True)

    def validate(self, attrs):
        attrs["client_time"] = parse_client_time(attrs.get("timestamp") or "")
        return attrs


def parse_client_time(text: str) -> datetime | None:
    """The client's clock reading, if it is one; only used to place replays, so junk is simply ignored."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ErrorOut(serializers.Serializer):
    error = serializers.CharField()


class RuleOut(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.ChoiceField(choices=["per_model", "credits", "time_of_day"])
    model = serializers.CharField(allow_null=True)
    window = serializers.CharField(allow_null=True)
    value = serializers.IntegerField(allow_null=True)
    schedule_start = serializers.CharField(allow_null=True)
    schedule_end = serializers.CharField(allow_null=True)
    schedule_tz = serializers.CharField(allow_null=True)


class SeatOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    slug = serializers.CharField()
    status = serializers.ChoiceField(choices=["active", "paused", "killed"])


class RegisterOut(serializers.Serializer):
    auth_token = serializers.CharField()
    user = SeatOut()
    limits = RuleOut(many=True)
    credit_weights = serializers.DictField(child=serializers.IntegerField())
    user_name = serializers.CharField()
    status = serializers.CharField()


class SyncOut(serializers.Serializer):
    status = serializers.CharField()
    limits = RuleOut(many=True)
    credit_weights = serializers.DictField(child=serializers.IntegerField())
    usage = serializers.DictField(child=serializers.IntegerField())
    credit_balance = serializers.IntegerField(allow_null=True)
    credit_budget = serializers.IntegerField(allow_null=True)
    message = serializers.CharField(allow_null=True)
    team_timezone = serializers.CharField()
    model_aliases = serializers.DictField(child=serializers.CharField())
    extra_families = serializers.ListField(child=serializers.CharField())
    # Governor extension: what the team does with model names it does not recognise, so that an offline
    # client refuses them where the server would.
    unknown_model_policy = serializers.ChoiceField(choices=UNKNOWN_POLICIES)
    offline_grace_seconds = serializers.IntegerField()
    server_time = serializers.CharField()


class CheckOut(serializers.Serializer):
    allowed = serializers.BooleanField()
    reason = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    limits = RuleOut(many=True)
    usage = serializers.DictField(child=serializers.IntegerField())
    credit_balance = serializers.IntegerField(allow_null=True)
    credit_budget = serializers.IntegerField(allow_null=True)
    message = serializers.CharField(allow_null=True)
    resets_at = serializers.CharField(allow_null=True)


class CheckErrorOut(serializers.Serializer):
    error = serializers.CharField()
    allowed = serializers.BooleanField()
    reason = serializers.CharField()
    resets_at = serializers.CharField(allow_null=True)


class CountOut(serializers.Serializer):
    recorded = serializers.BooleanField()
    new_balance = serializers.IntegerField(allow_null=True)
    duplicate = serializers.BooleanField(required=False)


class StatusOut(serializers.Serializer):
    user = SeatOut()
    credit_weights = serializers.DictField(child=serializers.IntegerField())
    credit_balance = serializers.IntegerField(allow_null=True)
    credit_budget = serializers.IntegerField(allow_null=True)
    limits = RuleOut(many=True)
    per_model = serializers.DictField(help_text='{family or "all": {window: {used, limit, remaining}}}')
    usage = serializers.DictField(help_text="{window: {counts, totalCredits, windowStart}}")


class RotateOut(serializers.Serializer):
    auth_token = serializers.CharField()


class HealthOut(serializers.Serializer):
    status = serializers.CharField()
    timestamp = serializers.CharField()
    version = serializers.CharField(required=False)
