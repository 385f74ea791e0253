# The pattern to copy for every new server: create the instance and put it under the
# module's alarms in the same apply.

provider "aws" {
  region = var.aws_region
}

# Latest Amazon Linux 2023 AMI from the public SSM parameter, unless an AMI is given.
data "aws_ssm_parameter" "ami" {
  count = var.ami_id == null ? 1 : 0

  name = var.ami_ssm_parameter_name
}

locals {
  ami_id = var.ami_id != null ? var.ami_id : data.aws_ssm_parameter.ami[0].insecure_value
}

resource "aws_instance" "this" {
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

  tags = merge(var.tags, { Name = "${var.name}-${var.instance_key}" })

  lifecycle {
    # A newer AMI behind the SSM parameter must not replace a running server on the next apply.
    ignore_changes = [ami]
  }
}

module "alarm_to_slack" {
  source = "../.."

  name = var.name
  tags = var.tags

  slack_webhook_url = var.slack_webhook_url
  alarm_mention     = var.alarm_mention
  timezone          = var.timezone
  message_language  = var.message_language

  ec2_instances = {
    (var.instance_key) = {
      instance_id = aws_instance.this.id
    }
  }
}
