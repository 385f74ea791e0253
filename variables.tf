# ---------------------------------------------------------------------------------------------
# Naming and tags
# ---------------------------------------------------------------------------------------------

variable "name" {
  description = "Prefix of every resource name: the function and its log group (/aws/lambda/<name>), the role (<name>-<region>), the topic (<name>-alarms), the failure queue (<name>-failures) and the alarms (<name>/<key>...). Distinct names keep several instances of the module apart: no alarm name of one instance can equal another's. Letters, digits, hyphens and underscores (no '/'), at most 40 characters so that every derived name fits its AWS limit (the role name, 64), and at most 36 with a central event bus (its rule, <name>-central-alarm-state-changes, 64)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters of letters, digits, '-' and '_', starting with a letter or digit; not ${jsonencode(var.name)}."
  }

  # EventBridge rule names are at most 64 characters (PutRule's Name; the aws provider checks it
  # at plan). The rule on the central bus is <name>-central-alarm-state-changes: 28 more.
  validation {
    condition     = length(var.name) <= 36 || !(var.create_central_event_bus || var.central_event_bus_arn != null)
    error_message = "name ${jsonencode(var.name)} has ${length(var.name)} characters: with a central event bus the rule <name>-central-alarm-state-changes would have ${length(var.name) + 28}, over EventBridge's limit of 64. Use a name of at most 36 characters with a central bus."
  }
}

variable "tags" {
  description = "Tags for every resource the module creates (alarms included)."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------
# Slack
# ---------------------------------------------------------------------------------------------

variable "slack_webhook_url" {
  description = "Slack incoming-webhook URL (https://hooks.slack.com/services/...). It ends up in the function's environment and the Terraform state: prefer slack_webhook_ssm_parameter_name. Set exactly one of the two."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.slack_webhook_url == null || can(regex("^https://[^[:space:][:cntrl:]/]+/[^[:space:][:cntrl:]]*$", var.slack_webhook_url))
    error_message = "slack_webhook_url must be an https:// URL without whitespace or control characters (the value is not shown)."
  }

  validation {
    # Same rule as the function's (lambda/slack.py): a URL it would refuse must fail here.
    condition     = var.slack_webhook_url == null || contains(concat(["hooks.slack.com", "hooks.slack-gov.com"], var.slack_webhook_allowed_hosts), lower(try(regex("^https://([^/:@?#]+)", var.slack_webhook_url)[0], "")))
    error_message = "slack_webhook_url must point at hooks.slack.com or hooks.slack-gov.com, or at a host listed in slack_webhook_allowed_hosts (the value is not shown)."
  }
}

variable "slack_webhook_ssm_parameter_name" {
  description = "Name (or ARN) of an SSM Parameter Store parameter, ideally a SecureString, holding the webhook URL. The function reads it at cold start; the URL stays out of the environment and the state. Set exactly one of this and slack_webhook_url."
  type        = string
  default     = null

  validation {
    # A name that looks like a secret is left to the precondition in lambda.tf (see there).
    condition     = var.slack_webhook_ssm_parameter_name == null || can(regex("^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+|/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*)$", var.slack_webhook_ssm_parameter_name)) || can(regex(local.secret_looking_name_pattern, var.slack_webhook_ssm_parameter_name))
    error_message = "slack_webhook_ssm_parameter_name must be a parameter name like /alarm-to-slack/webhook-url or a parameter ARN; not ${jsonencode(var.slack_webhook_ssm_parameter_name)}."
  }

  validation {
    condition     = var.slack_webhook_ssm_parameter_name == null || !can(regex("[*?]", var.slack_webhook_ssm_parameter_name)) || can(regex(local.secret_looking_name_pattern, var.slack_webhook_ssm_parameter_name))
    error_message = "slack_webhook_ssm_parameter_name must name exactly one parameter: IAM reads '*' and '?' as wildcards, so the grant would cover every match; not ${jsonencode(var.slack_webhook_ssm_parameter_name)}."
  }


  # Cross-variable rules (Terraform >= 1.9) fail at `terraform validate`, before any plan.
  validation {
    condition     = length([for set in [var.slack_webhook_ssm_parameter_name != null, nonsensitive(var.slack_webhook_url != null), var.slack_bot_token_ssm_parameter_name != null] : set if set]) == 1
    error_message = "Set exactly one of slack_webhook_url and slack_webhook_ssm_parameter_name (the webhook URL, or the SSM parameter that holds it), or, for Slack app mode, slack_bot_token_ssm_parameter_name."
  }
}

variable "slack_webhook_ssm_kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the SecureString parameter; the role gets kms:Decrypt on it (through SSM only). Leave null for the AWS-managed aws/ssm key, which needs no grant."
  type        = string
  default     = null

  validation {
    condition     = var.slack_webhook_ssm_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.slack_webhook_ssm_kms_key_arn))
    error_message = "slack_webhook_ssm_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); not ${jsonencode(var.slack_webhook_ssm_kms_key_arn)}."
  }

  validation {
    condition     = var.slack_webhook_ssm_kms_key_arn == null || !can(regex("[*?]", var.slack_webhook_ssm_kms_key_arn))
    error_message = "slack_webhook_ssm_kms_key_arn must name exactly one KMS key: IAM reads '*' and '?' as wildcards, so the grant would cover every match; not ${jsonencode(var.slack_webhook_ssm_kms_key_arn)}."
  }

  validation {
    condition     = var.slack_webhook_ssm_kms_key_arn == null || var.slack_webhook_ssm_parameter_name != null
    error_message = "slack_webhook_ssm_kms_key_arn is only used with slack_webhook_ssm_parameter_name: set the parameter name, or leave the key null."
  }
}

variable "slack_webhook_allowed_hosts" {
  description = "Hosts besides Slack's (hooks.slack.com, hooks.slack-gov.com) that the webhook URL may point at, e.g. an egress proxy. The function refuses any other host, so a mistyped URL cannot send alarms (and the token) elsewhere."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for host in var.slack_webhook_allowed_hosts : can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", host))])
    error_message = "slack_webhook_allowed_hosts must be lowercase DNS host names; not: ${join(", ", [for host in var.slack_webhook_allowed_hosts : jsonencode(host) if !can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", host))])}."
  }
}

variable "slack_channel" {
  description = "Channel override sent with each message (e.g. #alerts). Null: the webhook's own channel (modern Slack apps ignore overrides)."
  type        = string
  default     = null

  validation {
    condition     = var.slack_channel == null || length(trimspace(coalesce(var.slack_channel, " "))) > 0
    error_message = "slack_channel must not be empty: use null for the webhook's channel."
  }
}

variable "slack_username" {
  description = "Display-name override for the messages. Null: the webhook's default."
  type        = string
  default     = null
}

variable "slack_icon_emoji" {
  description = "Icon emoji override for the messages, e.g. :rotating_light:. Null: the webhook's default."
  type        = string
  default     = null

  validation {
    condition     = var.slack_icon_emoji == null || can(regex("^:[^:[:space:]]+:$", var.slack_icon_emoji))
    error_message = "slack_icon_emoji must look like :emoji_name:; not ${jsonencode(var.slack_icon_emoji)}."
  }
}

variable "alarm_mention" {
  description = "Text added to ALARM messages to notify people, e.g. <!here>, <!channel> or <@U012AB3CD>. Null: no mention."
  type        = string
  default     = null
}

variable "timezone" {
  description = "IANA time zone for times in messages, e.g. Asia/Seoul. Checked at plan against the names in timezones.tf; should the function's runtime not know a zone, messages show UTC with a note instead of failing."
  type        = string
  default     = "UTC"

  validation {
    condition     = contains(local.iana_time_zones, var.timezone)
    error_message = "timezone must be an IANA time zone name such as UTC or Asia/Seoul (see timezones.tf); not ${jsonencode(var.timezone)}."
  }
}

variable "message_language" {
  description = "Language of the Slack messages: en or ko."
  type        = string
  default     = "en"

  validation {
    condition     = contains(["en", "ko"], var.message_language)
    error_message = "message_language must be \"en\" or \"ko\"; not ${jsonencode(var.message_language)}."
  }
}

variable "lambda_log_level" {
  description = "Log level of the function: DEBUG, INFO, WARNING or ERROR."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.lambda_log_level)
    error_message = "lambda_log_level must be DEBUG, INFO, WARNING or ERROR; not ${jsonencode(var.lambda_log_level)}."
  }
}

variable "digest_threshold" {
  description = "How many alarms of one batch (per channel) each get their own full message; with more, they share digest messages that name every alarm on one line, grouped by state and metric. 0 digests any batch of two or more. Applies to every path; batches of more than one alarm come from the inbox queue (SNS mode)."
  type        = number
  default     = 3

  validation {
    condition     = var.digest_threshold >= 0 && var.digest_threshold <= 1000 && floor(var.digest_threshold) == var.digest_threshold
    error_message = "digest_threshold must be a whole number from 0 to 1000, not ${var.digest_threshold}."
  }
}

variable "slack_message_interval_seconds" {
  description = "Least time between two messages of one invocation to one Slack channel (0-60 s). Slack allows about one message per second per channel (short bursts pass); with the inbox's concurrency cap of 2 the total stays near that. Lower it only for a workspace with a higher limit."
  type        = number
  default     = 1

  validation {
    condition     = var.slack_message_interval_seconds >= 0 && var.slack_message_interval_seconds <= 60
    error_message = "slack_message_interval_seconds must be between 0 and 60, not ${var.slack_message_interval_seconds}."
  }
}

# ---------------------------------------------------------------------------------------------
# Slack app mode (bot token): several channels, messages resolved in place, threads
# ---------------------------------------------------------------------------------------------

variable "slack_bot_token_ssm_parameter_name" {
  description = "Name (or ARN) of an SSM SecureString parameter holding a Slack app's Bot User OAuth Token (xoxb-...). Setting it switches to Slack app mode: routing to several channels, ALARM messages updated in place when resolved, follow-ups in threads, and a DynamoDB table for that state. The function reads the token at cold start; it never enters the environment or the Terraform state. Set exactly one of this, slack_webhook_url and slack_webhook_ssm_parameter_name."
  type        = string
  default     = null

  validation {
    # A name that looks like a secret is left to the precondition in lambda.tf (see there).
    condition     = var.slack_bot_token_ssm_parameter_name == null || can(regex("^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+|/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*)$", var.slack_bot_token_ssm_parameter_name)) || can(regex(local.secret_looking_name_pattern, var.slack_bot_token_ssm_parameter_name))
    error_message = "slack_bot_token_ssm_parameter_name must be a parameter name like /alarm-to-slack/bot-token or a parameter ARN."
  }

  validation {
    condition     = var.slack_bot_token_ssm_parameter_name == null || !can(regex("[*?]", var.slack_bot_token_ssm_parameter_name)) || can(regex(local.secret_looking_name_pattern, var.slack_bot_token_ssm_parameter_name))
    error_message = "slack_bot_token_ssm_parameter_name must name exactly one parameter: IAM reads '*' and '?' as wildcards, so the grant would cover every match; not ${jsonencode(var.slack_bot_token_ssm_parameter_name)}."
  }

}

variable "slack_bot_token_ssm_kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the bot-token parameter; the role gets kms:Decrypt on it (through SSM only). Null: the AWS-managed aws/ssm key, which needs no grant."
  type        = string
  default     = null

  validation {
    condition     = var.slack_bot_token_ssm_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.slack_bot_token_ssm_kms_key_arn))
    error_message = "slack_bot_token_ssm_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }

  validation {
    condition     = var.slack_bot_token_ssm_kms_key_arn == null || !can(regex("[*?]", var.slack_bot_token_ssm_kms_key_arn))
    error_message = "slack_bot_token_ssm_kms_key_arn must name exactly one KMS key: IAM reads '*' and '?' as wildcards, so the grant would cover every match; not ${jsonencode(var.slack_bot_token_ssm_kms_key_arn)}."
  }

  validation {
    condition     = var.slack_bot_token_ssm_kms_key_arn == null || var.slack_bot_token_ssm_parameter_name != null
    error_message = "slack_bot_token_ssm_kms_key_arn is only used with slack_bot_token_ssm_parameter_name: set the parameter name, or leave the key null."
  }
}

variable "slack_channel_id" {
  description = "Slack app mode: the channel (ID such as C0123456789, from the channel's details) for alarms that no route matches. Required in app mode."
  type        = string
  default     = null

  validation {
    condition     = var.slack_channel_id == null || can(regex("^#?[A-Za-z0-9][A-Za-z0-9._-]{0,79}$", coalesce(var.slack_channel_id, "x")))
    error_message = "slack_channel_id must be a Slack channel ID such as C0123456789."
  }

  validation {
    condition     = (var.slack_channel_id != null) == (var.slack_bot_token_ssm_parameter_name != null)
    error_message = "slack_channel_id goes with slack_bot_token_ssm_parameter_name: Slack app mode needs the default channel, and a webhook posts to its own channel (use slack_channel there)."
  }
}

variable "slack_routes" {
  description = <<-EOT
    Slack app mode: ordered routing rules, first match wins; an alarm no rule matches goes to
    slack_channel_id. Each rule names channel_id and any of: alarm_name_prefix (the name
    starts with it), alarm_name_regex (searched anywhere in the name; the subset of RE2 that the
    function reads alike and matches in linear time, see the validation message), states
    (["ALARM", "OK", "INSUFFICIENT_DATA"]), accounts (12-digit IDs), regions (e.g.
    ["eu-west-1"]). Every field given must match. `alarms` / `ec2_instances` entries with a
    slack_channel_id come first.
  EOT
  type = list(object({
    channel_id        = string
    alarm_name_prefix = optional(string)
    alarm_name_regex  = optional(string)
    states            = optional(list(string))
    accounts          = optional(list(string))
    regions           = optional(list(string))
  }))
  default = []

  validation {
    condition     = alltrue([for route in var.slack_routes : can(regex("^#?[A-Za-z0-9][A-Za-z0-9._-]{0,79}$", route.channel_id))])
    error_message = "slack_routes channel_id must be a Slack channel ID such as C0123456789 (offending routes: ${join(", ", [for index, route in var.slack_routes : tostring(index) if !can(regex("^#?[A-Za-z0-9][A-Za-z0-9._-]{0,79}$", route.channel_id))])})."
  }

  # One rule with lambda/name_pattern.py (TOKENS, LENGTH; tests/test_route_patterns.py compares the
  # strings): the subset RE2 and the function read alike, at most 255 characters, and valid.
  validation {
    condition     = alltrue([for route in var.slack_routes : route.alarm_name_regex == null || (can(regex("^(?:[\\s\\S]{1,255})$", route.alarm_name_regex)) && can(regex("^(?:(?:[$^|]|\\((?:\\?:)?|(?:[^\\\\^$*+?()\\[\\]{}|]|\\\\[dDwWsS.^$*+?()\\[\\]{}|\\\\/-]|\\[\\^?(?:[^\\\\\\[\\]]|\\\\[\\\\\\[\\]^-])+\\]|\\))(?:[*+?]\\??)?)+)$", route.alarm_name_regex)) && can(regexall(route.alarm_name_regex, "")))])
    error_message = "slack_routes alarm_name_regex must be a regular expression of at most 255 characters in the subset that Terraform (RE2) and the function read alike: literals, ., [...] and [^...] with ranges, \\d \\w \\s (ASCII) and their negations, escaped punctuation, ^, $, (...), (?:...), |, * + ? (no flags, {n,m}, \\b, \\z, POSIX classes or lookaround); offending: ${join(", ", [for index, route in var.slack_routes : "route ${index} ${jsonencode(route.alarm_name_regex)}" if route.alarm_name_regex != null && !(can(regex("^(?:[\\s\\S]{1,255})$", route.alarm_name_regex)) && can(regex("^(?:(?:[$^|]|\\((?:\\?:)?|(?:[^\\\\^$*+?()\\[\\]{}|]|\\\\[dDwWsS.^$*+?()\\[\\]{}|\\\\/-]|\\[\\^?(?:[^\\\\\\[\\]]|\\\\[\\\\\\[\\]^-])+\\]|\\))(?:[*+?]\\??)?)+)$", route.alarm_name_regex)) && can(regexall(route.alarm_name_regex, "")))])}."
  }

  validation {
    condition     = alltrue([for route in var.slack_routes : route.alarm_name_prefix == null || coalesce(route.alarm_name_prefix, "x") != ""])
    error_message = "slack_routes alarm_name_prefix must not be empty: leave it out to match every name."
  }

  validation {
    condition     = alltrue(flatten([for route in var.slack_routes : [for state in coalesce(route.states, ["OK"]) : contains(["ALARM", "OK", "INSUFFICIENT_DATA"], state)]]))
    error_message = "slack_routes states may hold ALARM, OK and INSUFFICIENT_DATA only (offending routes: ${join(", ", [for index, route in var.slack_routes : tostring(index) if !alltrue([for state in coalesce(route.states, ["OK"]) : contains(["ALARM", "OK", "INSUFFICIENT_DATA"], state)])])})."
  }

  validation {
    condition     = alltrue(flatten([for route in var.slack_routes : [for account in coalesce(route.accounts, ["000000000000"]) : can(regex("^[0-9]{12}$", account))]]))
    error_message = "slack_routes accounts must be 12-digit AWS account IDs (offending routes: ${join(", ", [for index, route in var.slack_routes : tostring(index) if !alltrue([for account in coalesce(route.accounts, ["000000000000"]) : can(regex("^[0-9]{12}$", account))])])})."
  }

  validation {
    condition     = alltrue(flatten([for route in var.slack_routes : [for region in coalesce(route.regions, ["us-east-1"]) : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", region))]]))
    error_message = "slack_routes regions must be region codes such as eu-west-1 (offending routes: ${join(", ", [for index, route in var.slack_routes : tostring(index) if !alltrue([for region in coalesce(route.regions, ["us-east-1"]) : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", region))])])})."
  }

  validation {
    condition     = length(var.slack_routes) == 0 || var.slack_bot_token_ssm_parameter_name != null
    error_message = "slack_routes work in Slack app mode only (slack_bot_token_ssm_parameter_name): a webhook posts to its own channel."
  }

  validation {
    condition     = alltrue([for route in var.slack_routes : route.states == null || length(coalesce(route.states, ["x"])) > 0])
    error_message = "slack_routes states must not be an empty list: leave it out to match every state."
  }
}

variable "slack_reply_broadcast" {
  description = "Slack app mode: also show the OK reply (posted in the alarm's thread) in the channel (reply_broadcast)."
  type        = bool
  default     = false
}

variable "state_table_ttl_days" {
  description = "Slack app mode: days the state table keeps an alarm's message (to update it and thread under it) and a delivered record's marker. An alarm still open after this long posts a new message on its next change."
  type        = number
  default     = 30

  validation {
    condition     = var.state_table_ttl_days >= 1 && var.state_table_ttl_days <= 3650 && floor(var.state_table_ttl_days) == var.state_table_ttl_days
    error_message = "state_table_ttl_days must be a whole number of days between 1 and 3650."
  }
}

variable "group_interval_seconds" {
  description = "Slack app mode: how long a channel's storm digest stays live (Alertmanager's group_interval, 0-3600 s). Alarms of later batches within this time are listed in its thread and its header counts are updated, instead of a new top-level digest; after it a new digest starts. 0 posts a new digest per batch."
  type        = number
  default     = 300

  validation {
    condition     = var.group_interval_seconds >= 0 && var.group_interval_seconds <= 3600 && floor(var.group_interval_seconds) == var.group_interval_seconds
    error_message = "group_interval_seconds must be a whole number of seconds between 0 and 3600, not ${jsonencode(var.group_interval_seconds)}."
  }
}

variable "state_table_point_in_time_recovery" {
  description = "Slack app mode: point-in-time recovery of the state table (continuous backups, 35 days)."
  type        = bool
  default     = true
}

variable "state_table_kms_key_arn" {
  description = "Slack app mode: customer-managed KMS key ARN for the state table; the role may use it through DynamoDB only. Null: the AWS-managed aws/dynamodb key (the table is KMS-encrypted either way)."
  type        = string
  default     = null

  validation {
    condition     = var.state_table_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.state_table_kms_key_arn))
    error_message = "state_table_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }

  validation {
    condition     = var.state_table_kms_key_arn == null || !can(regex("[*?]", var.state_table_kms_key_arn))
    error_message = "state_table_kms_key_arn must name exactly one KMS key: IAM reads '*' and '?' as wildcards, so the grant would cover every match; not ${jsonencode(var.state_table_kms_key_arn)}."
  }
}

variable "slack_graphs" {
  description = "Slack app mode: attach a graph of the alarm's metric (threshold line, state-change marker, the window before it) to every ALARM message, in its thread. Needs the app's files:write scope; gives the role cloudwatch:GetMetricWidgetImage, billed per metric drawn. Ignored in webhook mode, which cannot upload files."
  type        = bool
  default     = true
}

variable "slack_graph_window_minutes" {
  description = "Slack app mode: how much time before the state change the graph shows, in minutes (widened to at least 10 periods of the alarm's metric)."
  type        = number
  default     = 180

  validation {
    condition     = var.slack_graph_window_minutes >= 10 && var.slack_graph_window_minutes <= 10080 && floor(var.slack_graph_window_minutes) == var.slack_graph_window_minutes
    error_message = "slack_graph_window_minutes must be a whole number of minutes between 10 and 10080 (7 days)."
  }
}

variable "slack_graph_join_channels" {
  description = "Slack app mode with graphs: join a public channel (conversations.join, once per channel per container) before the first graph upload there. Sharing a file needs the app to be a member of the channel; chat:write.public lets it post messages only. Needs the app's channels:join scope. Without the scope, with this off, or in a private channel, invite the app (/invite @app) or its graphs there are skipped with a log line; the alarm messages are never affected."
  type        = bool
  default     = true
}

variable "slack_graph_cross_account_ids" {
  description = "Slack app mode with graphs: 12-digit IDs of other AWS accounts whose alarms' graphs this function may draw (the widget names the account). Needs CloudWatch cross-account observability with this account as the monitoring account and those accounts linked as sources; gives the role read-only access to the OAM links (oam:Get*, oam:List*), no AssumeRole. Alarms of other accounts not listed get a short note in their thread instead of a graph of the wrong account's metrics."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for account in var.slack_graph_cross_account_ids : can(regex("^[0-9]{12}$", account))])
    error_message = "slack_graph_cross_account_ids must be 12-digit AWS account IDs; offending: ${jsonencode([for account in var.slack_graph_cross_account_ids : account if !can(regex("^[0-9]{12}$", account))])}."
  }

  validation {
    # 13 bytes each in SLACK_GRAPH_CROSS_ACCOUNT_IDS: all environment variables share 4 KB.
    condition     = length(distinct(var.slack_graph_cross_account_ids)) <= 100
    error_message = "slack_graph_cross_account_ids holds ${length(distinct(var.slack_graph_cross_account_ids))} accounts; at most 100 fit in the function's environment."
  }
}

# ---------------------------------------------------------------------------------------------
# SNS topic and alarm routing
# ---------------------------------------------------------------------------------------------

variable "create_sns_topic" {
  description = "Create the <name>-alarms topic (with a policy that lets this account's CloudWatch alarms publish) and subscribe the inbox queue to it (the function itself in direct mode). False: subscribe to sns_topic_arn instead, or, with alarm_action_target = \"lambda\" and no sns_topic_arn, use no topic at all."
  type        = bool
  default     = true
}

variable "sns_topic_arn" {
  description = "ARN of an existing SNS topic to take notifications from (with create_sns_topic = false): the inbox queue subscribes to it (the function itself in direct mode), and the inbox's policy lets this topic send. The topic's policy is yours to manage: it must let cloudwatch.amazonaws.com publish. A standard (not FIFO) topic in the provider's region: subscriptions and alarm actions must be in the topic's region."
  type        = string
  default     = null

  validation {
    condition     = var.sns_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+(\\.fifo)?$", var.sns_topic_arn))
    error_message = "sns_topic_arn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>); not ${jsonencode(var.sns_topic_arn)}."
  }

  validation {
    condition     = var.sns_topic_arn == null || !var.create_sns_topic
    error_message = "sns_topic_arn subscribes an existing topic: set create_sns_topic = false with it."
  }

  # CloudWatch alarm actions and Lambda subscriptions take standard topics only; a FIFO topic
  # delivers to SQS FIFO queues alone (SNS FIFO topics, "Message delivery").
  validation {
    condition     = var.sns_topic_arn == null || !endswith(coalesce(var.sns_topic_arn, "-"), ".fifo")
    error_message = "sns_topic_arn must be a standard topic: CloudWatch alarms cannot notify a FIFO topic and it cannot deliver to the inbox queue or the function; not ${jsonencode(var.sns_topic_arn)}."
  }
}

variable "sns_topic_kms_key_arn" {
  description = "Customer-managed KMS key (ARN, alias ARN or alias/name) to encrypt the created topic. Null: unencrypted. The AWS-managed alias/aws/sns key is rejected: CloudWatch alarms cannot publish to a topic encrypted with it, because its key policy cannot be changed to let cloudwatch.amazonaws.com use the key. The key policy of the key you give must allow cloudwatch.amazonaws.com kms:GenerateDataKey* and kms:Decrypt."
  type        = string
  default     = null

  validation {
    condition     = var.sns_topic_kms_key_arn == null || can(regex("^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+|alias/.+|[0-9a-f-]{36}|mrk-[0-9a-f]{32})$", var.sns_topic_kms_key_arn))
    error_message = "sns_topic_kms_key_arn must be a KMS key ARN, key ID, alias ARN or alias/<name>; not ${jsonencode(var.sns_topic_kms_key_arn)}."
  }

  validation {
    condition     = var.sns_topic_kms_key_arn == null || !can(regex("[*?]", var.sns_topic_kms_key_arn))
    error_message = "sns_topic_kms_key_arn must name exactly one KMS key: IAM reads '*' and '?' as wildcards, so the grant would cover every match; not ${jsonencode(var.sns_topic_kms_key_arn)}."
  }

  validation {
    condition     = var.sns_topic_kms_key_arn == null || !can(regex("(^|:)alias/aws/sns$", var.sns_topic_kms_key_arn))
    error_message = "CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed alias/aws/sns key: use a customer-managed key whose policy allows cloudwatch.amazonaws.com."
  }
}

variable "alarm_action_target" {
  description = "Where the module's alarms send notifications: \"sns\" (the topic; notifications wait in the inbox queue and reach the function in batches, so a storm becomes a few digest messages) or \"lambda\" (CloudWatch invokes the function once per alarm; no topic or queue needed, but not storm-proof)."
  type        = string
  default     = "sns"

  validation {
    condition     = contains(["sns", "lambda"], var.alarm_action_target)
    error_message = "alarm_action_target must be \"sns\" or \"lambda\"; not ${jsonencode(var.alarm_action_target)}."
  }

  validation {
    condition     = var.alarm_action_target == "lambda" || var.create_sns_topic || var.sns_topic_arn != null
    error_message = "alarm_action_target = \"sns\" needs a topic: keep create_sns_topic = true or pass sns_topic_arn."
  }
}

variable "notify_on_ok" {
  description = "Also notify when an alarm returns to OK."
  type        = bool
  default     = true
}

variable "notify_on_insufficient_data" {
  description = "Also notify when an alarm enters INSUFFICIENT_DATA."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Alarms
# ---------------------------------------------------------------------------------------------

variable "alarms" {
  description = <<-EOT
    Generic CloudWatch metric alarms, by key; each is named <name>/<key> and notifies on ALARM
    (and OK / INSUFFICIENT_DATA per notify_on_*). Attributes: namespace, metric_name, threshold
    (required); dimensions ({}), statistic ("Average"), period (60 s), evaluation_periods (1),
    datapoints_to_alarm (null: all), comparison_operator ("GreaterThanOrEqualToThreshold"),
    treat_missing_data ("missing"), description, slack_channel_id (Slack app mode: the channel
    for this alarm, ahead of slack_routes).
  EOT
  type = map(object({
    namespace           = string
    metric_name         = string
    threshold           = number
    dimensions          = optional(map(string), {})
    statistic           = optional(string, "Average")
    period              = optional(number, 60)
    evaluation_periods  = optional(number, 1)
    datapoints_to_alarm = optional(number)
    comparison_operator = optional(string, "GreaterThanOrEqualToThreshold")
    treat_missing_data  = optional(string, "missing")
    description         = optional(string)
    slack_channel_id    = optional(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for alarm in values(var.alarms) : alarm.slack_channel_id == null || can(regex("^#?[A-Za-z0-9][A-Za-z0-9._-]{0,79}$", alarm.slack_channel_id))])
    error_message = "alarms slack_channel_id must be a Slack channel ID such as C0123456789 (offending: ${join(", ", [for key, alarm in var.alarms : key if alarm.slack_channel_id != null && !can(regex("^#?[A-Za-z0-9][A-Za-z0-9._-]{0,79}$", coalesce(alarm.slack_channel_id, "x")))])})."
  }

  validation {
    condition     = var.slack_bot_token_ssm_parameter_name != null || alltrue([for alarm in values(var.alarms) : alarm.slack_channel_id == null])
    error_message = "alarms slack_channel_id works in Slack app mode only (slack_bot_token_ssm_parameter_name); offending: ${join(", ", [for key, alarm in var.alarms : key if alarm.slack_channel_id != null])}."
  }

  validation {
    condition     = alltrue([for key in keys(var.alarms) : can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", key))])
    error_message = "alarms keys must be 1-64 characters of letters, digits, '.', '-' and '_' (no '/', which separates the parts of alarm names); not: ${join(", ", [for key in keys(var.alarms) : jsonencode(key) if !can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", key))])}."
  }

  validation {
    condition     = alltrue([for alarm in values(var.alarms) : contains(["SampleCount", "Average", "Sum", "Minimum", "Maximum"], alarm.statistic)])
    error_message = "alarms statistic must be SampleCount, Average, Sum, Minimum or Maximum; not so in: ${join(", ", [for key, alarm in var.alarms : "${key} (${jsonencode(alarm.statistic)})" if !contains(["SampleCount", "Average", "Sum", "Minimum", "Maximum"], alarm.statistic)])}."
  }

  validation {
    condition = alltrue([for alarm in values(var.alarms) : contains([
      "GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold",
    ], alarm.comparison_operator)])
    error_message = "alarms comparison_operator must be GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold or LessThanOrEqualToThreshold; not so in: ${join(", ", [for key, alarm in var.alarms : "${key} (${jsonencode(alarm.comparison_operator)})" if !contains(["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"], alarm.comparison_operator)])}."
  }

  validation {
    condition     = alltrue([for alarm in values(var.alarms) : contains([10, 20, 30], alarm.period) || (alarm.period >= 60 && alarm.period % 60 == 0)])
    error_message = "alarms period must be 10, 20, 30 or a positive multiple of 60 seconds; not so in: ${join(", ", [for key, alarm in var.alarms : "${key} (${alarm.period})" if !(contains([10, 20, 30], alarm.period) || (alarm.period >= 60 && alarm.period % 60 == 0))])}."
  }

  validation {
    condition = alltrue([for alarm in values(var.alarms) : alarm.evaluation_periods >= 1 && floor(alarm.evaluation_periods) == alarm.evaluation_periods && (
      alarm.datapoints_to_alarm == null ? true : (alarm.datapoints_to_alarm >= 1 && alarm.datapoints_to_alarm <= alarm.evaluation_periods)
    )])
    error_message = "alarms evaluation_periods must be a whole number >= 1, and datapoints_to_alarm between 1 and evaluation_periods; not so in: ${join(", ", [for key, alarm in var.alarms : key if !(alarm.evaluation_periods >= 1 && floor(alarm.evaluation_periods) == alarm.evaluation_periods && (alarm.datapoints_to_alarm == null ? true : (alarm.datapoints_to_alarm >= 1 && alarm.datapoints_to_alarm <= alarm.evaluation_periods)))])}."
  }

  # CloudWatch PutMetricAlarm: period x evaluation periods at most one day when the period is
  # under an hour, at most seven days otherwise (the aws provider does not check it at plan).
  validation {
    condition     = alltrue([for alarm in values(var.alarms) : alarm.period * alarm.evaluation_periods <= (alarm.period < 3600 ? 86400 : 604800)])
    error_message = "alarms period x evaluation_periods must be at most 86400 s (1 day) when the period is under an hour, else at most 604800 s (7 days), as CloudWatch allows; not so in: ${join(", ", [for key, alarm in var.alarms : "${key} (${alarm.period} s x ${alarm.evaluation_periods} = ${alarm.period * alarm.evaluation_periods} s)" if alarm.period * alarm.evaluation_periods > (alarm.period < 3600 ? 86400 : 604800)])}."
  }

  validation {
    condition     = alltrue([for alarm in values(var.alarms) : contains(["missing", "ignore", "breaching", "notBreaching"], alarm.treat_missing_data)])
    error_message = "alarms treat_missing_data must be missing, ignore, breaching or notBreaching; not so in: ${join(", ", [for key, alarm in var.alarms : "${key} (${jsonencode(alarm.treat_missing_data)})" if !contains(["missing", "ignore", "breaching", "notBreaching"], alarm.treat_missing_data)])}."
  }
}

variable "ec2_instances" {
  description = <<-EOT
    EC2 instances to watch, by key. Each gets <name>/<key>/cpu (CPUUtilization Average >=
    cpu_threshold, 80 %, over cpu_period, 60 s, for cpu_evaluation_periods, 1) and
    <name>/<key>/status-check (StatusCheckFailed Maximum >= 1 over status_check_period, 60 s,
    for status_check_evaluation_periods, 2; missing data counts as breaching, so a dead
    instance is reported). 60 s CPU periods need detailed monitoring on the instance.
    enable_cpu_alarm / enable_status_check_alarm (true) switch either off. slack_channel_id
    (Slack app mode): the channel for both alarms, ahead of slack_routes.
  EOT
  type = map(object({
    instance_id                     = string
    enable_cpu_alarm                = optional(bool, true)
    cpu_threshold                   = optional(number, 80)
    cpu_period                      = optional(number, 60)
    cpu_evaluation_periods          = optional(number, 1)
    enable_status_check_alarm       = optional(bool, true)
    status_check_period             = optional(number, 60)
    status_check_evaluation_periods = optional(number, 2)
    slack_channel_id                = optional(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for instance in values(var.ec2_instances) : instance.slack_channel_id == null || can(regex("^#?[A-Za-z0-9][A-Za-z0-9._-]{0,79}$", instance.slack_channel_id))])
    error_message = "ec2_instances slack_channel_id must be a Slack channel ID such as C0123456789 (offending: ${join(", ", [for key, instance in var.ec2_instances : key if instance.slack_channel_id != null && !can(regex("^#?[A-Za-z0-9][A-Za-z0-9._-]{0,79}$", coalesce(instance.slack_channel_id, "x")))])})."
  }

  validation {
    condition     = var.slack_bot_token_ssm_parameter_name != null || alltrue([for instance in values(var.ec2_instances) : instance.slack_channel_id == null])
    error_message = "ec2_instances slack_channel_id works in Slack app mode only (slack_bot_token_ssm_parameter_name); offending: ${join(", ", [for key, instance in var.ec2_instances : key if instance.slack_channel_id != null])}."
  }

  validation {
    condition     = alltrue([for key in keys(var.ec2_instances) : can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", key))])
    error_message = "ec2_instances keys must be 1-64 characters of letters, digits, '.', '-' and '_' (no '/', which separates the parts of alarm names); not: ${join(", ", [for key in keys(var.ec2_instances) : jsonencode(key) if !can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", key))])}."
  }

  validation {
    condition     = alltrue([for instance in values(var.ec2_instances) : can(regex("^i-[0-9a-f]{8,17}$", instance.instance_id))])
    error_message = "ec2_instances instance_id must look like i-0123456789abcdef0; not so in: ${join(", ", [for key, instance in var.ec2_instances : "${key} (${jsonencode(instance.instance_id)})" if !can(regex("^i-[0-9a-f]{8,17}$", instance.instance_id))])}."
  }

  validation {
    condition     = alltrue([for instance in values(var.ec2_instances) : instance.cpu_threshold > 0 && instance.cpu_threshold <= 100])
    error_message = "ec2_instances cpu_threshold must be a percentage above 0 and at most 100; not so in: ${join(", ", [for key, instance in var.ec2_instances : "${key} (${instance.cpu_threshold})" if !(instance.cpu_threshold > 0 && instance.cpu_threshold <= 100)])}."
  }

  validation {
    condition = alltrue(flatten([for instance in values(var.ec2_instances) : [
      for period in [instance.cpu_period, instance.status_check_period] : period >= 60 && period % 60 == 0
    ]]))
    error_message = "ec2_instances cpu_period and status_check_period must be positive multiples of 60 seconds (EC2 metrics have at most 1-minute resolution); not so in: ${join(", ", [for key, instance in var.ec2_instances : key if !alltrue([for period in [instance.cpu_period, instance.status_check_period] : period >= 60 && period % 60 == 0])])}."
  }

  validation {
    condition = alltrue(flatten([for instance in values(var.ec2_instances) : [
      for periods in [instance.cpu_evaluation_periods, instance.status_check_evaluation_periods] : periods >= 1 && floor(periods) == periods
    ]]))
    error_message = "ec2_instances evaluation periods must be whole numbers >= 1; not so in: ${join(", ", [for key, instance in var.ec2_instances : key if !alltrue([for periods in [instance.cpu_evaluation_periods, instance.status_check_evaluation_periods] : periods >= 1 && floor(periods) == periods])])}."
  }

  # CloudWatch PutMetricAlarm: period x evaluation periods at most one day when the period is
  # under an hour, at most seven days otherwise. Named as the alarm_arns keys name them.
  validation {
    condition = alltrue([for instance in values(var.ec2_instances) :
      instance.cpu_period * instance.cpu_evaluation_periods <= (instance.cpu_period < 3600 ? 86400 : 604800) &&
      instance.status_check_period * instance.status_check_evaluation_periods <= (instance.status_check_period < 3600 ? 86400 : 604800)
    ])
    error_message = "ec2_instances period x evaluation periods must be at most 86400 s (1 day) when the period is under an hour, else at most 604800 s (7 days), as CloudWatch allows; not so in: ${join(", ", concat([for key, instance in var.ec2_instances : "ec2/${key}/cpu (${instance.cpu_period} s x ${instance.cpu_evaluation_periods} = ${instance.cpu_period * instance.cpu_evaluation_periods} s)" if instance.cpu_period * instance.cpu_evaluation_periods > (instance.cpu_period < 3600 ? 86400 : 604800)], [for key, instance in var.ec2_instances : "ec2/${key}/status-check (${instance.status_check_period} s x ${instance.status_check_evaluation_periods} = ${instance.status_check_period * instance.status_check_evaluation_periods} s)" if instance.status_check_period * instance.status_check_evaluation_periods > (instance.status_check_period < 3600 ? 86400 : 604800)]))}."
  }
}

# ---------------------------------------------------------------------------------------------
# Lambda function
# ---------------------------------------------------------------------------------------------

variable "lambda_runtime" {
  description = "Python runtime of the function: python3.11, python3.12 or python3.13."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be python3.11, python3.12 or python3.13; not ${jsonencode(var.lambda_runtime)}."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of the function: arm64 (cheaper) or x86_64. The handler is pure Python either way."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64; not ${jsonencode(var.lambda_architecture)}."
  }
}

variable "lambda_memory_size" {
  description = "Memory of the function in MB (128-10240)."
  type        = number
  default     = 128

  validation {
    condition     = var.lambda_memory_size >= 128 && var.lambda_memory_size <= 10240 && floor(var.lambda_memory_size) == var.lambda_memory_size
    error_message = "lambda_memory_size must be a whole number of MB between 128 and 10240; not ${jsonencode(var.lambda_memory_size)}."
  }
}

variable "lambda_timeout" {
  description = "Timeout of the function in seconds. At least 10, so the handler's Slack retries (with backoff and Retry-After) fit; at most 900."
  type        = number
  default     = 30

  validation {
    condition     = var.lambda_timeout >= 10 && var.lambda_timeout <= 900 && floor(var.lambda_timeout) == var.lambda_timeout
    error_message = "lambda_timeout must be a whole number of seconds between 10 (the handler's retry budget) and 900; not ${jsonencode(var.lambda_timeout)}."
  }
}

variable "lambda_tracing_mode" {
  description = "X-Ray tracing of the function: PassThrough (no traces of its own) or Active (adds the X-Ray write permissions, which have no resource scoping)."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.lambda_tracing_mode)
    error_message = "lambda_tracing_mode must be PassThrough or Active; not ${jsonencode(var.lambda_tracing_mode)}."
  }
}

variable "lambda_kms_key_arn" {
  description = "Customer-managed KMS key ARN to encrypt the function's environment variables. Null: the AWS-managed Lambda key."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.lambda_kms_key_arn))
    error_message = "lambda_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); not ${jsonencode(var.lambda_kms_key_arn)}."
  }

  validation {
    condition     = var.lambda_kms_key_arn == null || !can(regex("[*?]", var.lambda_kms_key_arn))
    error_message = "lambda_kms_key_arn must name exactly one KMS key: IAM reads '*' and '?' as wildcards, so the grant would cover every match; not ${jsonencode(var.lambda_kms_key_arn)}."
  }
}

variable "cloudwatch_log_retention_in_days" {
  description = "Retention of the function's log group in days (a value CloudWatch Logs accepts; 0 keeps logs forever)."
  type        = number
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cloudwatch_log_retention_in_days)
    error_message = "cloudwatch_log_retention_in_days must be one of 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653; not ${jsonencode(var.cloudwatch_log_retention_in_days)}."
  }
}

variable "cloudwatch_log_kms_key_arn" {
  description = "KMS key ARN to encrypt the function's log group. Null: CloudWatch Logs' default encryption. The key policy must allow logs.<region>.amazonaws.com."
  type        = string
  default     = null

  validation {
    condition     = var.cloudwatch_log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.cloudwatch_log_kms_key_arn))
    error_message = "cloudwatch_log_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); not ${jsonencode(var.cloudwatch_log_kms_key_arn)}."
  }

  validation {
    condition     = var.cloudwatch_log_kms_key_arn == null || !can(regex("[*?]", var.cloudwatch_log_kms_key_arn))
    error_message = "cloudwatch_log_kms_key_arn must name exactly one KMS key: IAM reads '*' and '?' as wildcards, so the grant would cover every match; not ${jsonencode(var.cloudwatch_log_kms_key_arn)}."
  }
}

# ---------------------------------------------------------------------------------------------
# Failure handling
# ---------------------------------------------------------------------------------------------

variable "lambda_maximum_retry_attempts" {
  description = "How often Lambda retries a failed asynchronous invocation (0-2) before the event goes to the failure queue."
  type        = number
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.lambda_maximum_retry_attempts)
    error_message = "lambda_maximum_retry_attempts must be 0, 1 or 2; not ${jsonencode(var.lambda_maximum_retry_attempts)}."
  }
}

variable "lambda_maximum_event_age_in_seconds" {
  description = "How long Lambda keeps retrying an event (60-21600 s) before it goes to the failure queue."
  type        = number
  default     = 21600

  validation {
    condition     = var.lambda_maximum_event_age_in_seconds >= 60 && var.lambda_maximum_event_age_in_seconds <= 21600
    error_message = "lambda_maximum_event_age_in_seconds must be between 60 and 21600; not ${jsonencode(var.lambda_maximum_event_age_in_seconds)}."
  }
}

variable "failure_queue_message_retention_seconds" {
  description = "How long undelivered notifications stay in the failure queue (60-1209600 s; default 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.failure_queue_message_retention_seconds >= 60 && var.failure_queue_message_retention_seconds <= 1209600
    error_message = "failure_queue_message_retention_seconds must be between 60 and 1209600; not ${jsonencode(var.failure_queue_message_retention_seconds)}."
  }
}

variable "failure_queue_kms_master_key_id" {
  description = "KMS key ARN to encrypt the failure queue; the role gets kms:GenerateDataKey/Decrypt on it (through SQS only), so it must be a key ARN, not an alias. Null: SQS-managed server-side encryption."
  type        = string
  default     = null

  validation {
    condition     = var.failure_queue_kms_master_key_id == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.failure_queue_kms_master_key_id))
    error_message = "failure_queue_kms_master_key_id must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); not ${jsonencode(var.failure_queue_kms_master_key_id)}."
  }

  validation {
    condition     = var.failure_queue_kms_master_key_id == null || !can(regex("[*?]", var.failure_queue_kms_master_key_id))
    error_message = "failure_queue_kms_master_key_id must name exactly one KMS key: IAM reads '*' and '?' as wildcards, so the grant would cover every match; not ${jsonencode(var.failure_queue_kms_master_key_id)}."
  }
}

variable "create_failure_queue_alarm" {
  description = "Create <name>/failure-queue-not-empty, an alarm on the failure queue's depth, so an undelivered notification is seen."
  type        = bool
  default     = true
}

variable "failure_queue_alarm_actions" {
  description = "Action ARNs for the failure-queue alarm (e.g. an SNS topic that emails the on-call). null (default): the module's own alarm target, so Slack says that an alert is waiting in the queue; most failures are one bad message or a Slack outage that is over by the time the queue alarm fires. []: no actions (state changes are only visible in the console)."
  type        = list(string)
  default     = null

  validation {
    condition     = var.failure_queue_alarm_actions == null || alltrue([for arn in coalesce(var.failure_queue_alarm_actions, []) : can(regex("^arn:[^*?[:space:]]+$", arn))])
    error_message = "failure_queue_alarm_actions must be null, [] or a list of ARNs without wildcards or spaces; not: ${join(", ", [for arn in coalesce(var.failure_queue_alarm_actions, []) : jsonencode(arn) if !can(regex("^arn:[^*?[:space:]]+$", arn))])}."
  }
}

# -----------------------------------------------------------------------------------------------
# The function's own health
# -----------------------------------------------------------------------------------------------

variable "create_health_alarm" {
  description = "Create <name>/function-health, an alarm on the function's Errors, Throttles, DestinationDeliveryFailures and AsyncEventsDropped, so a notifier that stopped working is noticed."
  type        = bool
  default     = true
}

variable "health_alarm_actions" {
  description = "ARNs notified when <name>/function-health changes state (and on OK with notify_on_ok). Route it to something that does not depend on Slack, e.g. an SNS topic with an e-mail subscription; [] leaves the alarm without actions (visible in the console only)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.health_alarm_actions : can(regex("^arn:[^*?[:space:]]+$", arn))])
    error_message = "health_alarm_actions must be ARNs without wildcards or spaces; not: ${join(", ", [for arn in var.health_alarm_actions : jsonencode(arn) if !can(regex("^arn:[^*?[:space:]]+$", arn))])}."
  }
}

variable "health_alarm_period" {
  description = "Period in seconds over which the health alarm sums the function's error metrics (a multiple of 60, at most 604800: CloudWatch's 7 days for one evaluation period)."
  type        = number
  default     = 300

  validation {
    condition     = var.health_alarm_period >= 60 && var.health_alarm_period % 60 == 0
    error_message = "health_alarm_period must be a positive multiple of 60 seconds, not ${var.health_alarm_period}."
  }

  # The health alarm evaluates one period: CloudWatch allows at most 604800 s (7 days) for
  # periods of an hour or more (period x evaluation periods, PutMetricAlarm).
  validation {
    condition     = var.health_alarm_period <= 604800
    error_message = "health_alarm_period x 1 evaluation period of the function-health alarm must be at most 604800 s (7 days), as CloudWatch allows; not ${var.health_alarm_period} s."
  }
}

# ---------------------------------------------------------------------------------------------
# The inbox: the SQS queue between the topic and the function (SNS mode)
# ---------------------------------------------------------------------------------------------

variable "group_wait_seconds" {
  description = "How long Lambda gathers notifications from the inbox queue before it invokes the function with them as one batch (the event source mapping's MaximumBatchingWindowInSeconds, 0-300 s). A storm then reaches Slack as a few grouped digest messages instead of one message per alarm; a lone alarm arrives about this much later. 0 invokes as soon as notifications arrive, in batches of at most 10 (AWS allows larger batches only with a window). SNS mode only."
  type        = number
  default     = 20

  validation {
    condition     = var.group_wait_seconds >= 0 && var.group_wait_seconds <= 300 && floor(var.group_wait_seconds) == var.group_wait_seconds
    error_message = "group_wait_seconds must be a whole number of seconds between 0 and 300 (AWS's largest batching window), not ${var.group_wait_seconds}."
  }
}

variable "inbox_batch_size" {
  description = "Most notifications one invocation receives from the inbox (100-10000; Lambda also ends a batch at 6 MB of records). Large enough that an alarm storm fits in a few batches. Capped at 10 when group_wait_seconds = 0."
  type        = number
  default     = 1000

  validation {
    condition     = var.inbox_batch_size >= 100 && var.inbox_batch_size <= 10000 && floor(var.inbox_batch_size) == var.inbox_batch_size
    error_message = "inbox_batch_size must be a whole number between 100 (a storm must fit in a few batches) and 10000 (AWS's limit for standard queues), not ${var.inbox_batch_size}."
  }
}

variable "inbox_maximum_concurrency" {
  description = "Most concurrent invocations the inbox's event source mapping starts (2-1000). Each invocation sends at most one Slack message per second, and Slack accepts about one per second per webhook: keep the AWS minimum of 2 unless the webhook's channel can take more."
  type        = number
  default     = 2

  validation {
    condition     = var.inbox_maximum_concurrency >= 2 && var.inbox_maximum_concurrency <= 1000 && floor(var.inbox_maximum_concurrency) == var.inbox_maximum_concurrency
    error_message = "inbox_maximum_concurrency must be a whole number between 2 (AWS's minimum) and 1000, not ${var.inbox_maximum_concurrency}."
  }
}

variable "inbox_max_receive_count" {
  description = "How often a notification is handed to the function (1-1000) before the inbox moves it to the failure queue, its dead-letter queue. Each failed attempt waits out the visibility timeout (6 x lambda_timeout + group_wait_seconds, 200 s by default), so the default 5 (AWS's advice for Lambda, so that a throttled batch is not dead-lettered early) rides out a Slack outage of about 17 minutes; longer ones end in the failure queue, its alarm and a one-command replay."
  type        = number
  default     = 5

  validation {
    condition     = var.inbox_max_receive_count >= 1 && var.inbox_max_receive_count <= 1000 && floor(var.inbox_max_receive_count) == var.inbox_max_receive_count
    error_message = "inbox_max_receive_count must be a whole number between 1 and 1000 (SQS's maxReceiveCount range), not ${var.inbox_max_receive_count}."
  }
}

variable "inbox_message_retention_seconds" {
  description = "How long a notification may wait in the inbox (60-1209600 s; default 4 days), e.g. while the event source mapping is disabled. At most failure_queue_message_retention_seconds: a message keeps its age when it moves to the failure queue."
  type        = number
  default     = 345600

  validation {
    condition     = var.inbox_message_retention_seconds >= 60 && var.inbox_message_retention_seconds <= 1209600 && floor(var.inbox_message_retention_seconds) == var.inbox_message_retention_seconds
    error_message = "inbox_message_retention_seconds must be a whole number between 60 and 1209600, not ${var.inbox_message_retention_seconds}."
  }
}

variable "inbox_kms_master_key_id" {
  description = "Customer-managed KMS key ARN to encrypt the inbox queue; the role gets kms:Decrypt on it (through SQS only). The key policy must let every sender use it (kms:GenerateDataKey, kms:Decrypt): sns.amazonaws.com for the topic and, with capture_alarm_state_changes or a central bus, events.amazonaws.com for the rules, or they cannot deliver to the queue; the inbox_kms_key_policy_json output holds those statements. The AWS-managed alias/aws/sqs key cannot be given that grant. Null: SQS-managed server-side encryption."
  type        = string
  default     = null

  validation {
    condition     = var.inbox_kms_master_key_id == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.inbox_kms_master_key_id))
    error_message = "inbox_kms_master_key_id must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not ${coalesce(var.inbox_kms_master_key_id, "null")}."
  }
}

# ---------------------------------------------------------------------------------------------
# IAM
# ---------------------------------------------------------------------------------------------

variable "create_role" {
  description = "Create the function's execution role and its inline policy. False: use the existing role lambda_role_arn; the module then creates no IAM resource, and that role must trust lambda.amazonaws.com and allow what the lambda_role_policy_json output lists."
  type        = bool
  default     = true
}

variable "lambda_role_arn" {
  description = "ARN of an existing execution role for the function, with create_role = false (for accounts where only a central team creates IAM roles)."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.lambda_role_arn))
    error_message = "lambda_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<path/><name>)."
  }

  validation {
    condition     = var.create_role == (var.lambda_role_arn == null)
    error_message = "Set lambda_role_arn exactly when create_role = false: with create_role = true the module creates the role itself, with false it needs the existing role's ARN."
  }
}

variable "iam_role_path" {
  description = "Path of the created role (e.g. /service-roles/), for accounts whose policies or SCPs select roles by path."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.iam_role_path)) && length(var.iam_role_path) <= 512
    error_message = "iam_role_path must start and end with / (e.g. /service-roles/) and hold only letters, digits and +=,.@_- between the slashes."
  }
}

variable "iam_role_permissions_boundary_arn" {
  description = "ARN of the managed policy to set as the created role's permissions boundary, where the account requires one. Null: none."
  type        = string
  default     = null

  validation {
    condition     = var.iam_role_permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.iam_role_permissions_boundary_arn))
    error_message = "iam_role_permissions_boundary_arn must be an IAM policy ARN (arn:aws:iam::<account>:policy/<name>)."
  }
}

# ---------------------------------------------------------------------------------------------
# Capture: every alarm state change via EventBridge, also from other accounts and regions
# ---------------------------------------------------------------------------------------------

variable "capture_alarm_state_changes" {
  description = "Also deliver alarms that do not notify the module: an EventBridge rule on this account's default bus sends every CloudWatch alarm state change of this account and region (filtered by the capture_* variables) to the inbox queue. The module's own alarms (<name>/...) are left out: they already arrive through the topic. Needs the inbox (alarm_action_target = \"sns\")."
  type        = bool
  default     = false
}

variable "capture_alarm_name_prefixes" {
  description = "Capture (and accept on the central bus) only alarms whose name starts with one of these prefixes (EventBridge prefix matching on detail.alarmName). Empty: every alarm."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for prefix in var.capture_alarm_name_prefixes : length(prefix) > 0 && !strcontains(prefix, "*")])
    error_message = "capture_alarm_name_prefixes entries must be non-empty literal prefixes (EventBridge prefix matching, no wildcards); offending: ${jsonencode([for prefix in var.capture_alarm_name_prefixes : prefix if length(prefix) == 0 || strcontains(prefix, "*")])}."
  }
}

variable "capture_alarm_states" {
  description = "Capture (and accept on the central bus) only changes into these states (detail.state.value): ALARM, OK, INSUFFICIENT_DATA. null (default): the states the module's own alarms notify, i.e. ALARM, plus OK per notify_on_ok and INSUFFICIENT_DATA per notify_on_insufficient_data."
  type        = list(string)
  default     = null

  validation {
    condition     = var.capture_alarm_states == null || (length(coalesce(var.capture_alarm_states, [])) > 0 && alltrue([for state in coalesce(var.capture_alarm_states, []) : contains(["ALARM", "OK", "INSUFFICIENT_DATA"], state)]))
    error_message = "capture_alarm_states must be null or list at least one of ALARM, OK, INSUFFICIENT_DATA; got ${jsonencode(var.capture_alarm_states)}."
  }
}

variable "capture_account_ids" {
  description = "Capture (and accept on the central bus) only events of these 12-digit account IDs (the event's account field). Empty: every account that can reach the bus."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for account in var.capture_account_ids : can(regex("^[0-9]{12}$", account))])
    error_message = "capture_account_ids must be 12-digit AWS account IDs; offending: ${jsonencode([for account in var.capture_account_ids : account if !can(regex("^[0-9]{12}$", account))])}."
  }
}

variable "create_central_event_bus" {
  description = "Create <name>-alarm-events, a custom event bus that other accounts (central_event_bus_organization_id and/or central_event_bus_account_ids) and other regions (modules/forwarder) send their alarm state changes to; a rule on it delivers them to the inbox queue. Needs the inbox (alarm_action_target = \"sns\")."
  type        = bool
  default     = false
}

variable "central_event_bus_arn" {
  description = "ARN of an existing custom event bus of this account and region to take alarm state changes from (with create_central_event_bus = false): the module adds a rule on it that delivers to the inbox queue. Its policy is yours to manage: it must let the senders put events."
  type        = string
  default     = null

  validation {
    condition     = var.central_event_bus_arn == null || can(regex("^arn:aws[a-z-]*:events:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:event-bus/[A-Za-z0-9._-]{1,256}$", coalesce(var.central_event_bus_arn, "-")))
    error_message = "central_event_bus_arn must be an event bus ARN (arn:aws:events:<region>:<12-digit account>:event-bus/<name>) without wildcards; got \"${var.central_event_bus_arn == null ? "" : var.central_event_bus_arn}\"."
  }
}

variable "central_event_bus_organization_id" {
  description = "AWS Organizations ID (o-xxxxxxxxxx) whose accounts may put events on the created central bus (condition aws:PrincipalOrgID)."
  type        = string
  default     = null

  validation {
    condition     = var.central_event_bus_organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", coalesce(var.central_event_bus_organization_id, "-")))
    error_message = "central_event_bus_organization_id must be an organization ID like o-a1b2c3d4e5 (\"o-\" and 10-32 lowercase letters or digits), without wildcards; got \"${var.central_event_bus_organization_id == null ? "" : var.central_event_bus_organization_id}\"."
  }
}

variable "central_event_bus_account_ids" {
  description = "12-digit IDs of accounts that may put events on the created central bus (each one a principal of the bus policy), besides or instead of an organization."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for account in var.central_event_bus_account_ids : can(regex("^[0-9]{12}$", account))])
    error_message = "central_event_bus_account_ids must be 12-digit AWS account IDs, without wildcards; offending: ${jsonencode([for account in var.central_event_bus_account_ids : account if !can(regex("^[0-9]{12}$", account))])}."
  }
}

variable "account_names" {
  description = "Friendly names of AWS accounts, by 12-digit account ID (e.g. { \"111122223333\" = \"prod\" }): messages show \"prod (111122223333)\" instead of the bare ID."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for account, name in var.account_names : can(regex("^[0-9]{12}$", account)) && length(trimspace(name)) > 0])
    error_message = "account_names keys must be 12-digit AWS account IDs and names non-empty; offending keys: ${jsonencode([for account, name in var.account_names : account if !can(regex("^[0-9]{12}$", account)) || length(trimspace(name)) == 0])}."
  }
}
