# Slack app mode metric graphs: the GetMetricWidgetImage permission and the settings, only when on.

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

  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/alerts-slack-state"
    }
  }

  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = {
      arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:mock"
    }
  }
}

variables {
  # Somebody hears of the health alarm: without actions its check (health.tf) fails the run.
  health_alarm_actions               = ["arn:aws:sns:eu-west-1:123456789012:on-call-email"]
  name                               = "alerts"
  slack_bot_token_ssm_parameter_name = "/alerts/slack-bot-token"
  slack_channel_id                   = "C0DEFAULT01"
}

run "app_mode_draws_graphs_by_default" {
  command = plan

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.lambda.statement :
      [statement.effect, statement.actions, statement.resources] if statement.sid == "DrawAlarmMetricGraphs"
      ] == [
      ["Allow", toset(["cloudwatch:GetMetricWidgetImage"]), toset(["*"])],
    ]
    error_message = "App mode with default settings may call GetMetricWidgetImage (on *, the only resource AWS accepts for it)."
  }

  assert {
    condition     = length([for s in data.aws_iam_policy_document.lambda.statement : s if contains(s.actions, "cloudwatch:GetMetricWidgetImage") && s.sid != "DrawAlarmMetricGraphs"]) == 0
    error_message = "No other statement carries the graph permission."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables["SLACK_GRAPHS"] == "true" &&
      aws_lambda_function.this.environment[0].variables["SLACK_GRAPH_WINDOW_MINUTES"] == "180"
    )
    error_message = "The function is told to draw graphs over the default 3 hours."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables["SLACK_GRAPH_JOIN_CHANNELS"] == "true" &&
      !contains(keys(aws_lambda_function.this.environment[0].variables), "SLACK_GRAPH_CROSS_ACCOUNT_IDS")
    )
    error_message = "By default the function joins public channels before a graph, and draws no other account's metrics."
  }
}

run "cross_account_graphs_reach_the_function_and_read_oam_links_without_assuming_a_role" {
  command = plan

  variables {
    slack_graph_cross_account_ids = ["222233334444", "111122223333", "222233334444"]
    slack_graph_join_channels     = false
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables["SLACK_GRAPH_CROSS_ACCOUNT_IDS"] == "111122223333,222233334444" &&
      aws_lambda_function.this.environment[0].variables["SLACK_GRAPH_JOIN_CHANNELS"] == "false"
    )
    error_message = "The accounts reach the function sorted and once each; joining can be switched off."
  }

  assert {
    # CloudWatch cross-account observability: the monitoring account reads its linked source
    # accounts' metrics with its own cloudwatch permissions (no AssumeRole), plus read access to
    # the OAM links (AWS's "Permissions needed to monitor across accounts").
    condition = (
      length([for s in data.aws_iam_policy_document.lambda.statement : s if anytrue([for a in s.actions : startswith(a, "sts:")])]) == 0 &&
      length([for s in data.aws_iam_policy_document.lambda.statement : s if contains(s.actions, "cloudwatch:GetMetricWidgetImage")]) == 1
    )
    error_message = "Cross-account graphs assume no role: the one GetMetricWidgetImage statement draws them."
  }

  assert {
    condition = [
      for s in data.aws_iam_policy_document.lambda.statement : [s.effect, s.resources, alltrue([for a in s.actions : startswith(a, "oam:Get") || startswith(a, "oam:List")])]
      if anytrue([for a in s.actions : startswith(a, "oam:")])
    ] == [["Allow", toset(["*"]), true]]
    error_message = "One statement reads the OAM links, with read-only oam:Get*/oam:List* actions only."
  }
}

run "no_other_account_no_oam_permission" {
  command = plan

  assert {
    condition     = length([for s in data.aws_iam_policy_document.lambda.statement : s if anytrue([for a in s.actions : startswith(a, "oam:")])]) == 0
    error_message = "Without slack_graph_cross_account_ids the role gets no OAM permission."
  }
}

run "a_cross_account_id_that_is_not_12_digits_is_rejected" {
  command = plan

  variables {
    slack_graph_cross_account_ids = ["111122223333", "12345"]
  }

  expect_failures = [var.slack_graph_cross_account_ids]
}

run "graph_window_reaches_the_function" {
  command = plan

  variables {
    slack_graph_window_minutes = 60
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["SLACK_GRAPH_WINDOW_MINUTES"] == "60"
    error_message = "slack_graph_window_minutes is passed on."
  }
}

run "graphs_switched_off_leave_no_permission" {
  command = plan

  variables {
    slack_graphs                  = false
    slack_graph_cross_account_ids = ["111122223333"]
  }

  assert {
    condition     = length([for s in data.aws_iam_policy_document.lambda.statement : s if s.sid == "DrawAlarmMetricGraphs"]) == 0
    error_message = "slack_graphs = false gives the role no GetMetricWidgetImage."
  }

  assert {
    condition     = length([for s in data.aws_iam_policy_document.lambda.statement : s if s.sid == "ReadCrossAccountObservabilityLinks"]) == 0
    error_message = "slack_graphs = false gives the role no OAM permission, whatever slack_graph_cross_account_ids says."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables["SLACK_GRAPHS"] == "false" &&
      alltrue([
        for key in ["SLACK_GRAPH_WINDOW_MINUTES", "SLACK_GRAPH_JOIN_CHANNELS", "SLACK_GRAPH_CROSS_ACCOUNT_IDS"] :
        !contains(keys(aws_lambda_function.this.environment[0].variables), key)
      ])
    )
    error_message = "The function is told graphs are off, and gets no other graph setting."
  }
}

run "webhook_mode_never_gets_the_graph_permission" {
  command = plan

  variables {
    slack_bot_token_ssm_parameter_name = null
    slack_channel_id                   = null
    slack_webhook_url                  = "https://hooks.slack.com/services/T000/B000/XXXX"
  }

  assert {
    condition     = length([for s in data.aws_iam_policy_document.lambda.statement : s if s.sid == "DrawAlarmMetricGraphs"]) == 0
    error_message = "Webhook mode cannot upload files: no graph permission."
  }

  assert {
    condition = alltrue([
      for key in ["SLACK_GRAPHS", "SLACK_GRAPH_WINDOW_MINUTES", "SLACK_GRAPH_JOIN_CHANNELS", "SLACK_GRAPH_CROSS_ACCOUNT_IDS"] :
      !contains(keys(aws_lambda_function.this.environment[0].variables), key)
    ])
    error_message = "No graph setting reaches the function in webhook mode."
  }
}

run "graph_window_outside_10_minutes_to_7_days_is_rejected" {
  command = plan

  variables {
    slack_graph_window_minutes = 5
  }

  expect_failures = [var.slack_graph_window_minutes]
}

run "fractional_graph_window_is_rejected" {
  command = plan

  variables {
    slack_graph_window_minutes = 90.5
  }

  expect_failures = [var.slack_graph_window_minutes]
}

run "an_existing_role_is_told_to_allow_graphs" {
  command = plan

  variables {
    create_role     = false
    lambda_role_arn = "arn:aws:iam::123456789012:role/platform/alerts-notifier"
  }

  assert {
    condition     = length([for s in data.aws_iam_policy_document.lambda.statement : s if s.sid == "DrawAlarmMetricGraphs"]) == 1
    error_message = "lambda_role_policy_json names GetMetricWidgetImage for a role the module does not create."
  }
}
