from django.urls import path

from ticketing import views, views_payments, views_search, views_wait

app_name = "ticketing"

D = "dashboard/<slug:tenant_slug>/"

urlpatterns = [
    path(D + "events/", views.dashboard_events, name="events"),
    path(D + "events/new/", views.dashboard_event_create, name="event_create"),
    path(D + "events/<int:event_id>/", views.dashboard_event, name="event"),
    path(D + "events/<int:event_id>/edit/", views.dashboard_event_edit, name="event_edit"),
    path(D + "events/<int:event_id>/check-in/", views.dashboard_check_in, name="check_in"),
    path(
        D + "events/<int:event_id>/refund-policy/",
        views_payments.dashboard_refund_policy,
        name="refund_policy",
    ),
    path(D + "events/<int:event_id>/<slug:action>/", views.dashboard_event_action, name="event_action"),
    path(D + "events/<int:event_id>/tiers/new/", views.dashboard_tier_form, name="tier_create"),
    path(D + "events/<int:event_id>/tiers/<int:tier_id>/", views.dashboard_tier_form, name="tier_edit"),
    path(D + "venues/new/", views.dashboard_venue_form, name="venue_create"),
    path(D + "venues/<int:venue_id>/", views.dashboard_venue_form, name="venue_edit"),
    path(D + "orders/", views.dashboard_orders, name="orders"),
    path(D + "orders/<int:order_id>/", views.dashboard_order, name="order"),
    path(
        D + "orders/<int:order_id>/refund-tickets/",
        views_payments.dashboard_order_refund,
        name="order_refund",
    ),
    path(D + "orders/<int:order_id>/<slug:action>/", views.dashboard_order_action, name="order_action"),
]

# Mounted under /<tenant_slug>/ as ``ticketing_public``.
public_urlpatterns = [
    path("events/", views_search.event_list, name="events"),
    path("e/<slug:event_slug>/", views.event_detail, name="event"),
    path("e/<slug:event_slug>/checkout/", views.checkout_start, name="checkout_start"),
    path("e/<slug:event_slug>/checkout/wait/", views_wait.checkout_wait, name="checkout_wait"),
    path("e/<slug:event_slug>/checkout/places/", views_wait.checkout_places, name="checkout_places"),
    path("checkout/<str:token>/", views.checkout_page, name="checkout"),
    path("checkout/<str:token>/cancel/", views.checkout_abandon, name="checkout_abandon"),
    path("checkout/<str:token>/card/", views_payments.checkout_card, name="checkout_card"),
    path("checkout/<str:token>/paid/", views_payments.checkout_paid, name="checkout_paid"),
    path("orders/send-link/", views.order_link_request, name="order_link"),
    path("orders/<str:token>/receipt/", views_payments.order_receipt, name="order_receipt"),
    path("orders/<str:token>/refund/", views_payments.order_refund_request, name="order_refund"),
    path("orders/<str:token>/", views.order_page, name="order"),
    path("tickets/<str:code>/", views.ticket_page, name="ticket"),
    path("my-tickets/", views.my_tickets_request, name="my_tickets_request"),
    path("my-tickets/<str:signed>/", views.my_tickets, name="my_tickets"),
]
