"""A scripted person in a browser: follows redirects, fills the provider's login form, submits admin forms."""

from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name") and attrs.get("type") == "hidden":
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def forms_of(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class SsoBrowser:
    def __init__(self, app_url: str, idp_url: str) -> None:
        self.app_url = app_url
        self.idp_url = idp_url
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.app_url + path, timeout=15, **kwargs)

    def log_in(self, login: str) -> requests.Response:
        """Opens /admin/ like a person would and signs in at the provider; returns the page reached."""
        page = self.get("/admin/")
        assert page.url.startswith(f"{self.idp_url}/interaction/"), page.url
        form = next(f for f in forms_of(page.text) if f["fields"].get("prompt") == "login")
        data = {**form["fields"], "login": login, "password": "any password"}
        return self.http.post(urljoin(page.url, form["action"]), data=data, timeout=15)

    def submit_action(self, changelist: str, action: str, pks: list[str]) -> requests.Response:
        page = self.get(changelist)
        token = next(f["fields"]["csrfmiddlewaretoken"] for f in forms_of(page.text) if f["fields"])
        data = {"action": action, "_selected_action": pks, "index": "0", "csrfmiddlewaretoken": token}
        return self.http.post(
            self.app_url + changelist, data=data, headers={"Referer": self.app_url + changelist}, timeout=15
        )
