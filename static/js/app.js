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
