"""The last-owner rule under concurrency, with real threads on real PostgreSQL: two owners who demote
(or remove) each other at the same moment leave exactly one owner, never none."""

import threading

import pytest
from django.db import connection

from core.errors import NotFound, PermissionDenied
from team import services
from tenants.models import Membership, Role
from tests.factories import MembershipFactory, TenantFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*targets) -> tuple[list, list]:
    barrier = threading.Barrier(len(targets))
    results, errors = [], []

    def run(target):
        try:
            barrier.wait(10)
            results.append(target())
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results, errors


@pytest.mark.parametrize("action", ["demote", "remove"])
@pytest.mark.parametrize("attempt", range(3))
def test_two_owners_demoting_each_other_at_once_leave_one_owner(action, attempt):
    tenant = TenantFactory()
    first = MembershipFactory(tenant=tenant, role=Role.OWNER)
    second = MembershipFactory(tenant=tenant, role=Role.OWNER)

    def against(actor_membership, target_membership):
        if action == "demote":
            return lambda: services.member_change_role(
                tenant=tenant, actor=actor_membership.user, membership=target_membership, role="staff"
            )
        return lambda: services.member_remove(
            tenant=tenant, actor=actor_membership.user, membership=target_membership
        )

    results, errors = _race(against(first, second), against(second, first))
    assert len(results) == 1, (results, errors)
    # The loser ran second, under the tenant lock, and found it was no longer an owner (demoted) or no
    # longer a member at all (removed).
    expected = PermissionDenied if action == "demote" else NotFound
    assert len(errors) == 1 and isinstance(errors[0], expected), errors
    owners = Membership.objects.filter(tenant=tenant, role=Role.OWNER)
    assert owners.count() == 1


def test_without_the_tenant_lock_both_demotions_win(monkeypatch):
    """The lock matters: with the tenant-row lock switched off and both transactions reading the owners
    before either writes, both demotions pass the check and the tenant is left without an owner."""
    tenant = TenantFactory()
    first = MembershipFactory(tenant=tenant, role=Role.OWNER)
    second = MembershipFactory(tenant=tenant, role=Role.OWNER)
    barrier = threading.Barrier(2)
    counted = services._other_owners

    def slow_count(tenant_, membership):
        value = counted(tenant_, membership)
        barrier.wait(10)  # both have counted before either writes
        return value

    monkeypatch.setattr(services, "_lock_tenant", lambda tenant_: tenant_)
    monkeypatch.setattr(
        services,
        "_member_for_update",
        lambda tenant_, pk: Membership.objects.select_related("user").get(pk=pk),
    )
    monkeypatch.setattr(services, "_other_owners", slow_count)
    results, errors = _race(
        lambda: services.member_change_role(tenant=tenant, actor=first.user, membership=second, role="staff"),
        lambda: services.member_change_role(tenant=tenant, actor=second.user, membership=first, role="staff"),
    )
    assert not errors, errors
    assert Membership.objects.filter(tenant=tenant, role=Role.OWNER).count() == 0
