"""factory-boy factories shared by every test module. Apps add theirs below their own heading."""

import factory

from tenants.models import Account, Customer, Membership, Role, Tenant, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        """Users can log in through allauth only with a verified address; ``verified=False`` for one
        who signed up and has not followed the link yet."""
        if create and extracted is not False:
            from onboarding.services import email_address_mark_verified

            email_address_mark_verified(user=obj)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n}")


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    account = factory.SubFactory(AccountFactory)
    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.Sequence(lambda n: f"Tenant {n}")
    time_zone = "Europe/Berlin"
    currency = "EUR"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Role.STAFF


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.test")
    email_consent = True
