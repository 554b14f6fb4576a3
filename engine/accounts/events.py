"""Names of the account events on the event bus."""

# A gateway call was refused because of the key (payload: account_id, reason).
EXCHANGE_KEY_REJECTED = "exchange_key_rejected"
# An account's key was flagged INVALID; the user is notified once (payload: account_id, reason).
ACCOUNT_KEY_INVALID = "account_key_invalid"
