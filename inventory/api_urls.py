from django.urls import path

from inventory.api import AvailabilityView, StockMovementsView

urlpatterns = [
    path("availability/", AvailabilityView.as_view(), name="availability"),
    path("stock/movements/", StockMovementsView.as_view(), name="stock_movements"),
]
