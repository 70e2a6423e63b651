"""The keyboard focus ring is seen: at every Tab stop of the busiest pages, the focused control
(link, top bar link, section tab, button, text input, select, checkbox) draws a
``:focus-visible`` outline whose colour stands at least 3:1 from the background it is drawn on
(WCAG 1.4.11, non-text contrast): the nearest ancestor with a background of its own, since the
outline sits outside the control. The colours are the browser's computed ones; the ratio is
WCAG's, worked out here.
"""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

# The focused element as the browser draws it, and what lies behind its outline.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  // Once round: the first element focused a second time ends the walk.
  window.tabSeen = window.tabSeen || new WeakSet();
  if (window.tabSeen.has(el)) return null;
  window.tabSeen.add(el);
  const style = getComputedStyle(el);
  let behind = null;
  for (let up = el.parentElement; up && !behind; up = up.parentElement) {
    const colour = getComputedStyle(up).backgroundColor;
    if (colour !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(colour)) behind = colour;
  }
  const tag = el.tagName.toLowerCase();
  const kind = el.closest('.topbar') ? 'top bar ' + (tag === 'a' ? 'link' : tag)
    : el.closest('[data-section-nav]') ? 'section tab'
    : tag === 'a' ? 'link'
    : tag === 'input' && el.type === 'checkbox' ? 'checkbox'
    : tag === 'input' || tag === 'textarea' ? 'text input'
    : tag;
  const label = (el.getAttribute('aria-label') || el.innerText || el.name || el.id || '')
    .trim().replace(/\\s+/g, ' ').slice(0, 40);
  return {kind, label, visible: el.matches(':focus-visible'), style: style.outlineStyle,
          width: parseFloat(style.outlineWidth), colour: style.outlineColor, behind};
}"""

RGB = re.compile(r"rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)")


def luminance(css_colour: str) -> float:
    """WCAG 2 relative luminance of a computed ``rgb()``/``rgba()`` colour."""
    match = RGB.match(css_colour)
    assert match, f"not a computed rgb colour: {css_colour!r}"

    def linear(value: str) -> float:
        c = float(value) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in match.groups())
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_is_wcags_ratio():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21.0)
    assert contrast("rgb(118, 118, 118)", "rgb(255, 255, 255)") == pytest.approx(4.54, abs=0.01)
    assert contrast("rgba(10, 20, 30, 1)", "rgb(10, 20, 30)") == pytest.approx(1.0)


def tab_through(page, limit: int = 250) -> list[dict]:
    """Each Tab stop of the page from its top, once round."""
    page.locator("body").focus()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED)
        if stop is None:
            break
        stops.append(stop)
    return stops


def test_every_tab_stop_shows_a_ring_of_3_to_1(page, login, admin_user, subscription):
    login(page, admin_user)
    page.set_viewport_size({"width": 1280, "height": 900})
    stops = []
    for path, ready in (
        (f"/subscriptions/{subscription.pk}/webhooks/", "Customer create"),
        (f"/subscriptions/{subscription.pk}/events/", "NetSuite internal ID"),
        ("/subscriptions/new/", "Certificate Private Key"),
    ):
        page.goto(path)
        page.get_by_label(ready).first.wait_for()
        stops += [dict(stop, page=path) for stop in tab_through(page)]

    failures, lowest = [], {}
    for stop in stops:
        where = f"{stop['kind']} {stop['label']!r} on {stop['page']}"
        if not stop["visible"] or stop["style"] == "none" or stop["width"] < 2:
            failures.append(f"{where}: no visible ring ({stop['style']} {stop['width']}px)")
            continue
        ratio = contrast(stop["colour"], stop["behind"])
        if ratio < 3.0:
            failures.append(f"{where}: {stop['colour']} on {stop['behind']} is {ratio:.2f}:1")
        if stop["kind"] not in lowest or ratio < lowest[stop["kind"]][0]:
            lowest[stop["kind"]] = (ratio, stop["colour"], stop["behind"])
    # The figures, for the record (pytest -s shows them).
    for kind, (ratio, colour, behind) in sorted(lowest.items()):
        print(f"focus ring, lowest for {kind}: {ratio:.2f}:1 ({colour} on {behind})")
    assert not failures, "\n".join(failures)
    kinds = {
        "link",
        "top bar link",
        "top bar button",
        "section tab",
        "button",
        "text input",
        "select",
        "checkbox",
    }
    assert kinds <= set(lowest), f"never reached by Tab: {kinds - set(lowest)}"
