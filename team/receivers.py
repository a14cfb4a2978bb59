"""Accept an invitation right after its person signed up through allauth (``user_signed_up``, a signal
allauth sends at a named point of its sign-up flow — not a model save signal).

The accept view stashed the token in the session; the new account's email must be the invited one (the
service checks). Anything that goes wrong leaves the account as it is: the invitation page, where the
person lands next, still offers "Accept and join" or says what is wrong.
"""

import logging

from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from core.errors import DomainError

logger = logging.getLogger(__name__)


@receiver(user_signed_up, dispatch_uid="team.accept_after_signup")
def accept_after_signup(sender, request, user, **kwargs):
    from team import services
    from team.views import SESSION_TOKEN_KEY

    token = request.session.get(SESSION_TOKEN_KEY) if request is not None else None
    if not token:
        return
    try:
        membership = services.invitation_accept(token=token, user=user)
    except DomainError as error:
        logger.warning("invitation not accepted at sign-up: %s", error.message)
        return
    request.session.pop(SESSION_TOKEN_KEY, None)
    request.session["current_tenant"] = membership.tenant.slug
