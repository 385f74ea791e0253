# The inbox: alarm -> SNS topic -> SQS queue -> Lambda event source mapping (the default path).
#
# Slack accepts about one message per second per webhook. One invocation per alarm (the direct
# path) turns an alarm storm into hundreds of concurrent posts, most of them refused with 429.
# The queue absorbs the storm, the event source mapping hands the function one batch per
# batching window (so the handler can group it into a few digest messages) and the concurrency
# cap keeps the total sending rate near Slack's limit. A record the handler could not deliver is
# reported in batchItemFailures, comes back after the visibility timeout and, after
# inbox_max_receive_count receives, moves to the failure queue (the inbox's dead-letter queue).

locals {
  # Direct mode (alarm_action_target = "lambda") keeps one asynchronous invocation per alarm and
  # the topic, if any, subscribed straight to the function: it creates no inbox.
  create_inbox = var.alarm_action_target == "sns"

  # Who may send to the inbox: one statement per sending service, each limited to its source
  # ARNs: the topic, and the EventBridge rules of events.tf (capture, central bus).
  inbox_senders = merge(
    local.create_inbox && local.subscribe_to_topic ? {
      AlarmTopicDeliversToInbox = {
        service     = "sns.amazonaws.com"
        source_arns = [local.topic_arn]
      }
    } : {},
    local.create_inbox && (var.capture_alarm_state_changes || local.use_central_event_bus) ? {
      AlarmStateChangesToInbox = {
        service = "events.amazonaws.com"
        source_arns = concat(
          aws_cloudwatch_event_rule.alarm_state_changes[*].arn,
          aws_cloudwatch_event_rule.central_alarm_state_changes[*].arn,
        )
      }
    } : {},
  )

  # Lambda needs a batching window of at least 1 s for batches above 10 records on a standard
  # queue: group_wait_seconds = 0 (no waiting) falls back to AWS's largest window-less batch.
  inbox_batch_size = var.group_wait_seconds == 0 ? min(var.inbox_batch_size, 10) : var.inbox_batch_size

  # AWS guidance for event source mappings: at least 6 x the function timeout (room for retries
  # when the function is throttled), plus the batching window, during which records already
  # received wait in the poller.
  inbox_visibility_timeout_seconds = 6 * var.lambda_timeout + var.group_wait_seconds

  # The queue's own ARN, for the policy the queue is created with (the account as in iam.tf).
  inbox_arn = "arn:${local.partition}:sqs:${local.region}:${split(":", local.role_arn)[4]}:${var.name}-inbox"
}

resource "aws_sqs_queue" "inbox" {
  count = local.create_inbox ? 1 : 0

  name                       = "${var.name}-inbox"
  visibility_timeout_seconds = local.inbox_visibility_timeout_seconds
  message_retention_seconds  = var.inbox_message_retention_seconds
  kms_master_key_id          = var.inbox_kms_master_key_id
  sqs_managed_sse_enabled    = var.inbox_kms_master_key_id == null ? true : null
  # Both set with the queue, not as aws_sqs_queue_policy / aws_sqs_queue_redrive_policy: the aws
  # provider waits about 25 s for every SQS attribute change to settle, on apply and on destroy.
  # Inline, the inbox waits once for its attributes (after the failure queue exists, which the
  # redrive policy names) and is deleted without waiting for a policy to be removed first.
  policy = data.aws_iam_policy_document.inbox[0].json
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.failures.arn
    maxReceiveCount     = var.inbox_max_receive_count
  })

  tags = var.tags

  lifecycle {
    precondition {
      # SQS keeps a message's original enqueue time when it moves it to the dead-letter queue.
      condition     = var.inbox_message_retention_seconds <= var.failure_queue_message_retention_seconds
      error_message = "inbox_message_retention_seconds (${var.inbox_message_retention_seconds}) must not exceed failure_queue_message_retention_seconds (${var.failure_queue_message_retention_seconds}): a message moved to the failure queue keeps its original age and would expire on arrival."
    }
  }
}

data "aws_iam_policy_document" "inbox" {
  count = local.create_inbox ? 1 : 0

  dynamic "statement" {
    for_each = local.inbox_senders
    content {
      sid       = statement.key
      effect    = "Allow"
      actions   = ["sqs:SendMessage"]
      resources = [local.inbox_arn]

      principals {
        type        = "Service"
        identifiers = [statement.value.service]
      }

      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = statement.value.source_arns
      }
    }
  }
}

# Before the policy and the redrive policy moved into the inbox queue they were resources of
# their own. A state that still holds them forgets them: destroying aws_sqs_queue_policy would
# clear the policy the queue now sets itself.
removed {
  from = aws_sqs_queue_policy.inbox
  lifecycle {
    destroy = false
  }
}

removed {
  from = aws_sqs_queue_redrive_policy.inbox
  lifecycle {
    destroy = false
  }
}

resource "aws_sns_topic_subscription" "inbox" {
  count = local.create_inbox && local.subscribe_to_topic ? 1 : 0

  topic_arn = local.topic_arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.inbox[0].arn
  # Raw delivery off: the SNS envelope keeps the notification's MessageId (the handler's
  # duplicate key), TopicArn, Subject and Timestamp. The handler reads raw bodies as well.
  raw_message_delivery = false

  lifecycle {
    precondition {
      condition     = local.sns_topic_arn_region_problem == null
      error_message = coalesce(local.sns_topic_arn_region_problem, "-")
    }
  }
}

resource "aws_lambda_event_source_mapping" "inbox" {
  count = local.create_inbox ? 1 : 0

  event_source_arn                   = aws_sqs_queue.inbox[0].arn
  function_name                      = aws_lambda_function.this.arn
  batch_size                         = local.inbox_batch_size
  maximum_batching_window_in_seconds = var.group_wait_seconds
  # Records the handler could not deliver come back alone; the rest of the batch is deleted.
  function_response_types = ["ReportBatchItemFailures"]

  scaling_config {
    maximum_concurrency = var.inbox_maximum_concurrency
  }

  # Lambda checks at creation that the role may read the queue.
  depends_on = [aws_iam_role_policy.lambda]
}

# What the inbox's customer-managed key must allow (inbox_kms_key_policy_json): every service
# that sends to the inbox encrypts with its key, so each sender of local.inbox_senders needs
# kms:GenerateDataKey and kms:Decrypt in the key policy, SNS and EventBridge alike (SQS developer
# guide, "Key management"; EventBridge user guide, "Authorizing EventBridge to use a customer
# managed key"). A key policy the module cannot edit: the statements are an output to merge.
data "aws_iam_policy_document" "inbox_key" {
  # checkov:skip=CKV_AWS_111: a key policy statement; "*" in a key policy means the key it is attached to
  # checkov:skip=CKV_AWS_356: a key policy statement; "*" in a key policy means the key it is attached to
  # checkov:skip=CKV_AWS_109: a key policy statement; "*" in a key policy means the key it is attached to
  count = local.create_inbox && var.inbox_kms_master_key_id != null ? 1 : 0

  dynamic "statement" {
    for_each = local.inbox_senders
    content {
      sid       = "${statement.key}EncryptsWithInboxKey"
      effect    = "Allow"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = ["*"]

      principals {
        type        = "Service"
        identifiers = [statement.value.service]
      }

      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = statement.value.source_arns
      }
    }
  }
}
