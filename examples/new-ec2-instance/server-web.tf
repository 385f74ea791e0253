# One server: the instance and its two alarms, created in the same apply, so it never runs
# unwatched. To add a server, copy this file to server-<name>.tf and replace every "web" in the
# copy with <name> (a letter first; letters, digits, '-' and '_'): the resource, the module,
# the alarm key and the outputs all follow.

resource "aws_instance" "web" {
  ami                    = local.ami_id
  instance_type          = var.instance_type
  subnet_id              = var.subnet_id
  vpc_security_group_ids = var.vpc_security_group_ids
  iam_instance_profile   = var.iam_instance_profile
  ebs_optimized          = true

  # Detailed monitoring: 1-minute EC2 metrics, which the 1-minute CPU alarm needs
  # (basic monitoring only publishes every 5 minutes).
  monitoring = true

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required" # IMDSv2 only
  }

  root_block_device {
    encrypted   = true
    kms_key_id  = var.root_volume_kms_key_arn
    volume_type = "gp3"
    volume_size = var.root_volume_size
  }

  tags = merge(var.tags, { Name = "${var.name}-web" })

  lifecycle {
    # A newer AMI behind the SSM parameter must not replace a running server on the next apply.
    ignore_changes = [ami]
  }
}

module "web_alarms" {
  source = "../../modules/ec2-alarms"

  key               = "web"
  instance_id       = aws_instance.web.id
  alarm_actions     = module.alarm_to_slack.alarm_actions
  alarm_name_prefix = module.alarm_to_slack.alarm_name_prefix
  tags              = var.tags

  # Per-server overrides of the defaults (CPU >= 80 % over 1 minute, status check 2 x 60 s):
  # cpu_threshold          = 95
  # cpu_evaluation_periods = 5
}

output "web_instance_id" {
  description = "ID of the web instance."
  value       = aws_instance.web.id
}

output "web_alarm_names" {
  description = "Names of the web instance's alarms, keyed cpu and status-check."
  value       = module.web_alarms.alarm_names
}
