# The two alarms of one EC2 instance, as the root module's `ec2_instances` creates them: same
# metrics, defaults and missing-data handling (tests/test_ec2_alarms.py plans both and compares).
# Use this next to one shared notifier (the root module) when every server lives in its own file.

locals {
  name_prefix = "${var.alarm_name_prefix}${var.key}"
}

# 1-minute EC2 metrics need detailed monitoring on the instance; with basic monitoring a 60 s
# period sees a data point every 5 minutes only.
resource "aws_cloudwatch_metric_alarm" "cpu" {
  count = var.enable_cpu_alarm ? 1 : 0

  alarm_name          = "${local.name_prefix}/cpu"
  alarm_description   = "CPU utilization of ${var.key} (${var.instance_id}) is at or above ${var.cpu_threshold} % (average over ${var.cpu_period} s)."
  namespace           = "AWS/EC2"
  metric_name         = "CPUUtilization"
  dimensions          = { InstanceId = var.instance_id }
  statistic           = "Average"
  period              = var.cpu_period
  evaluation_periods  = var.cpu_evaluation_periods
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = var.cpu_threshold
  treat_missing_data  = "missing"

  actions_enabled           = true
  alarm_actions             = var.alarm_actions
  ok_actions                = var.notify_on_ok ? var.alarm_actions : []
  insufficient_data_actions = var.notify_on_insufficient_data ? var.alarm_actions : []

  tags = var.tags
}

# A stopped or dead instance reports no status-check data: missing data counts as breaching
# so that a server that is down is reported, not silently ignored.
resource "aws_cloudwatch_metric_alarm" "status_check" {
  count = var.enable_status_check_alarm ? 1 : 0

  alarm_name          = "${local.name_prefix}/status-check"
  alarm_description   = "${var.key} (${var.instance_id}) fails its EC2 status checks or reports no data: down or unreachable."
  namespace           = "AWS/EC2"
  metric_name         = "StatusCheckFailed"
  dimensions          = { InstanceId = var.instance_id }
  statistic           = "Maximum"
  period              = var.status_check_period
  evaluation_periods  = var.status_check_evaluation_periods
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"

  actions_enabled           = true
  alarm_actions             = var.alarm_actions
  ok_actions                = var.notify_on_ok ? var.alarm_actions : []
  insufficient_data_actions = var.notify_on_insufficient_data ? var.alarm_actions : []

  tags = var.tags
}
