"""``APIERRORS["HANDLER_CLASS"]`` subclasses, each changing a step of the pipeline."""

from typing import Any

from apierrors.handling.handler import Classified, ExceptionHandler

from .errors import SlotTaken


class GoneHandler(ExceptionHandler):
    """Steps a project changes: this API has no "not found" (whatever is missing was deleted:
    410), the request id comes from the load balancer, every response links to the docs, and
    5xx are collected instead of logged."""

    logged: list[str] = []

    def map_not_found(self, exc: Exception, request: Any, view: Any) -> Classified:
        return Classified("resource_gone", {"path": request.path})

    def request_id(self, request: Any) -> str:
        return request.META.get("HTTP_X_AMZN_TRACE_ID") or super().request_id(request)

    def respond(self, error: Any, error_format: Any, request: Any) -> Any:
        response = super().respond(error, error_format, request)
        response["Link"] = f'<https://docs.example.org/errors/{error.entry.key}>; rel="help"'
        return response

    def log(self, exc: BaseException, error: Any, request: Any) -> None:
        self.logged.append(f"{error.entry.key} {error.request_id}")


class SlotHandler(ExceptionHandler):
    """Maps a domain exception by extending MAPPERS (a method name, and a plain function)."""

    MAPPERS = {
        **ExceptionHandler.MAPPERS,
        SlotTaken: "map_slot_taken",
        RuntimeError: lambda handler, exc, request, view: Classified("runtime_bug"),
    }

    def map_slot_taken(self, exc: SlotTaken, request: Any, view: Any) -> Classified:
        return Classified("slot_taken", {"slot": exc.slot}, headers={"Retry-After": "5"})


class NotAHandler:
    pass


class BrokenMappersHandler(ExceptionHandler):
    MAPPERS = {**ExceptionHandler.MAPPERS, SlotTaken: "map_slot_taken_typo"}
