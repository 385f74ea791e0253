# The alarms the module creates: the generic `alarms` map and two per EC2 instance, all in one
# for_each keyed like the alarm_arns output ("<key>", "ec2/<key>/cpu", "ec2/<key>/status-check").
#
# Naming: every alarm of an instance is "<name>/<...>" ("<name>/<key>", "<name>/<key>/cpu",
# "<name>/<key>/status-check", "<name>/failure-queue-not-empty", "<name>/function-health").
# Neither `name` nor a key may contain "/", so the text before the first "/" is the instance's
# name: two instances with different names never share an alarm name, and the direct-mode
# permission "alarm:<name>/*" matches this instance's alarms only.

locals {
  alarm_actions     = var.alarm_action_target == "lambda" ? [aws_lambda_function.this.arn] : [local.topic_arn]
  alarm_name_prefix = "${var.name}/"

  generic_alarms = {
    for key, alarm in var.alarms : key => {
      name                = "${local.alarm_name_prefix}${key}"
      description         = coalesce(alarm.description, "${alarm.namespace} ${alarm.metric_name} ${alarm.comparison_operator} ${alarm.threshold}")
      namespace           = alarm.namespace
      metric_name         = alarm.metric_name
      dimensions          = alarm.dimensions
      statistic           = alarm.statistic
      period              = alarm.period
      evaluation_periods  = alarm.evaluation_periods
      datapoints_to_alarm = alarm.datapoints_to_alarm
      comparison_operator = alarm.comparison_operator
      threshold           = alarm.threshold
      treat_missing_data  = alarm.treat_missing_data
    }
  }

  # 1-minute EC2 metrics need detailed monitoring on the instance; with basic monitoring a
  # 60 s period sees a data point every 5 minutes only.
  ec2_cpu_alarms = {
    for key, instance in var.ec2_instances : "ec2/${key}/cpu" => {
      name                = "${local.alarm_name_prefix}${key}/cpu"
      description         = "CPU utilization of ${key} (${instance.instance_id}) is at or above ${instance.cpu_threshold} % (average over ${instance.cpu_period} s)."
      namespace           = "AWS/EC2"
      metric_name         = "CPUUtilization"
      dimensions          = { InstanceId = instance.instance_id }
      statistic           = "Average"
      period              = instance.cpu_period
      evaluation_periods  = instance.cpu_evaluation_periods
      datapoints_to_alarm = null
      comparison_operator = "GreaterThanOrEqualToThreshold"
      threshold           = instance.cpu_threshold
      treat_missing_data  = "missing"
    } if instance.enable_cpu_alarm
  }

  # A stopped or dead instance reports no status-check data: missing data counts as breaching
  # so that a server that is down is reported, not silently ignored.
  ec2_status_alarms = {
    for key, instance in var.ec2_instances : "ec2/${key}/status-check" => {
      name                = "${local.alarm_name_prefix}${key}/status-check"
      description         = "${key} (${instance.instance_id}) fails its EC2 status checks or reports no data: down or unreachable."
      namespace           = "AWS/EC2"
      metric_name         = "StatusCheckFailed"
      dimensions          = { InstanceId = instance.instance_id }
      statistic           = "Maximum"
      period              = instance.status_check_period
      evaluation_periods  = instance.status_check_evaluation_periods
      datapoints_to_alarm = null
      comparison_operator = "GreaterThanOrEqualToThreshold"
      threshold           = 1
      treat_missing_data  = "breaching"
    } if instance.enable_status_check_alarm
  }

  metric_alarms = merge(local.generic_alarms, local.ec2_cpu_alarms, local.ec2_status_alarms)

  # Every alarm name this instance creates, the module's own alarms included: a generic key
  # "failure-queue-not-empty" would otherwise silently replace the safety net.
  all_alarm_names = concat(
    [for alarm in values(local.metric_alarms) : alarm.name],
    var.create_failure_queue_alarm ? [local.failure_queue_alarm_name] : [],
    var.create_health_alarm ? [local.health_alarm_name] : [],
  )
  duplicate_alarm_names = sort(distinct([
    for name in local.all_alarm_names : name if length([for other in local.all_alarm_names : other if other == name]) > 1
  ]))
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.metric_alarms

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric_name
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.datapoints_to_alarm
  comparison_operator = each.value.comparison_operator
  threshold           = each.value.threshold
  treat_missing_data  = each.value.treat_missing_data

  actions_enabled           = true
  alarm_actions             = local.alarm_actions
  ok_actions                = var.notify_on_ok ? local.alarm_actions : []
  insufficient_data_actions = var.notify_on_insufficient_data ? local.alarm_actions : []

  tags = var.tags

  lifecycle {
    precondition {
      condition     = length(local.duplicate_alarm_names) == 0
      error_message = "Several alarms would share the name ${join(", ", local.duplicate_alarm_names)}: rename the key in `alarms` (the module's own alarms are <name>/failure-queue-not-empty and <name>/function-health)."
    }
  }

  # Direct mode: CloudWatch may invoke the function as soon as the alarm exists.
  depends_on = [aws_lambda_permission.alarms]
}

resource "aws_lambda_permission" "alarms" {
  count = var.alarm_action_target == "lambda" ? 1 : 0

  # One statement for every alarm of this module instance: their names all start with
  # "<name>/" and no other instance's do, so the ARN pattern scopes the grant to them (and to
  # this account) without a statement per alarm growing the function's 20 KB resource policy.
  statement_id   = "AllowInvokeFromModuleAlarms"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "lambda.alarms.cloudwatch.amazonaws.com"
  source_account = split(":", aws_lambda_function.this.arn)[4]
  source_arn     = "arn:${local.partition}:cloudwatch:${local.region}:${split(":", aws_lambda_function.this.arn)[4]}:alarm:${local.alarm_name_prefix}*"
}
