// The alert queue refreshes its rows every few seconds without reloading the page.
// New alerts are highlighted; the page title counts unacknowledged ones.
(function () {
  "use strict";
  var table = document.getElementById("alert-queue");
  if (!table) { return; }
  var body = document.getElementById("alert-rows");
  var status = document.getElementById("live-status");
  var url = table.getAttribute("data-live-url");
  var every = parseInt(table.getAttribute("data-poll-ms"), 10) || 2000;
  var baseTitle = document.title;

  function codes() {
    var seen = {};
    body.querySelectorAll("tr[data-code]").forEach(function (tr) { seen[tr.dataset.code] = true; });
    return seen;
  }

  function retitle() {
    var waiting = body.querySelectorAll("tr[data-state='open'], tr[data-state='notified']").length;
    document.title = waiting ? "(" + waiting + ") " + baseTitle : baseTitle;
  }

  function swap(html) {
    var before = codes();
    var focused = document.activeElement && body.contains(document.activeElement);
    if (focused || body.innerHTML.trim() === html.trim()) { return; }
    body.innerHTML = html;
    body.querySelectorAll("tr[data-code]").forEach(function (tr) {
      if (!before[tr.dataset.code]) { tr.classList.add("fresh"); }
    });
    retitle();
  }

  function poll() {
    fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (resp) {
        if (resp.status === 401) { window.location.reload(); throw new Error("signed out"); }
        if (!resp.ok) { throw new Error("HTTP " + resp.status); }
        return resp.text();
      })
      .then(function (html) {
        swap(html);
        status.textContent = "Live: updated " + new Date().toLocaleTimeString() + ".";
        status.classList.remove("stale");
      })
      .catch(function (err) {
        status.textContent = "Not updating (" + err.message + "): retrying.";
        status.classList.add("stale");
      })
      .finally(function () { window.setTimeout(poll, every); });
  }

  retitle();
  window.setTimeout(poll, every);
})();
