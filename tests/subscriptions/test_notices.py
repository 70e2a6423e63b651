"""Problems as people read them: "What to do" as list items (numbered causes kept in order),
NetSuite's concurrency limit named as such, and a failed step named by what it was."""

from django.template.loader import render_to_string

from netsuite.errors import ConcurrencyLimitError, error_for_status, token_refusal_hint
from subscriptions.problems import Problem
from subscriptions.services.connection import STEP_NAMES, StepResult
from tests.html import parse


def rendered(problem: Problem):
    return parse(render_to_string("includes/notice.html", {"notice": problem}))


def test_numbered_causes_become_an_ordered_list_and_sentences_items():
    page = rendered(Problem("NetSuite refused the credentials.", hint=token_refusal_hint()))
    causes = [li.text for li in page.find("ol").find_all("li")]
    assert len(causes) >= 5
    assert causes[0].startswith("the Certificate ID is wrong")
    assert not any(c.startswith("(") for c in causes)
    items = [li.text for ul in page.find_all("ul") for li in ul.find_all("li")]
    assert "Likely causes, in order:" in items
    assert any(item.startswith("NetSuite's Login Audit Trail") for item in items)


def test_a_hint_of_several_sentences_is_one_item_each_and_keeps_e_g():
    hint = "Check the role, e.g. Administrator. Then try again! Or ask support."
    items = [li.text for li in rendered(Problem("x", hint=hint)).find("ul").find_all("li")]
    assert items == ["Check the role, e.g. Administrator.", "Then try again!", "Or ask support."]


def test_429_and_the_restlet_limit_are_named_netsuites_concurrency_limit():
    for status, body in ((429, ""), (400, '{"error": {"code": "SSS_REQUEST_LIMIT_EXCEEDED"}}')):
        error = error_for_status(status, body)
        assert isinstance(error, ConcurrencyLimitError)
        assert "concurrency limit" in error.message
        assert "concurrency limit" in Problem.of(error).hint


def test_a_failed_step_is_named_by_what_it_is_not_by_its_success():
    failed = StepResult("failed", problem=Problem("NetSuite could not be reached."))
    assert failed.as_dict("token")["label"] == "Token"
    assert StepResult("ok").as_dict("token")["label"] == "Token obtained (a fresh one)"
    assert set(STEP_NAMES) >= {"settings", "assertion", "token", "rest", "restlet", "governance"}
