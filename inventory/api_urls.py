from django.urls import path

from inventory.api import AvailabilityView

urlpatterns = [path("availability/", AvailabilityView.as_view(), name="availability")]
