"""Encrypt the TOTP secrets and recovery-code seeds stored in plain text (#16)."""

from django.db import migrations


def encrypt_existing(apps, schema_editor):
    from retail.totp_crypto import encrypt_authenticator_data

    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.all().iterator():
        data = encrypt_authenticator_data(authenticator.data)
        if data != authenticator.data:
            authenticator.data = data
            authenticator.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("retail", "0010_rights_customer_erased"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_existing, migrations.RunPython.noop)]
