from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        from inventory import catalog_index, network
        from inventory.models import CarrierService, SourcingSettings, StockLocation
        from retail.models import (
            AttributeTranslation,
            Category,
            CategoryTranslation,
            OpeningHours,
            Product,
            ProductTranslation,
            Store,
            StoreClosure,
            Variant,
        )

        # The cached network reloads when a location, a store, its hours or closures, a
        # carrier service or the sourcing settings change.
        network_models = (
            StockLocation,
            Store,
            OpeningHours,
            StoreClosure,
            CarrierService,
            SourcingSettings,
        )
        for model in network_models:
            post_save.connect(network.bump, sender=model, dispatch_uid=f"network-{model.__name__}")
            post_delete.connect(
                network.bump, sender=model, dispatch_uid=f"network-{model.__name__}-del"
            )
        # The endless aisle's catalog index reloads when the catalog changes, in any
        # language (it searches the translations too).
        catalog_models = (
            Product,
            Variant,
            Category,
            ProductTranslation,
            CategoryTranslation,
            AttributeTranslation,
        )
        for model in catalog_models:
            post_save.connect(
                catalog_index.bump, sender=model, dispatch_uid=f"catalog-{model.__name__}"
            )
            post_delete.connect(
                catalog_index.bump, sender=model, dispatch_uid=f"catalog-{model.__name__}-del"
            )
        # Bulk writes of the catalog feed (API and imports) save no model: they say so.
        from retail.catalog_feed import catalog_changed

        catalog_changed.connect(catalog_index.bump, dispatch_uid="catalog-feed")
        # Bulk imports of stock locations and stock; a stores file gives each store its
        # stock location.
        from inventory import imports

        imports.register()
