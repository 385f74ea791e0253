variable "central_event_bus_arn" {
  description = "ARN of the central account's event bus (the central root's central_event_bus_arn output)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:events:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:event-bus/[A-Za-z0-9._-]+$", var.central_event_bus_arn))
    error_message = "central_event_bus_arn must be an event bus ARN such as arn:aws:events:eu-west-1:111122223333:event-bus/alarm-to-slack-alarm-events."
  }
}

variable "primary_region" {
  description = "First region of this account whose alarms are forwarded (often the central bus's region)."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.primary_region))
    error_message = "primary_region must be a region code such as eu-west-1."
  }
}

variable "secondary_region" {
  description = "Second region of this account whose alarms are forwarded."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.secondary_region))
    error_message = "secondary_region must be a region code such as us-east-1."
  }
}

variable "name" {
  description = "Prefix of the rules and roles."
  type        = string
  default     = "alarm-to-slack"

  validation {
    # 36 at most: the central bus's rule (<name>-central-alarm-state-changes) and the
    # forwarders' (<name>-forward-alarm-state-changes) may have 64 characters.
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,35}$", var.name))
    error_message = "name must be 1-36 characters of letters, digits, '-' and '_', starting with a letter or digit (EventBridge rule names have 64 at most)."
  }
}

variable "alarm_name_prefixes" {
  description = "Forward only alarms whose name starts with one of these prefixes. Empty: every alarm."
  type        = list(string)
  default     = []
}

variable "alarm_states" {
  description = "Forward only changes into these states: ALARM, OK, INSUFFICIENT_DATA."
  type        = list(string)
  default     = ["ALARM", "OK"]
}

variable "tags" {
  description = "Tags applied to the rules and roles."
  type        = map(string)
  default     = {}
}
