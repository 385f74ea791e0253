output "forwarder_rule_arns" {
  description = "ARNs of the forwarding rules, by region."
  value = {
    (var.primary_region)   = module.forward_primary.rule_arn
    (var.secondary_region) = module.forward_secondary.rule_arn
  }

  precondition {
    condition     = var.primary_region != var.secondary_region
    error_message = "primary_region and secondary_region must differ (one forwarder per region)."
  }
}

output "forwarder_role_arns" {
  description = "ARNs of the roles EventBridge assumes to put events on the central bus, by region."
  value = {
    (var.primary_region)   = module.forward_primary.role_arn
    (var.secondary_region) = module.forward_secondary.role_arn
  }
}
