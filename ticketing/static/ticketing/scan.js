/* Camera scanning on the check-in page where the browser has BarcodeDetector; otherwise typing the
   code (or a USB scanner that types) works unchanged. A detected QR fills the form and submits it.
   Text comes from the page (data-unavailable, translated server-side). */
(function () {
  "use strict";
  var start = document.getElementById("scanner-start");
  var form = document.getElementById("check-in-form");
  if (!start || !form || !("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
  start.hidden = false;
  start.addEventListener("click", function () {
    var box = document.getElementById("scanner"), video = document.getElementById("scanner-video");
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      box.hidden = false; start.hidden = true; video.srcObject = stream; video.play();
      function tick() {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            stream.getTracks().forEach(function (t) { t.stop(); });
            form.querySelector("[name=code]").value = codes[0].rawValue;
            form.submit();
          } else { requestAnimationFrame(tick); }
        }).catch(function () { requestAnimationFrame(tick); });
      }
      tick();
    }).catch(function () { start.textContent = start.dataset.unavailable || start.textContent; start.disabled = true; });
  });
})();
