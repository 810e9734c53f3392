from django.urls import path

from kiosk import views

app_name = "kiosk"
urlpatterns = [
    path("", views.kiosk_home, name="home"),
    path("check-in/", views.check_in, name="check_in"),
    path("aisle/", views.aisle_search, name="aisle"),
    path("aisle/<str:style_code>/", views.aisle_product, name="aisle_product"),
    path("aisle/<str:style_code>/reserve/", views.reserve, name="reserve"),
    path("aisle/<str:style_code>/send-code/", views.send_code, name="send_code"),
    path("reserved/", views.reserved, name="reserved"),
]
