from django.urls import path

from . import views

urlpatterns = [
    path("c/<slug:slug>/review/", views.review, name="review"),
    path("c/<slug:slug>/review/progress/", views.progress, name="review-progress"),
    path("c/<slug:slug>/leaderboard/review/", views.board, name="review-board"),
    path("c/<slug:slug>/leaderboard/review.csv", views.board_csv, name="review-board-csv"),
]
