from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import ApiTokenCreatedSerializer, ApiTokenSerializer, MeSerializer
from accounts.authentication import BearerTokenAuthentication
from accounts.models import ApiToken
from accounts.services import token_create, token_revoke


class MeView(APIView):
    """The signed-in account: name, quota and usage in bytes."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Personal access tokens. Create one, use it as `Authorization: Bearer <token>`,
    delete it to revoke it."""

    serializer_class = ApiTokenSerializer
    pagination_class = None
    # A script's first token: the user name and password (HTTP Basic) are accepted here and
    # nowhere else, so `curl -u alice -d name=backup …/api/v1/tokens/` gets one. Failed
    # attempts count towards the log-in lockout like the log-in page's.
    authentication_classes = [
        BearerTokenAuthentication,
        BasicAuthentication,
        SessionAuthentication,
    ]

    def get_queryset(self) -> QuerySet[ApiToken]:
        return ApiToken.objects.visible_to(self.request.user).active()  # type: ignore[arg-type]

    @extend_schema(request=ApiTokenSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request: Request) -> Response:
        serializer = ApiTokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, raw = token_create(user=request.user, name=serializer.validated_data["name"])  # type: ignore[arg-type]
        body = {**ApiTokenSerializer(token).data, "token": raw}
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiToken) -> None:
        token_revoke(token=instance)
