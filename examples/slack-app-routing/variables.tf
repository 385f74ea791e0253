variable "aws_region" {
  description = "AWS region for the alarms, the function and its state table (the SSM parameter must be in it too)."
  type        = string
  default     = "ap-northeast-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region code such as ap-northeast-2."
  }
}

variable "name" {
  description = "Prefix of every resource name (function, role, topic, state table, alarms)."
  type        = string
  default     = "alarm-to-slack"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters of letters, digits, '-' and '_', starting with a letter or digit."
  }
}

variable "slack_bot_token_ssm_parameter_name" {
  description = "Name of the SSM Parameter Store SecureString that holds the Slack app's Bot User OAuth Token (xoxb-...), e.g. /alarm-to-slack/slack-bot-token."
  type        = string

  validation {
    condition     = can(regex("^/?[A-Za-z0-9_./-]+$", var.slack_bot_token_ssm_parameter_name))
    error_message = "slack_bot_token_ssm_parameter_name must be an SSM parameter name (letters, digits, _ . - and /)."
  }
}

variable "alerts_channel_id" {
  description = "ID of the general alerts channel (channel details > About, e.g. C0123456789): every alarm that is not a database alarm."
  type        = string

  validation {
    condition     = can(regex("^[CG][A-Z0-9]{6,}$", var.alerts_channel_id))
    error_message = "alerts_channel_id must be a channel ID such as C0123456789."
  }
}

variable "database_channel_id" {
  description = "ID of the database team's channel: the alarms whose key starts with db-."
  type        = string

  validation {
    condition     = can(regex("^[CG][A-Z0-9]{6,}$", var.database_channel_id))
    error_message = "database_channel_id must be a channel ID such as C0123456789."
  }
}

variable "db_instance_identifier" {
  description = "Identifier of the RDS instance to watch."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,62}$", var.db_instance_identifier))
    error_message = "db_instance_identifier must be an RDS instance identifier (letters, digits and hyphens, starting with a letter)."
  }
}

variable "db_connections_threshold" {
  description = "Open database connections at or above which the connections alarm fires."
  type        = number
  default     = 100

  validation {
    condition     = var.db_connections_threshold > 0
    error_message = "db_connections_threshold must be positive."
  }
}

variable "load_balancer_arn_suffix" {
  description = "ARN suffix of the Application Load Balancer in front of the web servers, e.g. app/my-alb/0123456789abcdef."
  type        = string

  validation {
    condition     = can(regex("^app/[A-Za-z0-9-]+/[0-9a-f]+$", var.load_balancer_arn_suffix))
    error_message = "load_balancer_arn_suffix must look like app/my-alb/0123456789abcdef."
  }
}

variable "slack_reply_broadcast" {
  description = "Also show the OK (posted in the alarm's thread) in the channel."
  type        = bool
  default     = false
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
