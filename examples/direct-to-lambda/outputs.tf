output "lambda_function_name" {
  description = "Name of the function the alarms invoke."
  value       = module.alarm_to_slack.lambda_function_name
}

output "lambda_function_arn" {
  description = "ARN of the function the alarms invoke; other alarms can use it as their action too (they also need an aws_lambda_permission for lambda.alarms.cloudwatch.amazonaws.com)."
  value       = module.alarm_to_slack.lambda_function_arn
}

output "alarm_names" {
  description = "Names of the alarms, keyed alb-target-5xx and ec2/<key>/cpu, ec2/<key>/status-check."
  value       = module.alarm_to_slack.alarm_names
}

output "alarm_arns" {
  description = "ARNs of the alarms, with the same keys as alarm_names."
  value       = module.alarm_to_slack.alarm_arns
}

output "failure_queue_url" {
  description = "URL of the SQS queue that keeps alerts the function could not deliver."
  value       = module.alarm_to_slack.failure_queue_url
}
