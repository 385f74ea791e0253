# forwarder: one member account and region -> the central account's event bus.
#
# CloudWatch puts every alarm state change of this account and region on the default event bus.
# A rule picks them (filtered by name prefix and state) and sends them to the central bus; a
# target on another account's (or region's) bus needs a role EventBridge assumes to PutEvents.

data "aws_region" "current" {}

locals {
  # The region from the EC2 endpoint ("ec2.<region>.<dns suffix>"): the one attribute of
  # aws_region that provider 5 and 6 both offer without a deprecation warning.
  region = split(".", data.aws_region.current.endpoint)[1]

  event_pattern = jsonencode(merge(
    {
      source        = ["aws.cloudwatch"]
      "detail-type" = ["CloudWatch Alarm State Change"]
    },
    {
      detail = merge(
        { state = { value = var.alarm_states } },
        length(var.alarm_name_prefixes) == 0 ? {} : {
          alarmName = [for prefix in var.alarm_name_prefixes : { prefix = prefix }]
        },
      )
    },
  ))

  # Known only after the rule exists: the rule's own account (the sender), for the trust policy.
  account_id = split(":", aws_cloudwatch_event_rule.alarm_state_changes.arn)[4]
}

resource "aws_cloudwatch_event_rule" "alarm_state_changes" {
  name           = "${var.name}-forward-alarm-state-changes"
  description    = "Forwards CloudWatch alarm state changes of this account and region to ${var.central_event_bus_arn}."
  event_bus_name = "default"
  event_pattern  = local.event_pattern

  tags = var.tags
}

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "EventBridgeRuleOfThisAccountAssumesRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.alarm_state_changes.arn]
    }
  }
}

resource "aws_iam_role" "forwarder" {
  # IAM is global: the region in the name lets one `name` forward from several regions.
  name               = "${var.name}-forwarder-${local.region}"
  description        = "EventBridge puts ${local.region} alarm state changes on the central alarm bus."
  assume_role_policy = data.aws_iam_policy_document.assume_role.json

  tags = var.tags

  lifecycle {
    # IAM role names are at most 64 characters (CreateRole's RoleName): a 36-character name
    # leaves 17 for the region, more than any has; the region is known at plan.
    precondition {
      condition     = length("${var.name}-forwarder-${local.region}") <= 64
      error_message = "The role name ${var.name}-forwarder-${local.region} would have ${length("${var.name}-forwarder-${local.region}")} characters, over IAM's limit of 64: use a name of at most ${53 - length(local.region)} characters in ${local.region}."
    }
  }
}

data "aws_iam_policy_document" "put_events" {
  statement {
    sid       = "PutAlarmEventsOnCentralBus"
    effect    = "Allow"
    actions   = ["events:PutEvents"]
    resources = [var.central_event_bus_arn]
  }
}

resource "aws_iam_role_policy" "forwarder" {
  name   = "${var.name}-put-events-on-central-bus"
  role   = aws_iam_role.forwarder.id
  policy = data.aws_iam_policy_document.put_events.json
}

resource "aws_cloudwatch_event_target" "central_bus" {
  rule           = aws_cloudwatch_event_rule.alarm_state_changes.name
  event_bus_name = aws_cloudwatch_event_rule.alarm_state_changes.event_bus_name
  target_id      = "central-alarm-bus"
  arn            = var.central_event_bus_arn
  role_arn       = aws_iam_role.forwarder.arn

  # The role must be able to PutEvents before the first event is sent through it.
  depends_on = [aws_iam_role_policy.forwarder]
}
