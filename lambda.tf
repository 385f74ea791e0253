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

  tags = var.tags
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
