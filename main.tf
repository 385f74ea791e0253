# alarm-to-slack: CloudWatch metric alarm -> SNS topic -> SQS inbox (inbox.tf) -> Lambda -> Slack,
# or, with alarm_action_target = "lambda", alarm -> Lambda directly.
#
# The module reads no account data source: the account ID comes from the ARNs of the resources it
# creates, so a plan needs no STS call (and plans offline with a real provider in the tests).

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  partition = data.aws_partition.current.partition
  # The region from the EC2 endpoint ("ec2.<region>.<dns suffix>"): the one attribute of
  # aws_region that provider 5 and 6 both offer without a deprecation warning (`name` is
  # deprecated since 6.0, `id` since 6.47, and `region` does not exist in 5).
  region = split(".", data.aws_region.current.endpoint)[1]

  # IAM is global: the region in the role name keeps one `name` usable in several regions.
  role_name = "${var.name}-${local.region}"

  create_topic = var.create_sns_topic
  topic_arn    = var.create_sns_topic ? aws_sns_topic.this[0].arn : var.sns_topic_arn

  # Decided from inputs only, never from computed ARNs, so `count` is known at plan time.
  subscribe_to_topic = var.create_sns_topic || var.sns_topic_arn != null
  # In SNS mode the topic feeds the inbox (inbox.tf); only direct mode subscribes the function
  # itself to a topic (one asynchronous invocation per notification, as before the inbox).
  subscribe_function_to_topic = local.subscribe_to_topic && !local.create_inbox

  # Optional settings the handler reads; unset ones are left out of the environment.
  lambda_environment = {
    for key, value in {
      SLACK_WEBHOOK_URL              = var.slack_webhook_url
      SLACK_WEBHOOK_SSM_PARAMETER    = var.slack_webhook_ssm_parameter_name
      SLACK_WEBHOOK_ALLOWED_HOSTS    = length(var.slack_webhook_allowed_hosts) > 0 ? join(",", var.slack_webhook_allowed_hosts) : null
      SLACK_CHANNEL                  = var.slack_channel
      SLACK_USERNAME                 = var.slack_username
      SLACK_ICON_EMOJI               = var.slack_icon_emoji
      ALARM_MENTION                  = var.alarm_mention
      TIMEZONE                       = var.timezone
      MESSAGE_LANGUAGE               = var.message_language
      LOG_LEVEL                      = var.lambda_log_level
      DIGEST_THRESHOLD               = tostring(var.digest_threshold)
      SLACK_MESSAGE_INTERVAL_SECONDS = tostring(var.slack_message_interval_seconds)
      ACCOUNT_NAMES                  = length(var.account_names) == 0 ? null : jsonencode(var.account_names)
      # Slack app mode only (slack_bot_token_ssm_parameter_name).
      SLACK_BOT_TOKEN_SSM_PARAMETER = var.slack_bot_token_ssm_parameter_name
      SLACK_CHANNEL_ID              = local.app_mode ? var.slack_channel_id : null
      SLACK_ROUTES                  = local.app_mode ? local.slack_routes_json : null
      SLACK_REPLY_BROADCAST         = local.app_mode ? tostring(var.slack_reply_broadcast) : null
      SLACK_STATE_TABLE             = local.app_mode ? local.state_table_name : null
      SLACK_STATE_TTL_DAYS          = local.app_mode ? tostring(var.state_table_ttl_days) : null
      SLACK_GRAPHS                  = local.app_mode ? tostring(var.slack_graphs) : null
      SLACK_GRAPH_WINDOW_MINUTES    = local.graphs ? tostring(var.slack_graph_window_minutes) : null
      SLACK_GRAPH_JOIN_CHANNELS     = local.graphs ? tostring(var.slack_graph_join_channels) : null
      SLACK_GRAPH_CROSS_ACCOUNT_IDS = local.graphs && length(var.slack_graph_cross_account_ids) > 0 ? join(",", sort(distinct(var.slack_graph_cross_account_ids))) : null
    } : key => value if value != null
  }
}

resource "aws_sns_topic" "this" {
  count = local.create_topic ? 1 : 0

  name = "${var.name}-alarms"
  # CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed alias/aws/sns key
  # (its key policy cannot be edited to let cloudwatch.amazonaws.com use it): a customer-managed
  # key is validated for in variables.tf. Unencrypted by default for that reason.
  kms_master_key_id = var.sns_topic_kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "topic" {
  count = local.create_topic ? 1 : 0

  statement {
    sid       = "CloudWatchAlarmsOfThisAccountPublish"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this[0].arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [split(":", aws_sns_topic.this[0].arn)[4]]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${local.region}:${split(":", aws_sns_topic.this[0].arn)[4]}:alarm:*"]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  count = local.create_topic ? 1 : 0

  arn    = aws_sns_topic.this[0].arn
  policy = data.aws_iam_policy_document.topic[0].json
}

resource "aws_sns_topic_subscription" "lambda" {
  count = local.subscribe_function_to_topic ? 1 : 0

  topic_arn = local.topic_arn
  protocol  = "lambda"
  endpoint  = aws_lambda_function.this.arn

  depends_on = [aws_lambda_permission.sns]
}

resource "aws_lambda_permission" "sns" {
  count = local.subscribe_function_to_topic ? 1 : 0

  statement_id  = "AllowInvokeFromAlarmTopic"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "sns.amazonaws.com"
  source_arn    = local.topic_arn
}
