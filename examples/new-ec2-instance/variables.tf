variable "aws_region" {
  description = "AWS region for the instance, the alarms, the topic and the function."
  type        = string
  default     = "ap-northeast-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region code such as ap-northeast-2."
  }
}

variable "name" {
  description = "Name of the shared notifier: prefix of its resources and of every alarm name (<name>/<server>/cpu), and of the instances' Name tags."
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

variable "ami_id" {
  description = "AMI for the instance. Null: the latest Amazon Linux 2023 AMI from the SSM parameter ami_ssm_parameter_name."
  type        = string
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must be null or look like ami-0123456789abcdef0."
  }
}

variable "ami_ssm_parameter_name" {
  description = "Public SSM parameter that holds the AMI ID when ami_id is null. Use the -arm64 variant for Graviton instance types."
  type        = string
  default     = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

  validation {
    condition     = startswith(var.ami_ssm_parameter_name, "/")
    error_message = "ami_ssm_parameter_name must be a full parameter name starting with /."
  }
}

variable "instance_type" {
  description = "EC2 instance type. Must match the AMI's architecture (x86_64 for the default AMI parameter)."
  type        = string
  default     = "t3.micro"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like t3.micro."
  }
}

variable "subnet_id" {
  description = "Subnet to launch into. Null: a default subnet of the region's default VPC."
  type        = string
  default     = null

  validation {
    condition     = var.subnet_id == null || can(regex("^subnet-[0-9a-f]{8,17}$", var.subnet_id))
    error_message = "subnet_id must be null or look like subnet-0123456789abcdef0."
  }
}

variable "vpc_security_group_ids" {
  description = "Security groups for the instance. Empty: the VPC's default security group."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.vpc_security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", id))])
    error_message = "Every entry of vpc_security_group_ids must look like sg-0123456789abcdef0."
  }
}

variable "iam_instance_profile" {
  description = "Name of an existing IAM instance profile for the instance (e.g. one with AmazonSSMManagedInstanceCore for Session Manager). Null: none."
  type        = string
  default     = null
}

variable "root_volume_size" {
  description = "Size of the encrypted gp3 root volume in GiB (Amazon Linux 2023 needs at least 8)."
  type        = number
  default     = 8

  validation {
    condition     = var.root_volume_size >= 8 && var.root_volume_size <= 16384
    error_message = "root_volume_size must be between 8 and 16384 GiB."
  }
}

variable "root_volume_kms_key_arn" {
  description = "Customer-managed KMS key for the root volume. Null: the account's default EBS key (aws/ebs)."
  type        = string
  default     = null

  validation {
    condition     = var.root_volume_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.root_volume_kms_key_arn))
    error_message = "root_volume_kms_key_arn must be null or a KMS key ARN."
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

variable "alarm_mention" {
  description = "Optional Slack mention put in front of ALARM messages, e.g. <!here>."
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
  description = "Tags applied to the instance and to every resource the module creates."
  type        = map(string)
  default     = {}
}
