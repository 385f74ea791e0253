# A member account: nothing but forwarders. Every alarm state change of this account in each
# region goes to the central account's bus; no alarm is edited, no function runs here.
#
# Terraform cannot for_each over provider configurations: one provider alias and one module block
# per region is the pattern. Add a region by copying a pair.

provider "aws" {
  alias  = "primary"
  region = var.primary_region
}

provider "aws" {
  alias  = "secondary"
  region = var.secondary_region
}

module "forward_primary" {
  source    = "../../../modules/forwarder"
  providers = { aws = aws.primary }

  name                  = var.name
  central_event_bus_arn = var.central_event_bus_arn
  alarm_name_prefixes   = var.alarm_name_prefixes
  alarm_states          = var.alarm_states

  tags = var.tags
}

module "forward_secondary" {
  source    = "../../../modules/forwarder"
  providers = { aws = aws.secondary }

  name                  = var.name
  central_event_bus_arn = var.central_event_bus_arn
  alarm_name_prefixes   = var.alarm_name_prefixes
  alarm_states          = var.alarm_states

  tags = var.tags
}
