"""Reads a hook API request body whole, or refuses it: never a silently empty or cut-short body.

Django trusts Content-Length: without one (a chunked upload) WSGI hands the view an empty body, which would
parse as `{}`; with one that overstates the body, a client that hangs up early leaves a short body. Both are
refused here, and the 64 KiB limit (contract §1) applies however the body is framed.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http.request import UnreadablePostError
from rest_framework import exceptions

from .errors import BodyTooLarge


class UnreadableBody(exceptions.ParseError):
    default_detail = "The request body could not be read whole"


def _is_chunked(meta: dict) -> bool:
    return "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()


def _read_unframed(request) -> bytes:
    """A chunked body: the server decodes the chunks; read at most one byte past the limit."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    environ = getattr(request, "environ", None)
    # WSGI: Django wrapped wsgi.input in a zero-length stream (no Content-Length); gunicorn's own stream knows
    # where the chunked body ends. ASGI: the handler already gathered the body into request._stream.
    stream = environ["wsgi.input"] if environ is not None and "wsgi.input" in environ else request._stream
    raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise BodyTooLarge()
    return raw


def read_body(request) -> bytes:
    """The whole body of a Django request; BodyTooLarge (413) or a ParseError (400) otherwise."""
    meta = request.META
    length = meta.get("CONTENT_LENGTH") or ""
    if length and not (length.isascii() and length.isdigit()):
        raise exceptions.ParseError("Content-Length must be a whole number of bytes")
    try:
        if not length and _is_chunked(meta):
            return _read_unframed(request)
        raw = request.body
    except RequestDataTooBig as exc:
        raise BodyTooLarge() from exc
    except exceptions.APIException:
        raise
    except (UnreadablePostError, OSError, ValueError) as exc:
        raise UnreadableBody() from exc
    except Exception as exc:
        # The app server's own parse errors (gunicorn's invalid chunk size, say): the client's fault, a 400.
        raise UnreadableBody() from exc
    if len(raw) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        # An ASGI server may decode a chunked body and drop its Transfer-Encoding: still capped.
        raise BodyTooLarge()
    if length and len(raw) != int(length):
        # The client promised more than it sent and hung up.
        raise UnreadableBody()
    return raw
