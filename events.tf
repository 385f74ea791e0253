# Capture: every CloudWatch alarm state change, without touching a single alarm's actions.
#
# CloudWatch puts each alarm state change of an account and region on that region's default
# EventBridge bus. capture_alarm_state_changes adds a rule there that sends them to the inbox
# queue; a central custom bus (created or given) receives the same events from other accounts and
# regions (modules/forwarder), and a rule on it sends them to the inbox too.

locals {
  capture_alarm_states = coalesce(var.capture_alarm_states, concat(
    ["ALARM"],
    var.notify_on_ok ? ["OK"] : [],
    var.notify_on_insufficient_data ? ["INSUFFICIENT_DATA"] : [],
  ))

  create_central_event_bus = var.create_central_event_bus
  # Decided from inputs only (never from computed ARNs), so `count` is known at plan time.
  use_central_event_bus  = var.create_central_event_bus || var.central_event_bus_arn != null
  central_event_bus_arn  = var.create_central_event_bus ? aws_cloudwatch_event_bus.central[0].arn : var.central_event_bus_arn
  central_event_bus_name = var.create_central_event_bus ? aws_cloudwatch_event_bus.central[0].name : (var.central_event_bus_arn == null ? null : split("/", var.central_event_bus_arn)[1])

  # Fixed from inputs (the health alarm's dimensions and the failure queue's policy use them).
  alarm_state_change_rule_name         = "${var.name}-alarm-state-changes"
  central_alarm_state_change_rule_name = "${var.name}-central-alarm-state-changes"
  # The name of the central bus from inputs only (the created bus's name is <name>-alarm-events).
  central_event_bus_name_from_inputs = var.create_central_event_bus ? "${var.name}-alarm-events" : (var.central_event_bus_arn == null ? null : split("/", var.central_event_bus_arn)[1])

  # The module's own alarms (<name>/...) already reach the inbox through the topic (or the
  # function directly): the rules leave them out so that no state change is posted twice. The
  # exclusion matches the alarm ARN in `resources`, this account and region only, because
  # EventBridge cannot AND two conditions on one field: detail.alarmName stays free for the
  # capture_alarm_name_prefixes, whatever they overlap. The account comes from the role's ARN
  # (as in iam.tf), not the function's: the rules, and the inbox policy that names them, need
  # not wait for the function to be created.
  own_alarm_arn_prefix = "arn:${local.partition}:cloudwatch:${local.region}:${split(":", local.role_arn)[4]}:alarm:${var.name}/"

  alarm_state_change_pattern = jsonencode(merge(
    {
      source        = ["aws.cloudwatch"]
      "detail-type" = ["CloudWatch Alarm State Change"]
      resources     = [{ "anything-but" = { prefix = local.own_alarm_arn_prefix } }]
      detail = merge(
        { state = { value = local.capture_alarm_states } },
        length(var.capture_alarm_name_prefixes) == 0 ? {} : {
          alarmName = [for prefix in var.capture_alarm_name_prefixes : { prefix = prefix }]
        },
      )
    },
    length(var.capture_account_ids) == 0 ? {} : { account = var.capture_account_ids },
  ))
}

# --- this account and region: the default bus ------------------------------------------------

resource "aws_cloudwatch_event_rule" "alarm_state_changes" {
  count = var.capture_alarm_state_changes ? 1 : 0

  name           = local.alarm_state_change_rule_name
  description    = "CloudWatch alarm state changes of this account and region to the ${var.name} inbox."
  event_bus_name = "default"
  event_pattern  = local.alarm_state_change_pattern

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.create_inbox
      error_message = "capture_alarm_state_changes delivers to the inbox queue, which exists only with alarm_action_target = \"sns\"."
    }
  }
}

resource "aws_cloudwatch_event_target" "alarm_state_changes" {
  count = var.capture_alarm_state_changes ? 1 : 0

  rule           = aws_cloudwatch_event_rule.alarm_state_changes[0].name
  event_bus_name = aws_cloudwatch_event_rule.alarm_state_changes[0].event_bus_name
  target_id      = "inbox"
  # The inbox is created with the policy that admits the rule (inbox.tf).
  arn = aws_sqs_queue.inbox[0].arn

  # EventBridge retries a failing target for 24 hours (185 attempts) and then drops the event
  # (EventBridge User Guide, "Event retry policy and using dead-letter queues"): what it could not
  # deliver goes to the failure queue instead, whose policy admits the rules (lambda.tf).
  dead_letter_config {
    arn = aws_sqs_queue.failures.arn
  }
}

# --- other accounts and regions: the central bus ---------------------------------------------

resource "aws_cloudwatch_event_bus" "central" {
  count = local.create_central_event_bus ? 1 : 0

  name = "${var.name}-alarm-events"

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.central_event_bus_arn == null
      error_message = "central_event_bus_arn takes an existing bus: set create_central_event_bus = false with it."
    }
    precondition {
      condition     = var.central_event_bus_organization_id != null || length(var.central_event_bus_account_ids) > 0
      error_message = "create_central_event_bus needs senders: set central_event_bus_organization_id and/or central_event_bus_account_ids."
    }
  }
}

data "aws_iam_policy_document" "central_event_bus" {
  count = local.create_central_event_bus ? 1 : 0

  dynamic "statement" {
    for_each = var.central_event_bus_organization_id == null ? [] : [var.central_event_bus_organization_id]
    content {
      sid       = "OrganizationAccountsPutAlarmStateChanges"
      effect    = "Allow"
      actions   = ["events:PutEvents"]
      resources = [aws_cloudwatch_event_bus.central[0].arn]

      # Any principal, but only of this organization (the documented cross-account pattern).
      principals {
        type        = "AWS"
        identifiers = ["*"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalOrgID"
        values   = [statement.value]
      }

      condition {
        test     = "StringEquals"
        variable = "events:source"
        values   = ["aws.cloudwatch"]
      }

      condition {
        test     = "StringEquals"
        variable = "events:detail-type"
        values   = ["CloudWatch Alarm State Change"]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.central_event_bus_account_ids) == 0 ? [] : ["accounts"]
    content {
      sid       = "ListedAccountsPutAlarmStateChanges"
      effect    = "Allow"
      actions   = ["events:PutEvents"]
      resources = [aws_cloudwatch_event_bus.central[0].arn]

      principals {
        type        = "AWS"
        identifiers = [for account in sort(distinct(var.central_event_bus_account_ids)) : "arn:${local.partition}:iam::${account}:root"]
      }

      condition {
        test     = "StringEquals"
        variable = "events:source"
        values   = ["aws.cloudwatch"]
      }

      condition {
        test     = "StringEquals"
        variable = "events:detail-type"
        values   = ["CloudWatch Alarm State Change"]
      }
    }
  }
}

resource "aws_cloudwatch_event_bus_policy" "central" {
  count = local.create_central_event_bus ? 1 : 0

  event_bus_name = aws_cloudwatch_event_bus.central[0].name
  policy         = data.aws_iam_policy_document.central_event_bus[0].json
}

resource "aws_cloudwatch_event_rule" "central_alarm_state_changes" {
  count = local.use_central_event_bus ? 1 : 0

  name           = local.central_alarm_state_change_rule_name
  description    = "Alarm state changes sent to the central bus by other accounts and regions, to the ${var.name} inbox."
  event_bus_name = local.central_event_bus_name
  event_pattern  = local.alarm_state_change_pattern

  tags = var.tags

  lifecycle {
    precondition {
      condition     = local.create_inbox
      error_message = "The central event bus delivers to the inbox queue, which exists only with alarm_action_target = \"sns\"."
    }
    precondition {
      condition     = var.central_event_bus_arn == null || split(":", coalesce(var.central_event_bus_arn, "arn:aws:events:-:-:-"))[3] == local.region
      error_message = "central_event_bus_arn must be a bus in this module's region (${local.region}): a rule lives in its bus's region."
    }
  }
}

resource "aws_cloudwatch_event_target" "central_alarm_state_changes" {
  count = local.use_central_event_bus ? 1 : 0

  rule           = aws_cloudwatch_event_rule.central_alarm_state_changes[0].name
  event_bus_name = aws_cloudwatch_event_rule.central_alarm_state_changes[0].event_bus_name
  target_id      = "inbox"
  arn            = aws_sqs_queue.inbox[0].arn

  dead_letter_config {
    arn = aws_sqs_queue.failures.arn
  }
}
