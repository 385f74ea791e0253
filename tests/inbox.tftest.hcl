# The inbox (inbox.tf): topic -> SQS queue -> event source mapping in SNS mode, and none of it in
# direct mode. Mocked aws provider, plan only (no credentials, no network).

mock_provider "aws" {
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
      id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/alerts-failures"
      url = "https://sqs.eu-west-1.amazonaws.com/123456789012/alerts-failures"
    }
  }

  mock_resource "aws_lambda_event_source_mapping" {
    defaults = {
      uuid = "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE"
    }
  }

  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = {
      arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:mock"
    }
  }
}

# The two queues must have different ARNs for the wiring between them to be checked.
override_resource {
  target          = aws_sqs_queue.inbox
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:alerts-inbox"
    id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/alerts-inbox"
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
}

run "sns_mode_delivers_through_the_inbox" {
  command = plan

  assert {
    condition = [
      for query in aws_cloudwatch_metric_alarm.function_health[0].metric_query : [
        query.metric[0].namespace, query.metric[0].metric_name, query.metric[0].dimensions, query.metric[0].stat
      ] if query.id == "inbox_oldest_message_age"
      ] == [
      ["AWS/SQS", "ApproximateAgeOfOldestMessage", tomap({ QueueName = "alerts-inbox" }), "Maximum"]
    ]
    error_message = "The health alarm watches the age of the inbox's oldest notification."
  }

  assert {
    condition     = strcontains(one([for query in aws_cloudwatch_metric_alarm.function_health[0].metric_query : query.expression if query.return_data]), "IF(FILL(inbox_oldest_message_age, 0) > 200, 1, 0)")
    error_message = "An inbox notification older than the visibility timeout (6 x 30 s + 20 s) is a health signal."
  }

  assert {
    condition = (
      aws_sqs_queue.inbox[0].name == "alerts-inbox" &&
      aws_sqs_queue.inbox[0].sqs_managed_sse_enabled == true &&
      aws_sqs_queue.inbox[0].kms_master_key_id == null &&
      aws_sqs_queue.inbox[0].message_retention_seconds == 345600 &&
      aws_sqs_queue.inbox[0].tags == tomap({ team = "platform" })
    )
    error_message = "The inbox is <name>-inbox, encrypted with SQS-managed keys, keeps messages 4 days and carries var.tags."
  }

  assert {
    # AWS: at least 6 x the function timeout, plus the batching window.
    condition     = aws_sqs_queue.inbox[0].visibility_timeout_seconds == 6 * 30 + 20
    error_message = "The inbox's visibility timeout must be 6 x lambda_timeout + group_wait_seconds (200 s by default)."
  }

  assert {
    condition = (
      jsondecode(aws_sqs_queue.inbox[0].redrive_policy) == {
        deadLetterTargetArn = aws_sqs_queue.failures.arn
        maxReceiveCount     = 5
      }
    )
    error_message = "After 5 receives a notification moves to the failure queue, the inbox's dead-letter queue."
  }

  assert {
    condition = (
      aws_sns_topic_subscription.inbox[0].topic_arn == aws_sns_topic.this[0].arn &&
      aws_sns_topic_subscription.inbox[0].protocol == "sqs" &&
      aws_sns_topic_subscription.inbox[0].endpoint == aws_sqs_queue.inbox[0].arn &&
      aws_sns_topic_subscription.inbox[0].raw_message_delivery == false
    )
    error_message = "The module's topic delivers SNS envelopes (raw delivery off) to the inbox."
  }

  assert {
    condition     = length(aws_sns_topic_subscription.lambda) == 0 && length(aws_lambda_permission.sns) == 0
    error_message = "In SNS mode the topic no longer invokes the function: no lambda subscription, no SNS invoke permission."
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.inbox[0].event_source_arn == aws_sqs_queue.inbox[0].arn &&
      aws_lambda_event_source_mapping.inbox[0].function_name == aws_lambda_function.this.arn &&
      aws_lambda_event_source_mapping.inbox[0].batch_size == 1000 &&
      aws_lambda_event_source_mapping.inbox[0].maximum_batching_window_in_seconds == 20 &&
      aws_lambda_event_source_mapping.inbox[0].scaling_config[0].maximum_concurrency == 2 &&
      aws_lambda_event_source_mapping.inbox[0].function_response_types == toset(["ReportBatchItemFailures"])
    )
    error_message = "The mapping hands the function batches of up to 1000 after a 20 s window, at most 2 at a time, with partial-failure reporting."
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.inbox[0].statement : {
        sid        = statement.sid
        effect     = statement.effect
        actions    = statement.actions
        resources  = statement.resources
        principals = [for p in statement.principals : "${p.type} ${join(",", p.identifiers)}"]
        conditions = [for c in statement.condition : "${c.test} ${c.variable} ${join(",", c.values)}"]
      }
      ] == [{
        sid        = "AlarmTopicDeliversToInbox"
        effect     = "Allow"
        actions    = toset(["sqs:SendMessage"])
        resources  = toset(["arn:aws:sqs:eu-west-1:123456789012:alerts-inbox"])
        principals = ["Service sns.amazonaws.com"]
        conditions = ["ArnEquals aws:SourceArn arn:aws:sns:eu-west-1:123456789012:alerts-alarms"]
    }]
    error_message = "Only the module's topic (SNS, aws:SourceArn) may send to the inbox, and nothing else is allowed."
  }

  assert {
    # The policy is set with the queue itself (no aws_sqs_queue_policy); the e2e test reads the
    # JSON back from the queue.
    condition     = aws_sqs_queue.inbox[0].policy == data.aws_iam_policy_document.inbox[0].json
    error_message = "The inbox is created with its policy."
  }

  assert {
    condition = {
      for statement in data.aws_iam_policy_document.lambda.statement : statement.sid => {
        actions   = statement.actions
        resources = statement.resources
      } if statement.sid == "ReceiveFromOwnInbox"
      } == {
      ReceiveFromOwnInbox = {
        actions   = toset(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"])
        resources = toset(["arn:aws:sqs:eu-west-1:123456789012:alerts-inbox"])
      }
    }
    error_message = "The function may receive, delete and inspect messages of its own inbox only."
  }

  assert {
    condition = (
      output.inbox_queue_arn == aws_sqs_queue.inbox[0].arn &&
      output.inbox_queue_url == aws_sqs_queue.inbox[0].url &&
      output.inbox_event_source_mapping_uuid == aws_lambda_event_source_mapping.inbox[0].uuid
    )
    error_message = "The outputs expose the inbox and its event source mapping."
  }
}

run "inbox_settings_and_a_customer_managed_key" {
  command = plan

  variables {
    lambda_timeout                  = 60
    group_wait_seconds              = 45
    inbox_batch_size                = 5000
    inbox_maximum_concurrency       = 3
    inbox_max_receive_count         = 12
    inbox_message_retention_seconds = 86400
    inbox_kms_master_key_id         = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
  }

  assert {
    condition = (
      aws_sqs_queue.inbox[0].visibility_timeout_seconds == 6 * 60 + 45 &&
      aws_sqs_queue.inbox[0].message_retention_seconds == 86400 &&
      jsondecode(aws_sqs_queue.inbox[0].redrive_policy).maxReceiveCount == 12
    )
    error_message = "The inbox follows lambda_timeout, group_wait_seconds, the retention and the receive count."
  }

  assert {
    condition = (
      aws_sqs_queue.inbox[0].kms_master_key_id == "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666" &&
      aws_sqs_queue.inbox[0].sqs_managed_sse_enabled != true
    )
    error_message = "A given key encrypts the inbox instead of SQS-managed keys."
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.inbox[0].batch_size == 5000 &&
      aws_lambda_event_source_mapping.inbox[0].maximum_batching_window_in_seconds == 45 &&
      aws_lambda_event_source_mapping.inbox[0].scaling_config[0].maximum_concurrency == 3
    )
    error_message = "The mapping follows inbox_batch_size, group_wait_seconds and inbox_maximum_concurrency."
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.lambda.statement : {
        actions    = statement.actions
        resources  = statement.resources
        conditions = [for c in statement.condition : "${c.test} ${c.variable} ${join(",", c.values)}"]
      } if statement.sid == "DecryptInboxWithQueueKey"
      ] == [{
        actions    = toset(["kms:Decrypt"])
        resources  = toset(["arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"])
        conditions = ["StringEquals kms:ViaService sqs.eu-west-1.amazonaws.com"]
    }]
    error_message = "With a customer-managed key the function may decrypt with it, through SQS only."
  }
}

run "no_group_wait_caps_the_batch_at_ten" {
  command = plan

  variables {
    group_wait_seconds = 0
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.inbox[0].maximum_batching_window_in_seconds == 0 &&
      aws_lambda_event_source_mapping.inbox[0].batch_size == 10 &&
      aws_sqs_queue.inbox[0].visibility_timeout_seconds == 180
    )
    error_message = "group_wait_seconds = 0: no window, so batches of at most 10 (AWS's limit without a window)."
  }
}

run "an_existing_topic_feeds_the_inbox" {
  command = plan

  variables {
    create_sns_topic = false
    sns_topic_arn    = "arn:aws:sns:eu-west-1:210987654321:shared-alarms"
  }

  assert {
    condition = (
      length(aws_sns_topic.this) == 0 &&
      aws_sns_topic_subscription.inbox[0].topic_arn == "arn:aws:sns:eu-west-1:210987654321:shared-alarms" &&
      aws_sns_topic_subscription.inbox[0].endpoint == aws_sqs_queue.inbox[0].arn &&
      length(aws_sns_topic_subscription.lambda) == 0
    )
    error_message = "An existing topic is subscribed to the inbox, not to the function."
  }

  assert {
    condition = flatten([
      for statement in data.aws_iam_policy_document.inbox[0].statement : [
        for c in statement.condition : c.values if c.variable == "aws:SourceArn"
      ]
    ]) == ["arn:aws:sns:eu-west-1:210987654321:shared-alarms"]
    error_message = "The inbox policy lets exactly the given topic send."
  }
}

run "direct_mode_keeps_one_invocation_per_alarm_and_no_inbox" {
  command = plan

  variables {
    alarm_action_target = "lambda"
  }

  assert {
    condition     = length([for query in aws_cloudwatch_metric_alarm.function_health[0].metric_query : query if query.id == "inbox_oldest_message_age"]) == 0
    error_message = "Direct mode has no inbox, so its health alarm does not watch one."
  }

  assert {
    condition = (
      length(aws_sqs_queue.inbox) == 0 &&
      length(data.aws_iam_policy_document.inbox) == 0 &&
      length(aws_sns_topic_subscription.inbox) == 0 &&
      length(aws_lambda_event_source_mapping.inbox) == 0
    )
    error_message = "Direct mode creates no inbox, no queue policy, no inbox subscription and no event source mapping."
  }

  assert {
    condition = alltrue([
      for alarm in aws_cloudwatch_metric_alarm.this : alarm.alarm_actions == toset([aws_lambda_function.this.arn])
    ])
    error_message = "In direct mode every alarm invokes the function."
  }

  assert {
    condition = (
      aws_lambda_permission.alarms[0].principal == "lambda.alarms.cloudwatch.amazonaws.com" &&
      aws_lambda_permission.alarms[0].function_name == aws_lambda_function.this.function_name
    )
    error_message = "In direct mode CloudWatch keeps its invoke permission."
  }

  assert {
    # The topic the module still creates (create_sns_topic defaults to true) invokes the
    # function directly, as before the inbox existed.
    condition = (
      aws_sns_topic_subscription.lambda[0].protocol == "lambda" &&
      aws_sns_topic_subscription.lambda[0].endpoint == aws_lambda_function.this.arn &&
      aws_lambda_permission.sns[0].source_arn == aws_sns_topic.this[0].arn
    )
    error_message = "In direct mode a topic still invokes the function directly."
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this.destination_config[0].on_failure[0].destination == aws_sqs_queue.failures.arn &&
      aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 2
    )
    error_message = "Failed asynchronous invocations still go to the failure queue."
  }

  assert {
    condition     = !contains([for statement in data.aws_iam_policy_document.lambda.statement : statement.sid], "ReceiveFromOwnInbox")
    error_message = "Without an inbox the role gets no SQS receive permission."
  }

  assert {
    condition     = output.inbox_queue_arn == null && output.inbox_queue_url == null && output.inbox_event_source_mapping_uuid == null
    error_message = "The inbox outputs are null in direct mode."
  }
}

run "invalid_inbox_settings_are_rejected" {
  command = plan

  variables {
    group_wait_seconds              = 301
    inbox_batch_size                = 50
    inbox_maximum_concurrency       = 1
    inbox_max_receive_count         = 0
    inbox_message_retention_seconds = 30
    inbox_kms_master_key_id         = "alias/aws/sqs"
  }

  expect_failures = [
    var.group_wait_seconds,
    var.inbox_batch_size,
    var.inbox_maximum_concurrency,
    var.inbox_max_receive_count,
    var.inbox_message_retention_seconds,
    var.inbox_kms_master_key_id,
  ]
}

run "inbox_retention_longer_than_the_failure_queue_is_rejected" {
  command = plan

  variables {
    inbox_message_retention_seconds         = 1209600
    failure_queue_message_retention_seconds = 86400
  }

  expect_failures = [aws_sqs_queue.inbox]
}
