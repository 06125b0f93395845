"""Reading pages the way a browser without JavaScript (or a screen reader) would.

``forms(html)`` returns each form with its action, method, fields and the visible
label of every control; ``links(html)`` the internal links; ``inline_code(html)``
every inline script body, ``<style>`` element, ``style=`` or ``on*=`` attribute and
``javascript:`` URL (all forbidden by Haven's Content-Security-Policy).
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit


@dataclass
class Control:
    tag: str
    name: str
    type: str
    value: str
    id: str
    checked: bool
    label: str = ""


@dataclass
class Form:
    action: str
    method: str
    controls: list[Control] = field(default_factory=list)

    def names(self) -> set[str]:
        return {c.name for c in self.controls if c.name}

    def visible(self) -> list[Control]:
        return [c for c in self.controls if c.type not in ("hidden", "submit", "button")]

    def control(self, name: str, value: str | None = None) -> Control:
        for c in self.controls:
            if c.name == name and (value is None or c.value == value):
                return c
        raise AssertionError(f"no control {name!r} (value {value!r}) in form {self.action}")

    def data(self, **values: str) -> dict[str, str]:
        """What submitting the form sends: hidden fields as they are, plus ``values``."""
        sent = {c.name: c.value for c in self.controls if c.type == "hidden" and c.name}
        sent.update(values)
        return sent


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self.inline: list[str] = []
        self._form: Form | None = None
        self._labels: list[tuple[str | None, list[str], list[Control]]] = []  # (for, text, wrapped)
        self._finished_labels: list[tuple[str | None, str, list[Control]]] = []
        self._script: dict[str, str] | None = None
        self._script_text: list[str] = []

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: (v or "") for k, v in attrs_list}
        for name, value in attrs.items():
            if name.startswith("on"):
                self.inline.append(f"<{tag} {name}=...> event handler attribute")
            if name == "style":
                self.inline.append(f"<{tag} style=...> inline style attribute")
            if name in ("href", "src", "action", "formaction") and value.strip().lower().startswith("javascript:"):
                self.inline.append(f"<{tag} {name}=javascript:...>")
        if tag == "style":
            self.inline.append("<style> element")
        if tag == "script":
            self._script = attrs
            self._script_text = []
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "form":
            self._form = Form(attrs.get("action", ""), attrs.get("method", "get").lower())
            self.forms.append(self._form)
        if tag == "label":
            self._labels.append((attrs.get("for"), [], []))
        if tag in ("input", "select", "textarea", "button") and self._form is not None:
            control = Control(tag, attrs.get("name", ""), attrs.get("type", "text" if tag == "input" else tag),
                              attrs.get("value", ""), attrs.get("id", ""), "checked" in attrs)
            if tag == "button":
                control.type = attrs.get("type", "submit")
            self._form.controls.append(control)
            for _for, _text, wrapped in self._labels:
                wrapped.append(control)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if tag == "label" and self._labels:
            target, text, wrapped = self._labels.pop()
            self._finished_labels.append((target, " ".join("".join(text).split()), wrapped))
        if tag == "script" and self._script is not None:
            body = "".join(self._script_text).strip()
            if "src" not in self._script:
                self.inline.append("<script> without src")
            elif body:
                self.inline.append("<script src> with an inline body")
            self._script = None

    def handle_data(self, data: str) -> None:
        for _for, text, _wrapped in self._labels:
            text.append(data)
        if self._script is not None:
            self._script_text.append(data)

    def close(self) -> None:
        super().close()
        by_id = {c.id: c for f in self.forms for c in f.controls if c.id}
        for target, text, wrapped in self._finished_labels:
            if target and target in by_id:
                by_id[target].label = by_id[target].label or text
            for control in wrapped:
                control.label = control.label or text


def parse(html: str) -> _Parser:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser


def forms(html: str) -> list[Form]:
    return parse(html).forms


def form_posting_to(html: str, path: str) -> Form:
    for form in forms(html):
        if urlsplit(form.action).path == path and form.method == "post":
            return form
    raise AssertionError(f"no form posting to {path}")


def inline_code(html: str) -> list[str]:
    return parse(html).inline


def internal_links(html: str, base: str) -> list[str]:
    """Same-site paths linked from the page (query kept, fragment dropped)."""
    found = []
    for href in parse(html).links:
        url = urlsplit(urljoin(base, href))
        if url.scheme in ("http", "https") and url.netloc in ("", "localhost"):
            found.append(url.path + (f"?{url.query}" if url.query else ""))
    return found


def text_of(html: str) -> str:
    """The page's visible text, whitespace collapsed (scripts and tags dropped)."""
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.DOTALL)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def comparable(html: str, name: str) -> str:
    """``html`` with the typed pseudonym ``name`` and the CSRF tokens masked, for "answer alike" checks.

    A CSRF token carries the second it was signed in, so two answers a second apart differ
    there and nowhere else that matters.
    """
    html = html.replace(name, "NAME")
    return re.sub(r'(name="csrf_token" value|name="csrf-token" content)="[^"]+"', r'\1="TOKEN"', html)
