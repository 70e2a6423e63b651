// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // Pre-fill the API URL from the Account ID while the person types, unless they
  // typed an API URL of their own. The server derives and checks it again on save.
  function hostLabel(account) {
    var a = account.trim();
    if (!/^[0-9]+(_[A-Za-z0-9]+)?$/.test(a)) return null;
    return a.replace("_", "-").toLowerCase();
  }
  document.addEventListener("input", function (event) {
    if (event.target.id !== "id_account_id") return;
    var api = document.getElementById("id_api_url");
    if (!api) return;
    var label = hostLabel(event.target.value);
    if (!label) return;
    if (api.value === "" || api.dataset.derived === api.value) {
      api.value = "https://" + label + ".suitetalk.api.netsuite.com/services/rest/record/v1";
      api.dataset.derived = api.value;
    }
  });
})();

// Copy a secret shown once (the new Webhook API Key) to the clipboard.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copyTarget);
    if (!source) return;
    var text = source.textContent.trim();
    function done(message) {
      button.textContent = message;
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { done("Copied"); },
        function () { done("Copy failed: select the key and press Ctrl+C"); }
      );
    } else {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      done("Selected: press Ctrl+C to copy");
    }
  });
})();

// The webhook table: flags never reported by NetSuite are drawn indeterminate (they are
// unknown, not off); a saved row announces its result and gets its checkbox's focus back; and
// a table answer older than a row saved meanwhile is not swapped in over it (the table and
// each row carry data-webhook-version, the newest recorded change when they were read).
(function () {
  "use strict";
  function versionOf(html) {
    var match = /data-webhook-version="(\d+)"/.exec(html || "");
    return match ? parseInt(match[1], 10) : null;
  }
  function bumpTable(version) {
    var table = document.getElementById("webhook-table");
    if (table && version > parseInt(table.dataset.webhookVersion || "0", 10)) {
      table.dataset.webhookVersion = String(version);
    }
  }
  // A row's answer whose row was replaced meanwhile (a table refresh answered first): swap it
  // into the row now shown under the same id, unless that one is newer. htmx fires the event
  // on the detached row, so the listener sits on each row.
  function retarget(event) {
    var target = event.detail.target;
    if (!target || !target.id || document.body.contains(target) || !event.detail.xhr) return;
    var current = document.getElementById(target.id);
    var answer = versionOf(event.detail.xhr.responseText);
    if (!current || answer === null) return;
    if (answer >= parseInt(current.dataset.webhookVersion || "0", 10)) {
      event.detail.target = current;
      bumpTable(answer);
    }
  }
  function enhance(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll("input[type=checkbox][data-indeterminate]").forEach(function (box) {
      box.indeterminate = true;
    });
    var rows = Array.prototype.slice.call(root.querySelectorAll("tr[data-webhook-version]"));
    if (root.matches && root.matches("tr[data-webhook-version]")) rows.push(root);
    rows.forEach(function (row) {
      if (row.dataset.webhookRetarget) return;
      row.dataset.webhookRetarget = "1";
      row.addEventListener("htmx:beforeSwap", retarget);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var table = document.getElementById("webhook-table");
    var target = event.detail.target;
    if (!table || !target || !event.detail.xhr) return;
    var answer = versionOf(event.detail.xhr.responseText);
    if (answer === null) return;
    var seen = parseInt(table.dataset.webhookVersion || "0", 10);
    if (target === table) {
      if (answer < seen && event.detail.requestConfig && event.detail.requestConfig.verb === "get") {
        // Read before the row saved meanwhile: keep the row, and ask again for the whole table.
        event.detail.shouldSwap = false;
        window.htmx.ajax("GET", table.getAttribute("hx-get"), { target: table, swap: "outerHTML" });
      }
    } else if (table.contains(target)) {
      bumpTable(answer);
    }
  });

  document.addEventListener("webhook-saved", function (event) {
    var detail = event.detail || {};
    var live = document.getElementById("webhook-announce");
    if (live) live.textContent = detail.message || "";
    if (detail.focus) {
      var box = document.getElementById(detail.focus);
      if (box) box.focus();
    }
  });
})();

// After a refused form post (a page with errors) or an in-page update that brought errors,
// focus goes to the first field in error, or to the error summary when no field is marked,
// so keyboard and screen-reader users land where the problem is.
(function () {
  function focusFirstError(root) {
    var field = root.querySelector('[aria-invalid="true"], .has-error input, .has-error select, .has-error textarea');
    var target = field || root.querySelector(".errorlist[role=alert], .msg-error[role=alert]");
    if (!target) return;
    if (!field && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus();
  }
  document.addEventListener("DOMContentLoaded", function () {
    focusFirstError(document.querySelector("main") || document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.elt;
    if (target && target.querySelector) focusFirstError(target);
  });
})();

// A subscription's section tabs (hx-boost, templates/subscriptions/_section_tabs.html) swap
// only the section: focus goes to the new section's heading and the change is announced, as a
// page load would tell a screen-reader user.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function (event) {
    // Fired on the swapped-in section itself (a tab's hx-target).
    if (!event.target || event.target.id !== "subscription-section") return;
    var heading = document.getElementById("section-heading");
    if (!heading || document.activeElement === heading) return;
    heading.focus();
    var live = document.getElementById("section-announce");
    if (live) live.textContent = heading.textContent.trim() + " section";
  });
})();

// After an in-page update the person started (a form posted, a link followed in place), or
// one that replaced the part of the page they were in (the Certificate section refreshing
// itself when the staged test finished), the control they used is gone and focus would fall
// back to the page's start: it goes to the updated part's message (success or problem) or,
// without one, to its heading. It is left alone when it is somewhere else by then (moved by
// the person meanwhile, kept by htmx on a field of the same id, put on an error above), and
// on polls and other updates nobody asked for.
(function () {
  "use strict";
  var asked = typeof WeakMap === "function" ? new WeakMap() : null;
  if (!asked) return;
  function focusLost() {
    var active = document.activeElement;
    return !active || active === document.body || active === document.documentElement;
  }
  function headingOf(region) {
    var named = region.getAttribute("aria-labelledby");
    var heading = named && document.getElementById(named.split(/\s+/)[0]);
    if (heading && region.contains(heading)) return heading;
    return region.querySelector("h1, h2, h3, h4, h5, h6");
  }
  function landingIn(root) {
    var notice = ".notice, .msg[role=status], .msg[role=alert]";
    if (root.matches(notice)) return root;
    var found = root.querySelector(notice) || headingOf(root);
    if (found) return found;
    // A part without a heading of its own (a test's result): the heading of its card.
    var card = root.parentElement && root.parentElement.closest("[aria-labelledby]");
    return card ? headingOf(card) : null;
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail || {};
    var trigger = detail.requestConfig && detail.requestConfig.triggeringEvent;
    var target = detail.target;
    // No triggering event: a poll, a "load" trigger, a request made from a script.
    if (!detail.xhr || !trigger || !target) return;
    // The section tabs move the focus to the section's heading themselves.
    if (target.id === "subscription-section") return;
    var inside = !focusLost() && target.contains(document.activeElement);
    if (inside || (focusLost() && trigger.isTrusted)) {
      asked.set(detail.xhr, { byPerson: trigger.isTrusted });
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var detail = event.detail || {};
    var wanted = detail.xhr && asked.get(detail.xhr);
    var root = detail.elt;
    if (!wanted || !root || root.nodeType !== 1 || !document.body.contains(root)) return;
    asked.delete(detail.xhr); // one landing per answer, even when it swapped in several parts
    if (!focusLost()) return;
    var landing = landingIn(root);
    if (!landing) return;
    if (!landing.hasAttribute("tabindex") && landing.tabIndex < 0) {
      landing.setAttribute("tabindex", "-1");
    }
    // An update the person did not ask for does not scroll the page away from where they are.
    landing.focus({ preventScroll: !wanted.byPerson });
  });
})();

// htmx keeps a copy of each page left through a section tab, for the back button. A change
// made in place (any request but a GET: an activation, a saved Auth Details entry) leaves
// those copies out of date (the Overview would show the Certificate ID before the
// activation), so they are dropped and going back asks the server for the page again.
(function () {
  "use strict";
  document.addEventListener("htmx:afterRequest", function (event) {
    var config = event.detail && event.detail.requestConfig;
    if (!config || String(config.verb).toLowerCase() === "get") return;
    try {
      window.sessionStorage.removeItem("htmx-history-cache");
    } catch (e) {
      // Storage refused (a private window): htmx keeps no copies either.
    }
  });
})();

// Copy buttons (templates/includes/copy_button.html) beside the IDs a person pastes into
// NetSuite or a ticket: the Clipboard API copies the button's data-copy, and the status
// beside it says so (an aria-live region, so a screen reader hears it too). One listener on
// the document serves buttons swapped in later by htmx as well.
(function () {
  "use strict";
  function say(button, text) {
    var status = button.parentNode && button.parentNode.querySelector(".copy-status");
    if (!status) return;
    status.textContent = text;
    window.clearTimeout(button.copyTimer);
    button.copyTimer = window.setTimeout(function () {
      status.textContent = "";
    }, 5000);
  }
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest && event.target.closest(".copy-button");
    if (!button) return;
    var value = button.getAttribute("data-copy") || "";
    var clipboard = navigator.clipboard;
    if (!clipboard || !clipboard.writeText) {
      say(button, "Not copied: this browser allows no copying here; select the text instead");
      return;
    }
    clipboard.writeText(value).then(
      function () {
        say(button, "Copied");
      },
      function () {
        say(button, "Not copied: select the text and copy it instead");
      }
    );
  });
})();

// Issue 16: the viewer's time zone. The server renders every moment in the zone the "tz"
// cookie names (subscriptions/viewer_zone.py, UTC without it), so whole pages and htmx
// partials agree; this keeps the cookie equal to the browser's zone. The first page a
// browser sees (before the cookie) says UTC; every later one is local.
(function () {
  "use strict";
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    return;
  }
  // A tz database name only (the server checks it again against zoneinfo).
  if (!/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) return;
  var current = document.cookie.split("; ").filter(function (c) {
    return c.indexOf("tz=") === 0;
  })[0];
  if (current === "tz=" + zone) return;
  document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax" +
    (location.protocol === "https:" ? "; Secure" : "");
})();

// Issue 16, pages that stay true: an answer that changed a state other parts show says so
// (HX-Trigger: jobs-changed, connection-tested, webhooks-changed, certificate-changed) and
// those parts ask for themselves again (hx-trigger="<event> from:body"); app.js only moves
// no focus for them (the block above leaves updates nobody asked for alone) and tells a
// screen reader when a job ended, in the Jobs section's live region.
(function () {
  "use strict";
  document.addEventListener("jobs-changed", function (event) {
    var live = document.getElementById("jobs-announce");
    var detail = event.detail || {};
    if (live && detail.message) live.textContent = detail.message;
  });
})();
