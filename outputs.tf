output "sns_topic_arn" {
  description = "ARN of the topic that feeds the function (created or passed in; through the inbox queue in SNS mode); null when there is none. Point other alarms' actions here."
  value       = local.topic_arn
}

output "sns_topic_name" {
  description = "Name of the topic that feeds the function; null when there is none."
  value       = var.create_sns_topic ? aws_sns_topic.this[0].name : (var.sns_topic_arn == null ? null : split(":", var.sns_topic_arn)[5])
}

output "lambda_function_name" {
  description = "Name of the Lambda function that posts to Slack."
  value       = aws_lambda_function.this.function_name
}

output "lambda_function_arn" {
  description = "ARN of the Lambda function that posts to Slack (an alarm action in direct mode)."
  value       = aws_lambda_function.this.arn
}

output "lambda_role_arn" {
  description = "ARN of the function's execution role (created, or lambda_role_arn with create_role = false)."
  value       = local.role_arn
}

output "lambda_role_name" {
  description = "Name of the function's execution role, to attach further policies."
  value       = var.create_role ? aws_iam_role.lambda[0].name : element(split("/", var.lambda_role_arn), length(split("/", var.lambda_role_arn)) - 1)
}

output "cloudwatch_log_group_name" {
  description = "Name of the function's log group."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "failure_queue_arn" {
  description = "ARN of the SQS queue that keeps notifications the function failed to deliver."
  value       = aws_sqs_queue.failures.arn
}

output "failure_queue_url" {
  description = "URL of the SQS queue that keeps notifications the function failed to deliver."
  value       = aws_sqs_queue.failures.url
}

output "failure_queue_alarm_arn" {
  description = "ARN of <name>/failure-queue-not-empty, the alarm on the failure queue's depth; null when create_failure_queue_alarm is false."
  value       = one(aws_cloudwatch_metric_alarm.failure_queue[*].arn)
}

output "alarm_arns" {
  description = "ARNs of the alarms the module created for `alarms` and `ec2_instances`: generic alarms by their key (alarm <name>/<key>), EC2 alarms as \"ec2/<key>/cpu\" and \"ec2/<key>/status-check\" (alarms <name>/<key>/cpu and <name>/<key>/status-check)."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.arn }
}

output "alarm_names" {
  description = "Names of the alarms the module created, with the same keys as alarm_arns."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }
}

output "inbox_queue_arn" {
  description = "ARN of the inbox, the SQS queue between the topic and the function (SNS mode); null in direct mode."
  value       = one(aws_sqs_queue.inbox[*].arn)
}

output "inbox_queue_url" {
  description = "URL of the inbox queue (SNS mode); null in direct mode. Its depth shows notifications waiting for the function."
  value       = one(aws_sqs_queue.inbox[*].url)
}

output "inbox_event_source_mapping_uuid" {
  description = "UUID of the event source mapping that feeds the inbox to the function (SNS mode); null in direct mode. `aws lambda update-event-source-mapping --uuid <uuid> --no-enabled` pauses delivery, the inbox keeps the notifications."
  value       = one(aws_lambda_event_source_mapping.inbox[*].uuid)
}

output "alarm_actions" {
  description = "The module's alarm target as an action list (the topic, or the function in direct mode): alarm_actions for alarms created outside the module, e.g. by modules/ec2-alarms."
  value       = local.alarm_actions
}

output "alarm_name_prefix" {
  description = "Start of the names of this instance's alarms (\"<name>/\"): alarm_name_prefix for modules/ec2-alarms and other alarms meant for this instance, so the direct-mode permission covers them."
  value       = local.alarm_name_prefix
}

output "health_alarm_arn" {
  description = "ARN of <name>/function-health, the alarm on the function's own health; null when create_health_alarm is false."
  value       = one(aws_cloudwatch_metric_alarm.function_health[*].arn)
}

output "lambda_role_policy_json" {
  description = "The permissions the function's role needs, as an IAM policy document: the module's inline policy, or, with create_role = false, what the existing role must allow."
  value       = data.aws_iam_policy_document.lambda.json
}

output "state_table_name" {
  description = "Name of the DynamoDB table that keeps Slack app mode's state (each alarm's message, delivered records); null in webhook mode."
  value       = one(aws_dynamodb_table.state[*].name)
}

output "state_table_arn" {
  description = "ARN of the Slack app mode state table; null in webhook mode."
  value       = one(aws_dynamodb_table.state[*].arn)
}

output "alarm_state_change_rule_arn" {
  description = "ARN of the EventBridge rule that captures this account's and region's alarm state changes (capture_alarm_state_changes); null when off."
  value       = one(aws_cloudwatch_event_rule.alarm_state_changes[*].arn)
}

output "central_event_bus_arn" {
  description = "ARN of the central event bus (created or given) that other accounts and regions send alarm state changes to: the forwarders' central_event_bus_arn. Null when there is none."
  value       = local.use_central_event_bus ? local.central_event_bus_arn : null
}

output "central_event_bus_name" {
  description = "Name of the central event bus; null when there is none."
  value       = local.central_event_bus_name
}

output "central_alarm_state_change_rule_arn" {
  description = "ARN of the rule on the central bus that delivers forwarded alarm state changes to the inbox; null when there is no central bus."
  value       = one(aws_cloudwatch_event_rule.central_alarm_state_changes[*].arn)
}

output "inbox_kms_key_policy_json" {
  description = "With inbox_kms_master_key_id: the key policy statements the inbox's customer-managed key needs, as an IAM policy document. Every service that sends to the inbox (SNS for the topic, EventBridge for the capture and central bus rules) encrypts with the key, each limited to its source ARNs here. Merge it into the key's policy (e.g. source_policy_documents of its aws_iam_policy_document); null without a customer-managed inbox key."
  value       = one(data.aws_iam_policy_document.inbox_key[*].json)
}
