"""HTTP entry point of ${{ values.name }}."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response, status

SERVICE_NAME = "${{ values.name }}"

logging.basicConfig(
    level=os.environ.get("LOG_LEVEL", "INFO"),
    format='{"level": "%(levelname)s", "logger": "%(name)s", "message": "%(message)s"}',
)
log = logging.getLogger(SERVICE_NAME)


class State:
    ready = False


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    # Open connection pools and warm caches here, before traffic is let in.
    State.ready = True
    log.info("started")
    yield
    State.ready = False
    log.info("stopping")


app = FastAPI(title=SERVICE_NAME, lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process is up and serving requests."""
    return {"status": "ok", "service": SERVICE_NAME}


@app.get("/readyz")
async def readyz(response: Response) -> dict[str, str]:
    """Readiness: dependencies are initialised and the service is not shutting down."""
    if not State.ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "starting"}
    return {"status": "ready"}


@app.get("/")
async def root() -> dict[str, str]:
    return {"service": SERVICE_NAME, "message": "Hello from the golden path"}
