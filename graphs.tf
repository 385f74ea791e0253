# Slack app mode metric graphs (lambda/graph.py): the one extra permission they need, only when
# graphs are on. Nothing here exists in webhook mode or with slack_graphs = false.

locals {
  graphs = local.app_mode && var.slack_graphs
}

data "aws_iam_policy_document" "graphs" {
  count = local.graphs ? 1 : 0

  statement {
    # GetMetricWidgetImage supports no resource-level permissions: "*" is the only resource AWS
    # accepts (checkov knows the action is not restrictable). It only reads metric data the
    # account already has.
    sid       = "DrawAlarmMetricGraphs"
    effect    = "Allow"
    actions   = ["cloudwatch:GetMetricWidgetImage"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "graphs" {
  count = local.graphs ? 1 : 0

  name   = "${var.name}-metric-graphs"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.graphs[0].json
}
