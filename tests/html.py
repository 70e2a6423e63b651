"""Pages read as their controls: links, forms, buttons, ids; a plain module, not a test module.

A test that decides whether a control is offered asks the parsed page (``url in links(r)``)
instead of hunting for a piece of markup: a class added or an attribute moved does not break
it, and a control that is gone cannot hide behind text that happens to match. Built on the
stdlib ``html.parser``; entities are decoded, so an ``&amp;`` in an href reads as ``&``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements that never have a closing tag, so they never hold text or children.
VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}
# Every attribute through which a page sends the browser somewhere (plain or with htmx).
URL_ATTRIBUTES = (
    "href", "action", "formaction", "src", "hx-get", "hx-post", "hx-put", "hx-patch",
    "hx-delete",
)


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    # Left out of the repr so that a failed assertion prints the element, not the page.
    parent: Element | None = field(default=None, repr=False)
    children: list[Element | str] = field(default_factory=list, repr=False)

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    def has(self, name: str) -> bool:
        """A boolean attribute such as ``checked`` or ``disabled`` is present."""
        return name in self.attrs

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def text(self) -> str:
        """The text inside, whitespace collapsed, as a reader sees it."""
        return " ".join("".join(self._texts()).split())

    def _texts(self):
        for child in self.children:
            if isinstance(child, str):
                yield child
            else:
                yield from child._texts()

    def iter(self):
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs) -> list[Element]:
        """Descendants by tag and attributes: ``class_`` matches one class, a ``_`` in a name
        stands for ``-`` (``hx_post``), and ``True`` asks only that the attribute be there."""
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        return [e for e in self.iter() if (tag is None or e.tag == tag) and e._matches(wanted)]

    def find(self, tag: str | None = None, **attrs) -> Element | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def _matches(self, wanted: dict) -> bool:
        for name, value in wanted.items():
            if name not in self.attrs:
                return False
            if value is True:
                continue
            if name == "class" and value not in self.classes:
                return False
            if name != "class" and self.attrs[name] != value:
                return False
        return True

    def by_id(self, element_id: str) -> Element:
        found = self.find(id=element_id)
        if found is None:
            raise AssertionError(f"no element with id {element_id!r} in the page")
        return found


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs}, self.open[-1])
        self.open[-1].children.append(element)
        if tag not in VOID:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.open.pop()

    def handle_endtag(self, tag):
        # Browsers forgive a missing close tag; close up to the matching open one, ignore a
        # stray one.
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data):
        self.open[-1].children.append(data)


def parse(page) -> Element:
    """The document tree of a response (or of an HTML string)."""
    html = page if isinstance(page, str) else page.content.decode()
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def links(page) -> dict[str, str]:
    """href -> text of every link, the first one's text where several share an href."""
    found: dict[str, str] = {}
    for anchor in parse(page).find_all("a", href=True):
        found.setdefault(anchor["href"], anchor.text)
    return found


def urls(page) -> set[str]:
    """Every address a link, form, button or htmx attribute of the page leads to: what a test
    asks to make sure a page offers no way at all to some action."""
    return {
        element[name]
        for element in parse(page).iter()
        for name in URL_ATTRIBUTES
        if element.get(name)
    }


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str]
    buttons: list[str]
    element: Element


def _value(control: Element) -> str | None:
    if control.tag == "textarea":
        # The parser keeps the newline that HTML drops right after <textarea>.
        return "".join(control._texts()).removeprefix("\n")
    if control.tag == "select":
        options = control.find_all("option")
        chosen = [o for o in options if o.has("selected")] or options[:1]
        return chosen[0].get("value", chosen[0].text) if chosen else ""
    if control.get("type") in ("checkbox", "radio"):
        # What a browser sends: "on" for a checked box without a value, nothing when unchecked.
        return control.get("value", "on") if control.has("checked") else None
    if control.get("type") in ("submit", "button", "reset", "image", "file"):
        return None
    return control.get("value", "")


def forms(page) -> list[Form]:
    """Each form: its action, method (lower case, GET when unsaid), the values it would send,
    and the text of its submit buttons."""
    found = []
    for form in parse(page).find_all("form"):
        fields = {}
        for control in form.iter():
            if control.tag in ("input", "textarea", "select") and control.get("name"):
                value = _value(control)
                if value is not None:
                    fields[control["name"]] = value
        buttons = [
            b.text if b.tag == "button" else b.get("value", "")
            for b in form.iter()
            if b.tag == "button" or (b.tag == "input" and b.get("type") == "submit")
        ]
        found.append(
            Form(form.get("action", ""), form.get("method", "get").lower(), fields, buttons, form)
        )
    return found


def form_actions(page) -> set[str]:
    return {form.action for form in forms(page)}


def buttons(page) -> dict[str, Element]:
    """Button text -> the button (its attributes say whether it is disabled)."""
    return {button.text: button for button in parse(page).find_all("button")}


def ids(page) -> set[str]:
    return {element["id"] for element in parse(page).iter() if element.get("id")}


def text_of(page, element_id: str) -> str:
    """The text of the element with that id."""
    return parse(page).by_id(element_id).text


def table_rows(page, container_id: str | None = None) -> list[list[str]]:
    """The text of each cell (``th`` or ``td``) of each body row, in the first table, or in
    the first one inside the element with ``container_id``."""
    root = parse(page)
    if container_id:
        root = root.by_id(container_id)
    body = root.find("tbody")
    if body is None:
        raise AssertionError("no table body in the page")
    return [
        [cell.text for cell in row.children if getattr(cell, "tag", None) in ("th", "td")]
        for row in body.find_all("tr")
    ]


def definitions(page) -> dict[str, str]:
    """term -> description of every ``<dl>``: the label/value pairs a detail page shows."""
    pairs = {}
    for term in parse(page).find_all("dt"):
        siblings = [c for c in term.parent.children if isinstance(c, Element)]
        following = siblings[siblings.index(term) + 1 :]
        if following and following[0].tag == "dd":
            pairs[term.text] = following[0].text
    return pairs


def badges(page) -> list[tuple[str, str]]:
    """(kind, text) of every status badge: kind is ``ok``, ``warn``, ``bad`` or ``""``, the
    colour people read it by."""
    found = []
    for badge in parse(page).find_all(class_="badge"):
        kinds = [c.removeprefix("badge-") for c in badge.classes if c.startswith("badge-")]
        found.append((kinds[0] if kinds else "", badge.text))
    return found
