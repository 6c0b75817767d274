"""The model registry: the trained versions, a training run on demand, promotion and rollback (admins), each
change recorded with who and when."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from shopwatch.auth.callers import Action
from shopwatch.domain.clock import utcnow
from shopwatch.storage.models import VERSION_PATTERN, ModelRegistry
from shopwatch.storage.training_runs import TrainingRuns
from shopwatch_api.acting import acting
from shopwatch_api.docs import ERROR_CONTENT
from shopwatch_api.responses import ModelPointersOut, ModelsOut, TrainingStarted

ModelVersion = Annotated[str, Path(min_length=1, max_length=64, pattern=VERSION_PATTERN)]
_MODEL_CONFLICT: OpenAPIResponse = {
    "description": "the models changed meanwhile, or the change makes no sense now",
    "content": ERROR_CONTENT,
}
_MODEL_POINTERS: OpenAPIResponse = {
    "description": "the pointers after the change",
    "content": {"application/json": {"model": ModelPointersOut}},
}


def router(registry: ModelRegistry, training: TrainingRuns) -> Router:
    router = Router()

    @router.get("/models")
    def list_models() -> ModelsOut:
        """Every trained version with its status (champion, challenger, retired), training figures and history."""
        return ModelsOut.from_registry(registry.pointers(), registry.versions(), registry.history())

    @router.post(
        "/models/train",
        responses={202: {"description": "started", "content": {"application/json": {"model": TrainingStarted}}}},
    )
    def train_model() -> Response[TrainingStarted]:
        """Start a training run now (admins). It runs asynchronously; its model becomes the challenger."""
        by = acting(router, Action.MANAGE_MODELS, person=True)
        training.start(by)
        body = TrainingStarted(requested_by=by, function=training.function_name)
        return Response(202, content_types.APPLICATION_JSON, body)

    @router.post(
        "/models/<version>/promote",
        responses={
            200: _MODEL_POINTERS,
            404: {"description": "no such version", "content": ERROR_CONTENT},
            409: _MODEL_CONFLICT,
        },
    )
    def promote_model(version: ModelVersion) -> ModelPointersOut:
        """Make `version` the champion (admins); the champion before is retired and kept for rollback. Recorded
        with who and when; DetectFunction picks it up within MODEL_REFRESH_SECONDS."""
        by = acting(router, Action.MANAGE_MODELS, person=True)
        return ModelPointersOut.from_pointers(registry.promote(version, by, utcnow()))

    @router.post("/models/rollback", responses={200: _MODEL_POINTERS, 409: _MODEL_CONFLICT})
    def rollback_model() -> ModelPointersOut:
        """The champion before the current one becomes champion again (admins); recorded with who and when."""
        by = acting(router, Action.MANAGE_MODELS, person=True)
        return ModelPointersOut.from_pointers(registry.rollback(by, utcnow()))

    return router
