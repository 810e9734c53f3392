from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientelingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clienteling"
    verbose_name = _("Clienteling")
