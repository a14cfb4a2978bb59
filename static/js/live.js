/* Live updates. Any element with data-live-socket="/ws/..." opens a websocket; each JSON message
   {"fields": {"name": "text"}} updates elements [data-live-field=name] inside it. Without a socket
   (or when it fails), the page falls back to a polling refresh of itself when data-live-poll is set.
   Pages work fully without this script. */
(function () {
  "use strict";
  function apply(root, payload) {
    var body = (payload && (payload.fields ? payload : payload.payload)) || {};
    // Text is rendered server-side in every language; take the page's (<html lang>), else the default.
    var byLanguage = body.fields_by_language || {};
    var fields = byLanguage[document.documentElement.lang] || body.fields || {};
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
    socket.onopen = function () { opened = true; root.dataset.liveState = "connected"; };
    socket.onmessage = function (event) { try { apply(root, JSON.parse(event.data)); } catch (e) { /* ignore */ } };
    socket.onclose = function (event) {
      root.dataset.liveState = "disconnected";
      if (event.code === 4404) { return poll(root); }  // the server says this page is gone: reload later
      var next = opened ? 0 : attempt + 1;
      if (next > 6) { return poll(root); }
      // Full jitter: when a server restarts, every page reconnects at once; a random delay in
      // 0..5 s, 0..10 s, 0..20 s, then 0..30 s spreads them so the server takes them in turn.
      var delay = Math.random() * Math.min(30000, 5000 * Math.pow(2, next));
      setTimeout(function () { connect(root, next); }, delay);
    };
    root._liveSocket = socket;
    // A handshake stuck in a full server backlog: give up after 10 s and retry later (onclose).
    setTimeout(function () { if (socket.readyState === 0) { socket.close(); } }, 10000);
  }
  function keepAlive(root) {
    setInterval(function () {
      var socket = root._liveSocket;
      if (socket && socket.readyState === 1) { socket.send(JSON.stringify({ type: "ping" })); }
    }, 25000);
  }
  function poll(root) {
    var seconds = parseInt(root.dataset.livePoll || "0", 10);
    if (seconds > 0) { setTimeout(function () { location.reload(); }, seconds * 1000); }
  }
  document.querySelectorAll("[data-live-socket]").forEach(function (root) { connect(root, 0); keepAlive(root); });
})();
