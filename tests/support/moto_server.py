"""A local moto server (AWS stand-in, no Docker) on 127.0.0.1:<free port>, always stopped."""

from __future__ import annotations

import atexit
import base64
import contextlib
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

# moto runs Lambda code only through Docker, which is absent here: without this an invoke (or an
# SNS -> Lambda delivery) fails on the Docker client instead of echoing the payload.
DEFAULT_CONFIG: dict[str, Any] = {"lambda": {"use_docker": False}}

FAKE_CREDENTIALS: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
DEFAULT_REGION = "us-east-1"
# moto's default account: the ARNs it hands out all carry it.
MOTO_ACCOUNT_ID = "123456789012"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class RecordedRequest(NamedTuple):
    """One request as moto's recorder saw it."""

    method: str
    url: str
    body: bytes


class MotoServerError(RuntimeError):
    """moto_server did not start, or the moto API refused a request."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on `host` a moment ago (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def tiny_png(width: int = 1, height: int = 1) -> bytes:
    """A valid, white, 8-bit greyscale PNG of `width` x `height` pixels (stdlib only)."""
    width, height = max(1, min(2000, width)), max(1, min(2000, height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = (b"\x00" + b"\xff" * width) * height  # filter byte 0, then white pixels
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, after checking every chunk's CRC."""
    assert data.startswith(PNG_SIGNATURE)
    position, size = len(PNG_SIGNATURE), None
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        position += 12 + length
    assert size is not None
    return size


def _widget_size(metric_widget: object) -> tuple[int, int]:
    """The image size a MetricWidget asks for (600 x 400 by default); ValueError if it is not
    a JSON object with a non-empty metrics array, as CloudWatch refuses it."""
    widget = json.loads(metric_widget) if isinstance(metric_widget, str) else None
    if not isinstance(widget, dict) or not isinstance(widget.get("metrics"), list):
        raise ValueError("The MetricWidget parameter must be a JSON object with metrics")
    if not widget["metrics"]:
        raise ValueError("The metrics array must not be empty")
    width, height = widget.get("width", 600), widget.get("height", 400)
    if not all(isinstance(v, int) and 1 <= v <= 2000 for v in (width, height)):
        raise ValueError("width and height must be integers from 1 to 2000")
    return width, height


def fill_moto_gaps() -> None:
    """Implement, inside the server process, moto API calls the examples need that moto 5.2
    leaves as NotImplementedError (answered as HTTP 500, which the aws provider retries for
    minutes): EC2 MonitorInstances / UnmonitorInstances, called for `monitoring = true`;
    CloudWatch GetMetricWidgetImage (a blank PNG of the widget's size; a widget that is not a
    JSON object with metrics gets InvalidParameterInput, as from CloudWatch); and make SQS
    behave as the tests need it (see _fill_sqs_gaps)."""
    from moto.cloudwatch.exceptions import DashboardInvalidInputError  # noqa: PLC0415
    from moto.cloudwatch.responses import CloudWatchResponse  # noqa: PLC0415
    from moto.core.responses import ActionResult  # noqa: PLC0415 - server process only
    from moto.ec2.responses.monitoring import Monitoring  # noqa: PLC0415

    _fill_sqs_gaps()

    def set_monitoring(response: Any, state: str) -> ActionResult:
        response.error_on_dryrun()
        monitorings = []
        for instance_id in response._get_param("InstanceIds", []):
            response.ec2_backend.get_instance(instance_id).monitoring_state = state
            monitorings.append({"InstanceId": instance_id, "Monitoring": {"State": state}})
        return ActionResult({"InstanceMonitorings": monitorings})

    Monitoring.monitor_instances = lambda self: set_monitoring(self, "enabled")  # type: ignore[method-assign]
    Monitoring.unmonitor_instances = lambda self: set_monitoring(self, "disabled")  # type: ignore[method-assign]

    def get_metric_widget_image(response: Any) -> ActionResult:
        try:
            width, height = _widget_size(response._get_param("MetricWidget"))
        except ValueError as error:
            raise DashboardInvalidInputError(str(error)) from None
        return ActionResult({"MetricWidgetImage": tiny_png(width, height)})

    CloudWatchResponse.get_metric_widget_image = get_metric_widget_image  # type: ignore[attr-defined]


def _fill_sqs_gaps() -> None:
    """SQS inside the server process:
    - SendMessage to a queue with a Lambda event source mapping no longer invokes the function
      on the spot (moto does that, and without Docker deletes the messages as if processed):
      Lambda polls, and the tests play the poller (support/sqs_poller.py);
    - StartMessageMoveTask / ListMessageMoveTasks (dead-letter queue redrive), which moto 5.2
      lacks: the move runs at once and is listed as COMPLETED;
    - RedrivePolicy is returned as compact JSON, as AWS returns it (moto's `json.dumps` spacing
      shows up as a change in every plan after apply);
    - SetQueueAttributes without a Policy keeps the queue's policy, as AWS does (moto drops it:
      an update of any other attribute of the inbox would leave it unable to receive)."""
    import base64 as b64  # noqa: PLC0415
    import json as js  # noqa: PLC0415
    import time as clock  # noqa: PLC0415
    import uuid  # noqa: PLC0415

    from moto.core.responses import ActionResult  # noqa: PLC0415
    from moto.sqs.exceptions import InvalidParameterValue  # noqa: PLC0415
    from moto.sqs.models import Queue, sqs_backends  # noqa: PLC0415
    from moto.sqs.responses import SQSResponse  # noqa: PLC0415

    add_message = Queue.add_message
    queue_attributes = Queue.attributes.fget  # type: ignore[attr-defined]
    set_attributes = Queue._set_attributes

    def set_attributes_keeping_the_policy(
        self: Any, attributes: dict[str, Any], now: float | None = None
    ) -> None:
        policy = getattr(self, "policy", None)
        set_attributes(self, attributes, now)
        if "Policy" not in attributes:
            self.policy = policy

    def attributes_as_aws_returns_them(self: Any) -> dict[str, Any]:
        result = dict(queue_attributes(self))
        if self.redrive_policy:
            result["RedrivePolicy"] = js.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    def add_message_for_the_poller(self: Any, message: Any) -> None:
        if self.fifo_queue:  # FIFO deduplication lives in moto's own add_message
            add_message(self, message)
            return
        with self._messages_lock:
            self._messages.append(message)
            self._messages_lock.notify_all()

    def queue_by_arn(arn: str | None) -> Any:
        parts = (arn or "").split(":")
        if len(parts) != 6 or parts[2] != "sqs":
            raise InvalidParameterValue(f"Value {arn} for parameter SourceArn is invalid.")
        return sqs_backends[parts[4]][parts[3]].get_queue(parts[5])

    tasks: list[dict[str, Any]] = []

    def start_message_move_task(self: Any) -> ActionResult:
        source = queue_by_arn(self._get_param("SourceArn"))
        sources = [
            queue
            for queue in sqs_backends[source.account_id][source.region].queues.values()
            if queue.dead_letter_queue is source
        ]
        if not sources:
            raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
        destination_arn = self._get_param("DestinationArn")
        if destination_arn:
            destination = queue_by_arn(destination_arn)
        elif len(sources) == 1:
            destination = sources[0]
        else:  # AWS remembers each message's source queue; moto does not
            raise InvalidParameterValue("Several source queues: give DestinationArn.")
        backend = sqs_backends[destination.account_id][destination.region]
        moving = list(source.messages)  # visible ones: in-flight messages stay
        for message in moving:
            backend.send_message(
                destination.name, message.body, message_attributes=message.message_attributes
            )
            with source._messages_lock:
                source._messages.remove(message)
        handle = b64.b64encode(
            js.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source.queue_arn}).encode()
        ).decode()
        task = {
            "TaskHandle": handle,
            "Status": "COMPLETED",
            "SourceArn": source.queue_arn,
            "DestinationArn": destination.queue_arn,
            "ApproximateNumberOfMessagesMoved": len(moving),
            "ApproximateNumberOfMessagesToMove": len(moving),
            "StartedTimestamp": int(clock.time() * 1000),
        }
        rate = self._get_param("MaxNumberOfMessagesPerSecond")
        if rate:
            task["MaxNumberOfMessagesPerSecond"] = int(rate)
        tasks.append(task)
        return ActionResult({"TaskHandle": handle})

    def list_message_move_tasks(self: Any) -> ActionResult:
        source = queue_by_arn(self._get_param("SourceArn"))
        limit = int(self._get_param("MaxResults") or 1)
        own = [task for task in reversed(tasks) if task["SourceArn"] == source.queue_arn]
        return ActionResult({"Results": own[:limit]})

    Queue.add_message = add_message_for_the_poller  # type: ignore[method-assign]
    Queue._set_attributes = set_attributes_keeping_the_policy  # type: ignore[method-assign]
    Queue.attributes = property(attributes_as_aws_returns_them)  # type: ignore[assignment,method-assign]
    SQSResponse.start_message_move_task = start_message_move_task  # type: ignore[attr-defined]
    SQSResponse.list_message_move_tasks = list_message_move_tasks  # type: ignore[attr-defined]


def _moto_command(fill_gaps: bool) -> list[str]:
    if fill_gaps:
        # This file as the launcher: moto's own server main, after fill_moto_gaps().
        return [sys.executable, str(Path(__file__).resolve()), "serve"]
    # The console script next to the running interpreter, i.e. the venv's; `-m moto.server` is the
    # same program for interpreters without it.
    script = Path(sys.executable).parent / "moto_server"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "moto.server"]


class MotoServer:
    """moto in server mode as a subprocess: `with MotoServer() as moto: moto.endpoint`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        config: Mapping[str, Any] | None = None,
        region: str = DEFAULT_REGION,
        startup_timeout: float = 30.0,
        record_requests: bool = False,
        fill_gaps: bool = True,
    ) -> None:
        self.host = host
        self.port = port or 0
        self.region = region
        self.config: dict[str, Any] = dict(DEFAULT_CONFIG if config is None else config)
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        self.log_path: Path | None = None
        # moto's request recorder keeps every request body; the only place a server-mode moto
        # gives back the bytes of a Lambda zip (get_function's Code.Location is a fake S3 URL).
        self.record_requests = record_requests
        self.fill_gaps = fill_gaps
        self.recording_path: Path | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """Base URL of the running server, e.g. http://127.0.0.1:40123."""
        if self._process is None:
            raise MotoServerError("moto server is not running")
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> MotoServer:
        """Start moto_server, wait until it answers, apply `config`. Idempotent."""
        if self.running:
            return self
        attempts = 1 if self.port else 3
        last_error: Exception | None = None
        for _ in range(attempts):
            port = self.port or free_port(self.host)
            try:
                self._spawn(port)
                self._wait_until_ready()
            except MotoServerError as error:
                # Another process may have taken the free port between our probe and moto's bind.
                last_error = error
                self.stop()
                continue
            self.configure(self.config)
            atexit.register(self.stop)
            return self
        raise MotoServerError(f"moto_server did not start: {last_error}")

    def _spawn(self, port: int) -> None:
        self.port = port
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="moto-server-", suffix=".log", delete=False
        )
        self._log_file = log
        self.log_path = Path(log.name)
        command = [*_moto_command(self.fill_gaps), "-H", self.host, "-p", str(port)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if self.record_requests:
            fd, name = tempfile.mkstemp(prefix="moto-recording-", suffix=".jsonl")
            os.close(fd)
            self.recording_path = Path(name)
            env |= {"MOTO_ENABLE_RECORDING": "True", "MOTO_RECORDER_FILEPATH": name}
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            # Own process group: a Ctrl-C in the terminal reaches pytest, which stops us in order.
            start_new_session=True,
        )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        url = f"http://{self.host}:{self.port}/moto-api/config"
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise MotoServerError(f"moto_server exited early; log:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status < 500:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise MotoServerError(
            f"moto_server did not answer within {self.startup_timeout} s; log:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Stop the server (terminate, then kill). Safe to call twice or after a failed start."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        for path in (self.log_path, self.recording_path):
            if path is not None:
                path.unlink(missing_ok=True)
        self.log_path = self.recording_path = None
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines moto_server wrote (requests, tracebacks): for failure messages."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # -- moto API --------------------------------------------------------------------------------

    def _moto_api(self, path: str, body: Mapping[str, Any] | None = None) -> Any:
        data = json.dumps(body or {}).encode()
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/{path}",
            data=data,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise MotoServerError(f"moto API {path}: HTTP {error.code}") from error
        return json.loads(raw) if raw else None

    def configure(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """POST /moto-api/config (e.g. {"lambda": {"use_docker": False}}); returns moto's config."""
        self.config = dict(config)
        return dict(self._moto_api("config", config))

    def reset(self) -> None:
        """Drop every resource in every backend (and the request recording), then re-apply
        `config`."""
        self._moto_api("reset")
        if self.record_requests:
            self._moto_api("recorder/reset-recording")
        self.configure(self.config)

    # -- recorded requests ----------------------------------------------------------------------

    def recorded_requests(self) -> list[RecordedRequest]:
        """Every service request moto has recorded so far (needs `record_requests=True`)."""
        if self.recording_path is None:
            raise MotoServerError("start MotoServer(record_requests=True) to record requests")
        text = self.recording_path.read_text(encoding="utf-8")
        # moto appends one JSON object per request from several threads at once: two entries may
        # share a line, so decode the stream object by object instead of line by line.
        decoder = json.JSONDecoder()
        entries: list[RecordedRequest] = []
        position = 0
        while True:
            while position < len(text) and text[position].isspace():
                position += 1
            if position >= len(text):
                return entries
            entry, position = decoder.raw_decode(text, position)
            raw = entry.get("body") or ""
            body = base64.b64decode(raw) if entry.get("body_encoded") else raw.encode("utf-8")
            entries.append(RecordedRequest(entry["method"], entry["url"], body))

    def lambda_code_zip(self, function_name: str, *, region: str | None = None) -> bytes:
        """The zip moto holds as `function_name`'s code: the recorded CreateFunction or
        UpdateFunctionCode body whose SHA-256 is the CodeSha256 moto reports for the function."""
        lambda_client = self.client("lambda", region_name=region or self.region)
        configuration = lambda_client.get_function_configuration(FunctionName=function_name)
        expected = configuration["CodeSha256"]
        for request in reversed(self.recorded_requests()):
            path = urllib.parse.urlsplit(request.url).path.rstrip("/")
            if request.method == "POST" and path.endswith("/2015-03-31/functions"):
                spec = json.loads(request.body)
                code = spec.get("Code", {}).get("ZipFile")
            elif request.method == "PUT" and path.endswith(f"/functions/{function_name}/code"):
                code = json.loads(request.body).get("ZipFile")
            else:
                continue
            if not code:
                continue
            zip_bytes = base64.b64decode(code)
            digest = base64.b64encode(hashlib.sha256(zip_bytes).digest()).decode()
            if digest == expected:
                return zip_bytes
        raise MotoServerError(
            f"no recorded upload of {function_name!r} matches its CodeSha256 {expected}"
        )

    # -- clients ------------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """Environment for processes (boto3, the aws CLI) that should reach this server."""
        return {
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for `service` pointed at this server with fake credentials."""
        import boto3  # noqa: PLC0415 - dev dependency, only needed for clients

        options: dict[str, Any] = {
            "endpoint_url": self.endpoint,
            "region_name": self.region,
            "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "aws_session_token": FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        }
        options.update(kwargs)
        return boto3.client(service, **options)


def _read_models_once() -> None:
    """Inside the server process: moto builds a new botocore Loader for every service model it
    reads (support/botocore_data.py shares them) and lists its own package directory on every
    request to match the Host header (the list never changes while it runs)."""
    from moto import backends  # noqa: PLC0415 - server process only

    from support.botocore_data import share_loaded_data  # noqa: PLC0415

    share_loaded_data()
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]


def _serve(argv: list[str]) -> None:
    """`python moto_server.py serve -H HOST -p PORT`: moto_server with fill_moto_gaps()."""
    fill_moto_gaps()
    _read_models_once()
    from moto.server import main as moto_main  # noqa: PLC0415

    moto_main(argv)


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"]:
        sys.exit("usage: moto_server.py serve [moto_server options]")
    # Run as a script, this directory heads sys.path: its helper modules (terraform.py,
    # cloudwatch.py, ...) must not shadow anything moto imports.
    # Its package is imported as `support` from tests/, last on the path.
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.append(str(_here.parent))
    _serve(sys.argv[2:])
