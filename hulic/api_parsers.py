"""Request body parsers of the API (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES)."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONBodyParser(JSONParser):
    """DRF's JSON parser, plus: JSON nested too deeply for Python's parser (e.g. 30,000 "[") is a 400, not a 500.

    DRF turns only ValueError into a parse error; the json module raises RecursionError for deep nesting.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - nested too deeply.") from error
