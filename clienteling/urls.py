"""The tablet's clienteling fragments and actions, mounted at /store/clienteling/."""

from django.urls import path

from clienteling import sales_views, views

app_name = "clienteling"
urlpatterns = [
    path("customers/<int:pk>/purchases/", views.customer_purchases, name="customer_purchases"),
    path("customers/<int:pk>/notes/", views.note_add, name="note_add"),
    path("customers/<int:pk>/tasks/", views.task_add, name="task_add"),
    path("customers/<int:pk>/outreach/preview/", views.outreach_preview, name="outreach_preview"),
    path("customers/<int:pk>/outreach/", views.outreach_send, name="outreach_send"),
    path(
        "customers/<int:pk>/tracking/withdraw/", views.tracking_withdraw, name="tracking_withdraw"
    ),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("tasks/", views.tasks_panel, name="tasks_panel"),
    path("customers/<int:pk>/serving/", sales_views.serving, name="serving"),
    path("sales/", sales_views.my_sales, name="my_sales"),
]
