# Two instances whose names share a prefix ("prod" and "prod-web"), with keys chosen so that the
# old "<name>-<key>-cpu" scheme gave both "prod-web-api-cpu". tests/module.tftest.hcl plans it.

terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

locals {
  instances = {
    prod     = { ec2_key = "web-api", alarm_key = "web-api-latency" }
    prod-web = { ec2_key = "api", alarm_key = "api-latency" }
  }
}

module "alarm_to_slack" {
  source   = "../../.."
  for_each = local.instances

  name                = each.key
  slack_webhook_url   = "https://hooks.slack.com/services/T000/B000/${each.key}"
  alarm_action_target = "lambda"
  create_sns_topic    = false
  # Without actions the health alarm tells nobody, and terraform test fails on the check.
  health_alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:on-call-email"]

  ec2_instances = {
    (each.value.ec2_key) = { instance_id = "i-0123456789abcdef0" }
  }
  alarms = {
    (each.value.alarm_key) = {
      namespace   = "AWS/ApplicationELB"
      metric_name = "TargetResponseTime"
      threshold   = 1
    }
  }
}

output "alarm_names" {
  description = "Every alarm name each instance creates, its own alarms included."
  value = {
    for key, instance in module.alarm_to_slack : key => concat(
      values(instance.alarm_names),
      ["${instance.alarm_name_prefix}failure-queue-not-empty", "${instance.alarm_name_prefix}function-health"],
    )
  }
}
