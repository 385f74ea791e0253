# Two instances of the module in one root, as a consumer would write it (for_each over teams),
# with a relative source. tests/module.tftest.hcl plans it to prove no names collide.

terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}

locals {
  teams = {
    alpha = { target = "sns", create_sns_topic = true }
    bravo = { target = "lambda", create_sns_topic = true }
  }
}

module "alarm_to_slack" {
  source   = "../../.."
  for_each = local.teams

  name              = "${each.key}-alerts"
  slack_webhook_url = "https://hooks.slack.com/services/T000/B000/${each.key}"

  alarm_action_target = each.value.target
  create_sns_topic    = each.value.create_sns_topic
  # Without actions the health alarm tells nobody, and terraform test fails on the check.
  health_alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:on-call-email"]

  # The same keys in both instances: the name prefix alone must keep the alarms apart.
  ec2_instances = {
    web = { instance_id = "i-0123456789abcdef0" }
  }
  alarms = {
    queue-depth = {
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = "jobs" }
      threshold   = 100
    }
  }
}

output "names" {
  description = "Every name each instance derives, by team."
  value = {
    for team, instance in module.alarm_to_slack : team => concat(
      [
        instance.lambda_function_name,
        instance.lambda_role_name,
        instance.cloudwatch_log_group_name,
        instance.sns_topic_name,
      ],
      values(instance.alarm_names),
    )
  }
}
