# Slack app mode metric graphs (lambda/graph.py): on by default in app mode. Their one extra
# permission, cloudwatch:GetMetricWidgetImage, is a statement of the function's policy in iam.tf
# (so lambda_role_policy_json names it for a role the module does not create).

locals {
  graphs = local.app_mode && var.slack_graphs
}
