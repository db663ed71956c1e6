from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from demo_project import views

urlpatterns = [
    path("", views.index, name="index"),
    path("feed/", views.post_feed, name="post_feed"),
    path("notify/", views.notify, name="notify"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("events/", include("django_sse.urls")),
]
