output "instance_id" {
  description = "ID of the new instance."
  value       = aws_instance.this.id
}

output "instance_private_ip" {
  description = "Private IP address of the new instance."
  value       = aws_instance.this.private_ip
}

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

output "alarm_names" {
  description = "Names of the instance's alarms, keyed ec2/<instance_key>/cpu and ec2/<instance_key>/status-check."
  value       = module.alarm_to_slack.alarm_names
}

output "alarm_arns" {
  description = "ARNs of the instance's alarms, with the same keys as alarm_names."
  value       = module.alarm_to_slack.alarm_arns
}

output "failure_queue_url" {
  description = "URL of the SQS queue that keeps alerts the function could not deliver."
  value       = module.alarm_to_slack.failure_queue_url
}
