"""The OpenAPI schema lists the error answers each operation really gives, all in the one error shape.

Derived from what DRF does with the view, so a new endpoint is documented right without repeating it:
400 when the operation takes a request body (validation), 401 when the view authenticates (a missing or wrong token),
403 for unsafe methods under session authentication (CSRF), 404 when the path has parameters, 429 when the view is
throttled. Errors a view raises for its own rules are declared on the view (``@extend_schema(responses=...)``).
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.authentication import SessionAuthentication

from hulic.api_errors import ApiErrorSerializer

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
DESCRIPTIONS = {
    "400": "The input is invalid: `code` is `invalid` and `fields` names each field's problems.",
    "401": "Not authenticated: no token or session, or a wrong token.",
    "403": "Not allowed (with session authentication also: the CSRF token is missing).",
    "404": "Not found, or not visible to you.",
    "429": "Too many requests: retry after the seconds in the Retry-After header.",
}


class ErrorListingAutoSchema(AutoSchema):
    def error_status_codes(self) -> set[str]:
        codes = set()
        if self.method in UNSAFE_METHODS and self.get_request_serializer() is not None:
            codes.add("400")
        authenticators = self.view.get_authenticators()
        if authenticators:
            codes.add("401")
        if self.method in UNSAFE_METHODS and any(isinstance(a, SessionAuthentication) for a in authenticators):
            codes.add("403")
        if "{" in self.path:
            codes.add("404")
        if self.view.get_throttles():
            codes.add("429")
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in sorted(self.error_status_codes() - set(responses)):
            error = OpenApiResponse(ApiErrorSerializer, description=DESCRIPTIONS[code])
            responses[code] = self._get_response_for_code(error, code, direction=direction)
        return responses
