# The function, its package, its log group and where failed deliveries go.

data "archive_file" "lambda" {
  type        = "zip"
  source_dir  = "${path.module}/lambda"
  output_path = "${path.root}/build/${var.name}-lambda.zip"
  # Fixed mode and no caches: the same sources give the same zip, so a plan right after an
  # apply shows no change and only a code change redeploys.
  output_file_mode = "0644"
  excludes         = ["**/__pycache__", "**/*.pyc", "**/.pytest_cache", "tests"]
}

resource "aws_cloudwatch_log_group" "lambda" {
  # checkov:skip=CKV_AWS_338: retention is a variable (30 days by default); a year of alert-delivery logs is rarely wanted
  # checkov:skip=CKV_AWS_158: KMS encryption is optional through cloudwatch_log_kms_key_arn; logs never contain the webhook URL
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.cloudwatch_log_retention_in_days
  kms_key_id        = var.cloudwatch_log_kms_key_arn

  tags = var.tags
}

resource "aws_sqs_queue" "failures" {
  name                      = "${var.name}-failures"
  message_retention_seconds = var.failure_queue_message_retention_seconds
  kms_master_key_id         = var.failure_queue_kms_master_key_id
  sqs_managed_sse_enabled   = var.failure_queue_kms_master_key_id == null ? true : null
  # The EventBridge rules of events.tf send what they could not deliver here (their targets'
  # dead-letter queue); the function's role needs no queue policy (same account, iam.tf).
  policy = local.create_event_rule_dead_letters ? data.aws_iam_policy_document.failures[0].json : null

  tags = var.tags
}

locals {
  # Decided from inputs only, so `count` is known at plan time (as local.inbox_senders).
  create_event_rule_dead_letters = local.create_inbox && (var.capture_alarm_state_changes || local.use_central_event_bus)
  # The queue's own ARN, for the policy it is created with (the account as in iam.tf).
  failure_queue_arn = "arn:${local.partition}:sqs:${local.region}:${split(":", local.role_arn)[4]}:${var.name}-failures"
}

data "aws_iam_policy_document" "failures" {
  count = local.create_event_rule_dead_letters ? 1 : 0

  statement {
    # EventBridge sends a rule's dead letters with its service principal; the condition names
    # the module's rules, whose ARNs come from the resources, never from an input.
    sid       = "UndeliveredAlarmStateChangesToFailureQueue"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [local.failure_queue_arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values = concat(
        aws_cloudwatch_event_rule.alarm_state_changes[*].arn,
        aws_cloudwatch_event_rule.central_alarm_state_changes[*].arn,
      )
    }
  }
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_117: the function only calls Slack (and SSM): no VPC resources to reach, and a VPC would need a NAT gateway
  # checkov:skip=CKV_AWS_116: failed events go to the SQS on-failure destination (aws_lambda_function_event_invoke_config), which supersedes a DLQ
  # checkov:skip=CKV_AWS_115: reserved concurrency would take from the account pool (new accounts cannot reserve any); alarm traffic is tiny
  # checkov:skip=CKV_AWS_272: code signing needs a signing profile the module cannot assume exists; the package is built from this repo
  # checkov:skip=CKV_AWS_173: environment variables hold no secret in SSM mode; lambda_kms_key_arn encrypts them with a customer key when set
  function_name = var.name
  description   = "Posts CloudWatch alarm notifications to Slack (${var.name})."
  role          = local.role_arn
  handler       = "handler.lambda_handler"
  runtime       = var.lambda_runtime
  architectures = [var.lambda_architecture]
  memory_size   = var.lambda_memory_size
  timeout       = var.lambda_timeout
  kms_key_arn   = var.lambda_kms_key_arn

  filename         = data.archive_file.lambda.output_path
  source_code_hash = data.archive_file.lambda.output_base64sha256

  environment {
    variables = local.lambda_environment
  }

  tracing_config {
    mode = var.lambda_tracing_mode
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.slack_routes_json_length <= 3000
      error_message = "The routes (slack_routes plus per-alarm slack_channel_id) take ${local.slack_routes_json_length} characters as JSON; the function's environment allows 4 KB in total: keep them under 3000 (use prefixes or regular expressions instead of many exact names)."
    }
    # Checked here rather than by the variables' validations: Terraform prints the value of
    # every variable a failing validation reads, and this value may be the secret itself.
    precondition {
      condition     = length(local.secret_looking_parameter_names) == 0
      error_message = "${join(" and ", local.secret_looking_parameter_names)} looks like a Slack token or a URL, not the name of the SSM parameter that holds it (the value is not shown): put the secret in a SecureString parameter and give its name, e.g. /alarm-to-slack/webhook-url or /alarm-to-slack/bot-token."
    }
    precondition {
      condition     = local.lambda_environment_bytes <= 4096
      error_message = "The function's environment variables take ${local.lambda_environment_bytes} bytes as Lambda measures them (JSON), over Lambda's limit of 4 KB (4096 bytes). The largest: ${join(", ", local.lambda_environment_largest)}. Shorten those inputs (account_names, slack_routes and the alarms' slack_channel_id feed ACCOUNT_NAMES and SLACK_ROUTES)."
    }
  }

  # The log group (with its retention) must exist before the first invocation creates it
  # implicitly, and the role's policy before the function can write logs.
  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.lambda_maximum_retry_attempts
  maximum_event_age_in_seconds = var.lambda_maximum_event_age_in_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.failures.arn
    }
  }
}

locals {
  # By default the queue alarm takes the same path as every other alarm: a stuck alert is
  # announced in Slack as soon as Slack accepts messages again. Its name starts with
  # "<name>/", so the direct-mode permission in alarms.tf covers it.
  failure_queue_alarm_name    = "${local.alarm_name_prefix}failure-queue-not-empty"
  failure_queue_alarm_actions = var.failure_queue_alarm_actions == null ? local.alarm_actions : var.failure_queue_alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "failure_queue" {
  count = var.create_failure_queue_alarm ? 1 : 0

  alarm_name        = local.failure_queue_alarm_name
  alarm_description = "An alarm notification could not be delivered to Slack and is kept in ${aws_sqs_queue.failures.name}."
  namespace         = "AWS/SQS"
  metric_name       = "ApproximateNumberOfMessagesVisible"
  dimensions = {
    QueueName = aws_sqs_queue.failures.name
  }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"

  alarm_actions = local.failure_queue_alarm_actions
  ok_actions    = var.notify_on_ok ? local.failure_queue_alarm_actions : []

  tags = var.tags
}
