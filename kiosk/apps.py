from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KioskConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "kiosk"
    verbose_name = _("Kiosk")
