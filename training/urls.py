"""The tablet's training pages, mounted at /store/training/ (namespace `training`)."""

from django.urls import path

from training.views import learner, team

app_name = "training"
urlpatterns = [
    path("", learner.my_path, name="path"),
    path("panel/", learner.panel, name="panel"),
    path("gaps/", learner.close_gaps, name="gaps"),
    path("gaps.csv", learner.my_gaps_csv, name="gaps_csv"),
    path("assess/", learner.self_assess, name="assess"),
    path("courses/", learner.catalog, name="catalog"),
    path("courses/<slug:code>/", learner.course_detail, name="course"),
    path("courses/<slug:code>/enrol/", learner.enrol, name="enrol"),
    path("courses/<slug:code>/modules/<int:position>/", learner.module, name="module"),
    path("courses/<slug:code>/quiz/", learner.quiz_start, name="quiz_start"),
    path("courses/<slug:code>/rate/", learner.rate, name="rate"),
    path("attempts/<int:pk>/", learner.attempt, name="attempt"),
    path("certificates/", learner.certificates, name="certificates"),
    path("certificates/<int:pk>/", learner.certificate, name="certificate"),
    path("gates/<slug:operation>/", learner.gate, name="gate"),
    path("team/", team.team, name="team"),
    path("team/heatmap.csv", team.team_csv, name="team_csv"),
    path("team/<int:user_id>/", team.member, name="member"),
    path("team/<int:user_id>/assess/", team.member_assess, name="member_assess"),
    path("team/<int:user_id>/assign/", team.member_assign, name="member_assign"),
    path("team/<int:user_id>/override/", team.member_override, name="member_override"),
    path("team/<int:user_id>/gaps.csv", team.member_csv, name="member_csv"),
]
