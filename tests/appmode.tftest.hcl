# Slack app mode wiring (bot token, routes, the DynamoDB state table) with a mocked aws provider.

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
  health_alarm_actions               = ["arn:aws:sns:eu-west-1:123456789012:on-call-email"]
  name                               = "alerts"
  slack_bot_token_ssm_parameter_name = "/alerts/slack-bot-token"
  slack_channel_id                   = "C0DEFAULT01"
  slack_routes = [
    { channel_id = "C0DATABASE1", alarm_name_prefix = "alerts/db-" },
    { channel_id = "C0PAGING001", alarm_name_regex = "(latency|5xx)$", states = ["ALARM"], accounts = ["123456789012"], regions = ["eu-west-1"] },
  ]
  tags = { team = "platform" }
  alarms = {
    db-connections = {
      namespace   = "AWS/RDS"
      metric_name = "DatabaseConnections"
      threshold   = 100
    }
    queue-depth = {
      namespace        = "AWS/SQS"
      metric_name      = "ApproximateNumberOfMessagesVisible"
      threshold        = 100
      slack_channel_id = "C0QUEUES001"
    }
  }
  ec2_instances = {
    web = { instance_id = "i-0123456789abcdef0", slack_channel_id = "C0WEBTEAM01" }
  }
}

run "app_mode_creates_an_encrypted_on_demand_state_table_with_ttl" {
  command = plan

  assert {
    condition = (
      aws_dynamodb_table.state[0].name == "alerts-slack-state" &&
      aws_dynamodb_table.state[0].billing_mode == "PAY_PER_REQUEST" &&
      aws_dynamodb_table.state[0].hash_key == "pk" &&
      one(aws_dynamodb_table.state[0].attribute).name == "pk" &&
      one(aws_dynamodb_table.state[0].attribute).type == "S"
    )
    error_message = "The state table is on-demand, keyed by the string pk."
  }

  assert {
    condition     = one(aws_dynamodb_table.state[0].ttl).enabled && one(aws_dynamodb_table.state[0].ttl).attribute_name == "expires_at"
    error_message = "Old items expire through TTL on expires_at (what state.py writes)."
  }

  assert {
    condition     = one(aws_dynamodb_table.state[0].server_side_encryption).enabled
    error_message = "The table is encrypted at rest with KMS (the AWS-managed aws/dynamodb key unless a key is given)."
  }

  assert {
    condition     = one(aws_dynamodb_table.state[0].point_in_time_recovery).enabled
    error_message = "Point-in-time recovery is on by default."
  }

  assert {
    condition     = aws_dynamodb_table.state[0].tags == tomap({ team = "platform" })
    error_message = "The table carries the module's tags."
  }

  assert {
    condition     = output.state_table_name == "alerts-slack-state" && output.state_table_arn == "arn:aws:dynamodb:eu-west-1:123456789012:table/alerts-slack-state"
    error_message = "The table's name and ARN are outputs."
  }
}

run "app_mode_iam_is_scoped_to_the_table_and_the_token_parameter" {
  command = plan

  assert {
    condition = {
      for statement in data.aws_iam_policy_document.lambda.statement : statement.sid => statement.resources
      } == {
      WriteOwnLogGroup           = toset(["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/alerts:*"])
      SendFailedEventsToOwnQueue = toset(["arn:aws:sqs:eu-west-1:123456789012:alerts-failures"])
      ReceiveFromOwnInbox        = toset(["arn:aws:sqs:eu-west-1:123456789012:alerts-inbox"])
      ReadBotTokenParameter      = toset(["arn:aws:ssm:eu-west-1:123456789012:parameter/alerts/slack-bot-token"])
      ReadWriteOwnStateTable     = toset(["arn:aws:dynamodb:eu-west-1:123456789012:table/alerts-slack-state"])
      # Metric graphs are on by default in app mode; GetMetricWidgetImage takes no resource.
      DrawAlarmMetricGraphs = toset(["*"])
    }
    error_message = "App mode adds exactly: read the one token parameter, read/write the own state table."
  }

  assert {
    condition = one([
      for statement in data.aws_iam_policy_document.lambda.statement : statement.actions if statement.sid == "ReadWriteOwnStateTable"
    ]) == toset(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"])
    error_message = "The table gets item and batch reads and writes only (no Scan, Query or Delete)."
  }

  assert {
    condition = one([
      for statement in data.aws_iam_policy_document.lambda.statement : statement.actions if statement.sid == "ReadBotTokenParameter"
    ]) == toset(["ssm:GetParameter"])
    error_message = "The token parameter is only read."
  }
}

run "app_mode_passes_token_parameter_channel_routes_and_table_to_the_function" {
  command = plan

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables["SLACK_BOT_TOKEN_SSM_PARAMETER"] == "/alerts/slack-bot-token" &&
      aws_lambda_function.this.environment[0].variables["SLACK_CHANNEL_ID"] == "C0DEFAULT01" &&
      aws_lambda_function.this.environment[0].variables["SLACK_STATE_TABLE"] == "alerts-slack-state" &&
      aws_lambda_function.this.environment[0].variables["SLACK_STATE_TTL_DAYS"] == "30" &&
      aws_lambda_function.this.environment[0].variables["SLACK_REPLY_BROADCAST"] == "false"
    )
    error_message = "The function gets the token's parameter name (never the token), the default channel and the table."
  }

  assert {
    condition = alltrue([
      for key in ["SLACK_WEBHOOK_URL", "SLACK_WEBHOOK_SSM_PARAMETER"] : !contains(keys(aws_lambda_function.this.environment[0].variables), key)
    ])
    error_message = "No webhook setting in app mode."
  }

  assert {
    condition = jsondecode(aws_lambda_function.this.environment[0].variables["SLACK_ROUTES"]) == [
      { channel_id = "C0QUEUES001", alarm_names = ["alerts/queue-depth"] },
      { channel_id = "C0WEBTEAM01", alarm_names = ["alerts/web/cpu", "alerts/web/status-check"] },
      { channel_id = "C0DATABASE1", alarm_name_prefix = "alerts/db-" },
      { channel_id = "C0PAGING001", alarm_name_regex = "(latency|5xx)$", states = ["ALARM"], accounts = ["123456789012"], regions = ["eu-west-1"] },
    ]
    error_message = "Routes: per-alarm channels first (by exact name), then slack_routes in order, null fields left out."
  }
}

run "app_mode_options_kms_keys_pitr_broadcast_ttl" {
  command = plan

  variables {
    slack_bot_token_ssm_parameter_name = "arn:aws:ssm:eu-west-1:123456789012:parameter/shared/bot-token"
    slack_bot_token_ssm_kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    state_table_kms_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/66666666-7777-8888-9999-000000000000"
    state_table_point_in_time_recovery = false
    state_table_ttl_days               = 7
    slack_reply_broadcast              = true
    slack_routes                       = []
    alarms                             = {}
    ec2_instances                      = {}
  }

  assert {
    condition     = !one(aws_dynamodb_table.state[0].point_in_time_recovery).enabled
    error_message = "Point-in-time recovery can be switched off."
  }

  assert {
    condition     = one(aws_dynamodb_table.state[0].server_side_encryption).kms_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/66666666-7777-8888-9999-000000000000"
    error_message = "The table uses the given customer-managed key."
  }

  assert {
    condition = {
      for statement in data.aws_iam_policy_document.lambda.statement : statement.sid => [statement.resources, [for c in statement.condition : "${c.test} ${c.variable} ${join(",", c.values)}"]]
      if contains(["ReadBotTokenParameter", "DecryptBotTokenParameter", "UseStateTableKey"], statement.sid)
      } == {
      ReadBotTokenParameter    = [toset(["arn:aws:ssm:eu-west-1:123456789012:parameter/shared/bot-token"]), []]
      DecryptBotTokenParameter = [toset(["arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"]), ["StringEquals kms:ViaService ssm.eu-west-1.amazonaws.com"]]
      UseStateTableKey         = [toset(["arn:aws:kms:eu-west-1:123456789012:key/66666666-7777-8888-9999-000000000000"]), ["StringEquals kms:ViaService dynamodb.eu-west-1.amazonaws.com"]]
    }
    error_message = "Each key is usable through its own service only; a parameter ARN is used as given."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables["SLACK_STATE_TTL_DAYS"] == "7" &&
      aws_lambda_function.this.environment[0].variables["SLACK_REPLY_BROADCAST"] == "true" &&
      !contains(keys(aws_lambda_function.this.environment[0].variables), "SLACK_ROUTES")
    )
    error_message = "TTL days and reply_broadcast reach the function; no routes, no SLACK_ROUTES."
  }
}

run "webhook_mode_creates_no_table_and_no_app_permissions" {
  command = plan

  variables {
    slack_bot_token_ssm_parameter_name = null
    slack_webhook_url                  = "https://hooks.slack.com/services/T000/B000/XXXX"
    slack_channel_id                   = null
    slack_routes                       = []
    alarms                             = {}
    ec2_instances                      = {}
  }

  assert {
    condition     = length(aws_dynamodb_table.state) == 0 && output.state_table_name == null
    error_message = "Webhook mode has no state table."
  }

  assert {
    condition     = length([for s in data.aws_iam_policy_document.lambda.statement : s if startswith(s.sid, "ReadWriteOwnStateTable") || s.sid == "ReadBotTokenParameter"]) == 0
    error_message = "Webhook mode gets no DynamoDB or token permission."
  }

  assert {
    condition = alltrue([
      for key in ["SLACK_BOT_TOKEN_SSM_PARAMETER", "SLACK_CHANNEL_ID", "SLACK_ROUTES", "SLACK_STATE_TABLE", "SLACK_REPLY_BROADCAST", "SLACK_STATE_TTL_DAYS"] :
      !contains(keys(aws_lambda_function.this.environment[0].variables), key)
    ])
    error_message = "No app-mode setting reaches the function in webhook mode."
  }
}

run "a_webhook_and_a_bot_token_together_are_rejected" {
  command = plan

  variables {
    slack_webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"
  }

  expect_failures = [var.slack_webhook_ssm_parameter_name]
}

run "app_mode_without_a_default_channel_is_rejected" {
  command = plan

  variables {
    slack_channel_id = null
  }

  expect_failures = [var.slack_channel_id]
}

run "routes_in_webhook_mode_are_rejected" {
  command = plan

  variables {
    slack_bot_token_ssm_parameter_name = null
    slack_webhook_url                  = "https://hooks.slack.com/services/T000/B000/XXXX"
    slack_channel_id                   = null
  }

  expect_failures = [var.slack_routes, var.alarms, var.ec2_instances]
}

run "a_bad_route_is_rejected" {
  command = plan

  variables {
    slack_routes = [
      { channel_id = "C0GOOD00001" },
      { channel_id = "C0GOOD00002", alarm_name_regex = "(unclosed", states = ["FIRING"] },
    ]
  }

  expect_failures = [var.slack_routes]
}

run "a_bad_channel_of_an_alarm_is_rejected" {
  command = plan

  variables {
    alarms = {
      queue-depth = {
        namespace        = "AWS/SQS"
        metric_name      = "ApproximateNumberOfMessagesVisible"
        threshold        = 100
        slack_channel_id = "not a channel"
      }
    }
  }

  expect_failures = [var.alarms]
}

run "wildcards_in_app_mode_keys_that_reach_a_policy_are_rejected" {
  command = plan

  variables {
    slack_bot_token_ssm_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/*"
    state_table_kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/?"
  }

  expect_failures = [
    var.slack_bot_token_ssm_kms_key_arn,
    var.state_table_kms_key_arn,
  ]
}

# Separate run: a variable whose validation refers to an invalid variable is not checked at all.
run "a_wildcard_token_parameter_is_rejected" {
  command = plan

  variables {
    slack_bot_token_ssm_parameter_name = "arn:aws:ssm:eu-west-1:123456789012:parameter/*"
  }

  expect_failures = [var.slack_bot_token_ssm_parameter_name]
}
