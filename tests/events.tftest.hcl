# Capture mode and the central event bus: EventBridge rules that deliver alarm state changes to the
# inbox queue, planned with a mocked aws provider (no credentials, no network).

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

  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = {
      arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:mock"
    }
  }

  mock_resource "aws_cloudwatch_event_bus" {
    defaults = {
      arn = "arn:aws:events:eu-west-1:123456789012:event-bus/alerts-alarm-events"
    }
  }
}

override_resource {
  target          = aws_sqs_queue.inbox
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:alerts-inbox"
    id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/alerts-inbox"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/alerts-inbox"
  }
}

override_resource {
  target          = aws_cloudwatch_event_rule.alarm_state_changes
  override_during = plan
  values = {
    arn = "arn:aws:events:eu-west-1:123456789012:rule/alerts-alarm-state-changes"
  }
}

override_resource {
  target          = aws_cloudwatch_event_rule.central_alarm_state_changes
  override_during = plan
  values = {
    arn = "arn:aws:events:eu-west-1:123456789012:rule/alerts-alarm-events/alerts-central-alarm-state-changes"
  }
}

variables {
  # Somebody hears of the health alarm: without actions its check (health.tf) fails the run.
  health_alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:on-call-email"]
  name                 = "alerts"
  slack_webhook_url    = "https://hooks.slack.com/services/T000/B000/XXXX"
  ec2_instances = {
    web = { instance_id = "i-0123456789abcdef0" }
  }
}

run "off_by_default" {
  command = plan

  assert {
    condition = (
      length(aws_cloudwatch_event_rule.alarm_state_changes) == 0 &&
      length(aws_cloudwatch_event_rule.central_alarm_state_changes) == 0 &&
      length(aws_cloudwatch_event_bus.central) == 0 &&
      length(aws_cloudwatch_event_bus_policy.central) == 0
    )
    error_message = "Without capture or a central bus the module creates no EventBridge resources."
  }

  assert {
    condition     = !contains(keys(nonsensitive(aws_lambda_function.this.environment[0].variables)), "ACCOUNT_NAMES")
    error_message = "ACCOUNT_NAMES is left out of the environment when account_names is empty."
  }

  assert {
    condition = (
      length(data.aws_iam_policy_document.failures) == 0 &&
      length([for query in aws_cloudwatch_metric_alarm.function_health[0].metric_query : query if strcontains(query.id, "rule")]) == 0
    )
    error_message = "Without rules the failure queue keeps no policy and the health alarm watches no rule."
  }
}

run "capture_sends_this_accounts_alarm_state_changes_to_the_inbox" {
  command = plan

  variables {
    capture_alarm_state_changes = true
    capture_alarm_name_prefixes = ["prod-", "shared/"]
    capture_alarm_states        = ["ALARM", "OK"]
    capture_account_ids         = ["123456789012"]
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.alarm_state_changes[0].event_pattern) == {
      source        = ["aws.cloudwatch"]
      "detail-type" = ["CloudWatch Alarm State Change"]
      account       = ["123456789012"]
      resources     = [{ "anything-but" = { prefix = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:alerts/" } }]
      detail = {
        alarmName = [{ prefix = "prod-" }, { prefix = "shared/" }]
        state     = { value = ["ALARM", "OK"] }
      }
    }
    error_message = "The rule must match alarm state changes by name prefix, state and account, and leave out the module's own alarms (alerts/...)."
  }

  assert {
    condition = (
      aws_cloudwatch_event_rule.alarm_state_changes[0].event_bus_name == "default" &&
      aws_cloudwatch_event_rule.alarm_state_changes[0].name == "alerts-alarm-state-changes"
    )
    error_message = "Capture listens on the default bus, where CloudWatch puts alarm state changes."
  }

  assert {
    condition = (
      aws_cloudwatch_event_target.alarm_state_changes[0].arn == "arn:aws:sqs:eu-west-1:123456789012:alerts-inbox" &&
      aws_cloudwatch_event_target.alarm_state_changes[0].rule == "alerts-alarm-state-changes" &&
      aws_cloudwatch_event_target.alarm_state_changes[0].role_arn == null
    )
    error_message = "The rule's one target is the inbox queue (a same-account queue needs no role: the queue policy admits the rule)."
  }

  assert {
    condition = {
      for statement in data.aws_iam_policy_document.inbox[0].statement : statement.sid => {
        principals = [for p in statement.principals : "${p.type} ${join(",", p.identifiers)}"]
        conditions = [for c in statement.condition : "${c.test} ${c.variable} ${join(",", c.values)}"]
      } if contains([for p in statement.principals : join(",", p.identifiers)], "events.amazonaws.com")
      } == {
      AlarmStateChangesToInbox = {
        principals = ["Service events.amazonaws.com"]
        conditions = ["ArnEquals aws:SourceArn arn:aws:events:eu-west-1:123456789012:rule/alerts-alarm-state-changes"]
      }
    }
    error_message = "The inbox policy must let EventBridge send for the capture rule only."
  }

  assert {
    condition     = length(aws_cloudwatch_event_bus.central) == 0 && length(aws_cloudwatch_event_rule.central_alarm_state_changes) == 0
    error_message = "Capture alone creates no central bus."
  }
}

run "capture_states_follow_the_notify_settings_by_default" {
  command = plan

  variables {
    capture_alarm_state_changes = true
    notify_on_insufficient_data = true
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.alarm_state_changes[0].event_pattern) == {
      source        = ["aws.cloudwatch"]
      "detail-type" = ["CloudWatch Alarm State Change"]
      resources     = [{ "anything-but" = { prefix = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:alerts/" } }]
      detail        = { state = { value = ["ALARM", "OK", "INSUFFICIENT_DATA"] } }
    }
    error_message = "Without filters the rule matches every alarm name and account, in the states the module's own alarms notify."
  }
}

run "central_bus_admits_the_organization_and_listed_accounts" {
  command = plan

  variables {
    create_central_event_bus          = true
    central_event_bus_organization_id = "o-a1b2c3d4e5"
    central_event_bus_account_ids     = ["444455556666", "222233334444"]
    capture_alarm_states              = ["ALARM"]
    account_names                     = { "444455556666" = "payments-prod" }
  }

  assert {
    condition     = aws_cloudwatch_event_bus.central[0].name == "alerts-alarm-events" && aws_cloudwatch_event_bus_policy.central[0].event_bus_name == "alerts-alarm-events"
    error_message = "The central bus is <name>-alarm-events and carries the module's policy."
  }

  assert {
    condition = {
      for statement in data.aws_iam_policy_document.central_event_bus[0].statement : statement.sid => {
        actions    = statement.actions
        resources  = statement.resources
        principals = [for p in statement.principals : "${p.type} ${join(",", p.identifiers)}"]
        conditions = toset([for c in statement.condition : "${c.test} ${c.variable} ${join(",", c.values)}"])
      }
      } == {
      OrganizationAccountsPutAlarmStateChanges = {
        actions    = toset(["events:PutEvents"])
        resources  = toset(["arn:aws:events:eu-west-1:123456789012:event-bus/alerts-alarm-events"])
        principals = ["AWS *"]
        conditions = toset([
          "StringEquals aws:PrincipalOrgID o-a1b2c3d4e5",
          "StringEquals events:source aws.cloudwatch",
          "StringEquals events:detail-type CloudWatch Alarm State Change",
        ])
      }
      ListedAccountsPutAlarmStateChanges = {
        actions    = toset(["events:PutEvents"])
        resources  = toset(["arn:aws:events:eu-west-1:123456789012:event-bus/alerts-alarm-events"])
        principals = ["AWS arn:aws:iam::222233334444:root,arn:aws:iam::444455556666:root"]
        conditions = toset([
          "StringEquals events:source aws.cloudwatch",
          "StringEquals events:detail-type CloudWatch Alarm State Change",
        ])
      }
    }
    error_message = "The bus admits PutEvents of alarm state changes from the organization (aws:PrincipalOrgID) and from the listed accounts, nothing else."
  }

  assert {
    condition = (
      aws_cloudwatch_event_rule.central_alarm_state_changes[0].event_bus_name == "alerts-alarm-events" &&
      jsondecode(aws_cloudwatch_event_rule.central_alarm_state_changes[0].event_pattern) == {
        source        = ["aws.cloudwatch"]
        "detail-type" = ["CloudWatch Alarm State Change"]
        resources     = [{ "anything-but" = { prefix = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:alerts/" } }]
        detail        = { state = { value = ["ALARM"] } }
      }
    )
    error_message = "A rule on the central bus matches the forwarded alarm state changes with the same filters."
  }

  assert {
    condition = (
      aws_cloudwatch_event_target.central_alarm_state_changes[0].arn == "arn:aws:sqs:eu-west-1:123456789012:alerts-inbox" &&
      aws_cloudwatch_event_target.central_alarm_state_changes[0].event_bus_name == "alerts-alarm-events"
    )
    error_message = "The central rule's target is the inbox queue."
  }

  assert {
    condition = flatten([
      for statement in data.aws_iam_policy_document.inbox[0].statement : [for c in statement.condition : tolist(c.values)]
      if contains([for p in statement.principals : join(",", p.identifiers)], "events.amazonaws.com")
    ]) == ["arn:aws:events:eu-west-1:123456789012:rule/alerts-alarm-events/alerts-central-alarm-state-changes"]
    error_message = "Without capture, the inbox admits the central bus's rule only."
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.alarm_state_changes) == 0
    error_message = "A central bus without capture_alarm_state_changes adds no rule on the default bus."
  }

  assert {
    condition     = jsondecode(nonsensitive(aws_lambda_function.this.environment[0].variables)["ACCOUNT_NAMES"]) == { "444455556666" = "payments-prod" }
    error_message = "account_names reaches the function as ACCOUNT_NAMES (JSON)."
  }

  assert {
    condition     = output.central_event_bus_arn == "arn:aws:events:eu-west-1:123456789012:event-bus/alerts-alarm-events"
    error_message = "The central bus ARN is an output, for the forwarders."
  }
}

run "an_existing_central_bus_gets_a_rule_but_keeps_its_policy" {
  command = plan

  variables {
    capture_alarm_state_changes = true
    central_event_bus_arn       = "arn:aws:events:eu-west-1:123456789012:event-bus/org-alarms"
  }

  assert {
    condition = (
      length(aws_cloudwatch_event_bus.central) == 0 &&
      length(aws_cloudwatch_event_bus_policy.central) == 0 &&
      aws_cloudwatch_event_rule.central_alarm_state_changes[0].event_bus_name == "org-alarms"
    )
    error_message = "A bus given by ARN is not created and its policy is left alone; the rule goes on it."
  }

  assert {
    condition = toset(flatten([
      for statement in data.aws_iam_policy_document.inbox[0].statement : [for c in statement.condition : c.values]
      if contains([for p in statement.principals : join(",", p.identifiers)], "events.amazonaws.com")
      ])) == toset([
      "arn:aws:events:eu-west-1:123456789012:rule/alerts-alarm-state-changes",
      "arn:aws:events:eu-west-1:123456789012:rule/alerts-alarm-events/alerts-central-alarm-state-changes",
    ])
    error_message = "With both rules, the inbox admits exactly those two."
  }
}

run "invalid_capture_values_are_rejected" {
  command = plan

  variables {
    capture_alarm_name_prefixes       = ["prod-*", ""]
    capture_alarm_states              = ["FIRING"]
    capture_account_ids               = ["1234-5678-9012"]
    central_event_bus_arn             = "arn:aws:events:eu-west-1:*:event-bus/org-alarms"
    central_event_bus_organization_id = "o-*"
    central_event_bus_account_ids     = ["*"]
    account_names                     = { "prod" = "111122223333" }
  }

  expect_failures = [
    var.capture_alarm_name_prefixes,
    var.capture_alarm_states,
    var.capture_account_ids,
    var.central_event_bus_arn,
    var.central_event_bus_organization_id,
    var.central_event_bus_account_ids,
    var.account_names,
  ]
}

run "capture_needs_the_inbox" {
  command = plan

  variables {
    alarm_action_target         = "lambda"
    create_sns_topic            = false
    capture_alarm_state_changes = true
  }

  expect_failures = [aws_cloudwatch_event_rule.alarm_state_changes]
}

run "a_created_central_bus_needs_senders" {
  command = plan

  variables {
    create_central_event_bus = true
  }

  expect_failures = [aws_cloudwatch_event_bus.central]
}

run "an_existing_central_bus_must_be_in_the_modules_region" {
  command = plan

  variables {
    central_event_bus_arn = "arn:aws:events:us-east-1:123456789012:event-bus/org-alarms"
  }

  expect_failures = [aws_cloudwatch_event_rule.central_alarm_state_changes]
}

# EventBridge drops an event after 24 h of retries unless its target has a dead-letter queue
# (EventBridge user guide, "Event retry policy and using dead-letter queues"); a rule's failures
# show only as AWS/Events FailedInvocations, by RuleName (plus EventBusName on a custom bus).
run "undeliverable_alarm_state_changes_go_to_the_failure_queue_and_raise_the_health_alarm" {
  command = plan

  variables {
    capture_alarm_state_changes       = true
    create_central_event_bus          = true
    central_event_bus_organization_id = "o-a1b2c3d4e5"
  }

  assert {
    condition = (
      aws_cloudwatch_event_target.alarm_state_changes[0].dead_letter_config[0].arn == "arn:aws:sqs:eu-west-1:123456789012:alerts-failures" &&
      aws_cloudwatch_event_target.central_alarm_state_changes[0].dead_letter_config[0].arn == "arn:aws:sqs:eu-west-1:123456789012:alerts-failures"
    )
    error_message = "Both rules' targets send what they cannot deliver to the module's failure queue."
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.failures[0].statement : {
        actions    = statement.actions
        resources  = statement.resources
        principals = [for p in statement.principals : "${p.type} ${join(",", p.identifiers)}"]
        conditions = [for c in statement.condition : "${c.test} ${c.variable} ${join(",", sort(c.values))}"]
      }
      ] == [{
        actions    = toset(["sqs:SendMessage"])
        resources  = toset(["arn:aws:sqs:eu-west-1:123456789012:alerts-failures"])
        principals = ["Service events.amazonaws.com"]
        conditions = ["ArnEquals aws:SourceArn arn:aws:events:eu-west-1:123456789012:rule/alerts-alarm-events/alerts-central-alarm-state-changes,arn:aws:events:eu-west-1:123456789012:rule/alerts-alarm-state-changes"]
    }]
    error_message = "The failure queue admits EventBridge for exactly the module's two rules, by ARN without wildcards."
  }

  assert {
    condition = {
      for query in aws_cloudwatch_metric_alarm.function_health[0].metric_query : query.id => [
        for metric in query.metric : "${metric.namespace} ${metric.metric_name} ${jsonencode(metric.dimensions)} ${metric.stat}"
      ] if strcontains(query.id, "rule")
      } == {
      capture_rule_failed_invocations = ["AWS/Events FailedInvocations {\"RuleName\":\"alerts-alarm-state-changes\"} Sum"]
      central_rule_failed_invocations = ["AWS/Events FailedInvocations {\"EventBusName\":\"alerts-alarm-events\",\"RuleName\":\"alerts-central-alarm-state-changes\"} Sum"]
    }
    error_message = "The health alarm watches FailedInvocations of both rules, with the dimensions EventBridge publishes them under."
  }

  assert {
    condition = alltrue([
      for id in ["errors", "throttles", "inbox_oldest_message_age", "capture_rule_failed_invocations", "central_rule_failed_invocations"] :
      strcontains(one([for query in aws_cloudwatch_metric_alarm.function_health[0].metric_query : query.expression if query.return_data]), "IF(FILL(${id}, 0) >")
    ])
    error_message = "The health alarm's expression counts the rules' failures next to the function's own signals."
  }
}

run "a_customer_managed_inbox_key_gets_statements_for_every_sender" {
  command = plan

  variables {
    capture_alarm_state_changes = true
    inbox_kms_master_key_id     = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666"
  }

  assert {
    condition = {
      for statement in data.aws_iam_policy_document.inbox_key[0].statement : statement.sid => {
        actions    = statement.actions
        resources  = statement.resources
        principals = [for p in statement.principals : "${p.type} ${join(",", p.identifiers)}"]
        conditions = [for c in statement.condition : "${c.test} ${c.variable} ${join(",", c.values)}"]
      }
      } == {
      AlarmTopicDeliversToInboxEncryptsWithInboxKey = {
        actions    = toset(["kms:GenerateDataKey", "kms:Decrypt"])
        resources  = toset(["*"])
        principals = ["Service sns.amazonaws.com"]
        conditions = ["ArnEquals aws:SourceArn arn:aws:sns:eu-west-1:123456789012:alerts-alarms"]
      }
      AlarmStateChangesToInboxEncryptsWithInboxKey = {
        actions    = toset(["kms:GenerateDataKey", "kms:Decrypt"])
        resources  = toset(["*"])
        principals = ["Service events.amazonaws.com"]
        conditions = ["ArnEquals aws:SourceArn arn:aws:events:eu-west-1:123456789012:rule/alerts-alarm-state-changes"]
      }
    }
    error_message = "The key policy statements let SNS (the topic) and EventBridge (the rule) encrypt for the inbox, each for its own source only."
  }

  assert {
    condition     = output.inbox_kms_key_policy_json == data.aws_iam_policy_document.inbox_key[0].json
    error_message = "The statements are an output, to merge into the key's policy."
  }
}

run "without_a_customer_managed_inbox_key_there_is_no_key_policy_to_merge" {
  command = plan

  variables {
    capture_alarm_state_changes = true
  }

  assert {
    condition     = output.inbox_kms_key_policy_json == null && length(data.aws_iam_policy_document.inbox_key) == 0
    error_message = "SQS-managed encryption needs no key policy."
  }
}

# Every name the module derives from `name`, with the longest `name` it accepts, against AWS's
# limits: function 64 (Lambda CreateFunction), role 64 and inline policy 128 (IAM), queue 80
# (SQS CreateQueue), topic 256 (SNS CreateTopic), rule 64 and bus 256 (EventBridge PutRule,
# CreateEventBus), table 255 (DynamoDB CreateTable), alarm 255 (PutMetricAlarm), log group 512.
run "the_longest_accepted_name_fits_every_derived_name" {
  command = plan

  variables {
    name                               = "a-forty-character-name-for-every-limit-x"
    slack_webhook_url                  = null
    slack_bot_token_ssm_parameter_name = "/alerts/bot-token"
    slack_channel_id                   = "C0123456789"
    capture_alarm_state_changes        = true
    ec2_instances = {
      "a-sixty-four-character-instance-key-for-the-longest-alarm-names1" = { instance_id = "i-0123456789abcdef0" }
    }
  }

  assert {
    condition = alltrue([
      length(var.name) == 40,
      length(aws_lambda_function.this.function_name) <= 64,
      length(aws_iam_role.lambda[0].name) <= 64,
      length(aws_iam_role_policy.lambda[0].name) <= 128,
      length(aws_sqs_queue.failures.name) <= 80,
      length(aws_sqs_queue.inbox[0].name) <= 80,
      length(aws_sns_topic.this[0].name) <= 256,
      length(aws_cloudwatch_event_rule.alarm_state_changes[0].name) <= 64,
      length(aws_dynamodb_table.state[0].name) <= 255,
      length(aws_cloudwatch_log_group.lambda.name) <= 512,
      length(aws_cloudwatch_metric_alarm.function_health[0].alarm_name) <= 255,
      length(aws_cloudwatch_metric_alarm.failure_queue[0].alarm_name) <= 255,
      alltrue([for alarm in aws_cloudwatch_metric_alarm.this : length(alarm.alarm_name) <= 255]),
    ])
    error_message = "A name of 40 characters must fit every name the module derives from it."
  }
}

run "a_36_character_name_fits_the_central_bus_rule" {
  command = plan

  variables {
    name                              = "a-36-character-name-for-the-bus-rule"
    create_central_event_bus          = true
    central_event_bus_organization_id = "o-a1b2c3d4e5"
  }

  assert {
    condition = (
      length(var.name) == 36 &&
      length(aws_cloudwatch_event_rule.central_alarm_state_changes[0].name) == 64 &&
      length(aws_cloudwatch_event_bus.central[0].name) <= 256
    )
    error_message = "With a central bus, 36 characters are the most that fit its rule's 64."
  }
}

run "a_longer_name_is_refused_with_a_central_bus" {
  command = plan

  variables {
    name                  = "a-37-character-name-for-the-bus-rules"
    central_event_bus_arn = "arn:aws:events:eu-west-1:123456789012:event-bus/org-alarms"
  }

  expect_failures = [var.name]
}

run "a_role_name_over_64_characters_stops_the_plan" {
  command = plan

  override_data {
    target = data.aws_region.current
    values = {
      name     = "xx-an-imaginary-very-long-region-name-1"
      endpoint = "ec2.xx-an-imaginary-very-long-region-name-1.amazonaws.com"
    }
  }

  variables {
    name = "a-forty-character-name-for-every-limit-x"
  }

  expect_failures = [aws_iam_role.lambda]
}

run "health_alarm_without_actions_warns" {
  command = plan

  variables {
    health_alarm_actions = []
  }

  expect_failures = [check.health_alarm_tells_someone]
}

# Lambda's 4 KB are bytes of the JSON object: "ACCOUNT_NAMES":"{\"111122223333\":\"결제-운영\"}",
# is 47 characters but 55 bytes (each Hangul syllable takes 3 in UTF-8).
run "the_environment_size_counts_utf8_bytes_of_the_json" {
  command = plan

  variables {
    account_names = { "111122223333" = "결제-운영" }
  }

  assert {
    condition     = local.lambda_environment_entry_bytes["ACCOUNT_NAMES"] == 55
    error_message = "ACCOUNT_NAMES counts as the 55 UTF-8 bytes of its JSON entry, not 47 characters."
  }

  assert {
    condition     = local.lambda_environment_bytes == 1 + sum(values(local.lambda_environment_entry_bytes)) && local.lambda_environment_bytes < 4096
    error_message = "The total is the entries plus the object's braces, less the last comma."
  }
}
