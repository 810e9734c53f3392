"""allauth hooks: staff accounts are made by HQ, never by public sign-up.

- Account e-mails (verification, password reset, the notices of every e-mail or
  password change) are sent by an outbox task, never inside the request: an SMTP
  server down or slow cannot answer the page with a 500 (#16). The rendered message
  is stored sealed (`retail.totp_crypto.seal`): it may hold a reset link.
- A password reset goes only to a verified address of the account.
- Kiosk accounts get no "signed in" banner.
"""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.forms import ResetPasswordForm
from allauth.account.models import EmailAddress
from django.core.mail import EmailMultiAlternatives
from django.shortcuts import resolve_url
from django.utils.translation import gettext_lazy as _

from retail import access, outbox
from retail.models import Role
from retail.totp_crypto import seal, unseal

QUIET_FOR_KIOSKS = frozenset({"account/messages/logged_in.txt", "account/messages/logged_out.txt"})


class AisleAccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": _(
            "Too many failed sign-in attempts. Wait a few minutes, then try again."
        ),
    }

    def is_open_for_signup(self, request) -> bool:
        return False

    def get_login_redirect_url(self, request) -> str:
        return resolve_url("retail:home")

    def add_message(
        self, request, level, message_template=None, message_context=None, extra_tags="", **kw
    ):
        user = (message_context or {}).get("user") or getattr(request, "user", None)
        if message_template in QUIET_FOR_KIOSKS and access.role_of(user) == Role.KIOSK:
            return
        super().add_message(request, level, message_template, message_context, extra_tags, **kw)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        account_mail_enqueue(self.render_mail(template_prefix, email, ctx))


def account_mail_enqueue(message: EmailMultiAlternatives) -> None:
    """Send an account e-mail (it may hold a link that signs in) after commit, through
    the outbox, stored sealed."""
    sealed = {
        "subject": message.subject,
        "body": message.body,
        "from_email": message.from_email,
        "to": list(message.to),
        "html": next(
            (c for c, kind in getattr(message, "alternatives", []) if kind == "text/html"),
            None,
        ),
    }
    outbox.enqueue_task("retail.auth.account_mail_deliver", kwargs={"sealed": seal(sealed)})


def account_mail_deliver(*, sealed: str) -> None:
    """Outbox task: send one account e-mail (retried by the outbox when it fails)."""
    data = unseal(sealed)
    message = EmailMultiAlternatives(
        subject=data["subject"], body=data["body"], from_email=data["from_email"], to=data["to"]
    )
    if data.get("html"):
        message.attach_alternative(data["html"], "text/html")
    message.send()


class VerifiedResetPasswordForm(ResetPasswordForm):
    """A reset link goes only to an address the account has verified (#16: an
    address added on an unattended tablet must not receive it)."""

    def clean_email(self) -> str:
        email = super().clean_email()
        verified = set(
            EmailAddress.objects.filter(
                email__iexact=email, verified=True, user__in=self.users
            ).values_list("user_id", flat=True)
        )
        self.users = [u for u in self.users if u.pk in verified]
        return email
