"""A browser-like HTTP session for forms on a live server: cookies kept, CSRF answered.

Django accepts a CSRF secret chosen by the client when the cookie and the header (or form field) agree, so
a session can post without first fetching a form; what is being tested stays the view, not the token dance.
"""

from contextlib import contextmanager

import requests

CSRF_SECRET = "governortestsuitecsrfsecret00000"  # 32 alphanumerics: the unmasked form Django accepts


@contextmanager
def browser_session(session_cookie: str | None = None):
    with requests.Session() as session:
        session.cookies.set("csrftoken", CSRF_SECRET)
        if session_cookie is not None:
            session.cookies.set("sessionid", session_cookie)
        session.headers["X-CSRFToken"] = CSRF_SECRET
        yield session
