from django.urls import path

from tenants import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard_home, name="home"),
    path("switch/", views.dashboard_switch, name="switch"),
    path("<slug:tenant_slug>/", views.tenant_dashboard, name="tenant"),
    path("<slug:tenant_slug>/language/", views.tenant_language, name="language"),
]
