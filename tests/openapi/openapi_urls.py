"""A view documenting a parameter in every part of the request, for the OpenAPI validation tests."""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from testproject import urls as project_urls


class ReportRequestSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=20)
    pages = serializers.IntegerField(min_value=1)


class ReportView(APIView):
    """Validated against the schema: a header, a cookie, the query, the path and the body."""

    permission_classes = [IsAuthenticated]
    openapi_validation = True

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "X-Report-Version", OpenApiTypes.INT, OpenApiParameter.HEADER, required=True
            ),
            OpenApiParameter(
                "units", OpenApiTypes.STR, OpenApiParameter.COOKIE, enum=["metric", "imperial"]
            ),
            OpenApiParameter("limit", OpenApiTypes.INT, OpenApiParameter.QUERY, required=True),
            OpenApiParameter("day", OpenApiTypes.DATE, OpenApiParameter.PATH),
        ],
        request=ReportRequestSerializer,
        responses={200: ReportRequestSerializer},
    )
    def post(self, request, day):
        serializer = ReportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.data)


class ShipStreamReportView(ReportView):
    error_format = "shipstream"


class UncheckedReportView(ReportView):
    openapi_validation = None  # follows APIERRORS["OPENAPI_VALIDATION"] (default: off)


urlpatterns = [
    path("api/v1/reports/<str:day>/", ReportView.as_view()),
    path("api/v1/shipstream/reports/<str:day>/", ShipStreamReportView.as_view()),
    path("api/v1/unchecked/reports/<str:day>/", UncheckedReportView.as_view()),
    *project_urls.urlpatterns,
]

handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
