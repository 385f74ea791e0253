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
  name              = "alerts"
  slack_webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"
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
