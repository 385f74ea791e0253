output "sns_topic_arn" {
  description = "ARN of the SNS topic the alarms notify; other alarms can use it as their action too."
  value       = module.alarm_to_slack.sns_topic_arn
}

output "lambda_function_name" {
  description = "Name of the function that posts to Slack."
  value       = module.alarm_to_slack.lambda_function_name
}

output "lambda_function_arn" {
  description = "ARN of the function that posts to Slack."
  value       = module.alarm_to_slack.lambda_function_arn
}

output "failure_queue_url" {
  description = "URL of the SQS queue that keeps alerts the function could not deliver."
  value       = module.alarm_to_slack.failure_queue_url
}
