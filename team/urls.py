from django.urls import path

from team import views

app_name = "team"

D = "dashboard/<slug:tenant_slug>/team/"

urlpatterns = [
    path("accounts/invitations/<str:token>/", views.accept, name="accept"),
    path(D, views.members, name="members"),
    path(D + "audit/", views.audit, name="audit"),
    path(D + "members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path(D + "members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path(
        D + "invitations/<int:invitation_id>/<slug:action>/",
        views.invitation_action,
        name="invitation_action",
    ),
]
