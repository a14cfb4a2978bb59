/* Queues on top of live.js: a dashboard board refreshes its fragment when the queue changes (debounced),
   and a status page that lost track of its place ("resync") reloads itself. Without JavaScript the pages
   refresh themselves (meta refresh) or by hand. */
(function () {
  "use strict";
  document.querySelectorAll("[data-live-socket]").forEach(function (root) {
    var timer = null;
    root.addEventListener("live:update", function (event) {
      var message = event.detail || {};
      if (message.type === "resync") { location.reload(); return; }
      if (message.type === "refresh" && root.dataset.liveRefresh) {
        clearTimeout(timer);
        timer = setTimeout(function () {
          fetch(root.dataset.liveRefresh, { credentials: "same-origin", headers: { "X-Live-Refresh": "1" } })
            .then(function (response) { return response.ok ? response.text() : null; })
            .then(function (html) {
              if (html === null) { return; }
              var focused = document.activeElement && document.activeElement.id;
              if (focused && root.contains(document.activeElement) && document.activeElement.value) { return; }
              root.innerHTML = html;
            })
            .catch(function () { /* the next change or the poll fallback will catch up */ });
        }, 300);
      }
    });
  });
})();
(function () {
  "use strict";
  /* New history lines of the watched ticket are appended to its list (text only, never HTML). */
  document.querySelectorAll("[data-live-socket]").forEach(function (root) {
    var list = root.querySelector("[data-live-history]");
    if (!list) { return; }
    root.addEventListener("live:update", function (event) {
      ((event.detail || {}).history || []).forEach(function (line) {
        var item = document.createElement("li");
        item.textContent = line;
        list.appendChild(item);
      });
    });
  });
})();
