# The function's execution role: its own log group, its own failure queue, its own inbox (SNS
# mode), and (SSM mode only) the one webhook parameter. No statement has a "*" resource unless
# X-Ray tracing is switched on.

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaServiceAssumesRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name               = local.role_name
  description        = "Execution role of the ${var.name} alarm-to-Slack function."
  assume_role_policy = data.aws_iam_policy_document.assume_role.json

  tags = var.tags
}

locals {
  ssm_parameter_arn = (
    var.slack_webhook_ssm_parameter_name == null ? null :
    startswith(var.slack_webhook_ssm_parameter_name, "arn:") ? var.slack_webhook_ssm_parameter_name :
    "arn:${local.partition}:ssm:${local.region}:${split(":", aws_iam_role.lambda.arn)[4]}:parameter/${trimprefix(var.slack_webhook_ssm_parameter_name, "/")}"
  )
}

data "aws_iam_policy_document" "lambda" {
  statement {
    # The module creates the log group, so no logs:CreateLogGroup.
    sid       = "WriteOwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  statement {
    sid       = "SendFailedEventsToOwnQueue"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.failures.arn]
  }

  dynamic "statement" {
    for_each = var.failure_queue_kms_master_key_id == null ? [] : [var.failure_queue_kms_master_key_id]
    content {
      sid       = "EncryptFailedEventsWithQueueKey"
      effect    = "Allow"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["sqs.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    # The event source mapping polls with the function's role.
    for_each = local.create_inbox ? ["inbox"] : []
    content {
      sid       = "ReceiveFromOwnInbox"
      effect    = "Allow"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      resources = [aws_sqs_queue.inbox[0].arn]
    }
  }

  dynamic "statement" {
    for_each = local.create_inbox && var.inbox_kms_master_key_id != null ? [var.inbox_kms_master_key_id] : []
    content {
      sid       = "DecryptInboxWithQueueKey"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["sqs.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = local.ssm_parameter_arn == null ? [] : [local.ssm_parameter_arn]
    content {
      sid       = "ReadWebhookParameter"
      effect    = "Allow"
      actions   = ["ssm:GetParameter"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.slack_webhook_ssm_kms_key_arn == null ? [] : [var.slack_webhook_ssm_kms_key_arn]
    content {
      sid       = "DecryptWebhookParameter"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["ssm.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.lambda_tracing_mode == "Active" ? ["xray"] : []
    content {
      # X-Ray has no resource-level permissions: "*" is the only possible resource.
      sid       = "WriteXRayTraces"
      effect    = "Allow"
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "lambda" {
  name   = "${var.name}-permissions"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}
