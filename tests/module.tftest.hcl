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
      name     = "eu-west-1"
      endpoint = "ec2.eu-west-1.amazonaws.com"
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
  # Somebody hears of the health alarm: without actions its check (health.tf) fails the run.
  health_alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:on-call-email"]
  name                 = "alerts"
  slack_webhook_url    = "https://hooks.slack.com/services/T000/B000/XXXX"
  tags                 = { team = "platform" }
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
      aws_iam_role.lambda[0].name == "alerts-eu-west-1" &&
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
      SLACK_WEBHOOK_URL              = "https://hooks.slack.com/services/T000/B000/XXXX"
      TIMEZONE                       = "UTC"
      MESSAGE_LANGUAGE               = "en"
      LOG_LEVEL                      = "INFO"
      DIGEST_THRESHOLD               = "3"
      SLACK_MESSAGE_INTERVAL_SECONDS = "1"
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
      aws_cloudwatch_metric_alarm.failure_queue[0].alarm_name == "alerts/failure-queue-not-empty" &&
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
        [aws_cloudwatch_metric_alarm.failure_queue[0].tags, aws_lambda_function.this.tags, aws_iam_role.lambda[0].tags,
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
      aws_cloudwatch_metric_alarm.this["ec2/web/cpu"].alarm_name == "alerts/web/cpu" &&
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
      aws_cloudwatch_metric_alarm.this["ec2/web/status-check"].alarm_name == "alerts/web/status-check" &&
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
      aws_cloudwatch_metric_alarm.this["queue-depth"].alarm_name == "alerts/queue-depth" &&
      aws_cloudwatch_metric_alarm.this["queue-depth"].statistic == "Maximum" &&
      aws_cloudwatch_metric_alarm.this["queue-depth"].period == 60 &&
      aws_cloudwatch_metric_alarm.this["queue-depth"].treat_missing_data == "missing"
    )
    error_message = "Generic alarms are named <name>/<key> and take the documented defaults."
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
      aws_lambda_permission.alarms[0].source_arn == "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:alerts/*"
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
      SLACK_WEBHOOK_SSM_PARAMETER    = "/alerts/slack-webhook"
      SLACK_CHANNEL                  = "#alerts"
      TIMEZONE                       = "UTC"
      MESSAGE_LANGUAGE               = "en"
      LOG_LEVEL                      = "INFO"
      DIGEST_THRESHOLD               = "3"
      SLACK_MESSAGE_INTERVAL_SECONDS = "1"
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
    condition     = contains(output.names["alpha"], "alpha-alerts/web/cpu") && contains(output.names["bravo"], "bravo-alerts/web/cpu")
    error_message = "The same alarm key is prefixed with each instance's name."
  }
}

run "health_alarm_watches_the_function_and_reports_outside_slack" {
  command = plan

  variables {
    health_alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:on-call-email"]
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.function_health[0].alarm_name == "alerts/function-health" &&
      aws_cloudwatch_metric_alarm.function_health[0].alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:on-call-email"]) &&
      aws_cloudwatch_metric_alarm.function_health[0].ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:on-call-email"]) &&
      aws_cloudwatch_metric_alarm.function_health[0].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.function_health[0].threshold == 0 &&
      aws_cloudwatch_metric_alarm.function_health[0].treat_missing_data == "notBreaching"
    )
    error_message = "The health alarm is <name>/function-health, notifies only the user's actions and fires on any signal above 0."
  }

  assert {
    condition = {
      for query in aws_cloudwatch_metric_alarm.function_health[0].metric_query :
      query.metric[0].metric_name => query.metric[0].dimensions if length(query.metric) > 0
      } == {
      Errors                        = tomap({ FunctionName = "alerts" })
      Throttles                     = tomap({ FunctionName = "alerts" })
      DestinationDeliveryFailures   = tomap({ FunctionName = "alerts" })
      AsyncEventsDropped            = tomap({ FunctionName = "alerts" })
      ApproximateAgeOfOldestMessage = tomap({ QueueName = "alerts-inbox" })
    }
    error_message = "The health alarm watches Errors, Throttles, DestinationDeliveryFailures and AsyncEventsDropped of this function, and the age of its inbox's oldest notification."
  }

  assert {
    condition = one([
      for query in aws_cloudwatch_metric_alarm.function_health[0].metric_query : query.expression if query.return_data
    ]) == "SUM([IF(FILL(async_events_dropped, 0) > 0, 1, 0), IF(FILL(destination_delivery_failures, 0) > 0, 1, 0), IF(FILL(errors, 0) > 0, 1, 0), IF(FILL(inbox_oldest_message_age, 0) > 200, 1, 0), IF(FILL(throttles, 0) > 0, 1, 0)])"
    error_message = "The alarm's one returned series counts the signals above their threshold."
  }

  assert {
    condition     = output.health_alarm_arn == aws_cloudwatch_metric_alarm.function_health[0].arn && output.alarm_name_prefix == "alerts/"
    error_message = "Outputs expose the health alarm and the alarm name prefix."
  }
}

run "health_alarm_can_be_switched_off" {
  command = plan

  variables {
    create_health_alarm = false
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.function_health) == 0 && output.health_alarm_arn == null
    error_message = "create_health_alarm = false creates no health alarm."
  }
}

run "names_with_a_shared_prefix_never_collide" {
  command = plan

  # The reported collision: "prod" with EC2 key "web-api" and "prod-web" with key "api" both
  # used to create prod-web-api-cpu, and prod's permission alarm:prod-* covered prod-web's alarms.
  module {
    source = "./tests/tf-fixtures/prefix-instances"
  }

  assert {
    condition     = length(setintersection(toset(output.alarm_names["prod"]), toset(output.alarm_names["prod-web"]))) == 0
    error_message = "prod and prod-web share no alarm name."
  }

  assert {
    condition = (
      contains(output.alarm_names["prod"], "prod/web-api/cpu") &&
      contains(output.alarm_names["prod-web"], "prod-web/api/cpu") &&
      contains(output.alarm_names["prod"], "prod/failure-queue-not-empty") &&
      contains(output.alarm_names["prod"], "prod/function-health")
    )
    error_message = "Alarm names follow <name>/<key>/cpu, <name>/failure-queue-not-empty, <name>/function-health."
  }

  assert {
    # What the permission pattern `alarm:<name>/*` (checked against the module's own resource in
    # the next run) matches, in the ArnLike sense: the name starts with "<name>/".
    condition = alltrue(flatten([
      for owner in ["prod", "prod-web"] : [
        for instance, names in output.alarm_names : [
          for name in names : startswith(name, "${owner}/") == (owner == instance)
        ]
      ]
    ]))
    error_message = "Each instance's direct-mode permission pattern matches all of its own alarms and none of the other's."
  }
}

run "direct_mode_permission_covers_only_this_instances_alarms" {
  command = plan

  variables {
    name                = "prod"
    alarm_action_target = "lambda"
    ec2_instances = {
      web-api = { instance_id = "i-0123456789abcdef0" }
    }
  }

  assert {
    condition     = aws_lambda_permission.alarms[0].source_arn == "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:prod/*"
    error_message = "The direct-mode permission is scoped to alarm:<name>/*."
  }

  assert {
    condition = alltrue([
      for name in concat(
        [for alarm in aws_cloudwatch_metric_alarm.this : alarm.alarm_name],
        aws_cloudwatch_metric_alarm.failure_queue[*].alarm_name,
        aws_cloudwatch_metric_alarm.function_health[*].alarm_name,
      ) : startswith(name, trimsuffix(split(":alarm:", aws_lambda_permission.alarms[0].source_arn)[1], "*"))
    ])
    error_message = "Every alarm of the instance is covered by its permission."
  }

  assert {
    # prod-web's alarms (see the previous run) start with "prod-web/", not "prod/".
    condition = !anytrue([
      for name in ["prod-web/api/cpu", "prod-web/api/status-check", "prod-web/failure-queue-not-empty", "prod-web/function-health"] :
      startswith(name, trimsuffix(split(":alarm:", aws_lambda_permission.alarms[0].source_arn)[1], "*"))
    ])
    error_message = "prod's permission must not cover any alarm of prod-web."
  }
}

run "a_generic_alarm_may_not_take_the_failure_queue_alarms_name" {
  command = plan

  variables {
    alarms = {
      failure-queue-not-empty = {
        namespace   = "AWS/SQS"
        metric_name = "ApproximateNumberOfMessagesVisible"
        threshold   = 1
      }
    }
  }

  expect_failures = [aws_cloudwatch_metric_alarm.this]
}

run "a_generic_alarm_may_not_take_the_health_alarms_name" {
  command = plan

  variables {
    alarms = {
      function-health = {
        namespace   = "AWS/Lambda"
        metric_name = "Errors"
        threshold   = 1
      }
    }
  }

  expect_failures = [aws_cloudwatch_metric_alarm.this]
}

run "without_the_module_alarms_their_names_are_free" {
  command = plan

  variables {
    create_failure_queue_alarm = false
    create_health_alarm        = false
    alarms = {
      failure-queue-not-empty = {
        namespace   = "AWS/SQS"
        metric_name = "ApproximateNumberOfMessagesVisible"
        threshold   = 1
      }
    }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["failure-queue-not-empty"].alarm_name == "alerts/failure-queue-not-empty"
    error_message = "With the module's own alarm switched off, the key is an ordinary generic alarm."
  }
}

run "no_input_puts_a_wildcard_inside_an_arn_of_a_policy" {
  command = plan

  # Every input that reaches a policy, set: the rendered documents hold exactly these strings.
  variables {
    slack_webhook_url                = null
    slack_webhook_ssm_parameter_name = "arn:aws:ssm:eu-west-1:123456789012:parameter/alerts/slack-webhook"
    slack_webhook_ssm_kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
    failure_queue_kms_master_key_id  = "arn:aws:kms:eu-west-1:123456789012:key/9f8e7d6c-1111-2222-3333-444455556666"
    lambda_tracing_mode              = "Active"
    alarm_action_target              = "lambda"
  }

  assert {
    # Every resource and every condition value of every statement, wherever a wildcard could
    # hide inside an ARN (not only a bare "*").
    condition = alltrue([
      for text in flatten([
        for statement in concat(data.aws_iam_policy_document.lambda.statement, data.aws_iam_policy_document.topic[0].statement) : concat(
          tolist(coalesce(statement.resources, [])),
          flatten([for condition in coalesce(statement.condition, []) : tolist(condition.values)]),
        )
      ]) :
      !can(regex("[*?]", text)) || contains([
        # The module's own wildcards, none from an input: its log group's streams, X-Ray (no
        # resource-level permissions), and any alarm of this account publishing to its topic.
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/alerts:*",
        "*",
        "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:*",
      ], text)
    ])
    error_message = "A wildcard inside an ARN of a policy document."
  }

  assert {
    condition     = length(data.aws_iam_policy_document.lambda.statement) == 6
    error_message = "The scan saw every statement of the role policy (logs, queue, queue key, parameter, parameter key, X-Ray)."
  }

  assert {
    condition = alltrue([
      for statement in data.aws_iam_policy_document.lambda.statement :
      !contains(tolist(statement.resources), "*") || statement.sid == "WriteXRayTraces"
    ])
    error_message = "The bare \"*\" resource belongs to X-Ray alone."
  }

  assert {
    # The permission's only wildcard is the trailing one after "<name>/".
    condition     = !can(regex("[*?]", trimsuffix(aws_lambda_permission.alarms[0].source_arn, "/*"))) && !can(regex("[*?]", aws_lambda_permission.sns[0].source_arn))
    error_message = "Resource-based permissions name this instance's topic and alarms only."
  }
}

run "wildcards_in_names_and_arns_that_reach_a_policy_are_rejected" {
  command = plan

  variables {
    slack_webhook_url                = null
    slack_webhook_ssm_parameter_name = "arn:aws:ssm:eu-west-1:123456789012:parameter/*"
    failure_queue_kms_master_key_id  = "arn:aws:kms:eu-west-1:123456789012:key/?"
    failure_queue_alarm_actions      = ["arn:aws:sns:eu-west-1:123456789012:*"]
    health_alarm_actions             = ["arn:aws:sns:eu-west-1:123456789012:on-call-*"]
  }

  expect_failures = [
    var.slack_webhook_ssm_parameter_name,
    var.failure_queue_kms_master_key_id,
    var.failure_queue_alarm_actions,
    var.health_alarm_actions,
  ]
}

# A run of its own: slack_webhook_ssm_kms_key_arn has a rule that refers to
# slack_webhook_ssm_parameter_name, and Terraform does not check a variable whose rules refer to
# an input that already failed, so the parameter name must be valid here.
run "a_wildcard_kms_key_for_the_webhook_parameter_is_rejected" {
  command = plan

  variables {
    slack_webhook_url                = null
    slack_webhook_ssm_parameter_name = "/alerts/slack-webhook"
    slack_webhook_ssm_kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/*"
  }

  expect_failures = [var.slack_webhook_ssm_kms_key_arn]
}

run "a_webhook_url_on_another_host_is_rejected_at_plan" {
  command = plan

  variables {
    slack_webhook_url = "https://hooks.example.com/services/T000/B000/XXXX"
  }

  expect_failures = [var.slack_webhook_url]
}

run "an_allowed_host_is_passed_to_the_function" {
  command = plan

  variables {
    slack_webhook_url           = "https://hooks.example.com/services/T000/B000/XXXX"
    slack_webhook_allowed_hosts = ["hooks.example.com"]
  }

  assert {
    condition     = nonsensitive(aws_lambda_function.this.environment[0].variables["SLACK_WEBHOOK_ALLOWED_HOSTS"]) == "hooks.example.com"
    error_message = "The function is told which extra host the URL may use, so it accepts what the plan accepted."
  }
}

run "an_unknown_timezone_is_rejected_at_plan" {
  command = plan

  variables {
    timezone = "Asia/Seol"
  }

  expect_failures = [var.timezone]
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

  expect_failures = [var.slack_webhook_ssm_parameter_name]
}

run "no_webhook_source_is_rejected" {
  command = plan

  variables {
    slack_webhook_url = null
  }

  expect_failures = [var.slack_webhook_ssm_parameter_name]
}

run "sns_mode_without_a_topic_is_rejected" {
  command = plan

  variables {
    create_sns_topic = false
  }

  expect_failures = [var.alarm_action_target]
}
