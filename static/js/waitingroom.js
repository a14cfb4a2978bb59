/* Waiting-room page: reload when the server says the person's state changed (admitted, sold out …), and
   poll the JSON status endpoint while the websocket is not connected. Works with live.js; the page works
   without either (it reloads itself through a <noscript> refresh). */
(function () {
  "use strict";
  var root = document.querySelector("[data-wr-entry]");
  if (!root) { return; }
  function reloadSoon() { setTimeout(function () { location.reload(); }, 800); }
  root.addEventListener("live:update", function (event) {
    if (event.detail && event.detail.reload) { reloadSoon(); }
  });
  if (root.dataset.wrState !== "waiting" && root.dataset.wrState !== "admitted") { return; }
  function apply(fields) {
    Object.keys(fields || {}).forEach(function (name) {
      root.querySelectorAll('[data-live-field="' + name + '"]').forEach(function (el) {
        if (el.textContent !== String(fields[name])) { el.textContent = fields[name]; }
      });
    });
  }
  function poll() {
    if (root.dataset.liveState === "connected") { return; }
    fetch(root.dataset.wrStatus, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (data.status !== root.dataset.wrState || String(data.sold_out) !== root.dataset.wrSoldOut) { return reloadSoon(); }
        apply(data.fields);
      })
      .catch(function () { /* try again next time */ });
  }
  setInterval(poll, root.dataset.wrState === "waiting" ? 10000 : 30000);
})();
