"""Django's makemessages without fuzzy matching: a new string is never given the
translation of a merely similar one (which compilemessages would then skip)."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
