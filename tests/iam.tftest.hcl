# Enterprise IAM: role path, permissions boundary, and an existing role instead of a created one
# (mocked aws provider, plan only; see module.tftest.hcl for the wiring of the default role).

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

variables {
  # Somebody hears of the health alarm: without actions its check (health.tf) fails the run.
  health_alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:on-call-email"]
  name                 = "alerts"
  slack_webhook_url    = "https://hooks.slack.com/services/T000/B000/XXXX"
}

run "created_role_has_the_default_path_and_no_boundary" {
  command = plan

  assert {
    condition     = aws_iam_role.lambda[0].path == "/" && aws_iam_role.lambda[0].permissions_boundary == null
    error_message = "By default the role sits at / with no permissions boundary."
  }

  assert {
    condition     = aws_lambda_function.this.role == aws_iam_role.lambda[0].arn && length(aws_iam_role_policy.lambda) == 1
    error_message = "The function runs as the created role, which gets the module's inline policy."
  }
}

run "role_path_and_permissions_boundary_are_set_on_the_created_role" {
  command = plan

  variables {
    iam_role_path                     = "/service-roles/"
    iam_role_permissions_boundary_arn = "arn:aws:iam::123456789012:policy/platform-boundary"
  }

  assert {
    condition     = aws_iam_role.lambda[0].path == "/service-roles/"
    error_message = "iam_role_path must be the role's path."
  }

  assert {
    condition     = aws_iam_role.lambda[0].permissions_boundary == "arn:aws:iam::123456789012:policy/platform-boundary"
    error_message = "iam_role_permissions_boundary_arn must be the role's permissions boundary."
  }
}

run "an_existing_role_replaces_every_iam_resource" {
  command = plan

  variables {
    create_role                      = false
    lambda_role_arn                  = "arn:aws:iam::210987654321:role/platform/alerts-exec"
    slack_webhook_url                = null
    slack_webhook_ssm_parameter_name = "/alerts/webhook"
  }

  assert {
    condition     = length(aws_iam_role.lambda) == 0 && length(aws_iam_role_policy.lambda) == 0
    error_message = "With create_role = false the module creates no role and no role policy."
  }

  assert {
    condition     = aws_lambda_function.this.role == "arn:aws:iam::210987654321:role/platform/alerts-exec"
    error_message = "The function must run as lambda_role_arn."
  }

  assert {
    condition     = output.lambda_role_arn == "arn:aws:iam::210987654321:role/platform/alerts-exec" && output.lambda_role_name == "alerts-exec"
    error_message = "The role outputs describe the existing role (its name without the path)."
  }

  assert {
    condition = contains(
      flatten([for s in data.aws_iam_policy_document.lambda.statement : tolist(s.resources) if s.sid == "ReadWebhookParameter"]),
      "arn:aws:ssm:eu-west-1:210987654321:parameter/alerts/webhook"
    )
    error_message = "The permissions the existing role needs name the parameter in the role's account."
  }
}

run "create_role_false_needs_a_role_arn" {
  command = plan

  variables {
    create_role = false
  }

  expect_failures = [var.lambda_role_arn]
}

run "a_role_arn_needs_create_role_false" {
  command = plan

  variables {
    lambda_role_arn = "arn:aws:iam::123456789012:role/alerts-exec"
  }

  expect_failures = [var.lambda_role_arn]
}

run "bad_path_and_boundary_are_rejected" {
  command = plan

  variables {
    iam_role_path                     = "service-roles"
    iam_role_permissions_boundary_arn = "platform-boundary"
  }

  expect_failures = [var.iam_role_path, var.iam_role_permissions_boundary_arn]
}
