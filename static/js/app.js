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
