"""Every error of the API in one shape: {"code": ..., "detail": ..., "fields": {...}} (docs/api.md).

DRF answers a validation error with the serializer's errors as they are ({"name": ["..."]}) and every other error with
{"detail": "..."}; the views' own rule errors added a third spelling. A client should need one parser: ``code`` is a
stable machine-readable string, ``detail`` a sentence for people, ``fields`` (only with ``code`` "invalid") the
messages per input field, and ``chat_id`` (some chat errors) the chat the error is about.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler

VALIDATION_CODE = "invalid"


class ApiErrorSerializer(serializers.Serializer):
    """The one error shape (schema component "ApiError")."""

    code = serializers.CharField(help_text='Machine-readable, stable: e.g. "invalid", "not_found", "bot_name_taken".')
    detail = serializers.CharField(help_text="A sentence for people, in the request's language.")
    fields = serializers.DictField(
        required=False,
        help_text='With code "invalid": the messages per input field (a list of strings, or an object of such '
        'lists for a nested field); "non_field_errors" holds the messages about the input as a whole.',
    )
    chat_id = serializers.UUIDField(required=False, help_text="Chat errors: the chat to return to or to judge first.")


def error_body(*, code: str, detail: str, **extra) -> dict:
    return {"code": code, "detail": detail, **extra}


def _first_message(errors) -> str:
    if isinstance(errors, dict):
        for name, messages in errors.items():
            message = _first_message(messages)
            return message if name == "non_field_errors" else f"{name}: {message}"
        return ""
    if isinstance(errors, list):
        return _first_message(errors[0]) if errors else ""
    return str(errors)


def api_exception_handler(exc, context):
    """DRF's handler (status, headers such as Retry-After and WWW-Authenticate), with the body in the one shape."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = error_body(code=VALIDATION_CODE, detail=_first_message(errors), fields=errors)
    else:
        codes = exc.get_codes()
        response.data = error_body(
            code=codes if isinstance(codes, str) else exc.default_code, detail=_first_message(exc.detail)
        )
    return response


@csrf_exempt
def api_not_found(request, path: str = "") -> JsonResponse:
    """Any /api/v1/ path no endpoint matches (e.g. /api/v1/bots/not-a-number/): 404 in the one shape, not HTML."""
    return JsonResponse(error_body(code="not_found", detail=str(exceptions.NotFound.default_detail)), status=404)
