variable "name" {
  description = "Prefix of the rule (<name>-forward-alarm-state-changes) and the role (<name>-forwarder-<region>). Letters, digits, hyphens and underscores, at most 36 characters: EventBridge rule names and IAM role names have 64 at most."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]*$", var.name))
    error_message = "name must be letters, digits, '-' and '_', starting with a letter or digit; not ${jsonencode(var.name)}."
  }

  # The rule <name>-forward-alarm-state-changes adds 28 characters, and EventBridge rule names
  # have at most 64 (PutRule; the aws provider checks it at plan, so no state holds a longer one).
  validation {
    condition     = length(var.name) >= 1 && length(var.name) <= 36
    error_message = "name ${jsonencode(var.name)} has ${length(var.name)} characters; at most 36 fit: the rule <name>-forward-alarm-state-changes may have 64."
  }
}

variable "central_event_bus_arn" {
  description = "ARN of the central account's custom event bus (the alarm-to-slack module's central_event_bus_arn output), e.g. arn:aws:events:eu-west-1:111122223333:event-bus/alerts-alarm-events. It may be in another account and another region."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:events:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:event-bus/[A-Za-z0-9._-]{1,256}$", var.central_event_bus_arn))
    error_message = "central_event_bus_arn must be a custom event bus ARN (arn:aws:events:<region>:<12-digit account>:event-bus/<name>) without wildcards; got \"${var.central_event_bus_arn}\"."
  }

  validation {
    condition     = !endswith(var.central_event_bus_arn, ":event-bus/default")
    error_message = "central_event_bus_arn must name the central account's custom bus, not a default bus."
  }
}

variable "alarm_name_prefixes" {
  description = "Forward only alarms whose name starts with one of these prefixes (EventBridge prefix matching on detail.alarmName). Empty: every alarm of the account and region."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for prefix in var.alarm_name_prefixes : length(prefix) > 0 && !strcontains(prefix, "*")])
    error_message = "alarm_name_prefixes entries must be non-empty literal prefixes (EventBridge prefix matching, no wildcards): ${jsonencode([for prefix in var.alarm_name_prefixes : prefix if length(prefix) == 0 || strcontains(prefix, "*")])}."
  }
}

variable "alarm_states" {
  description = "Forward only changes into these states (detail.state.value): ALARM, OK, INSUFFICIENT_DATA. Filtering here saves the custom-event charge of the changes nobody wants to see."
  type        = list(string)
  default     = ["ALARM", "OK"]

  validation {
    condition     = length(var.alarm_states) > 0 && alltrue([for state in var.alarm_states : contains(["ALARM", "OK", "INSUFFICIENT_DATA"], state)])
    error_message = "alarm_states must list at least one of ALARM, OK, INSUFFICIENT_DATA; got ${jsonencode(var.alarm_states)}."
  }
}

variable "tags" {
  description = "Tags for the rule and the role."
  type        = map(string)
  default     = {}
}
