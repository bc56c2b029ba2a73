"""Rows grouped by quarter-hour in the database, turned into local hours of the day in Python.

Django's `ExtractHour(..., tzinfo=…)` converts each row's time zone; on SQLite that is a Python function
called once per row, which at a million rows is most of a page's time. Grouping by whole quarter-hours
since the Unix epoch is native arithmetic on both databases, and a day has at most 96 buckets to convert.
Quarter-hours, not hours: every zone's offset is a multiple of 15 minutes (India +5:30, Nepal +5:45), so
a bucket never straddles two local hours.
"""

from datetime import datetime, tzinfo

from django.db.models import BigIntegerField, Func

QUARTER_SECONDS = 900


class QuarterHour(Func):
    """Whole quarter-hours since 1970-01-01 UTC of a datetime column."""

    output_field = BigIntegerField()
    template = f"(CAST(FLOOR(EXTRACT(EPOCH FROM %(expressions)s)) AS BIGINT) / {QUARTER_SECONDS})"

    def as_sqlite(self, compiler, connection, **extra_context):
        # '%%%%s': the template is %-formatted once here and the SQL once more by the cursor wrapper.
        template = f"(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) / {QUARTER_SECONDS})"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def local_hour(quarter: int, tz: tzinfo) -> int:
    """The hour of the day, in `tz`, that a QuarterHour bucket falls in."""
    return datetime.fromtimestamp(quarter * QUARTER_SECONDS, tz).hour
