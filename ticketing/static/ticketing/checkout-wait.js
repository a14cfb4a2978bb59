/* Waiting for a checkout place (ticketing.views_wait): submit the page's form (the buyer's choice, with
   its CSRF token) by itself as soon as a place is free. Told by the event's availability socket
   (live.js raises "live:update" with {checkout_free: n}); a periodic fetch of the places URL covers a
   socket that is down. A random delay of up to 1.5 s spreads the browsers that all hear of the same
   place. If another buyer takes it first, the server brings this page back and the wait goes on. */
(function () {
  "use strict";
  var root = document.querySelector("[data-checkout-wait]");
  if (!root) { return; }
  var form = root.querySelector("[data-wait-form]");
  var state = root.querySelector("[data-wait-state]");
  var sent = false;
  function go() {
    if (sent) { return; }
    sent = true;
    if (state) { state.textContent = state.dataset.textGoing || "…"; }
    setTimeout(function () { form.submit(); }, Math.random() * 1500);
  }
  function heard(free) { if (typeof free === "number" && free > 0) { go(); } }
  root.addEventListener("live:update", function (event) {
    var payload = event.detail || {};
    heard(payload.checkout_free !== undefined ? payload.checkout_free : (payload.payload || {}).checkout_free);
  });
  function check() {
    if (sent || !window.fetch) { return; }
    fetch(root.dataset.placesUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body) { heard(body.free); } })
      .catch(function () { /* offline for a moment: the next check tries again */ });
  }
  // Socket first; the fetch is the fallback (every 10 s, and once now in case a place is already free).
  heard(parseInt(root.dataset.free, 10));
  setInterval(check, 10000);
})();
