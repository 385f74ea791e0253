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
  # "The Amazon SNS subscription command must be executed ... in the Region where Amazon SNS is
  # hosted" (SNS developer guide, "Sending Amazon SNS messages to an Amazon SQS queue or AWS
  # Lambda function in a different Region"): this provider's region makes the subscription. The
  # module's alarms, in this region, notify the topic too. Both subscriptions (inbox.tf, below)
  # check it; the region is known at plan.
  sns_topic_arn_region_problem = (
    var.sns_topic_arn == null || try(split(":", var.sns_topic_arn)[3], "") == local.region ? null :
    "sns_topic_arn ${jsonencode(var.sns_topic_arn)} is a topic in ${try(split(":", var.sns_topic_arn)[3], "?")}, not in this module's region (${local.region}): the subscription and the alarms' actions must be in the topic's region. Use a topic of ${local.region}, or a provider of the topic's region for the module."
  )

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
      SLACK_GROUP_INTERVAL_SECONDS  = local.app_mode ? tostring(var.group_interval_seconds) : null
      SLACK_GRAPHS                  = local.app_mode ? tostring(var.slack_graphs) : null
      SLACK_GRAPH_WINDOW_MINUTES    = local.graphs ? tostring(var.slack_graph_window_minutes) : null
      SLACK_GRAPH_JOIN_CHANNELS     = local.graphs ? tostring(var.slack_graph_join_channels) : null
      SLACK_GRAPH_CROSS_ACCOUNT_IDS = local.graphs && length(var.slack_graph_cross_account_ids) > 0 ? join(",", sort(distinct(var.slack_graph_cross_account_ids))) : null
    } : key => value if value != null
  }

  # A Slack token (xoxb-, xoxp-, xoxe-/xoxe., xapp-...) or a URL where an SSM parameter name
  # belongs: refused by a precondition of the function (lambda.tf) without showing it, by the
  # same rule as the function's own (lambda/settings.py).
  secret_looking_name_pattern = "(?i)(xox[a-z][.-]|xapp-|https?://|hooks\\.slack\\.com)"
  secret_looking_parameter_names = [
    for variable, value in {
      slack_webhook_ssm_parameter_name   = var.slack_webhook_ssm_parameter_name
      slack_bot_token_ssm_parameter_name = var.slack_bot_token_ssm_parameter_name
    } : variable if value != null && can(regex(local.secret_looking_name_pattern, coalesce(value, "-")))
  ]

  # Lambda refuses a function whose environment variables take more than 4 KB together (Lambda
  # quotas: "Environment variables, 4 KB"). It measures them as one JSON object ("exceeded the 4KB
  # limit. String measured: {"KEY":"value",...}", the error quoted in
  # github-aws-runners/terraform-aws-github-runner#3594), so keys, quotes, escapes and separators
  # count. Measured here as the UTF-8 bytes of jsonencode() (which also escapes <, > and &).
  # Whether Lambda counts a Korean character as its 3 UTF-8 bytes or as a 6-byte \u escape is
  # not documented: UTF-8 is assumed. Each entry is `"KEY":"value",`; the object adds its braces
  # and drops the last comma. The sizes are not secret even where a value (the webhook URL) is:
  # nonsensitive(sensitive(...)) works on either.
  lambda_environment_entry_base64 = {
    for key, value in local.lambda_environment : key => base64encode("${jsonencode(key)}:${jsonencode(value)},")
  }
  # base64 turns every 3 bytes into 4 characters, "=" padding the last group: the byte length,
  # which length() (characters) is not for Korean account names.
  # The map is sensitive as a whole (its keys are filtered on the URL) and so is each size of it.
  lambda_environment_entry_bytes = nonsensitive(sensitive({
    for key, encoded in local.lambda_environment_entry_base64 : key => nonsensitive(sensitive(
      length(encoded) / 4 * 3 - (endswith(encoded, "==") ? 2 : endswith(encoded, "=") ? 1 : 0)
    ))
  }))
  lambda_environment_bytes = length(local.lambda_environment_entry_bytes) == 0 ? 2 : 1 + sum(values(local.lambda_environment_entry_bytes))
  # The three largest entries, largest first ("KEY (N bytes)"), for the error message.
  lambda_environment_largest = [
    for entry in slice(reverse(sort([for key, size in local.lambda_environment_entry_bytes : format("%06d %s", size, key)])), 0, min(3, length(local.lambda_environment_entry_bytes))) :
    "${split(" ", entry)[1]} (${tonumber(split(" ", entry)[0])} bytes)"
  ]
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

  lifecycle {
    precondition {
      condition     = local.sns_topic_arn_region_problem == null
      error_message = coalesce(local.sns_topic_arn_region_problem, "-")
    }
  }
}

resource "aws_lambda_permission" "sns" {
  count = local.subscribe_function_to_topic ? 1 : 0

  statement_id  = "AllowInvokeFromAlarmTopic"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "sns.amazonaws.com"
  source_arn    = local.topic_arn
}
