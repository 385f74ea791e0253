"""The e2e harness: temporary copies of the examples applied into moto, and the test's stand-ins
for CloudWatch (state changes, the capture queue) and for Lambda (the deployed zip, imported)."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from support.attached_providers import attached, aws_aliases
from support.aws_override import moto_endpoint_env
from support.moto_server import FAKE_CREDENTIALS, MotoServer
from support.terraform import REPO_ROOT, terraform, terraform_env

logger = logging.getLogger("e2e")

# Every example runs in its default region (Seoul): moto serves every region alike.
REGION = "ap-northeast-2"
# The module as the examples use it (source = "../.."): its root *.tf files and lambda/, and
# its submodules (source = "../../modules/<name>").
MODULE_FILE_PATTERNS = ("*.tf",)
HANDLER_DIR = "lambda"
SUBMODULES_DIR = "modules"
# The webhook variable must be https:// (module validation); the test never posts to it.
PLACEHOLDER_WEBHOOK = "https://hooks.slack.com/services/T00000000/B00000000/e2ePlaceholder"
SSM_PARAMETER = "/alarm-to-slack-e2e/slack-webhook-url"
LOAD_BALANCER = "app/e2e-alb/0123456789abcdef"
HANDLER_ENV_KEYS = (
    "SLACK_WEBHOOK_URL",
    "SLACK_WEBHOOK_SSM_PARAMETER",
    "SLACK_CHANNEL",
    "SLACK_USERNAME",
    "SLACK_ICON_EMOJI",
    "ALARM_MENTION",
    "TIMEZONE",
    "MESSAGE_LANGUAGE",
    "LOG_LEVEL",
    "DIGEST_THRESHOLD",
    "SLACK_MESSAGE_INTERVAL_SECONDS",
)
# A guard against a provider that retries a moto gap forever, not a speed limit: on a busy 2-core
# machine an apply of the SNS examples (four SQS waits of ~25 s each) took over 300 s.
TERRAFORM_TIMEOUT = 600.0


# -- phase timings (reported at the end of the run, never asserted) ------------------------------

_TIMINGS: list[tuple[str, float]] = []
_TIMINGS_LOCK = threading.Lock()


@contextlib.contextmanager
def timed(phase: str) -> Iterator[None]:
    """Record how long `phase` took; printed in the terminal summary of the run."""
    start = time.monotonic()
    try:
        yield
    finally:
        elapsed = time.monotonic() - start
        with _TIMINGS_LOCK:
            _TIMINGS.append((phase, elapsed))
        logger.info("e2e phase %s: %.1f s", phase, elapsed)


# -- the repository copy -----------------------------------------------------------------------


def _ignore_build_output(directory: str, names: list[str]) -> set[str]:
    ignored = {".terraform", "build", "__pycache__", ".terraform.lock.hcl", "terraform.tfvars"}
    return {
        name
        for name in names
        if name in ignored
        or name.endswith((".tfstate", ".tfstate.backup", ".pyc", ".zip"))
        or name.endswith("_override.tf")
    }


def copy_example(example: str, destination: Path) -> Path:
    """A copy of the module (root *.tf + lambda/ + modules/) and of examples/<example> under
    `destination`, laid out as in the repository so `source = "../.."` and
    `source = "../../modules/<name>"` resolve; returns the example dir."""
    root = destination / "repo"
    root.mkdir(parents=True)
    for pattern in MODULE_FILE_PATTERNS:
        for path in REPO_ROOT.glob(pattern):
            shutil.copy2(path, root / path.name)
    shutil.copytree(REPO_ROOT / HANDLER_DIR, root / HANDLER_DIR, ignore=_ignore_build_output)
    if (REPO_ROOT / SUBMODULES_DIR).is_dir():
        shutil.copytree(
            REPO_ROOT / SUBMODULES_DIR, root / SUBMODULES_DIR, ignore=_ignore_build_output
        )
    workdir = root / "examples" / example
    shutil.copytree(REPO_ROOT / "examples" / example, workdir, ignore=_ignore_build_output)
    return workdir


# -- one applied example ---------------------------------------------------------------------


@dataclasses.dataclass
class Deployment:
    """One example applied into moto from its own temporary copy."""

    example: str
    name: str
    workdir: Path
    variables: dict[str, Any]
    env: dict[str, str]
    outputs: dict[str, Any] = dataclasses.field(default_factory=dict)
    plan_exit_code: int | None = None
    plan_output: str = ""
    applied: bool = False
    destroyed: bool = False
    # The provider processes this deployment's commands share (support/attached_providers.py).
    _providers: contextlib.ExitStack = dataclasses.field(default_factory=contextlib.ExitStack)
    _attached_env: dict[str, str] | None = None

    def output(self, key: str) -> Any:
        return self.outputs[key]["value"]

    def tf(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        if self._attached_env is None:
            share_aws = not aws_aliases(self.workdir)
            self._attached_env = self._providers.enter_context(
                attached(self.env, self.workdir, aws=share_aws)
            )
        try:
            return terraform(
                list(args),
                self.workdir,
                env=self._attached_env,
                check=check,
                timeout=TERRAFORM_TIMEOUT,
            )
        except subprocess.TimeoutExpired as error:
            output = error.output.decode() if isinstance(error.output, bytes) else error.output
            raise AssertionError(
                f"{self.example}: `terraform {args[0]}` still running after {TERRAFORM_TIMEOUT} s"
                f" (a moto gap answered with HTTP 500 makes the provider retry);"
                f" output tail:\n{(output or '')[-4000:]}"
            ) from None

    def deploy(self) -> None:
        (self.workdir / "e2e.auto.tfvars.json").write_text(json.dumps(self.variables))
        with timed(f"{self.example}: init"):
            self.tf("init", "-input=false", "-no-color")
        with timed(f"{self.example}: apply"):
            self.applied = True  # from here on a destroy is due, whatever happens
            self.tf("apply", "-auto-approve", "-input=false", "-no-color")
        self.outputs = json.loads(self.tf("output", "-json").stdout)
        with timed(f"{self.example}: plan -detailed-exitcode"):
            result = self.tf("plan", "-detailed-exitcode", "-input=false", "-no-color", check=False)
        self.plan_exit_code = result.returncode
        self.plan_output = result.stdout + result.stderr

    def destroy(self) -> None:
        """Destroy what was applied (once), then stop the shared provider processes."""
        try:
            if not self.applied or self.destroyed:
                return
            with timed(f"{self.example}: destroy"):
                # The plan right after apply refreshed the state; the aws provider's refresh is
                # the slow part on this machine, so destroy from the state as it is.
                self.tf("destroy", "-auto-approve", "-input=false", "-no-color", "-refresh=false")
            self.destroyed = True
        finally:
            self._providers.close()
            self._attached_env = None


# -- Lambda's part -----------------------------------------------------------------------------


class LambdaContext:
    """The attributes of Lambda's context object the handler may read."""

    def __init__(self, configuration: Mapping[str, Any]) -> None:
        self.function_name = configuration["FunctionName"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = configuration["FunctionArn"]
        self.memory_limit_in_mb = str(configuration.get("MemorySize", 128))
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + float(configuration.get("Timeout", 3))

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@contextlib.contextmanager
def deployed_handler(zip_bytes: bytes, directory: Path) -> Iterator[ModuleType]:
    """Import `handler` from the deployed zip (extracted into `directory`): fresh module objects,
    as a new Lambda container would load them; sys.path and sys.modules restored afterwards."""
    directory.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        archive.extractall(directory)
    names = {path.stem for path in directory.glob("*.py")}
    saved = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    entry = str(directory)
    sys.path.insert(0, entry)
    importlib.invalidate_caches()
    # Lambda reads the zip's sources as they are; no bytecode of a temporary copy is kept.
    dont_write_before, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        module = importlib.import_module("handler")
        for name in names & set(sys.modules):
            origin = Path(sys.modules[name].__file__ or "").resolve()
            if not origin.is_relative_to(directory.resolve()):
                raise AssertionError(f"{name} was imported from {origin}, not the deployed copy")
        yield module
    finally:
        sys.dont_write_bytecode = dont_write_before
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


# -- the session's stack ---------------------------------------------------------------------


@dataclasses.dataclass
class Stack:
    """The moto server, the three deployments and what the test itself created in moto."""

    moto: MotoServer
    deployments: dict[str, Deployment]
    tmp: Path
    instance_id: str = ""
    own_queue_urls: list[str] = dataclasses.field(default_factory=list)
    own_subscription_arns: list[str] = dataclasses.field(default_factory=list)
    own_parameters: list[str] = dataclasses.field(default_factory=list)
    own_instance_ids: list[str] = dataclasses.field(default_factory=list)
    _clients: dict[str, Any] = dataclasses.field(default_factory=dict)

    def client(self, service: str, region: str = REGION) -> Any:
        key = f"{service}@{region}"
        if key not in self._clients:
            self._clients[key] = self.moto.client(service, region_name=region)
        return self._clients[key]

    def __getitem__(self, example: str) -> Deployment:
        return self.deployments[example]

    # -- before apply: what the examples expect to exist --

    def prepare(self) -> None:
        ssm = self.client("ssm")
        ami = ssm.get_parameter(
            Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
        )["Parameter"]["Value"]
        reservation = self.client("ec2").run_instances(
            ImageId=ami, InstanceType="t3.micro", MinCount=1, MaxCount=1
        )
        self.instance_id = reservation["Instances"][0]["InstanceId"]
        self.own_instance_ids.append(self.instance_id)
        ssm.put_parameter(
            Name=SSM_PARAMETER, Value=PLACEHOLDER_WEBHOOK, Type="SecureString", Overwrite=True
        )
        self.own_parameters.append(SSM_PARAMETER)

    def deploy_all(self) -> None:
        """Apply every example at once: the aws provider idles ~25 s on each SQS queue."""
        with (
            timed("apply + plan, all examples concurrently"),
            ThreadPoolExecutor(max_workers=len(self.deployments)) as pool,
        ):
            futures = [pool.submit(d.deploy) for d in self.deployments.values()]
            errors = [f.exception() for f in futures]
        failures = [e for e in errors if e is not None]
        if failures:
            raise failures[0]

    def destroy_all(self) -> None:
        with (
            timed("destroy, all examples concurrently"),
            ThreadPoolExecutor(max_workers=len(self.deployments)) as pool,
        ):
            futures = [pool.submit(d.destroy) for d in self.deployments.values()]
            errors = [f.exception() for f in futures]
        failures = [e for e in errors if e is not None]
        if failures:
            raise failures[0]

    # -- CloudWatch's part --

    def capture_queue(self, topic_arn: str) -> str:
        """A queue of the test's own, subscribed to `topic_arn`: it receives the SNS envelope
        exactly as SNS delivers it."""
        sqs = self.client("sqs")
        name = f"e2e-capture-{uuid.uuid4().hex[:8]}"
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        self.own_queue_urls.append(url)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        subscription = self.client("sns").subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, ReturnSubscriptionArn=True
        )["SubscriptionArn"]
        self.own_subscription_arns.append(subscription)
        return url

    def receive_one(self, queue_url: str) -> dict[str, Any]:
        """The next message body on `queue_url` (JSON), deleted from the queue."""
        sqs = self.client("sqs")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1
            ).get("Messages", [])
            if messages:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
                return dict(json.loads(messages[0]["Body"]))
        raise AssertionError(f"nothing arrived on {queue_url}")

    def alarm(self, name: str) -> dict[str, Any]:
        alarms = self.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
        assert len(alarms) == 1, f"alarm {name} not found"
        return dict(alarms[0])

    # -- Lambda's part --

    def function_configuration(self, deployment: Deployment) -> dict[str, Any]:
        return dict(
            self.client("lambda").get_function_configuration(
                FunctionName=deployment.output("lambda_function_name")
            )
        )

    def invoke(
        self,
        deployment: Deployment,
        event: Mapping[str, Any],
        *,
        monkeypatch: pytest.MonkeyPatch,
        overrides: Mapping[str, str],
    ) -> Any:
        """Run the deployed code (from moto's copy of the zip) on `event` with the function's
        deployed environment, `overrides` applied, as a cold container would."""
        configuration = self.function_configuration(deployment)
        environment = dict(configuration.get("Environment", {}).get("Variables", {}))
        environment.update(overrides)
        for key in (*HANDLER_ENV_KEYS, "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            monkeypatch.delenv(key, raising=False)
        for key in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
            monkeypatch.delenv(key)
        region = configuration["FunctionArn"].split(":")[3]
        runtime_env = {
            **FAKE_CREDENTIALS,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_LAMBDA_FUNCTION_NAME": configuration["FunctionName"],
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(configuration.get("MemorySize", 128)),
            # The lazy boto3 SSM client of the handler reaches moto through this.
            "AWS_ENDPOINT_URL": self.moto.endpoint,
            **environment,
        }
        for key, value in runtime_env.items():
            monkeypatch.setenv(key, value)
        zip_bytes = self.moto.lambda_code_zip(configuration["FunctionName"], region=region)
        directory = self.tmp / f"container-{uuid.uuid4().hex[:8]}"
        with deployed_handler(zip_bytes, directory) as handler:
            return handler.lambda_handler(dict(event), LambdaContext(configuration))

    # -- after destroy: the test's own resources go too, so moto must be empty --

    def remove_own_resources(self) -> None:
        sns, sqs = self.client("sns"), self.client("sqs")
        for arn in self.own_subscription_arns:
            with contextlib.suppress(Exception):
                sns.unsubscribe(SubscriptionArn=arn)
        for url in self.own_queue_urls:
            sqs.delete_queue(QueueUrl=url)
        if self.own_parameters:
            self.client("ssm").delete_parameters(Names=self.own_parameters)
        if self.own_instance_ids:
            self.client("ec2").terminate_instances(InstanceIds=self.own_instance_ids)


def phase_timings() -> list[tuple[str, float]]:
    """(phase, seconds) in the order the phases ended."""
    with _TIMINGS_LOCK:
        return list(_TIMINGS)


def variables_for(example: str, name: str, stack: Stack) -> dict[str, Any]:
    common = {"aws_region": REGION, "name": name, "tags": {"Purpose": "alarm-to-slack-e2e"}}
    if example == "ec2-cpu-alarm":
        return {
            **common,
            "slack_webhook_url": PLACEHOLDER_WEBHOOK,
            "instance_id": stack.instance_id,
            "instance_key": "web",
            "alarm_mention": "<!here>",
        }
    if example == "new-ec2-instance":
        # One server file, server-web.tf; the AMI comes from moto's public SSM parameters.
        return {**common, "slack_webhook_url": PLACEHOLDER_WEBHOOK}
    if example == "direct-to-lambda":
        return {
            **common,
            "slack_webhook_ssm_parameter_name": SSM_PARAMETER,
            "load_balancer_arn_suffix": LOAD_BALANCER,
            "ec2_instance_ids": {"db": stack.instance_id},
        }
    raise ValueError(example)


EXAMPLE_NAMES = {
    "ec2-cpu-alarm": "e2e-cpu",
    "new-ec2-instance": "e2e-new",
    "direct-to-lambda": "e2e-direct",
}


def terraform_env_for(endpoint: str) -> dict[str, str]:
    """terraform_env() without the caller's AWS_* settings (a profile, a stray per-service
    endpoint), plus the one that sends every call of the aws provider to moto at `endpoint`."""
    env = {k: v for k, v in terraform_env().items() if not k.startswith("AWS_")}
    return {**env, **moto_endpoint_env(endpoint)}
