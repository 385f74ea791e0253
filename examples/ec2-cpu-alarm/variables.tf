variable "aws_region" {
  description = "AWS region of the instance; the alarms, topic and function are created there too."
  type        = string
  default     = "ap-northeast-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region code such as ap-northeast-2."
  }
}

variable "name" {
  description = "Prefix of every resource name (function, role, topic, log group, alarms)."
  type        = string
  default     = "alarm-to-slack"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters of letters, digits, '-' and '_', starting with a letter or digit."
  }
}

variable "slack_webhook_url" {
  description = "Slack incoming webhook URL (https://hooks.slack.com/services/...). Stored in the function's environment and in the Terraform state."
  type        = string
  sensitive   = true

  validation {
    condition     = startswith(var.slack_webhook_url, "https://")
    error_message = "slack_webhook_url must start with https://."
  }
}

variable "instance_id" {
  description = "ID of the existing EC2 instance to watch, e.g. i-0123456789abcdef0."
  type        = string

  validation {
    condition     = can(regex("^i-[0-9a-f]{8,17}$", var.instance_id))
    error_message = "instance_id must look like i-0123456789abcdef0."
  }
}

variable "instance_key" {
  description = "Short key for the instance; the alarms are named <name>/<instance_key>/cpu and <name>/<instance_key>/status-check."
  type        = string
  default     = "web"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.instance_key))
    error_message = "instance_key must be 1-40 characters of letters, digits, '-' and '_'."
  }
}

variable "cpu_threshold" {
  description = "CPU utilisation in percent at or above which the CPU alarm fires."
  type        = number
  default     = 80

  validation {
    condition     = var.cpu_threshold > 0 && var.cpu_threshold <= 100
    error_message = "cpu_threshold must be a percentage between 0 (exclusive) and 100."
  }
}

variable "alarm_mention" {
  description = "Optional Slack mention put in front of ALARM messages, e.g. <!here> or <!subteam^S0123ABCD>."
  type        = string
  default     = null
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
  description = "Tags applied to every resource the module creates."
  type        = map(string)
  default     = {}
}
