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
  count = var.create_role ? 1 : 0

  name                 = local.role_name
  path                 = var.iam_role_path
  description          = "Execution role of the ${var.name} alarm-to-Slack function."
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.iam_role_permissions_boundary_arn

  tags = var.tags

  lifecycle {
    # IAM role names are at most 64 characters (CreateRole's RoleName). `name` (40 at most)
    # leaves 23 for the region, more than any has; the check keeps a longer one from reaching
    # the provider's less telling error.
    precondition {
      condition     = length(local.role_name) <= 64
      error_message = "The role name ${local.role_name} would have ${length(local.role_name)} characters, over IAM's limit of 64: use a name of at most ${63 - length(local.region)} characters in ${local.region}."
    }
  }
}

# Before create_role existed the role and its policy had no count: move them in existing states.
moved {
  from = aws_iam_role.lambda
  to   = aws_iam_role.lambda[0]
}

moved {
  from = aws_iam_role_policy.lambda
  to   = aws_iam_role_policy.lambda[0]
}

locals {
  # The module's role, or the existing one given with create_role = false.
  role_arn = var.create_role ? aws_iam_role.lambda[0].arn : var.lambda_role_arn

  ssm_parameter_arn = (
    var.slack_webhook_ssm_parameter_name == null ? null :
    startswith(var.slack_webhook_ssm_parameter_name, "arn:") ? var.slack_webhook_ssm_parameter_name :
    "arn:${local.partition}:ssm:${local.region}:${split(":", local.role_arn)[4]}:parameter/${trimprefix(var.slack_webhook_ssm_parameter_name, "/")}"
  )
  bot_token_parameter_arn = (
    var.slack_bot_token_ssm_parameter_name == null ? null :
    startswith(var.slack_bot_token_ssm_parameter_name, "arn:") ? var.slack_bot_token_ssm_parameter_name :
    "arn:${local.partition}:ssm:${local.region}:${split(":", local.role_arn)[4]}:parameter/${trimprefix(var.slack_bot_token_ssm_parameter_name, "/")}"
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
    for_each = local.bot_token_parameter_arn == null ? [] : [local.bot_token_parameter_arn]
    content {
      sid       = "ReadBotTokenParameter"
      effect    = "Allow"
      actions   = ["ssm:GetParameter"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.slack_bot_token_ssm_kms_key_arn == null ? [] : [var.slack_bot_token_ssm_kms_key_arn]
    content {
      sid       = "DecryptBotTokenParameter"
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
    # Item and batch reads and writes only: the handler never scans, queries or deletes
    # (expired items go by TTL). TransactWriteItems (batched claims) needs no action of its
    # own: its Puts are governed by dynamodb:PutItem (DynamoDB Developer Guide, "Using IAM with
    # DynamoDB transactions"). BatchGetItem/BatchWriteItem keep state calls proportional to
    # the messages posted, not the records received.
    for_each = aws_dynamodb_table.state[*].arn
    content {
      sid       = "ReadWriteOwnStateTable"
      effect    = "Allow"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = local.app_mode && var.state_table_kms_key_arn != null ? [var.state_table_kms_key_arn] : []
    content {
      sid       = "UseStateTableKey"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["dynamodb.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    # Slack app mode metric graphs (graphs.tf). GetMetricWidgetImage supports no resource-level
    # permissions: "*" is the only resource AWS accepts (checkov knows the action is not
    # restrictable). It only reads metric data the account already has.
    for_each = local.graphs ? ["graphs"] : []
    content {
      sid       = "DrawAlarmMetricGraphs"
      effect    = "Allow"
      actions   = ["cloudwatch:GetMetricWidgetImage"]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    # Graphs of other accounts' metrics (slack_graph_cross_account_ids) through CloudWatch
    # cross-account observability. The monitoring account reads linked metrics with its own
    # cloudwatch permissions (no AssumeRole); AWS's setup guide ("Permissions needed to monitor
    # across accounts", CloudWatch-Unified-Cross-Account-Setup) asks in addition for read access
    # to the OAM links, oam:Get* and oam:List*: here the read-only actions by name. The list
    # operations take no resource ARN.
    for_each = local.graphs && length(var.slack_graph_cross_account_ids) > 0 ? ["cross-account"] : []
    content {
      sid    = "ReadCrossAccountObservabilityLinks"
      effect = "Allow"
      actions = [
        "oam:GetLink",
        "oam:GetSink",
        "oam:GetSinkPolicy",
        "oam:ListAttachedLinks",
        "oam:ListLinks",
        "oam:ListSinks",
        "oam:ListTagsForResource",
      ]
      resources = ["*"]
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

# With create_role = false the existing role must already allow what this document grants (the
# lambda_role_policy_json output): the module changes nothing on a role it does not own.
resource "aws_iam_role_policy" "lambda" {
  count = var.create_role ? 1 : 0

  name   = "${var.name}-permissions"
  role   = aws_iam_role.lambda[0].id
  policy = data.aws_iam_policy_document.lambda.json
}
