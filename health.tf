# Who watches the watcher: one alarm on the function's own health. Its actions are the user's
# (health_alarm_actions), because a function that cannot reach Slack cannot report that through
# Slack: route it to something independent, such as an SNS topic with an e-mail subscription.

locals {
  health_alarm_name = "${local.alarm_name_prefix}function-health"

  # One entry per health signal; the alarm fires when any of them is above its threshold in a
  # period. Add an entry (e.g. the age of the oldest message of a queue, with a threshold in
  # seconds) to watch one more signal. IDs must be metric-math IDs (lowercase letter first).
  health_metrics = merge({
    errors = {
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      dimensions  = { FunctionName = var.name }
      stat        = "Sum"
      threshold   = 0
    }
    throttles = {
      namespace   = "AWS/Lambda"
      metric_name = "Throttles"
      dimensions  = { FunctionName = var.name }
      stat        = "Sum"
      threshold   = 0
    }
    destination_delivery_failures = {
      namespace   = "AWS/Lambda"
      metric_name = "DestinationDeliveryFailures"
      dimensions  = { FunctionName = var.name }
      stat        = "Sum"
      threshold   = 0
    }
    async_events_dropped = {
      namespace   = "AWS/Lambda"
      metric_name = "AsyncEventsDropped"
      dimensions  = { FunctionName = var.name }
      stat        = "Sum"
      threshold   = 0
    }
    }, local.create_inbox ? {
    # A notification older than the inbox's visibility timeout was handed to the function and
    # came back at least once (Slack refused it, the function failed or was throttled), or the
    # event source mapping is not taking anything (disabled, the role lost its permissions).
    inbox_oldest_message_age = {
      namespace   = "AWS/SQS"
      metric_name = "ApproximateAgeOfOldestMessage"
      dimensions  = { QueueName = "${var.name}-inbox" }
      stat        = "Maximum"
      threshold   = local.inbox_visibility_timeout_seconds
    }
    } : {}, var.capture_alarm_state_changes ? {
    # An event EventBridge gave up on (or could not even retry: the inbox policy or its key
    # refused it). It went to the failure queue, when that worked. A rule of the default bus has
    # the dimension RuleName alone (EventBridge User Guide, "Monitoring Amazon EventBridge").
    capture_rule_failed_invocations = {
      namespace   = "AWS/Events"
      metric_name = "FailedInvocations"
      dimensions  = { RuleName = local.alarm_state_change_rule_name }
      stat        = "Sum"
      threshold   = 0
    }
    } : {}, local.use_central_event_bus ? {
    # A rule of a custom bus has the dimensions EventBusName and RuleName (same page).
    central_rule_failed_invocations = {
      namespace   = "AWS/Events"
      metric_name = "FailedInvocations"
      dimensions  = { EventBusName = local.central_event_bus_name_from_inputs, RuleName = local.central_alarm_state_change_rule_name }
      stat        = "Sum"
      threshold   = 0
    }
  } : {})

  # The number of signals over their threshold; a signal without data counts as healthy.
  health_expression = "SUM([${join(", ", [
    for id, metric in local.health_metrics : "IF(FILL(${id}, 0) > ${metric.threshold}, 1, 0)"
  ])}])"
}

resource "aws_cloudwatch_metric_alarm" "function_health" {
  count = var.create_health_alarm ? 1 : 0

  alarm_name          = local.health_alarm_name
  alarm_description   = "The ${var.name} alarm-to-Slack function is unhealthy: ${join(", ", [for metric in values(local.health_metrics) : metric.metric_name])} above threshold. Alarms may not be reaching Slack."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"

  metric_query {
    id          = "unhealthy_signals"
    expression  = local.health_expression
    label       = "Health signals over their threshold"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.health_metrics
    content {
      id          = metric_query.key
      return_data = false

      metric {
        namespace   = metric_query.value.namespace
        metric_name = metric_query.value.metric_name
        dimensions  = metric_query.value.dimensions
        stat        = metric_query.value.stat
        period      = var.health_alarm_period
      }
    }
  }

  alarm_actions = var.health_alarm_actions
  ok_actions    = var.notify_on_ok ? var.health_alarm_actions : []

  tags = var.tags

  # The function's metrics exist once it does.
  depends_on = [aws_lambda_function.this]
}

# A plan-time warning, not an error: an alarm without actions is still visible in the console.
check "health_alarm_tells_someone" {
  assert {
    condition     = !var.create_health_alarm || length(var.health_alarm_actions) > 0
    error_message = "health_alarm_actions is empty: ${local.health_alarm_name} changes state without telling anyone, and a function that cannot reach Slack cannot say so in Slack. Give it an SNS topic with an e-mail subscription (aws_sns_topic_subscription, protocol \"email\"), or set create_health_alarm = false."
  }
}
