from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """DRF's token auth with the RFC 6750 scheme: ``Authorization: Bearer <token>``."""

    keyword = "Bearer"

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
