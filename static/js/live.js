/* Live updates. Any element with data-live-socket="/ws/..." opens a websocket; each JSON message
   {"fields": {"name": "text"}} updates elements [data-live-field=name] inside it. Without a socket
   (or when it fails), the page falls back to a polling refresh of itself when data-live-poll is set.
   Pages work fully without this script. */
(function () {
  "use strict";
  function apply(root, payload) {
    var fields = (payload && (payload.fields || (payload.payload && payload.payload.fields))) || {};
    Object.keys(fields).forEach(function (name) {
      root.querySelectorAll('[data-live-field="' + name + '"]').forEach(function (el) {
        if (el.textContent !== String(fields[name])) { el.textContent = fields[name]; }
      });
    });
    root.dispatchEvent(new CustomEvent("live:update", { detail: payload }));
  }
  function connect(root, attempt) {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + root.dataset.liveSocket;
    var socket, opened = false;
    try { socket = new WebSocket(url); } catch (e) { return poll(root); }
    socket.onopen = function () { opened = true; attempt = 0; root.dataset.liveState = "connected"; };
    socket.onmessage = function (event) { try { apply(root, JSON.parse(event.data)); } catch (e) { /* ignore */ } };
    socket.onclose = function () {
      root.dataset.liveState = "disconnected";
      if (attempt > 5 && !opened) { return poll(root); }
      var delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random());
      setTimeout(function () { connect(root, attempt + 1); }, delay);
    };
    root._liveSocket = socket;
    setInterval(function () { if (socket.readyState === 1) { socket.send(JSON.stringify({ type: "ping" })); } }, 25000);
  }
  function poll(root) {
    var seconds = parseInt(root.dataset.livePoll || "0", 10);
    if (seconds > 0) { setTimeout(function () { location.reload(); }, seconds * 1000); }
  }
  document.querySelectorAll("[data-live-socket]").forEach(function (root) { connect(root, 0); });
})();
