from django.urls import path

from uploads.api import UploadCreateView, UploadDetailView

urlpatterns = [
    path("uploads/", UploadCreateView.as_view(), name="upload-create"),
    path("uploads/<str:pk>", UploadDetailView.as_view(), name="upload-detail"),
]
