from django.urls import path

from payments import views, webhooks

app_name = "payments"

urlpatterns = [
    path("payments/stripe/webhook/<slug:tenant_slug>/", webhooks.stripe_webhook, name="stripe_webhook"),
    path("dashboard/<slug:tenant_slug>/payments/", views.payment_settings, name="settings"),
]
