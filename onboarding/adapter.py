"""django-allauth's hooks for VirtualQ: who may sign up, and how a new user is filled in.

Everything else (verification, rate limits, password rules) is allauth's own behaviour, configured in
config/settings.py.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request) -> str:
        # allauth's rate limits (password reset, sign-up, login) key on the same real client address as
        # every other limit: X-Forwarded-For only from TRUSTED_PROXIES (core.ratelimit).
        from core.ratelimit import client_address

        return client_address(request)

    def is_open_for_signup(self, request) -> bool:
        # ACCOUNT_SIGNUPS_OPEN=0 closes public sign-up (invitations and the admin still create users):
        # someone who opened a valid team invitation (team.views.accept stashed its token) may sign up.
        if request is not None and request.session.get("team_invitation_token"):
            return True
        return bool(getattr(settings, "ACCOUNT_SIGNUPS_OPEN", True))

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        # Emails are one identity whatever their case (the User manager stores them lower-cased too).
        user.email = (user.email or "").strip().lower()
        user.name = (form.cleaned_data.get("name") or "").strip()
        if commit:
            user.save()
        return user
