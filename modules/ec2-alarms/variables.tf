variable "instance_id" {
  description = "ID of the EC2 instance to watch, e.g. aws_instance.web.id."
  type        = string

  validation {
    condition     = can(regex("^i-[0-9a-f]{8,17}$", var.instance_id))
    error_message = "instance_id must look like i-0123456789abcdef0, got \"${var.instance_id}\"."
  }
}

variable "key" {
  description = "Short, stable name of the server; the alarms are named <alarm_name_prefix><key>/cpu and <alarm_name_prefix><key>/status-check, so renaming it replaces them."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", var.key))
    error_message = "key must be 1-64 characters of letters, digits, '.', '-' and '_' (no '/'), got \"${var.key}\"."
  }
}

variable "alarm_actions" {
  description = "Where the alarms notify: the notifier module's alarm_actions output (its SNS topic, or its function in direct mode)."
  type        = list(string)

  validation {
    condition     = length(var.alarm_actions) > 0 && alltrue([for arn in var.alarm_actions : startswith(arn, "arn:")])
    error_message = "alarm_actions must be a non-empty list of ARNs: pass module.<notifier>.alarm_actions."
  }
}

variable "alarm_name_prefix" {
  description = "Start of every alarm name: the notifier module's alarm_name_prefix output (\"<name>/\"), which its direct-mode permission covers."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}/$", var.alarm_name_prefix))
    error_message = "alarm_name_prefix must be the notifier's alarm_name_prefix output, \"<name>/\", got \"${var.alarm_name_prefix}\"."
  }
}

variable "enable_cpu_alarm" {
  description = "Create the CPU alarm."
  type        = bool
  default     = true
}

variable "cpu_threshold" {
  description = "CPU utilization in percent at or above which the CPU alarm fires."
  type        = number
  default     = 80

  validation {
    condition     = var.cpu_threshold > 0 && var.cpu_threshold <= 100
    error_message = "cpu_threshold must be a percentage above 0 and at most 100."
  }
}

variable "cpu_period" {
  description = "Period of the CPU alarm in seconds (a multiple of 60; 60 needs detailed monitoring on the instance)."
  type        = number
  default     = 60

  validation {
    condition     = var.cpu_period >= 60 && var.cpu_period % 60 == 0
    error_message = "cpu_period must be a positive multiple of 60 seconds (EC2 metrics have at most 1-minute resolution)."
  }
}

variable "cpu_evaluation_periods" {
  description = "Consecutive periods at or above cpu_threshold before the CPU alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.cpu_evaluation_periods >= 1 && floor(var.cpu_evaluation_periods) == var.cpu_evaluation_periods
    error_message = "cpu_evaluation_periods must be a whole number >= 1."
  }

  # CloudWatch PutMetricAlarm: period x evaluation periods at most one day when the period is
  # under an hour, at most seven days otherwise (the aws provider does not check it at plan).
  validation {
    condition     = var.cpu_period * var.cpu_evaluation_periods <= (var.cpu_period < 3600 ? 86400 : 604800)
    error_message = "${var.alarm_name_prefix}${var.key}/cpu: cpu_period x cpu_evaluation_periods (${var.cpu_period} s x ${var.cpu_evaluation_periods} = ${var.cpu_period * var.cpu_evaluation_periods} s) must be at most 86400 s (1 day) when the period is under an hour, else at most 604800 s (7 days), as CloudWatch allows."
  }
}

variable "enable_status_check_alarm" {
  description = "Create the status-check alarm (missing data counts as breaching, so a stopped or dead instance is reported)."
  type        = bool
  default     = true
}

variable "status_check_period" {
  description = "Period of the status-check alarm in seconds (a multiple of 60)."
  type        = number
  default     = 60

  validation {
    condition     = var.status_check_period >= 60 && var.status_check_period % 60 == 0
    error_message = "status_check_period must be a positive multiple of 60 seconds."
  }
}

variable "status_check_evaluation_periods" {
  description = "Consecutive failing (or silent) periods before the status-check alarm fires."
  type        = number
  default     = 2

  validation {
    condition     = var.status_check_evaluation_periods >= 1 && floor(var.status_check_evaluation_periods) == var.status_check_evaluation_periods
    error_message = "status_check_evaluation_periods must be a whole number >= 1."
  }

  validation {
    condition     = var.status_check_period * var.status_check_evaluation_periods <= (var.status_check_period < 3600 ? 86400 : 604800)
    error_message = "${var.alarm_name_prefix}${var.key}/status-check: status_check_period x status_check_evaluation_periods (${var.status_check_period} s x ${var.status_check_evaluation_periods} = ${var.status_check_period * var.status_check_evaluation_periods} s) must be at most 86400 s (1 day) when the period is under an hour, else at most 604800 s (7 days), as CloudWatch allows."
  }
}

variable "notify_on_ok" {
  description = "Also notify when an alarm returns to OK."
  type        = bool
  default     = true
}

variable "notify_on_insufficient_data" {
  description = "Also notify when an alarm enters INSUFFICIENT_DATA."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the alarms."
  type        = map(string)
  default     = {}
}
