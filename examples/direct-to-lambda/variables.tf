variable "aws_region" {
  description = "AWS region for the alarms and the function (the SSM parameter must be in it too)."
  type        = string
  default     = "ap-northeast-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region code such as ap-northeast-2."
  }
}

variable "name" {
  description = "Prefix of every resource name (function, role, log group, alarms)."
  type        = string
  default     = "alarm-to-slack"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters of letters, digits, '-' and '_', starting with a letter or digit."
  }
}

variable "slack_webhook_ssm_parameter_name" {
  description = "Name of the SSM Parameter Store SecureString that holds the Slack webhook URL, e.g. /alarm-to-slack/slack-webhook-url."
  type        = string

  validation {
    condition     = length(var.slack_webhook_ssm_parameter_name) <= 2048 && can(regex("^/?[A-Za-z0-9_./-]+$", var.slack_webhook_ssm_parameter_name))
    error_message = "slack_webhook_ssm_parameter_name must be an SSM parameter name (letters, digits, _ . - and /), not an ARN."
  }
}

variable "slack_webhook_ssm_kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the parameter. Null: the parameter uses the AWS-managed aws/ssm key."
  type        = string
  default     = null

  validation {
    condition     = var.slack_webhook_ssm_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.slack_webhook_ssm_kms_key_arn))
    error_message = "slack_webhook_ssm_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "load_balancer_arn_suffix" {
  description = "ARN suffix of the Application Load Balancer to watch (the aws_lb arn_suffix attribute), e.g. app/my-alb/0123456789abcdef."
  type        = string

  validation {
    condition     = can(regex("^app/[A-Za-z0-9-]+/[0-9a-f]+$", var.load_balancer_arn_suffix))
    error_message = "load_balancer_arn_suffix must look like app/my-alb/0123456789abcdef."
  }
}

variable "alb_5xx_threshold" {
  description = "Target 5xx responses per minute at or above which a minute counts as bad (3 bad minutes out of 5 raise the alarm)."
  type        = number
  default     = 10

  validation {
    condition     = var.alb_5xx_threshold > 0
    error_message = "alb_5xx_threshold must be positive."
  }
}

variable "ec2_instance_ids" {
  description = "EC2 instances to watch with the module's defaults, by short key, e.g. { web = \"i-0123456789abcdef0\" }."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for id in values(var.ec2_instance_ids) : can(regex("^i-[0-9a-f]{8,17}$", id))])
    error_message = "Every value of ec2_instance_ids must look like i-0123456789abcdef0."
  }
}

variable "timezone" {
  description = "IANA time zone for the times in Slack messages, e.g. UTC or Asia/Seoul."
  type        = string
  default     = "UTC"
}

variable "message_language" {
  description = "Language of the labels in Slack messages: en or ko."
  type        = string
  default     = "en"

  validation {
    condition     = contains(["en", "ko"], var.message_language)
    error_message = "message_language must be en or ko."
  }
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
