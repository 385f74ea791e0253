# The central (monitoring) account: the function, the inbox and the central event bus, plus a
# forwarder for this account's own alarms in a second region. Member accounts run ./member.

provider "aws" {
  region = var.aws_region
}

# The second region of the central account, for its forwarder.
provider "aws" {
  alias  = "second_region"
  region = var.second_region
}

module "alarm_to_slack" {
  source = "../.."

  name = var.name
  tags = var.tags

  # health.tf: the module's own health alarm e-mails someone (without it, nobody hears).
  health_alarm_actions = aws_sns_topic.health[*].arn

  slack_webhook_ssm_parameter_name = var.slack_webhook_ssm_parameter_name

  # Every alarm of this account and region, not only those that notify the module's topic.
  capture_alarm_state_changes = true
  capture_alarm_states        = var.alarm_states

  # Every alarm state change the organization's forwarders send.
  create_central_event_bus          = true
  central_event_bus_organization_id = var.organization_id
  central_event_bus_account_ids     = var.member_account_ids

  account_names = var.account_names
}

# The central account's own alarms in its second region reach the bus through the same kind of
# forwarder the member accounts use (a cross-region target, with its role).
module "forward_second_region" {
  source    = "../../modules/forwarder"
  providers = { aws = aws.second_region }

  name                  = var.name
  central_event_bus_arn = module.alarm_to_slack.central_event_bus_arn
  alarm_states          = var.alarm_states

  tags = var.tags
}
