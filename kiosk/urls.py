from django.urls import path

from kiosk import booking, views

app_name = "kiosk"
urlpatterns = [
    path("", views.kiosk_home, name="home"),
    path("check-in/", views.check_in, name="check_in"),
    path("appointment/", views.appointment_check_in, name="appointment_check_in"),
    path("book/", booking.book, name="book"),
    path("book/slots/", booking.book_slots, name="book_slots"),
    path("book/choose/", booking.book_choose, name="book_choose"),
    path("book/you/", booking.book_who, name="book_who"),
    path("book/send-code/", booking.book_send_code, name="book_send_code"),
    path("book/prove/", booking.book_prove, name="book_prove"),
    path("book/confirm/", booking.book_confirm, name="book_confirm"),
    path("book/done/", booking.book_done, name="book_done"),
    path("aisle/", views.aisle_search, name="aisle"),
    path("aisle/<str:style_code>/", views.aisle_product, name="aisle_product"),
    path("aisle/<str:style_code>/reserve/", views.reserve, name="reserve"),
    path("aisle/<str:style_code>/send-code/", views.send_code, name="send_code"),
    path("reserved/", views.reserved, name="reserved"),
    path("returns/", views.return_start, name="return_start"),
    path("returns/send-code/", views.return_send_code, name="return_send_code"),
    path("returns/prove/", views.return_prove, name="return_prove"),
    path("returns/lines/", views.return_lines, name="return_lines"),
    path("returns/review/", views.return_review, name="return_review"),
    path("returns/confirm/", views.return_confirm, name="return_confirm"),
    path("returns/done/", views.return_done, name="return_done"),
]
