// Starts django-jsonschema-form's JSON editor for every widget on an admin page. The package's own
// template pushes each widget's settings from an inline <script>, which the Content-Security-Policy
// forbids; ours carries them in a data attribute (escaped by the template) and this file reads them.
(function () {
  "use strict";
  function start(holder) {
    var context = JSON.parse(holder.getAttribute("data-context"));
    var options = Object.assign({}, context.options, { schema: context.schema });
    var editor = new window.JSONEditor(holder, options);
    var field = document.getElementById(context.id);
    editor.on("change", function () {
      field.value = JSON.stringify(editor.getValue());
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".jsonschema-editor[data-context]").forEach(start);
  });
})();
