# Slack app mode: one bot token, two channels. Database alarms go to the database team's
# channel, everything else to the general alerts channel. Each ALARM is one message that turns
# green in place when the alarm recovers, with the OK (and any repeat) in its thread.

provider "aws" {
  region = var.aws_region
}

module "alarm_to_slack" {
  source = "../.."

  name = var.name
  tags = var.tags

  # health.tf: the module's own health alarm e-mails someone (without it, nobody hears).
  health_alarm_actions = aws_sns_topic.health[*].arn

  # The bot token (xoxb-...) lives in an SSM SecureString: the function reads it at cold start,
  # it is in neither the function's environment nor the Terraform state.
  slack_bot_token_ssm_parameter_name = var.slack_bot_token_ssm_parameter_name

  # Alarms no route matches go here.
  slack_channel_id = var.alerts_channel_id

  # First match wins. The module names its alarms <name>/<key>, so a key prefix is enough.
  slack_routes = [
    { channel_id = var.database_channel_id, alarm_name_prefix = "${var.name}/db-" },
  ]

  slack_reply_broadcast = var.slack_reply_broadcast

  alarms = {
    db-connections = {
      description = "The database has many open connections: a connection leak or a traffic spike."
      namespace   = "AWS/RDS"
      metric_name = "DatabaseConnections"
      dimensions  = { DBInstanceIdentifier = var.db_instance_identifier }
      statistic   = "Maximum"
      threshold   = var.db_connections_threshold
    }
    db-free-storage = {
      description         = "The database has less than 5 GiB of free storage."
      namespace           = "AWS/RDS"
      metric_name         = "FreeStorageSpace"
      dimensions          = { DBInstanceIdentifier = var.db_instance_identifier }
      statistic           = "Minimum"
      period              = 300
      comparison_operator = "LessThanThreshold"
      threshold           = 5 * 1024 * 1024 * 1024
    }
    web-5xx = {
      description         = "Targets behind the load balancer answer with HTTP 5xx."
      namespace           = "AWS/ApplicationELB"
      metric_name         = "HTTPCode_Target_5XX_Count"
      dimensions          = { LoadBalancer = var.load_balancer_arn_suffix }
      statistic           = "Sum"
      evaluation_periods  = 5
      datapoints_to_alarm = 3
      threshold           = 10
      treat_missing_data  = "notBreaching"
    }
  }
}
