# Who watches the watcher: the module's <name>/function-health alarm reports a notifier that
# stopped working (errors, throttles, a stuck inbox) by e-mail, because a function that cannot
# reach Slack cannot say so in Slack. AWS sends a confirmation link to the address first: the
# subscription stays "pending confirmation" until someone clicks it.

resource "aws_sns_topic" "health" {
  # checkov:skip=CKV_AWS_26: CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed alias/aws/sns key; a customer-managed key (with cloudwatch.amazonaws.com in its policy) is the reader's choice
  count = var.health_alarm_email == null ? 0 : 1

  name = "${var.name}-health"
  tags = var.tags
}

resource "aws_sns_topic_subscription" "health_email" {
  count = var.health_alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.health[0].arn
  protocol  = "email"
  endpoint  = var.health_alarm_email
}
