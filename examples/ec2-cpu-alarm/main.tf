# The origin scenario: one existing EC2 instance, watched for high CPU and for being down,
# reported to Slack in Korean with Seoul times.

provider "aws" {
  region = var.aws_region
}

module "alarm_to_slack" {
  source = "../.."

  name = var.name
  tags = var.tags

  # health.tf: the module's own health alarm e-mails someone (without it, nobody hears).
  health_alarm_actions = aws_sns_topic.health[*].arn

  slack_webhook_url = var.slack_webhook_url
  alarm_mention     = var.alarm_mention

  timezone         = "Asia/Seoul"
  message_language = "ko"

  # Two alarms per instance: CPU >= 80 % (average over 1 minute) and StatusCheckFailed,
  # whose missing data counts as breaching so that a dead server is reported too.
  ec2_instances = {
    (var.instance_key) = {
      instance_id   = var.instance_id
      cpu_threshold = var.cpu_threshold
    }
  }
}
