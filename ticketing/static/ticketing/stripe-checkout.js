// The card step: mounts Stripe's Payment Element for the session's PaymentIntent and confirms it.
// Stripe then sends the buyer to the return page, which (with the signed webhook) makes the order paid.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form || typeof window.Stripe !== "function") { return; }
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("card-submit");
  var stripe = window.Stripe(form.dataset.publishableKey);
  // Stripe's card form speaks the page's language; the fallback error text is translated server-side.
  var elements = stripe.elements({ clientSecret: form.dataset.clientSecret, locale: form.dataset.locale || "auto" });
  var element = elements.create("payment");
  element.mount("#payment-element");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.returnUrl } })
      .then(function (result) {
        // Only reached when the confirmation failed at once (a redirect happens otherwise).
        if (result.error) {
          errors.textContent = result.error.message || form.dataset.failedText;
          button.disabled = false;
        }
      });
  });
})();
