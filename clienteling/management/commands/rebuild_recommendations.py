"""`manage.py rebuild_recommendations`: recompute the product affinities now."""

from django.core.management.base import BaseCommand

from clienteling import recommendations


class Command(BaseCommand):
    help = "Rebuilds the item-to-item affinities behind the tablet's recommendations."

    def handle(self, *args, **options):
        kept, seconds = recommendations.rebuild_timed()
        self.stdout.write(f"{kept} product pairs kept in {seconds:.1f} s")
