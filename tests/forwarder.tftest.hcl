# modules/forwarder: the member-account side of organization capture, planned with a mocked aws
# provider (no credentials, no network).

mock_provider "aws" {
  override_during = plan

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name     = "us-west-2"
      endpoint = "ec2.us-west-2.amazonaws.com"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Mock\",\"Effect\":\"Allow\",\"Action\":\"sts:GetCallerIdentity\",\"Resource\":\"*\"}]}"
    }
  }

  mock_resource "aws_cloudwatch_event_rule" {
    defaults = {
      arn = "arn:aws:events:us-west-2:444455556666:rule/member-forward-alarm-state-changes"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::444455556666:role/member-forwarder-us-west-2"
    }
  }
}

run "forwarder_sends_alarm_state_changes_to_the_central_bus" {
  command = plan

  module {
    source = "./modules/forwarder"
  }

  variables {
    name                  = "member"
    central_event_bus_arn = "arn:aws:events:eu-west-1:111122223333:event-bus/alerts-alarm-events"
    alarm_name_prefixes   = ["prod-", "shared/"]
    alarm_states          = ["ALARM"]
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.alarm_state_changes.event_pattern) == {
      source        = ["aws.cloudwatch"]
      "detail-type" = ["CloudWatch Alarm State Change"]
      detail = {
        alarmName = [{ prefix = "prod-" }, { prefix = "shared/" }]
        state     = { value = ["ALARM"] }
      }
    }
    error_message = "The rule must match CloudWatch alarm state changes with the given name prefixes and states, nothing else."
  }

  assert {
    condition     = aws_cloudwatch_event_rule.alarm_state_changes.event_bus_name == "default" && aws_cloudwatch_event_rule.alarm_state_changes.name == "member-forward-alarm-state-changes"
    error_message = "The rule listens on the default bus, where CloudWatch puts alarm state changes."
  }

  assert {
    condition = (
      aws_cloudwatch_event_target.central_bus.arn == "arn:aws:events:eu-west-1:111122223333:event-bus/alerts-alarm-events" &&
      aws_cloudwatch_event_target.central_bus.role_arn == "arn:aws:iam::444455556666:role/member-forwarder-us-west-2" &&
      aws_cloudwatch_event_target.central_bus.rule == "member-forward-alarm-state-changes"
    )
    error_message = "The rule's one target is the central bus, through the forwarder role."
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.assume_role.statement : {
        sid        = statement.sid
        actions    = statement.actions
        principals = [for p in statement.principals : "${p.type} ${join(",", p.identifiers)}"]
        conditions = toset([for c in statement.condition : "${c.test} ${c.variable} ${join(",", c.values)}"])
      }
      ] == [{
        sid        = "EventBridgeRuleOfThisAccountAssumesRole"
        actions    = toset(["sts:AssumeRole"])
        principals = ["Service events.amazonaws.com"]
        conditions = toset([
          "StringEquals aws:SourceAccount 444455556666",
          "ArnEquals aws:SourceArn arn:aws:events:us-west-2:444455556666:rule/member-forward-alarm-state-changes",
        ])
    }]
    error_message = "Only EventBridge, for this account's forwarding rule, may assume the role."
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.put_events.statement : {
        effect    = statement.effect
        actions   = statement.actions
        resources = statement.resources
      }
      ] == [{
        effect    = "Allow"
        actions   = toset(["events:PutEvents"])
        resources = toset(["arn:aws:events:eu-west-1:111122223333:event-bus/alerts-alarm-events"])
    }]
    error_message = "The role may do one thing: events:PutEvents on the central bus."
  }

  assert {
    condition     = aws_iam_role.forwarder.name == "member-forwarder-us-west-2" && aws_iam_role_policy.forwarder.role == aws_iam_role.forwarder.id
    error_message = "The role is named per region (IAM is global) and carries the PutEvents policy."
  }
}

run "forwarder_defaults_forward_every_alarm_into_alarm_and_ok" {
  command = plan

  module {
    source = "./modules/forwarder"
  }

  variables {
    name                  = "member"
    central_event_bus_arn = "arn:aws:events:eu-west-1:111122223333:event-bus/alerts-alarm-events"
  }

  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.alarm_state_changes.event_pattern) == {
      source        = ["aws.cloudwatch"]
      "detail-type" = ["CloudWatch Alarm State Change"]
      detail        = { state = { value = ["ALARM", "OK"] } }
    }
    error_message = "Without prefixes the rule matches every alarm name; states default to ALARM and OK."
  }
}

run "forwarder_rejects_wildcards_default_buses_and_unknown_states" {
  command = plan

  module {
    source = "./modules/forwarder"
  }

  variables {
    name                  = "member"
    central_event_bus_arn = "arn:aws:events:eu-west-1:*:event-bus/alerts-alarm-events"
    alarm_name_prefixes   = ["prod-*"]
    alarm_states          = ["ALARMING"]
  }

  expect_failures = [
    var.central_event_bus_arn,
    var.alarm_name_prefixes,
    var.alarm_states,
  ]
}

run "forwarder_rejects_the_default_bus" {
  command = plan

  module {
    source = "./modules/forwarder"
  }

  variables {
    name                  = "member"
    central_event_bus_arn = "arn:aws:events:eu-west-1:111122223333:event-bus/default"
  }

  expect_failures = [var.central_event_bus_arn]
}

# EventBridge rule names and IAM role names have at most 64 characters: the rule
# (<name>-forward-alarm-state-changes) takes 28 more than `name`, the role
# (<name>-forwarder-<region>) 11 plus the region.
run "forwarder_the_longest_accepted_name_fits_the_rule_and_the_role" {
  command = plan

  module {
    source = "./modules/forwarder"
  }

  override_data {
    target = data.aws_region.current
    values = {
      name     = "ap-southeast-7"
      endpoint = "ec2.ap-southeast-7.amazonaws.com"
    }
  }

  variables {
    name                  = "a-36-character-name-for-the-forwards"
    central_event_bus_arn = "arn:aws:events:eu-west-1:111122223333:event-bus/alerts-alarm-events"
  }

  assert {
    condition = (
      length(var.name) == 36 &&
      length(aws_cloudwatch_event_rule.alarm_state_changes.name) == 64 &&
      length(aws_iam_role.forwarder.name) <= 64 &&
      length(aws_iam_role_policy.forwarder.name) <= 128
    )
    error_message = "A 36-character name fits the rule's and the role's 64 characters in a 14-character region."
  }
}

run "forwarder_refuses_a_name_its_rule_cannot_carry" {
  command = plan

  module {
    source = "./modules/forwarder"
  }

  variables {
    name                  = "a-37-character-name-for-the-forwarder"
    central_event_bus_arn = "arn:aws:events:eu-west-1:111122223333:event-bus/alerts-alarm-events"
  }

  expect_failures = [var.name]
}

run "forwarder_refuses_a_role_name_over_64_characters" {
  command = plan

  module {
    source = "./modules/forwarder"
  }

  override_data {
    target = data.aws_region.current
    values = {
      name     = "xx-an-imaginary-very-long-region-1"
      endpoint = "ec2.xx-an-imaginary-very-long-region-1.amazonaws.com"
    }
  }

  variables {
    name                  = "a-36-character-name-for-the-forwards"
    central_event_bus_arn = "arn:aws:events:eu-west-1:111122223333:event-bus/alerts-alarm-events"
  }

  expect_failures = [aws_iam_role.forwarder]
}
