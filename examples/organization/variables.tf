variable "aws_region" {
  description = "Region of the central account where the function, the inbox and the central event bus live."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region code such as eu-west-1."
  }
}

variable "second_region" {
  description = "A second region of the central account whose alarms are forwarded to the central bus."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.second_region))
    error_message = "second_region must be a region code such as us-east-1."
  }
}

variable "name" {
  description = "Prefix of every resource name (function, role, queues, event bus, rules)."
  type        = string
  default     = "alarm-to-slack"

  validation {
    # 36 at most: the central bus's rule (<name>-central-alarm-state-changes) and the
    # forwarders' (<name>-forward-alarm-state-changes) may have 64 characters.
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,35}$", var.name))
    error_message = "name must be 1-36 characters of letters, digits, '-' and '_', starting with a letter or digit (EventBridge rule names have 64 at most)."
  }
}

variable "slack_webhook_ssm_parameter_name" {
  description = "Name of the SSM Parameter Store SecureString (in aws_region) that holds the Slack webhook URL, e.g. /alarm-to-slack/slack-webhook-url."
  type        = string

  validation {
    condition     = can(regex("^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$", var.slack_webhook_ssm_parameter_name))
    error_message = "slack_webhook_ssm_parameter_name must be a parameter name like /alarm-to-slack/slack-webhook-url."
  }
}

variable "organization_id" {
  description = "AWS Organizations ID (o-xxxxxxxxxx) whose accounts may send alarm state changes to the central bus. Null: only member_account_ids."
  type        = string
  default     = null

  validation {
    condition     = var.organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", coalesce(var.organization_id, "-")))
    error_message = "organization_id must look like o-a1b2c3d4e5."
  }
}

variable "member_account_ids" {
  description = "12-digit IDs of accounts (outside the organization, or instead of it) that may send alarm state changes to the central bus."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for account in var.member_account_ids : can(regex("^[0-9]{12}$", account))])
    error_message = "member_account_ids must be 12-digit AWS account IDs."
  }
}

variable "account_names" {
  description = "Friendly account names for the messages, by 12-digit account ID, e.g. { \"444455556666\" = \"payments-prod\" }."
  type        = map(string)
  default     = {}
}

variable "alarm_states" {
  description = "Which state changes reach Slack, from every account and region: ALARM, OK, INSUFFICIENT_DATA."
  type        = list(string)
  default     = ["ALARM", "OK"]
}

variable "health_alarm_email" {
  description = "E-mail address told when the notifier itself is unhealthy (health.tf); AWS mails a confirmation link first. Null: no topic, and the module's plan warns that its health alarm tells nobody."
  type        = string
  default     = null

  validation {
    condition     = var.health_alarm_email == null || can(regex("^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$", coalesce(var.health_alarm_email, "-")))
    error_message = "health_alarm_email must be an e-mail address such as oncall@example.com; not ${jsonencode(var.health_alarm_email)}."
  }
}

variable "tags" {
  description = "Tags applied to every resource."
  type        = map(string)
  default     = {}
}
