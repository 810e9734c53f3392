"""`manage.py create_api_client NAME --scopes SCOPE ...`: the key is printed once, last."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from retail.api_clients import api_client_create
from retail.models import ApiClient, Scope


class Command(BaseCommand):
    help = "Creates an API client and prints its key alone on the last line (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--scopes",
            nargs="+",
            required=True,
            metavar="SCOPE",
            help=f"One or more of: {', '.join(Scope.values)}",
        )
        parser.add_argument("--rate", default="100/s", help="Rate limit, e.g. 100/s or 60/m.")
        parser.add_argument("--webhook-url", default="", help="Where order changes are POSTed.")
        parser.add_argument(
            "--channels",
            nargs="+",
            default=None,
            metavar="CHANNEL",
            help="The order channels it may place orders in (default: web app social); "
            "a till needs store.",
        )

    def handle(self, *args, name, scopes, rate, webhook_url, channels=None, **options):
        unknown = [s for s in scopes if s not in Scope.values]
        if unknown:
            raise CommandError(
                _("Unknown scope(s): %(unknown)s. Choose from: %(scopes)s")
                % {"unknown": ", ".join(unknown), "scopes": ", ".join(Scope.values)}
            )
        if ApiClient.objects.filter(name=name).exists():
            raise CommandError(_("An API client named %(name)s exists already.") % {"name": name})
        try:
            client, key = api_client_create(
                name=name,
                scopes=scopes,
                rate_limit=rate,
                webhook_url=webhook_url,
                channels=channels,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            f"API client {client.name} created with scopes {', '.join(client.scopes)}; "
            "store this key now, it is not shown again:"
        )
        self.stdout.write(key)
