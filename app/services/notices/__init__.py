"""What the owner of an account is told: the emails each rule queues in the outbox,
and the alerts about new browsers."""
