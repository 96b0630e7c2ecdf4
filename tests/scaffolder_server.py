"""A local fake of Backstage's scaffolder API (plugin-scaffolder-backend 4.3.0), on 127.0.0.1 and a random port.

It answers in the shapes recorded from a real backend (``../shared/backstage-api/1x-*``): the parameter schema
verbatim, ``{errors: [...]}`` 400s in the ``jsonschema`` npm package's words, task event streams framed as
``event: <type>`` / ``data: <json>`` with ANSI-coloured messages, chunked and closed after ``completion``, event ids
global across tasks, ``?after=``, cancel (the task then ends ``failed``), dry runs (of the template folder sent with
one, or of single files fetched by absolute URL from 127.0.0.1, as the harness's server reads them) and the error
envelope with 401s.

Knobs for tests: ``drop_after`` (cut the first event stream of a task mid-frame after N events, once),
``hostile_frames`` (raw frames sent first on every event stream, as a broken or hostile server would),
``event_delay`` (seconds between a task's events), ``fail(...)`` (answer a route with an error status).
The request log never keeps the token, only whether the right one was sent.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from idp_tui.local_http import LocalServer

TEMPLATES_DIR = Path(__file__).parent / "fixtures" / "harness_catalog" / "templates"
API = "/api/scaffolder/v2"
INFO = "\u001b[32minfo\u001b[39m: "

# 10-scaffolder-parameter-schema.json, verbatim.
PYTHON_SERVICE_SCHEMA = json.loads(
    r"""{"title":"Python HTTP service (golden path)","description":"Creates a Python HTTP service with a Dockerfile, Kubernetes manifests, TechDocs and a catalog-info.yaml, following the Kestrel platform defaults.","steps":[{"title":"Describe the service","schema":{"title":"Describe the service","required":["name","owner"],"properties":{"name":{"title":"Name","type":"string","description":"Unique name, lowercase letters, digits and dashes.","pattern":"^[a-z][a-z0-9-]{1,38}[a-z0-9]$","maxLength":40,"ui:autofocus":true,"ui:help":"Example: invoice-renderer"},"description":{"title":"Description","type":"string","description":"One sentence shown in the catalog.","maxLength":200},"owner":{"title":"Owner","type":"string","description":"Team that will be on call for this service.","ui:field":"OwnerPicker","ui:options":{"catalogFilter":{"kind":"Group"}}}}}},{"title":"Runtime","schema":{"title":"Runtime","required":["framework","pythonVersion"],"properties":{"framework":{"title":"Framework","type":"string","enum":["fastapi","flask","aiohttp"],"enumNames":["FastAPI","Flask","aiohttp"],"default":"fastapi"},"pythonVersion":{"title":"Python version","type":"string","enum":["3.11","3.12","3.13"],"default":"3.12"},"port":{"title":"Container port","type":"integer","default":8080,"minimum":1024,"maximum":65535},"enableMetrics":{"title":"Expose Prometheus metrics on /metrics","type":"boolean","default":true}}}},{"title":"Deployment","schema":{"title":"Deployment","required":["namespace","lifecycle"],"properties":{"namespace":{"title":"Kubernetes namespace","type":"string","pattern":"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$","default":"default"},"replicas":{"title":"Replicas","type":"integer","default":2,"minimum":1,"maximum":10},"lifecycle":{"title":"Lifecycle","type":"string","enum":["experimental","production"],"default":"experimental"},"dryRunDeploy":{"title":"Skip the first deployment","description":"Only render manifests; do not apply them.","type":"boolean","default":false}}}}]}"""
)

# A pause in a script: the task waits here until it is cancelled (the harness's debug:wait step).
WAIT_FOR_CANCEL = ("wait-for-cancel", {})


def template_entity(name: str) -> dict[str, Any]:
    """The harness template as the catalog serves it (the same YAML the real harness loads)."""
    entity = yaml.safe_load((TEMPLATES_DIR / name / "template.yaml").read_text())
    entity["metadata"].setdefault("namespace", "default")
    return entity


def parameter_schema(entity: dict[str, Any]) -> dict[str, Any]:
    """What ``/parameter-schema`` answers: each page of ``spec.parameters`` as ``{title, description, schema}``."""
    if entity["metadata"]["name"] == "python-service":
        return PYTHON_SERVICE_SCHEMA
    pages = entity["spec"].get("parameters") or []
    steps = [{"title": page.get("title", "Please enter the following information"), "schema": page} for page in pages]
    return {
        "title": entity["metadata"].get("title"),
        "description": entity["metadata"].get("description"),
        "steps": steps,
    }


def validation_errors(entity: dict[str, Any], values: dict[str, Any]) -> list[dict[str, Any]]:
    """Backstage validates the values page by page and answers with the first failing page's errors."""
    for page in entity["spec"].get("parameters") or []:
        errors = [
            _error(None, f'requires property "{name}"', page, values, "required", name)
            for name in page.get("required") or []
            if name not in values
        ]
        for name, prop in (page.get("properties") or {}).items():
            value = values.get(name)
            if isinstance(value, str) and "pattern" in prop and not re.search(prop["pattern"], value):
                message = f'does not match pattern "{prop["pattern"]}"'
                errors.append(_error(name, message, prop, value, "pattern", prop["pattern"]))
            if prop.get("type") == "integer" and name in values and not isinstance(value, int):
                message = f"is not of a type(s) {prop['type']}"
                errors.append(_error(name, message, prop, value, "type", [prop["type"]]))
        if errors:
            return errors
    return []


def _error(field: str | None, message: str, schema: Any, instance: Any, rule: str, argument: Any) -> dict[str, Any]:
    """One jsonschema ValidationError as Backstage's 400 lists it (``field`` None: the page itself)."""
    where = f"instance.{field}" if field else "instance"
    return {
        "path": [field] if field else [],
        "property": where,
        "message": message,
        "schema": schema,
        "instance": instance,
        "name": rule,
        "argument": argument,
        "stack": f"{where} {message}",
    }


def script_for(entity: dict[str, Any], values: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The events a task of this template sends, as recorded (14, 19b and 19f)."""
    name = entity["metadata"]["name"]
    if name == "python-service":
        return _python_service_script(values)
    if values.get("outcome") == "fail":
        return _diagnostics_failing_script(values)
    return _diagnostics_cancellable_script(values)


def _python_service_script(values: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    service, owner, namespace = values["name"], values["owner"], values.get("namespace", "default")
    output = {
        "links": [
            {
                "title": "Repository (would be created by publish:github)",
                "url": f"https://github.com/kestrel-commerce/{service}",
            },
            {"title": "Owner", "icon": "group", "entityRef": owner},
        ],
        "text": [
            {
                "title": "Next steps",
                "content": f"**{service}** was rendered in the scaffolder workspace.\nDeploy with `kubectl -n {namespace} apply -f k8s/`.\n",
            }
        ],
    }
    return [
        ("log", {"message": "Starting up task with 3 steps"}),
        ("log", {"message": "Beginning step Render skeleton", "stepId": "fetch-base", "status": "processing"}),
        ("log", {"message": f"{INFO}Fetching template content from remote URL", "stepId": "fetch-base"}),
        (
            "log",
            {
                "message": f"{INFO}Writing file Dockerfile to template output path with mode 33188.",
                "stepId": "fetch-base",
            },
        ),
        ("log", {"message": "Finished step Render skeleton", "stepId": "fetch-base", "status": "completed"}),
        (
            "log",
            {
                "message": "Beginning step Write catalog-info.yaml",
                "stepId": "write-catalog-info",
                "status": "processing",
            },
        ),
        ("log", {"message": f"{INFO}Writing catalog-info.yaml", "stepId": "write-catalog-info"}),
        (
            "log",
            {"message": "Finished step Write catalog-info.yaml", "stepId": "write-catalog-info", "status": "completed"},
        ),
        ("log", {"message": "Beginning step Show workspace", "stepId": "log", "status": "processing"}),
        ("log", {"message": f"{INFO}Workspace:\n  - Dockerfile\n  - catalog-info.yaml", "stepId": "log"}),
        ("log", {"message": "Finished step Show workspace", "stepId": "log", "status": "completed"}),
        ("completion", {"message": "Run completed with status: completed", "output": output}),
    ]


def _diagnostics_failing_script(values: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    missing = "ENOENT: no such file or directory, lstat '/srv/backstage/catalog/templates/harness-diagnostics/no-such-directory'"
    return [
        ("log", {"message": "Starting up task with 4 steps"}),
        ("log", {"message": "Beginning step Announce", "stepId": "announce", "status": "processing"}),
        (
            "log",
            {
                "message": f"{INFO}Diagnostics run: outcome=fail, wait={values.get('waitSeconds', 5)}s",
                "stepId": "announce",
            },
        ),
        ("log", {"message": "Finished step Announce", "stepId": "announce", "status": "completed"}),
        ("log", {"message": "Beginning step Wait", "stepId": "wait", "status": "processing"}),
        ("log", {"message": "Finished step Wait", "stepId": "wait", "status": "completed"}),
        (
            "log",
            {"message": "Beginning step Fetch a path that does not exist", "stepId": "fail", "status": "processing"},
        ),
        ("log", {"message": f"{INFO}Fetching plain content from remote URL", "stepId": "fail"}),
        ("log", {"message": f"Error: {missing}", "stepId": "fail", "status": "failed"}),
        (
            "log",
            {"message": "Skipping step done because a previous step failed", "stepId": "done", "status": "skipped"},
        ),
        (
            "completion",
            {"message": "Run completed with status: failed", "error": {"name": "Error", "message": missing}},
        ),
    ]


def _diagnostics_cancellable_script(values: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    cancelled = "Step wait (Wait) of task {task} has been cancelled."
    return [
        ("log", {"message": "Starting up task with 4 steps"}),
        ("log", {"message": "Beginning step Announce", "stepId": "announce", "status": "processing"}),
        ("log", {"message": "Finished step Announce", "stepId": "announce", "status": "completed"}),
        ("log", {"message": "Beginning step Wait", "stepId": "wait", "status": "processing"}),
        WAIT_FOR_CANCEL,
        ("cancelled", {"message": "Step wait has been cancelled.", "stepId": "wait", "status": "cancelled"}),
        (
            "log",
            {
                "message": f"Error: {cancelled}\n    at NunjucksWorkflowRunner.executeStep (...)",
                "stepId": "wait",
                "status": "failed",
            },
        ),
        (
            "log",
            {"message": "Skipping step fail because a previous step failed", "stepId": "fail", "status": "skipped"},
        ),
        (
            "log",
            {"message": "Skipping step done because a previous step failed", "stepId": "done", "status": "skipped"},
        ),
        (
            "completion",
            {"message": "Run completed with status: failed", "error": {"name": "Error", "message": cancelled}},
        ),
    ]


@dataclass
class FakeTask:
    id: str
    entity: dict[str, Any]
    values: dict[str, Any]
    secrets: dict[str, Any]
    status: str = "open"
    events: list[dict[str, Any]] = field(default_factory=list)
    cancelled: threading.Event = field(default_factory=threading.Event)
    streams_opened: int = 0


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorized: bool


class ScaffolderServer:
    """The fake backend; use as a context manager. ``url`` is its base URL, ``requests`` what it received."""

    def __init__(
        self,
        *,
        token: str = "fake-static-token",
        drop_after: int | None = None,
        event_delay: float = 0.0,
        hostile_frames: tuple[str, ...] = (),
    ) -> None:
        self.token = token
        self.drop_after = drop_after
        self.hostile_frames = hostile_frames
        self.event_delay = event_delay
        self.requests: list[RecordedRequest] = []
        self.tasks: dict[str, FakeTask] = {}
        self.templates = {name: template_entity(name) for name in ("python-service", "harness-diagnostics")}
        self.failures: list[tuple[str, str, int, str]] = []
        self._event_id = 0
        self._lock = threading.Condition()
        self._server = LocalServer(_handler(self), name="fake-scaffolder", quiet_errors=True)
        self.url = self._server.url

    def __enter__(self) -> ScaffolderServer:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for task in self.tasks.values():
            task.cancelled.set()
        self._server.stop()

    def fail(self, method: str, path_prefix: str, status: int, message: str = "boom") -> None:
        """Answer every ``method`` request under ``path_prefix`` with ``status`` and Backstage's error envelope."""
        self.failures.append((method, path_prefix, status, message))

    def requests_to(self, method: str, path_part: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    # -- tasks ------------------------------------------------------------------------------------------------------

    def start_task(self, entity: dict[str, Any], values: dict[str, Any], secrets: dict[str, Any]) -> FakeTask:
        task = FakeTask(str(uuid.uuid4()), entity, values, secrets, status="processing")
        self.tasks[task.id] = task
        threading.Thread(target=self._work, args=(task,), daemon=True).start()
        return task

    def _work(self, task: FakeTask) -> None:
        for kind, body in script_for(task.entity, task.values):
            if (kind, body) == WAIT_FOR_CANCEL:
                task.cancelled.wait(timeout=30)
                continue
            if self.event_delay:
                time.sleep(self.event_delay)
            body = json.loads(json.dumps(body).replace("{task}", task.id))
            with self._lock:
                self._event_id += 1
                task.events.append(
                    {
                        "id": self._event_id,
                        "isTaskRecoverable": False,
                        "taskId": task.id,
                        "body": body,
                        "type": kind,
                        "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                    }
                )
                if kind == "completion":
                    task.status = "failed" if "error" in body else "completed"
                self._lock.notify_all()

    def events_after(self, task: FakeTask, after: int, wait: float) -> list[dict[str, Any]]:
        with self._lock:
            self._lock.wait_for(lambda: any(e["id"] > after for e in task.events), timeout=wait)
            return [e for e in task.events if e["id"] > after]

    def task_record(self, task: FakeTask) -> dict[str, Any]:
        """``GET /tasks/:id`` as 4.3.0 answers it: the spec and status, no output (that is in ``completion``)."""
        spec = task.entity["spec"]
        metadata = {k: v for k, v in task.entity["metadata"].items() if k in ("name", "namespace", "title")}
        ref = f"template:default/{metadata['name']}"
        return {
            "id": task.id,
            "spec": {
                "apiVersion": task.entity["apiVersion"],
                "steps": spec["steps"],
                "output": spec.get("output") or {},
                "parameters": task.values,
                "user": {},
                "templateInfo": {"entityRef": ref, "entity": {"metadata": metadata}},
            },
            "status": task.status,
            "createdAt": "2026-11-24T12:32:09.000Z",
            "lastHeartbeatAt": "2026-11-24T12:32:09.000Z",
        }

    def dry_run(self, body: dict[str, Any]) -> tuple[int, Any]:
        """The dry-run route: the request checks Backstage makes, then a rendered workspace in the recorded shape."""
        if "directoryContents" not in body:
            return 400, _envelope(400, "InputError", "request/body must have required property 'directoryContents'")
        entity = body.get("template")
        if not isinstance(entity, dict) or entity.get("kind") != "Template" or "spec" not in entity:
            return 400, _envelope(400, "InputError", "Input template is not a template")
        errors = validation_errors(entity, body.get("values") or {})
        if errors:
            return 400, {"errors": errors}
        files = {item["path"]: item["base64Content"] for item in body["directoryContents"]}
        try:
            fetched = _fetched_by_url(entity["spec"]["steps"])
        except OSError as error:
            return 500, _envelope(500, "Error", f"Unable to read url, {error}")
        if not fetched and not any(path.startswith("skeleton/") for path in files):
            missing = "ENOENT: no such file or directory, lstat '/srv/backstage/work/dry-run-content/skeleton'"
            return 500, _envelope(500, "Error", missing)
        steps = [
            {"id": s["id"], "name": s["name"], "action": s["action"], "input": s["input"]}
            for s in entity["spec"]["steps"]
        ]
        log = [{"body": {"message": f"Starting up task with {len(steps)} steps"}}]
        for step in steps:
            log.append(
                {"body": {"stepId": step["id"], "status": "processing", "message": f"Beginning step {step['name']}"}}
            )
            log.append({"body": {"stepId": step["id"], "message": f"{INFO}Running {step['action']} in dry-run mode"}})
            log.append(
                {"body": {"stepId": step["id"], "status": "completed", "message": f"Finished step {step['name']}"}}
            )
        contents = [
            {"path": path.removeprefix("skeleton/"), "executable": path.endswith(".sh"), "base64Content": content}
            for path, content in files.items()
            if path.startswith("skeleton/")
        ]
        contents += [{"path": path, "executable": False, "base64Content": content} for path, content in fetched.items()]
        values = body.get("values") or {}
        output = {"links": [{"title": "Owner", "icon": "group", "entityRef": values.get("owner")}]}
        return 200, {"log": log, "directoryContents": contents, "output": output, "steps": steps}


def _fetched_by_url(steps: list[dict[str, Any]]) -> dict[str, str]:
    """The files of single-file fetch steps whose ``url`` is absolute, read as the server's URL reader reads them
    (only from 127.0.0.1 here, as the harness allows only its own file server): ``{targetPath: base64}``."""
    fetched = {}
    for step in steps:
        inputs = step.get("input") or {}
        url = inputs.get("url")
        single_file = step.get("action") in ("fetch:plain:file", "fetch:template:file")
        if single_file and str(url).startswith("http://127.0.0.1:"):
            with urllib.request.urlopen(url, timeout=10) as response:
                fetched[inputs["targetPath"].removeprefix("./")] = base64.b64encode(response.read()).decode("ascii")
    return fetched


def _envelope(status: int, name: str, message: str, method: str = "", url: str = "") -> dict[str, Any]:
    return {
        "error": {"name": name, "message": message},
        "request": {"method": method, "url": url},
        "response": {"statusCode": status},
    }


def _handler(server: ScaffolderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # stay quiet: the test's captured output must hold nothing the client did not print

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def _dispatch(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            sent = self.headers.get("Authorization")
            authorized = sent == f"Bearer {server.token}"
            server.requests.append(RecordedRequest(method, parts.path, query, body, authorized))
            route = parts.path.removeprefix("/api/scaffolder")
            if not authorized:
                reason = "Missing credentials" if sent is None else "Illegal token"
                return self._json(401, _envelope(401, "AuthenticationError", reason, method, route))
            for fail_method, prefix, status, message in server.failures:
                if method == fail_method and parts.path.startswith(prefix):
                    return self._json(status, _envelope(status, "Error", message, method, route))
            self._route(method, parts.path, query, body)

        def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> None:
            schema = re.fullmatch(rf"{API}/templates/([^/]+)/template/([^/]+)/parameter-schema", path)
            task_path = re.fullmatch(rf"{API}/tasks/([^/]+)(/eventstream|/events|/cancel)?", path)
            entity_path = re.fullmatch(r"/api/catalog/entities/by-name/template/([^/]+)/([^/]+)", path)
            if method == "GET" and schema:
                return self._parameter_schema(schema.group(2))
            if method == "GET" and entity_path:
                return self._entity(entity_path.group(2))
            if method == "POST" and path == f"{API}/tasks":
                return self._create(body or {})
            if method == "POST" and path == f"{API}/dry-run":
                return self._json(*server.dry_run(body or {}))
            if task_path:
                task = server.tasks.get(task_path.group(1))
                if task is None:
                    message = f"No task with id '{task_path.group(1)}' found"
                    return self._json(404, _envelope(404, "NotFoundError", message, method, path))
                return self._task(method, task, task_path.group(2) or "", query)
            self._json(404, None)

        def _parameter_schema(self, name: str) -> None:
            entity = server.templates.get(name)
            if entity is None:
                message = f"Template template:default/{name} not found"
                return self._json(404, _envelope(404, "NotFoundError", message, "GET", self.path))
            self._json(200, parameter_schema(entity))

        def _entity(self, name: str) -> None:
            entity = server.templates.get(name)
            if entity is None:
                message = f"No entity named 'template:default/{name}' found"
                return self._json(404, _envelope(404, "NotFoundError", message, "GET", self.path))
            self._json(200, entity)

        def _create(self, body: dict[str, Any]) -> None:
            ref = str(body.get("templateRef") or "")
            entity = server.templates.get(ref.rpartition("/")[2]) if ref.startswith("template:default/") else None
            if entity is None:
                return self._json(
                    404, _envelope(404, "NotFoundError", f"Template {ref} not found", "POST", "/v2/tasks")
                )
            errors = validation_errors(entity, body.get("values") or {})
            if errors:
                return self._json(400, {"errors": errors})
            task = server.start_task(entity, body.get("values") or {}, body.get("secrets") or {})
            self._json(201, {"id": task.id})

        def _task(self, method: str, task: FakeTask, action: str, query: dict[str, list[str]]) -> None:
            after = int(query.get("after", ["0"])[0] or 0)
            if method == "POST" and action == "/cancel":
                task.cancelled.set()
                return self._json(200, {"status": "cancelled"})
            if method == "GET" and action == "/events":
                return self._json(200, server.events_after(task, after, wait=0))
            if method == "GET" and action == "/eventstream":
                return self._stream(task, after)
            if method == "GET" and not action:
                return self._json(200, server.task_record(task))
            self._json(404, None)

        def _stream(self, task: FakeTask, after: int) -> None:
            task.streams_opened += 1
            drop = server.drop_after if task.streams_opened == 1 else None
            # Like Backstage, send nothing (not even the headers) until there is an event to send.
            server.events_after(task, after, wait=10)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for frame in server.hostile_frames:
                self._chunk(frame)
            sent = 0
            while True:
                events = server.events_after(task, after, wait=10)
                if not events:
                    break
                for event in events:
                    if drop is not None and sent == drop:
                        # Half a frame, then the connection goes: the chunked body never ends.
                        self._chunk(f"event: log\ndata: {json.dumps(event)[:20]}")
                        self.close_connection = True
                        return
                    self._chunk(f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n")
                    sent += 1
                    after = event["id"]
                    if event["type"] == "completion":
                        self.wfile.write(b"0\r\n\r\n")  # Backstage closes the stream after completion
                        return
            self.wfile.write(b"0\r\n\r\n")

        def _chunk(self, text: str) -> None:
            data = text.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _json(self, status: int, payload: Any) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if payload is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
