"""The auditor's pages: the filtered, keyset-paged trail, one event, and the CSV export.

The export is a POST: it writes an audit event (``audit.exported``), and a GET that changes
something can be set off from another site by a link or an image.
"""

import csv
import json
from dataclasses import replace

from django.http import Http404, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from .. import audit
from ..forms.audit import AuditFilterForm, ChainAnchorForm
from ..permissions import require
from ..problems import Problem, Success
from ..selectors import audit as selectors
from .htmx import partial_or_page


def _filter_form(data) -> AuditFilterForm:
    return AuditFilterForm(
        data,
        subscriptions=selectors.audit_subscription_choices(),
        actions=selectors.audit_actions(),
    )


def _cursor(request, name: str) -> tuple[int | None, bool]:
    """A keyset cursor from the query string: (value, whether it was malformed)."""
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None, False
    # Beyond a 64-bit id the database would raise instead of finding nothing.
    if not raw.isdigit() or len(raw) > 19 or int(raw) >= 2**63:
        return None, True
    return int(raw), False


def _filter_params(form: AuditFilterForm) -> dict[str, str]:
    """The filters given and valid: for pager links and the export form's hidden fields."""
    return {
        name: form.data.get(name, "")
        for name in form.fields
        if form.data.get(name, "") and name not in form.errors
    }


def trail_context(request, *, subscription=None) -> dict:
    """The filtered, keyset-paged trail: of every subscription (the audit trail), or of one
    (its History section, where the subscription is no filter to choose)."""
    form = _filter_form(request.GET)
    if subscription is not None:
        del form.fields["subscription"]
    before, bad_before = _cursor(request, "before")
    after, bad_after = _cursor(request, "after")
    page = None
    notice = ""
    if form.is_valid():
        if bad_before or bad_after:
            notice = "The page link was not valid; showing the newest events."
            before = after = None
        filters = form.filters()
        if subscription is not None:
            filters = replace(filters, subscription_id=subscription.pk)
        page = selectors.audit_page(filters, before=before, after=after)
        if page.cursor_unknown:
            notice = "The page link points at no event; showing the newest events."
        for event in page.events:
            event.action_label = selectors.action_label(event.action)
            event.field_labels = [selectors.field_label(name) for name in event.changes or {}]
    # The export and the way back from an event keep the subscription as their filter.
    given = _filter_params(form)
    params, back = dict(given), _back_params(request.GET)
    if subscription is not None:
        params["subscription"] = back["subscription"] = str(subscription.pk)
    return {
        "nav": "audit",
        "form": form,
        "page": page,
        "notice": notice,
        "list_url": request.path,
        "filter_query": urlencode(given),
        "filter_params": params,
        # The list as it is now (filters and page), for the way back from an event.
        "back_query": urlencode(back),
        "people_names": selectors.audit_person_names(),
        "can_export": request.user.has_perm("subscriptions.export_auditevent"),
    }


@require_GET
@require("view_auditevent")
def audit_list(request):
    context = trail_context(request)
    return render(request, partial_or_page(request, "audit/list.html", "results"), context)


_BACK_PARAMS = ("subscription", "person", "action", "date_from", "date_to", "before", "after")


def _back_params(query) -> dict[str, str]:
    """Only the list's own parameters, each once: the way back is always the audit list, so
    whatever else a crafted link carries is dropped rather than passed on."""
    return {name: query[name] for name in _BACK_PARAMS if query.get(name)}


def _back_url(request) -> str:
    params = _back_params(QueryDict(request.GET.get("back", "")))
    url = reverse("subscriptions:audit_list")
    return f"{url}?{urlencode(params)}" if params else url


def _display(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _diff_rows(changes) -> list[dict]:
    """Rows field | before | after, the field as the form labelled it (its stored name kept
    beside it); values that are not a [before, after] pair are shown as facts in the after
    column (an export's filters, a rotation's counts)."""
    if not isinstance(changes, dict):
        return [{"field": "(changes)", "name": "", "before": "", "after": _display(changes)}]
    rows = []
    for name, value in changes.items():
        row = {"field": selectors.field_label(name), "name": name}
        if isinstance(value, list | tuple) and len(value) == 2:
            row.update(before=_display(value[0]), after=_display(value[1]))
        else:
            row.update(before="", after=_display(value))
        rows.append(row)
    return rows


@require_GET
@require("view_auditevent")
def audit_detail(request, pk):
    try:
        event = selectors.audit_event(pk)
    except selectors.AuditEvent.DoesNotExist:
        raise Http404("No such audit event.") from None
    context = {
        "nav": "audit",
        "event": event,
        "action_label": selectors.action_label(event.action),
        "back_url": _back_url(request),
        "diff": _diff_rows(event.changes),
        "hash_matches": event.hash_matches(),
        "subscription_exists": selectors.subscription_exists(event.subscription_id),
    }
    return render(request, "audit/detail.html", context)


def _chain_notice(report: audit.ChainReport) -> Problem | Success:
    if report.intact:
        keyed = f", {report.legacy} of them from before it was keyed" if report.legacy else ""
        anchored = (
            f" It still ends in the anchor's hash at event {report.anchor_id}: nothing up to "
            "the anchor was rewritten or removed."
            if report.anchor_id
            else ""
        )
        return Success(
            f"The chain is intact: {report.count} events checked{keyed}; none was edited, "
            f"inserted or deleted.{anchored}"
        )
    return Problem(
        message=f"The chain is broken at event {report.broken_at}: {report.problem}.",
        hint="Open that event and compare it with the last export or a backup of the trail. "
        "Tell the administrators: the trail was changed outside the dashboard, and nothing "
        "from that event on can be trusted until it is explained.",
    )


@require_GET
@require("view_auditevent")
def audit_verify(request):
    """Walk the whole chain now, as ``manage.py verify_audit_chain`` does; changes nothing.
    With an anchor (``ID:HASH`` from an earlier check) the chain up to that event must still
    end in that hash; a malformed one is a 400 with the form it takes, and nothing is walked."""
    form = ChainAnchorForm(request.GET)
    if not form.is_valid():
        context = {
            "nav": "audit",
            "anchor_form": form,
            "notice": Problem(
                message=f"The anchor was not checked: {form.errors['anchor'][0]}",
                hint="Paste the anchor exactly as an earlier check showed it, or leave it "
                "empty to check the chain alone.",
            ),
        }
        template = partial_or_page(request, "audit/verify.html", "result")
        return render(request, template, context, status=400)
    report = audit.verify_chain(anchor=form.cleaned_data["anchor"])
    context = {
        "nav": "audit",
        "report": report,
        "notice": _chain_notice(report),
        "anchor_form": form,
    }
    return render(request, partial_or_page(request, "audit/verify.html", "result"), context)


# CSV export ------------------------------------------------------------------------------

# The stored columns, in the selector's order.
RAW_COLUMNS = [
    "id",
    "created_at",
    "actor",
    "remote_addr",
    "request_id",
    "action",
    "target_type",
    "target_id",
    "target",
    "subscription_id",
    "changes",
    "reason",
    "prev_hash",
    "hash",
]
# Each raw column stays (the JSON "changes" is what a script reads, and the hashes are
# over it); the readable ones sit beside their raw column for a person with a spreadsheet.
EXPORT_COLUMNS = [
    *RAW_COLUMNS[: RAW_COLUMNS.index("action") + 1],
    "action_name",
    *RAW_COLUMNS[RAW_COLUMNS.index("action") + 1 : RAW_COLUMNS.index("changes") + 1],
    "changes_readable",
    *RAW_COLUMNS[RAW_COLUMNS.index("changes") + 1 :],
]
# A spreadsheet treats a cell starting with these as a formula, even inside quotes.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    elif hasattr(value, "isoformat"):
        value = value.isoformat()
    else:
        value = str(value)
    if value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class _Line:
    """csv.writer target that hands each written line straight back instead of buffering."""

    def write(self, value):
        return value


def _csv_lines(rows):
    writer = csv.writer(_Line())
    yield writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        values = dict(zip(RAW_COLUMNS, row, strict=True))
        values["action_name"] = selectors.action_label(values["action"])
        values["changes_readable"] = selectors.changes_text(values["changes"])
        yield writer.writerow([_cell(values[column]) for column in EXPORT_COLUMNS])


@require_POST
@require("export_auditevent")
def audit_export(request):
    form = _filter_form(request.POST)
    if not form.is_valid():
        context = {
            "notice": "The export was not started: fix the filters first.",
            "nav": "audit",
            "form": form,
            "page": None,
            "list_url": reverse("subscriptions:audit_list"),
            "filter_query": "",
            "filter_params": {},
            "people_names": selectors.audit_person_names(),
            "can_export": True,
        }
        return render(request, "audit/list.html", context, status=400)
    filters = form.filters()
    # Recorded before the first byte leaves: an export that is cut off midway is still on
    # record, and the streaming itself holds no transaction open.
    audit.record_export(actor=request.user, filters=filters.as_dict())
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(
        _csv_lines(selectors.audit_export_rows(filters)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
