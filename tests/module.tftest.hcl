# Plan-level wiring tests of the module with a mocked aws provider (no credentials, no network).
# hashicorp/archive is real (or the test stand-in): the zip is built at plan time.

mock_provider "aws" {
  # Mocked computed values (ARNs) are known during plan, so assertions can compare them.
  override_during = plan

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  # Random mock JSON fails the IAM resources' policy validation.
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Mock\",\"Effect\":\"Allow\",\"Action\":\"sts:GetCallerIdentity\",\"Resource\":\"*\"}]}"
    }
  }

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:123456789012:alerts-alarms"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn = "arn:aws:lambda:eu-west-1:123456789012:function:alerts"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/alerts-eu-west-1"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/alerts"
    }
  }

  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:alerts-failures"
      url = "https://sqs.eu-west-1.amazonaws.com/123456789012/alerts-failures"
    }
  }

  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = {
      arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:mock"
    }
  }
}

# The inbox (inbox.tf) gets an ARN of its own, distinct from the failure queue's.
override_resource {
  target          = aws_sqs_queue.inbox
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:alerts-inbox"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/alerts-inbox"
  }
}

variables {
  name              = "alerts"
  slack_webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"
  tags              = { team = "platform" }
  ec2_instances = {
    web = { instance_id = "i-0123456789abcdef0" }
  }
  alarms = {
    queue-depth = {
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = "jobs" }
      statistic   = "Maximum"
      threshold   = 100
    }
  }
}

run "sns_mode_wires_alarms_topic_and_function" {
  command = plan

  assert {
    condition = alltrue([
      for alarm in aws_cloudwatch_metric_alarm.this : alarm.alarm_actions == toset([aws_sns_topic.this[0].arn])
    ])
    error_message = "Every alarm must notify the module's topic on ALARM."
  }

  assert {
    condition = alltrue([
      for alarm in aws_cloudwatch_metric_alarm.this :
      alarm.ok_actions == toset([aws_sns_topic.this[0].arn]) && length(alarm.insufficient_data_actions) == 0
    ])
    error_message = "OK notifications are on by default, INSUFFICIENT_DATA ones off."
  }

  # The topic feeds the inbox queue (asserted in inbox.tftest.hcl), never the function itself.
  assert {
    condition = (
      aws_sns_topic_subscription.inbox[0].topic_arn == aws_sns_topic.this[0].arn &&
      aws_sns_topic_subscription.inbox[0].endpoint == aws_sqs_queue.inbox[0].arn &&
      length(aws_sns_topic_subscription.lambda) == 0 &&
      length(aws_lambda_permission.sns) == 0
    )
    error_message = "In SNS mode the module's topic is subscribed by the inbox queue, and SNS may not invoke the function."
  }

  assert {
    condition     = length(aws_lambda_permission.alarms) == 0
    error_message = "In SNS mode CloudWatch gets no direct invoke permission."
  }

  assert {
    condition = alltrue([
      for statement in data.aws_iam_policy_document.topic[0].statement :
      statement.actions == toset(["sns:Publish"]) &&
      one(statement.principals).identifiers == toset(["cloudwatch.amazonaws.com"]) &&
      contains([for c in statement.condition : "${c.test} ${c.variable} ${join(",", c.values)}"], "StringEquals aws:SourceAccount 123456789012") &&
      contains([for c in statement.condition : "${c.test} ${c.variable} ${join(",", c.values)}"], "ArnLike aws:SourceArn arn:aws:cloudwatch:eu-west-1:123456789012:alarm:*")
    ])
    error_message = "Only this account's CloudWatch alarms may publish to the topic."
  }

  assert {
    condition = alltrue(flatten([
      for statement in data.aws_iam_policy_document.lambda.statement : [
        for resource in statement.resources : resource != "*"
      ]
    ]))
    error_message = "No statement of the function's policy may use a \"*\" resource."
  }

  assert {
    condition = {
      for statement in data.aws_iam_policy_document.lambda.statement : statement.sid => statement.resources
      } == {
      WriteOwnLogGroup           = toset(["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/alerts:*"])
      SendFailedEventsToOwnQueue = toset(["arn:aws:sqs:eu-west-1:123456789012:alerts-failures"])
      ReceiveFromOwnInbox        = toset(["arn:aws:sqs:eu-west-1:123456789012:alerts-inbox"])
    }
    error_message = "The function may write its own log group and its own failure queue and read its own inbox, nothing else (no SSM in URL mode)."
  }

  assert {
    condition     = !contains(flatten([for s in data.aws_iam_policy_document.lambda.statement : tolist(s.actions)]), "logs:CreateLogGroup")
    error_message = "The module creates the log group: the function must not be able to create one."
  }

  assert {
    condition = (
      aws_cloudwatch_log_group.lambda.name == "/aws/lambda/alerts" &&
      aws_cloudwatch_log_group.lambda.retention_in_days == 30 &&
      aws_lambda_function.this.function_name == "alerts" &&
      aws_iam_role.lambda.name == "alerts-eu-west-1" &&
      aws_sns_topic.this[0].name == "alerts-alarms" &&
      aws_sqs_queue.failures.name == "alerts-failures"
    )
    error_message = "Resource names derive from the name prefix."
  }

  assert {
    condition = (
      aws_lambda_function.this.runtime == "python3.12" &&
      aws_lambda_function.this.architectures == tolist(["arm64"]) &&
      aws_lambda_function.this.memory_size == 128 &&
      aws_lambda_function.this.timeout == 30 &&
      aws_lambda_function.this.handler == "handler.lambda_handler"
    )
    error_message = "Function defaults: python3.12 on arm64, 128 MB, 30 s, handler.lambda_handler."
  }

  assert {
    condition = (
      aws_lambda_function.this.source_code_hash == data.archive_file.lambda.output_base64sha256 &&
      aws_lambda_function.this.filename == data.archive_file.lambda.output_path &&
      data.archive_file.lambda.output_base64sha256 == filebase64sha256(data.archive_file.lambda.output_path)
    )
    error_message = "The function deploys the built zip and redeploys when (and only when) its hash changes."
  }

  assert {
    condition = nonsensitive(aws_lambda_function.this.environment[0].variables) == tomap({
      SLACK_WEBHOOK_URL = "https://hooks.slack.com/services/T000/B000/XXXX"
      TIMEZONE          = "UTC"
      MESSAGE_LANGUAGE  = "en"
      LOG_LEVEL         = "INFO"
    })
    error_message = "The environment holds the webhook and the defaults; unset optional settings are left out."
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this.destination_config[0].on_failure[0].destination == aws_sqs_queue.failures.arn &&
      aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 2 &&
      aws_lambda_function_event_invoke_config.this.maximum_event_age_in_seconds == 21600
    )
    error_message = "Failed invocations go to the failure queue after 2 retries / 6 hours."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.failure_queue[0].dimensions.QueueName == "alerts-failures" &&
      aws_cloudwatch_metric_alarm.failure_queue[0].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.failure_queue[0].threshold == 0 &&
      aws_cloudwatch_metric_alarm.failure_queue[0].alarm_actions == toset([aws_sns_topic.this[0].arn]) &&
      aws_cloudwatch_metric_alarm.failure_queue[0].ok_actions == toset([aws_sns_topic.this[0].arn])
    )
    error_message = "The failure-queue alarm fires as soon as one notification is stuck, and says so through the module's topic."
  }

  assert {
    condition = alltrue([
      for tags in concat(
        [for alarm in aws_cloudwatch_metric_alarm.this : alarm.tags],
        [aws_cloudwatch_metric_alarm.failure_queue[0].tags, aws_lambda_function.this.tags, aws_iam_role.lambda.tags,
          aws_cloudwatch_log_group.lambda.tags, aws_sqs_queue.failures.tags, aws_sns_topic.this[0].tags,
        aws_sqs_queue.inbox[0].tags],
      ) : tags == tomap({ team = "platform" })
    ])
    error_message = "Every taggable resource carries var.tags."
  }

  # EC2 defaults: two alarms per instance.
  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.this) == ["ec2/web/cpu", "ec2/web/status-check", "queue-depth"]
    error_message = "One generic alarm plus CPU and status-check alarms for the instance."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["ec2/web/cpu"].alarm_name == "alerts-web-cpu" &&
      aws_cloudwatch_metric_alarm.this["ec2/web/cpu"].namespace == "AWS/EC2" &&
      aws_cloudwatch_metric_alarm.this["ec2/web/cpu"].metric_name == "CPUUtilization" &&
      aws_cloudwatch_metric_alarm.this["ec2/web/cpu"].statistic == "Average" &&
      aws_cloudwatch_metric_alarm.this["ec2/web/cpu"].comparison_operator == "GreaterThanOrEqualToThreshold" &&
      aws_cloudwatch_metric_alarm.this["ec2/web/cpu"].threshold == 80 &&
      aws_cloudwatch_metric_alarm.this["ec2/web/cpu"].period == 60 &&
      aws_cloudwatch_metric_alarm.this["ec2/web/cpu"].evaluation_periods == 1 &&
      aws_cloudwatch_metric_alarm.this["ec2/web/cpu"].dimensions == tomap({ InstanceId = "i-0123456789abcdef0" })
    )
    error_message = "CPU alarm: CPUUtilization Average >= 80 over 60 s for the instance."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["ec2/web/status-check"].alarm_name == "alerts-web-status-check" &&
      aws_cloudwatch_metric_alarm.this["ec2/web/status-check"].metric_name == "StatusCheckFailed" &&
      aws_cloudwatch_metric_alarm.this["ec2/web/status-check"].statistic == "Maximum" &&
      aws_cloudwatch_metric_alarm.this["ec2/web/status-check"].threshold == 1 &&
      aws_cloudwatch_metric_alarm.this["ec2/web/status-check"].period == 60 &&
      aws_cloudwatch_metric_alarm.this["ec2/web/status-check"].treat_missing_data == "breaching"
    )
    error_message = "Status-check alarm: StatusCheckFailed Maximum >= 1, missing data breaching."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["queue-depth"].alarm_name == "alerts-queue-depth" &&
      aws_cloudwatch_metric_alarm.this["queue-depth"].statistic == "Maximum" &&
      aws_cloudwatch_metric_alarm.this["queue-depth"].period == 60 &&
      aws_cloudwatch_metric_alarm.this["queue-depth"].treat_missing_data == "missing"
    )
    error_message = "Generic alarms are named <name>-<key> and take the documented defaults."
  }

  assert {
    condition     = output.alarm_arns["ec2/web/cpu"] == aws_cloudwatch_metric_alarm.this["ec2/web/cpu"].arn && output.sns_topic_arn == aws_sns_topic.this[0].arn
    error_message = "Outputs expose the alarms by key and the topic."
  }
}

run "ec2_overrides_and_switches_apply_per_instance" {
  command = plan

  variables {
    alarms       = {}
    notify_on_ok = false
    ec2_instances = {
      web = { instance_id = "i-0123456789abcdef0" }
      db = {
        instance_id               = "i-0fedcba9876543210"
        cpu_threshold             = 95
        cpu_period                = 300
        cpu_evaluation_periods    = 3
        enable_status_check_alarm = false
      }
    }
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.this) == ["ec2/db/cpu", "ec2/web/cpu", "ec2/web/status-check"]
    error_message = "enable_status_check_alarm = false drops only that instance's status-check alarm."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["ec2/db/cpu"].threshold == 95 &&
      aws_cloudwatch_metric_alarm.this["ec2/db/cpu"].period == 300 &&
      aws_cloudwatch_metric_alarm.this["ec2/db/cpu"].evaluation_periods == 3 &&
      aws_cloudwatch_metric_alarm.this["ec2/web/cpu"].threshold == 80
    )
    error_message = "Overrides change only the instance they are given for."
  }

  assert {
    condition     = alltrue([for alarm in aws_cloudwatch_metric_alarm.this : length(alarm.ok_actions) == 0])
    error_message = "notify_on_ok = false sends no OK notifications."
  }
}

run "direct_mode_with_ssm_and_an_existing_topic" {
  command = plan

  variables {
    slack_webhook_url                = null
    slack_webhook_ssm_parameter_name = "/alerts/slack-webhook"
    slack_webhook_ssm_kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
    slack_channel                    = "#alerts"
    alarm_action_target              = "lambda"
    create_sns_topic                 = false
    sns_topic_arn                    = "arn:aws:sns:eu-west-1:123456789012:shared-alarms"
  }

  assert {
    condition     = length(aws_sns_topic.this) == 0 && length(aws_sns_topic_policy.this) == 0
    error_message = "With an existing topic the module creates no topic and no topic policy."
  }

  assert {
    condition = (
      aws_sns_topic_subscription.lambda[0].topic_arn == "arn:aws:sns:eu-west-1:123456789012:shared-alarms" &&
      aws_lambda_permission.sns[0].source_arn == "arn:aws:sns:eu-west-1:123456789012:shared-alarms" &&
      output.sns_topic_arn == "arn:aws:sns:eu-west-1:123456789012:shared-alarms"
    )
    error_message = "The existing topic is subscribed, and only it may invoke the function."
  }

  assert {
    condition = alltrue([
      for alarm in aws_cloudwatch_metric_alarm.this :
      alarm.alarm_actions == toset([aws_lambda_function.this.arn]) && alarm.ok_actions == toset([aws_lambda_function.this.arn])
    ])
    error_message = "In direct mode every alarm invokes the function."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.failure_queue[0].alarm_actions == toset([aws_lambda_function.this.arn])
    error_message = "In direct mode the failure-queue alarm invokes the function too (its name is covered by the alarms permission)."
  }

  assert {
    condition = (
      aws_lambda_permission.alarms[0].principal == "lambda.alarms.cloudwatch.amazonaws.com" &&
      aws_lambda_permission.alarms[0].source_account == "123456789012" &&
      aws_lambda_permission.alarms[0].source_arn == "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:alerts-*"
    )
    error_message = "CloudWatch may invoke the function only for this account's alarms named after this instance."
  }

  assert {
    condition = {
      for statement in data.aws_iam_policy_document.lambda.statement : statement.sid => statement.resources
      } == {
      WriteOwnLogGroup           = toset(["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/alerts:*"])
      SendFailedEventsToOwnQueue = toset(["arn:aws:sqs:eu-west-1:123456789012:alerts-failures"])
      ReadWebhookParameter       = toset(["arn:aws:ssm:eu-west-1:123456789012:parameter/alerts/slack-webhook"])
      DecryptWebhookParameter    = toset(["arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"])
    }
    error_message = "SSM mode adds ssm:GetParameter on the one parameter and kms:Decrypt on its key, nothing broader."
  }

  assert {
    condition = nonsensitive(aws_lambda_function.this.environment[0].variables) == tomap({
      SLACK_WEBHOOK_SSM_PARAMETER = "/alerts/slack-webhook"
      SLACK_CHANNEL               = "#alerts"
      TIMEZONE                    = "UTC"
      MESSAGE_LANGUAGE            = "en"
      LOG_LEVEL                   = "INFO"
    })
    error_message = "SSM mode passes the parameter name, never a URL."
  }
}

run "direct_mode_without_any_topic" {
  command = plan

  variables {
    alarm_action_target         = "lambda"
    create_sns_topic            = false
    failure_queue_alarm_actions = []
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.failure_queue[0].alarm_actions) == 0 && length(aws_cloudwatch_metric_alarm.failure_queue[0].ok_actions) == 0
    error_message = "failure_queue_alarm_actions = [] leaves the failure-queue alarm without actions."
  }

  assert {
    condition     = length(aws_sns_topic.this) == 0 && length(aws_sns_topic_subscription.lambda) == 0 && length(aws_lambda_permission.sns) == 0
    error_message = "Direct mode without a topic creates no topic, subscription or SNS permission."
  }

  assert {
    condition     = output.sns_topic_arn == null && output.sns_topic_name == null
    error_message = "sns_topic_arn is null when there is no topic."
  }
}

run "two_instances_in_one_root_never_collide" {
  command = plan

  module {
    source = "./tests/tf-fixtures/two-instances"
  }

  assert {
    condition     = length(setintersection(toset(output.names["alpha"]), toset(output.names["bravo"]))) == 0
    error_message = "Two instances with different names share no function, role, log group, topic or alarm name."
  }

  assert {
    condition     = contains(output.names["alpha"], "alpha-alerts-web-cpu") && contains(output.names["bravo"], "bravo-alerts-web-cpu")
    error_message = "The same alarm key is prefixed with each instance's name."
  }
}

# ---------------------------------------------------------------------------------------------
# Inputs that must be rejected at plan time
# ---------------------------------------------------------------------------------------------

run "invalid_values_are_rejected" {
  command = plan

  variables {
    name                  = "a-name-that-is-far-too-long-for-the-derived-role-name"
    slack_webhook_url     = "http://hooks.slack.com/services/T000/B000/XXXX"
    sns_topic_kms_key_arn = "alias/aws/sns"
    lambda_timeout        = 3
    lambda_runtime        = "python3.8"
    ec2_instances = {
      web = { instance_id = "web-server", cpu_threshold = 180 }
    }
    alarms = {
      odd = {
        namespace           = "AWS/SQS"
        metric_name         = "ApproximateNumberOfMessagesVisible"
        threshold           = 1
        comparison_operator = "Above"
      }
    }
  }

  expect_failures = [
    var.name,
    var.slack_webhook_url,
    var.sns_topic_kms_key_arn,
    var.lambda_timeout,
    var.lambda_runtime,
    var.ec2_instances,
    var.alarms,
  ]
}

run "two_webhook_sources_are_rejected" {
  command = plan

  variables {
    slack_webhook_ssm_parameter_name = "/alerts/slack-webhook"
  }

  expect_failures = [aws_lambda_function.this]
}

run "no_webhook_source_is_rejected" {
  command = plan

  variables {
    slack_webhook_url = null
  }

  expect_failures = [aws_lambda_function.this]
}

run "sns_mode_without_a_topic_is_rejected" {
  command = plan

  variables {
    create_sns_topic = false
  }

  expect_failures = [aws_lambda_function.this]
}
