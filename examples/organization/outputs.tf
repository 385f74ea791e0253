output "central_event_bus_arn" {
  description = "ARN of the central event bus: give it to every member account's forwarder (member/ root's central_event_bus_arn)."
  value       = module.alarm_to_slack.central_event_bus_arn
}

output "lambda_function_name" {
  description = "Name of the function that posts to Slack."
  value       = module.alarm_to_slack.lambda_function_name
}

output "alarm_state_change_rule_arn" {
  description = "ARN of the rule that captures this account's alarm state changes in aws_region."
  value       = module.alarm_to_slack.alarm_state_change_rule_arn
}

output "second_region_forwarder_rule_arn" {
  description = "ARN of the rule that forwards this account's alarm state changes in second_region to the central bus."
  value       = module.forward_second_region.rule_arn
}

output "sns_topic_arn" {
  description = "ARN of the module's topic, for alarms that should notify it directly. Do not also capture such alarms (they would arrive twice); the module's own alarms (<name>/...) are left out of capture automatically."
  value       = module.alarm_to_slack.sns_topic_arn
}

output "inbox_queue_url" {
  description = "URL of the inbox queue every captured or forwarded alarm state change lands in; its depth shows notifications waiting for the function."
  value       = module.alarm_to_slack.inbox_queue_url
}
