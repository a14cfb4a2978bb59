/* The checkout hold's live countdown. The page states the hold's end time (server-rendered, in the
   venue's zone) for readers without JavaScript; this counts down from the seconds the server said were
   left when it rendered the page (so a wrong clock on this device does not matter), announces the last
   minutes politely (texts from the page, translated there), and reloads when time is up (the server then shows that the checkout ended). */
(function () {
  "use strict";
  var box = document.querySelector("[data-hold-seconds]");
  if (!box) { return; }
  var left = box.querySelector("[data-hold-left]");
  var announce = box.querySelector("[data-hold-announce]");
  var wrapper = box.querySelector(".hold-countdown");
  var seconds = parseInt(box.dataset.holdSeconds, 10);
  if (!left || isNaN(seconds)) { return; }
  var ends = Date.now() + seconds * 1000;
  var announced = {};
  wrapper.hidden = false;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var remaining = Math.max(0, Math.round((ends - Date.now()) / 1000));
    left.textContent = Math.floor(remaining / 60) + ":" + pad(remaining % 60);
    box.classList.toggle("hold-ending", remaining <= 60);
    [120, 60].forEach(function (mark) {
      if (remaining <= mark && remaining > mark - 5 && !announced[mark]) {
        announced[mark] = true;
        announce.textContent = announce.getAttribute("data-text-" + mark) || "";
      }
    });
    if (remaining <= 0) {
      announce.textContent = announce.getAttribute("data-text-0") || "";
      clearInterval(timer);
      setTimeout(function () { location.reload(); }, 1500);
    }
  }
  var timer = setInterval(tick, 1000);
  tick();
})();
