# Alarms invoke the function directly (no SNS topic at all); the webhook URL is read from an
# SSM Parameter Store SecureString at cold start, so it is in neither the function's
# environment nor the Terraform state.

provider "aws" {
  region = var.aws_region
}

module "alarm_to_slack" {
  source = "../.."

  name = var.name
  tags = var.tags

  # health.tf: the module's own health alarm e-mails someone (without it, nobody hears).
  health_alarm_actions = aws_sns_topic.health[*].arn

  slack_webhook_ssm_parameter_name = var.slack_webhook_ssm_parameter_name
  slack_webhook_ssm_kms_key_arn    = var.slack_webhook_ssm_kms_key_arn

  timezone         = var.timezone
  message_language = var.message_language

  alarm_action_target = "lambda"
  create_sns_topic    = false

  # Any CloudWatch metric through the generic map: here, the load balancer's targets
  # answering with 5xx.
  alarms = {
    alb-target-5xx = {
      description         = "Targets behind the load balancer answer with HTTP 5xx."
      namespace           = "AWS/ApplicationELB"
      metric_name         = "HTTPCode_Target_5XX_Count"
      dimensions          = { LoadBalancer = var.load_balancer_arn_suffix }
      statistic           = "Sum"
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 3
      comparison_operator = "GreaterThanOrEqualToThreshold"
      threshold           = var.alb_5xx_threshold
      # No 5xx responses in a minute means no data point: that is the healthy case.
      treat_missing_data = "notBreaching"
    }
  }

  # The EC2 defaults (CPU >= 80 % over 1 minute, StatusCheckFailed) for each instance given.
  ec2_instances = { for key, id in var.ec2_instance_ids : key => { instance_id = id } }
}
