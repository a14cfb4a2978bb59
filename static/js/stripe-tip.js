// The tip's card on a creator's request form: Stripe's Payment Element in deferred mode turns the card
// into a PaymentMethod in the browser; the server authorises the tip with it (manual capture) when the
// form arrives, and captures it only when the creator accepts the request.
(function () {
  "use strict";
  var form = document.getElementById("submit-form");
  if (!form || !form.dataset.publishableKey || typeof window.Stripe !== "function") { return; }
  var tipInput = form.querySelector("[name=tip]");
  var methodInput = form.querySelector("[name=payment_method]");
  var errors = document.getElementById("tip-card-errors");
  var stripe = window.Stripe(form.dataset.publishableKey);
  function cents() {
    var value = parseFloat((tipInput && tipInput.value || "0").replace(",", "."));
    return isNaN(value) ? 0 : Math.round(value * 100);
  }
  var elements = stripe.elements({
    mode: "payment", amount: Math.max(cents(), 50), currency: form.dataset.currency,
    captureMethod: "manual", paymentMethodTypes: ["card"]
  });
  elements.create("payment").mount("#tip-card-element");
  if (tipInput) {
    tipInput.addEventListener("change", function () { elements.update({ amount: Math.max(cents(), 50) }); });
  }
  var sending = false;
  form.addEventListener("submit", function (event) {
    if (sending || cents() === 0) { return; }  // no tip: nothing to authorise
    event.preventDefault();
    errors.textContent = "";
    elements.submit().then(function (checked) {
      if (checked.error) { errors.textContent = checked.error.message; return null; }
      return stripe.createPaymentMethod({ elements: elements });
    }).then(function (result) {
      if (!result) { return; }
      if (result.error) { errors.textContent = result.error.message; return; }
      methodInput.value = result.paymentMethod.id;
      sending = true;
      form.submit();
    });
  });
})();
