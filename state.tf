# Slack app mode (bot token, Web API): the routes passed to the function and the DynamoDB table
# that remembers each alarm's Slack message and which records were already delivered. Nothing
# here exists in webhook mode.

locals {
  app_mode = var.slack_bot_token_ssm_parameter_name != null

  # Fixed from inputs, so the environment is known at plan time.
  state_table_name = "${var.name}-slack-state"

  # `alarms` / `ec2_instances` entries that name a channel become exact-name routes, ahead of
  # slack_routes: the more specific rule wins.
  alarm_channel_routes = concat(
    [
      for key, alarm in var.alarms : {
        channel_id  = alarm.slack_channel_id
        alarm_names = [local.generic_alarms[key].name]
      } if alarm.slack_channel_id != null
    ],
    [
      for key, instance in var.ec2_instances : {
        channel_id = instance.slack_channel_id
        alarm_names = [
          for alarm_key, alarm in merge(local.ec2_cpu_alarms, local.ec2_status_alarms) : alarm.name
          if contains(["ec2/${key}/cpu", "ec2/${key}/status-check"], alarm_key)
        ]
      } if instance.slack_channel_id != null
    ],
  )

  # Null match fields are left out: the function's environment is limited to 4 KB in total.
  slack_routes = concat(
    local.alarm_channel_routes,
    [for route in var.slack_routes : { for field, value in route : field => value if value != null }],
  )
  slack_routes_json        = length(local.slack_routes) > 0 ? jsonencode(local.slack_routes) : null
  slack_routes_json_length = length(local.slack_routes) > 0 ? length(jsonencode(local.slack_routes)) : 0
}

resource "aws_dynamodb_table" "state" {
  # checkov:skip=CKV_AWS_119: always KMS-encrypted (the AWS-managed aws/dynamodb key by default); state_table_kms_key_arn switches to a customer-managed key. The table holds Slack message IDs and alarm texts, no secret
  count = local.app_mode ? 1 : 0

  name         = local.state_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }

  # Items say when they may go: alarm messages and delivered-record markers are only useful
  # for a while (state_table_ttl_days), so the table stays small without a cleanup job.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.state_table_kms_key_arn
  }

  point_in_time_recovery {
    enabled = var.state_table_point_in_time_recovery
  }

  tags = var.tags
}
