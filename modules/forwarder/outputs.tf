output "rule_arn" {
  description = "ARN of the rule that forwards this account's and region's alarm state changes."
  value       = aws_cloudwatch_event_rule.alarm_state_changes.arn
}

output "rule_name" {
  description = "Name of the forwarding rule (on the default event bus)."
  value       = aws_cloudwatch_event_rule.alarm_state_changes.name
}

output "event_pattern" {
  description = "The rule's event pattern (JSON), as EventBridge matches it."
  value       = aws_cloudwatch_event_rule.alarm_state_changes.event_pattern
}

output "role_arn" {
  description = "ARN of the role EventBridge assumes to put the events on the central bus."
  value       = aws_iam_role.forwarder.arn
}

output "role_name" {
  description = "Name of the role EventBridge assumes to put the events on the central bus."
  value       = aws_iam_role.forwarder.name
}
