output "alarm_names" {
  description = "Names of the instance's alarms, keyed cpu and status-check (a disabled alarm is left out)."
  value = merge(
    { for alarm in aws_cloudwatch_metric_alarm.cpu : "cpu" => alarm.alarm_name },
    { for alarm in aws_cloudwatch_metric_alarm.status_check : "status-check" => alarm.alarm_name },
  )
}

output "alarm_arns" {
  description = "ARNs of the instance's alarms, with the same keys as alarm_names."
  value = merge(
    { for alarm in aws_cloudwatch_metric_alarm.cpu : "cpu" => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.status_check : "status-check" => alarm.arn },
  )
}
