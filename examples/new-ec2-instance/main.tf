# One shared notifier for every server of this root module, plus what the server files share.
# Each server lives in its own server-<name>.tf (see server-web.tf): copy that file to add one.

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
  timezone          = var.timezone
  message_language  = var.message_language
}

# Latest Amazon Linux 2023 AMI from the public SSM parameter, unless an AMI is given (a plan
# without AWS access, e.g. in CI, passes ami_id: the lookup is the only read at plan time).
data "aws_ssm_parameter" "ami" {
  count = var.ami_id == null ? 1 : 0

  name = var.ami_ssm_parameter_name
}

locals {
  ami_id = var.ami_id != null ? var.ami_id : data.aws_ssm_parameter.ami[0].insecure_value
}
