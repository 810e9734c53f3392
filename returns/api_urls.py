from django.urls import path

from returns import api

urlpatterns = [
    path("returns/", api.ReturnCreateView.as_view(), name="return_create"),
    path("returns/<str:return_ref>/", api.ReturnDetailView.as_view(), name="return"),
    path(
        "returns/<str:return_ref>/receive/", api.ReturnReceiveView.as_view(), name="return_receive"
    ),
    path("returns/<str:return_ref>/cancel/", api.ReturnCancelView.as_view(), name="return_cancel"),
]
