from django.urls import path

from kiosk import views

app_name = "kiosk"
urlpatterns = [
    path("", views.kiosk_home, name="home"),
    path("check-in/", views.check_in, name="check_in"),
]
