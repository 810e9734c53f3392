"""factory_boy factories for Aisle's records."""

from __future__ import annotations

import time
from decimal import Decimal

import factory
from django.contrib.auth.hashers import make_password

from retail import roles
from retail.models import (
    AttributeTranslation,
    Category,
    CategoryTranslation,
    Customer,
    OpeningHours,
    Product,
    ProductTranslation,
    StaffProfile,
    Store,
    User,
    Variant,
)
from retail.validators import ean13_check_digit

PASSWORD = "aisle-test-pass"
_PASSWORD_HASH = make_password(PASSWORD)


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"T{n:02d}")
    name = factory.Sequence(lambda n: f"Aisle Paris {n}")
    address_line1 = factory.Sequence(lambda n: f"{n % 250 + 1} Rue de Rivoli")
    city = "Paris"
    postcode = "75001"
    country = "FR"
    latitude = Decimal("48.860600")
    longitude = Decimal("2.340800")
    time_zone = "Europe/Paris"

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        import datetime as dt

        for weekday in range(7):
            OpeningHours.objects.get_or_create(
                store=self,
                weekday=weekday,
                defaults={"opens": dt.time(9), "closes": dt.time(20 if weekday < 6 else 17)},
            )


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cat-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")
    tax_rate = Decimal("20.00")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    style_code = factory.Sequence(lambda n: f"STY-{n:05d}")
    name = factory.Sequence(lambda n: f"Merino crew jumper {n}")
    brand = "Northwind"
    category = factory.SubFactory(CategoryFactory)


def _barcode(n: int) -> str:
    first12 = f"50{n:010d}"
    return first12 + str(ean13_check_digit(first12))


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    size = "M"
    colour = "navy"
    barcode = factory.Sequence(_barcode)
    price = Decimal("59.90")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    customer_ref = factory.Sequence(lambda n: f"WEB-{n:06d}")
    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"+4477009{n % 100000:05d}")
    tracking_consent = True
    marketing_consent = False


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"staff{n}@test.aisle")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = _PASSWORD_HASH


class StaffFactory(UserFactory):
    """A user with a staff profile: `StaffFactory(role="associate", home_store=store)`."""

    @factory.post_generation
    def profile(self, create, extracted, **kwargs):
        if not create:
            return
        params = self._aisle_params
        profile = StaffProfile.objects.create(
            user=self, role=params["role"], home_store=params["home_store"]
        )
        if params["other_stores"]:
            profile.other_stores.set(params["other_stores"])
        roles.sync_user_with_role(self, params["role"])

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        params = {
            "role": kwargs.pop("role", "associate"),
            "home_store": kwargs.pop("home_store", None),
            "other_stores": kwargs.pop("other_stores", ()),
        }
        user = super()._create(model_class, *args, **kwargs)
        user._aisle_params = params
        return user


def totp_activate(user) -> str:
    """Give the user an activated TOTP authenticator; returns its base32 secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def login_with_totp(client, user) -> None:
    """Log the client in as `user` with a session that passed TOTP (what allauth
    records after its TOTP step)."""
    from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY

    totp_activate(user)
    client.force_login(user)
    session = client.session
    session["account_authentication_methods_user"] = str(user.pk)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": time.time(), "email": user.email},
        {"method": "mfa", "at": time.time(), "type": "totp"},
    ]
    session.save()


def totp_code(secret: str) -> str:
    """The current TOTP code for a base32 secret, as an authenticator app shows it."""
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


class StockLocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "inventory.StockLocation"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"L{n:02d}")
    name = factory.LazyAttribute(lambda o: f"Location {o.code}")
    kind = "dc"
    ships_to_customers = True
    receives_transfers = True
    sellable_online = True
    postcode = "95700"
    country = "FR"
    latitude = Decimal("49.004400")
    longitude = Decimal("2.517000")
    time_zone = "Europe/Paris"
    lead_time_days = 2


def store_location(store, **kwargs):
    """The stock location of a store (created when missing)."""
    defaults = {
        "code": store.code,
        "name": store.name,
        "kind": "store",
        "store": store,
        "postcode": store.postcode,
        "country": store.country,
        "latitude": store.latitude,
        "longitude": store.longitude,
        "lead_time_days": 1,
        "ships_to_customers": False,
    }
    defaults.update(kwargs)
    return StockLocationFactory(**defaults)


def give_stock(location, variant, quantity, safety_stock=0):
    """Receive stock through the ledger (as a delivery would)."""
    from inventory import services

    services.stock_receive(
        location=location, variant=variant, quantity=quantity, by=None, reason="test stock"
    )
    if safety_stock:
        services.stock_set_safety(location=location, variant=variant, safety_stock=safety_stock)


def api_client(*scopes, rate="100/s", name=None, channels=None):
    """An API client and its key: `client, key = factories.api_client("customers:read")`
    (`channels`: the order channels it may use; default web, app and social)."""
    from retail.api_clients import api_client_create

    return api_client_create(
        name=name or f"client-{time.monotonic_ns()}",
        scopes=list(scopes),
        rate_limit=rate,
        channels=channels,
    )


# --- Training ------------------------------------------------------------------------


class SkillAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "training.SkillArea"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"area-{n}")
    name = factory.Sequence(lambda n: f"Area {n}")
    name_zh = factory.Sequence(lambda n: f"领域 {n}")
    position = factory.Sequence(lambda n: n)


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "training.Skill"
        django_get_or_create = ("code",)

    area = factory.SubFactory(SkillAreaFactory)
    code = factory.Sequence(lambda n: f"skill_{n}")
    name = factory.Sequence(lambda n: f"Skill {n}")
    name_zh = factory.Sequence(lambda n: f"技能 {n}")
    position = factory.Sequence(lambda n: n)


class RequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "training.Requirement"

    role = "associate"
    skill = factory.SubFactory(SkillFactory)
    level = 2
    store = None


class OperationRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "training.OperationRule"
        django_get_or_create = ("operation",)

    operation = factory.Sequence(lambda n: f"operation_{n}")
    skill = factory.SubFactory(SkillFactory)
    level = 2


class CourseFactory(factory.django.DjangoModelFactory):
    """A course with an English text: `modules` modules and a quiz of three one-answer
    questions and one several-answer question (pass mark 75%: three right of four).
    `CourseFactory(grants={skill: 2}, languages=("en", "zh-hans"))`."""

    class Meta:
        model = "training.Course"
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"course-{n}")
    area = factory.SubFactory(SkillAreaFactory)
    estimated_minutes = 20
    pass_mark = 75
    max_attempts = 3
    valid_months = 12

    @factory.post_generation
    def grants(self, create, extracted, **kwargs):
        from training.models import CourseGrant

        for skill, level in (extracted or {}).items():
            CourseGrant.objects.get_or_create(course=self, skill=skill, defaults={"level": level})

    @factory.post_generation
    def languages(self, create, extracted, **kwargs):
        from training.models import Choice, CourseText, Module, Question

        modules = kwargs.get("modules", 2)
        for language in extracted or ("en",):
            text, created = CourseText.objects.get_or_create(
                course=self,
                language=language,
                defaults={"title": f"{self.code} ({language})", "summary": "A short course."},
            )
            if not created:
                continue
            for position in range(1, modules + 1):
                Module.objects.create(
                    text=text,
                    position=position,
                    title=f"Module {position} ({language})",
                    body=f"Read this first.\n\nThen this ({language}).",
                    illustration="tablet",
                )
            for position in range(1, 5):
                multiple = position == 4
                question = Question.objects.create(
                    text=text,
                    position=position,
                    prompt=f"Question {position} ({language})?",
                    kind="multiple" if multiple else "single",
                )
                for n, correct in enumerate((True, multiple, False), start=1):
                    Choice.objects.create(
                        question=question,
                        position=n,
                        text=f"Answer {position}.{n} ({language})",
                        is_correct=correct,
                    )


def quiz_answers(attempt, *, right: int | None = None) -> dict[str, list[str]]:
    """Answers for an attempt, as a form posts them ({question id: [choice ids]}): all
    correct, or only the first `right` questions (in the attempt's order) correct."""
    from training.models import Choice

    correct: dict[int, list[int]] = {}
    for question_id, choice_id in Choice.objects.filter(
        question_id__in=[q for q, _c in attempt.order], is_correct=True
    ).values_list("question_id", "pk"):
        correct.setdefault(question_id, []).append(choice_id)
    answers = {}
    for index, (question_id, choice_ids) in enumerate(attempt.order):
        if right is None or index < right:
            answers[str(question_id)] = [str(c) for c in correct[question_id]]
        else:
            wrong = [c for c in choice_ids if c not in correct[question_id]]
            answers[str(question_id)] = [str(wrong[0])]
    return answers


def course_passed(user, course):
    """Enrol `user`, read every module and pass the quiz; returns the attempt."""
    from training import services
    from training.models import Module

    enrolment = services.course_enrol(user=user, course=course)
    for position in Module.objects.filter(text__course=course, text__language="en").values_list(
        "position", flat=True
    ):
        services.module_complete(enrolment=enrolment, user=user, position=position)
    attempt = services.attempt_start(enrolment=enrolment, user=user, language="en")
    return services.attempt_submit(attempt_id=attempt.pk, user=user, answers=quiz_answers(attempt))


class ProductTranslationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductTranslation

    product = factory.SubFactory(ProductFactory)
    language = "zh-hans"
    name = factory.Sequence(lambda n: f"美利奴羊毛圆领毛衣 {n}")
    description = ""


class CategoryTranslationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CategoryTranslation

    category = factory.SubFactory(CategoryFactory)
    language = "zh-hans"
    name = factory.Sequence(lambda n: f"类别 {n}")


class AttributeTranslationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AttributeTranslation
        django_get_or_create = ("source", "language")

    source = "navy"
    language = "zh-hans"
    text = "藏青色"
