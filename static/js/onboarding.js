// "Create your space": says whether the typed address is free while it is typed. Advisory only — the
// form's POST decides. Works without this file (the server checks on submit).
(function () {
  "use strict";
  var input = document.querySelector("input[data-slug-check]");
  var status = document.getElementById("slug-status");
  if (!input || !status || !window.fetch) return;
  var timer = null;
  var latest = 0;
  function check() {
    var value = input.value.trim().toLowerCase();
    if (!value) { status.textContent = ""; return; }
    var ticket = ++latest;
    var url = input.getAttribute("data-slug-check") + "?slug=" + encodeURIComponent(value);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (ticket !== latest) return;  // an older answer arriving late
        status.textContent = body.message || "";
        status.classList.toggle("slug-ok", !!body.available);
        status.classList.toggle("slug-bad", !body.available);
      })
      .catch(function () { if (ticket === latest) status.textContent = ""; });
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });
  var name = document.getElementById("id_name");
  // Suggest an address from the name until the person types one themselves.
  var touched = input.value !== "";
  input.addEventListener("input", function () { touched = true; });
  if (name) {
    name.addEventListener("input", function () {
      if (touched) return;
      input.value = name.value.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
        .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60);
      clearTimeout(timer);
      timer = setTimeout(check, 250);
    });
  }
  if (input.value) check();
})();
