output "lambda_function_name" {
  description = "Name of the function that posts to Slack."
  value       = module.alarm_to_slack.lambda_function_name
}

output "sns_topic_arn" {
  description = "ARN of the topic the alarms notify; other alarms can use it as their action to reach Slack too."
  value       = module.alarm_to_slack.sns_topic_arn
}

output "state_table_name" {
  description = "Name of the DynamoDB table that remembers each alarm's Slack message."
  value       = module.alarm_to_slack.state_table_name
}

output "alarm_names" {
  description = "Names of the alarms, by key: the db- ones go to the database channel."
  value       = module.alarm_to_slack.alarm_names
}

output "inbox_queue_url" {
  description = "URL of the inbox queue between the topic and the function: its depth shows notifications waiting."
  value       = module.alarm_to_slack.inbox_queue_url
}
